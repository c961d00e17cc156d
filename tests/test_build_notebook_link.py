"""The page links to the shipped notebook only when the notebook site is built, and the link resolves."""
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from buildsite.site import NOTEBOOK_LINK, _with_notebook_link

REPO = Path(__file__).resolve().parent.parent


def test_marker_becomes_a_link():
    page = f"<nav>{NOTEBOOK_LINK}</nav>".encode()
    out = _with_notebook_link(page, "./lite/lab/index.html?path=x.ipynb").decode()
    assert out == '<nav><a class="notebook-link" href="./lite/lab/index.html?path=x.ipynb">Open in notebook</a></nav>'


def test_source_page_has_the_marker():
    assert NOTEBOOK_LINK in (REPO / "web" / "index.html").read_text()


def test_built_site_links_to_an_existing_notebook():
    """dist/ as the README's test command builds it (with the notebook site)."""
    dist = REPO / "dist"
    html = (dist / "index.html").read_text()
    m = re.search(r'<a class="notebook-link" href="([^"]+)">Open in notebook</a>', html)
    assert m, "the built page has no 'Open in notebook' link (was dist/ built without --no-lite?)"
    url = urlparse(m.group(1))
    assert (dist / url.path).resolve().is_file()
    notebook = parse_qs(url.query)["path"][0]
    assert (dist / "lite" / "files" / notebook).is_file()
    assert NOTEBOOK_LINK not in html
