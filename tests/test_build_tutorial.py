"""buildsite/tutorial.py: docs/tutorial.md becomes the page's tutorial, one <section id> per anchor."""
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from buildsite.tutorial import END, START, inline, to_html, with_tutorial

REPO = Path(__file__).resolve().parents[1]
MD = REPO / "docs" / "tutorial.md"


def test_every_anchor_becomes_a_section_with_its_heading():
    text = MD.read_text(encoding="utf-8")
    anchors = re.findall(r'^<a id="(tutorial-[a-z0-9-]+)"></a>\n## (.+)$', text, flags=re.M)
    html = to_html(text)
    root = ET.fromstring(f"<div>{html}</div>")  # well-formed
    sections = root.findall("section")
    assert [s.get("id") for s in sections] == [a for a, _ in anchors]
    for s, (_, title) in zip(sections, anchors):
        assert "".join(s.find("h3").itertext()) == re.sub(r"[*`]", "", title)
        assert s.findall("p") or s.findall("ul")
    assert "<!--" not in html and "**" not in html and "`" not in html


def test_a_subsection_keeps_its_anchor_as_the_heading_id():
    html = to_html('<a id="x"></a>\n## T\n\ntext\n\n<a id="x-y"></a>\n### U\n\nmore\n')
    assert html == '<section id="x">\n<h3>T</h3>\n<p>text</p>\n<h4 id="x-y">U</h4>\n<p>more</p>\n</section>'


def test_inline_markup_and_escaping():
    assert inline("a **b** *c* `d < e` [f](#g) 1 < 2") == \
        'a <strong>b</strong> <em>c</em> <code>d &lt; e</code> <a href="#g">f</a> 1 &lt; 2'
    assert inline("*p*ᵢ = exp(*l*ᵢ)") == "<em>p</em>ᵢ = exp(<em>l</em>ᵢ)"
    assert inline("3 × 3 and 2 * 3") == "3 × 3 and 2 * 3"


def test_lists_and_formulas():
    html = to_html('<a id="x"></a>\n## T\n\n- one\n  more\n- two\n\n  *p* = 1\n\nplain\ntext\n')
    assert html == ('<section id="x">\n<h3>T</h3>\n<ul><li>one more</li><li>two</li></ul>\n'
                    '<p class="formula"><em>p</em> = 1</p>\n<p>plain text</p>\n</section>')


def test_inserted_between_the_markers_of_the_page():
    page = (REPO / "web" / "index.html").read_bytes()
    out = with_tutorial(page, MD).decode("utf-8")
    a, b = out.index(START), out.index(END)
    assert 'id="tutorial-softmax"' in out[a:b] and "put here by the build" not in out[a:b]
    assert out[:a] == page.decode("utf-8")[:a]
    assert with_tutorial(b"<p>no markers</p>", MD) == b"<p>no markers</p>"
    assert with_tutorial(page, REPO / "missing.md") is page
