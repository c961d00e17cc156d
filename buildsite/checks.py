"""Static checks of the planned site, before anything is written: no outside URL in our own files,
a PyScript config that loads everything locally, and local links that exist."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from . import BuildError
from .files import Source

TEXT_SUFFIXES = {".html", ".htm", ".js", ".mjs", ".css", ".json", ".webmanifest", ".svg", ".txt", ".toml", ".py"}
URL_RE = re.compile(r"""https?://[^\s"'`()<>\\]+""")
#: Not fetched: XML namespaces and the like.
HARMLESS_URL = re.compile(r"^https?://www\.w3\.org/")
#: Not ours: their URLs are recorded, not refused (JupyterLite's own config is checked by lite.py).
THIRD_PARTY = ("pyodide/", "pyscript/", "lite/")
LOCAL_PREFIXES = ("./", "../", "/")


def _text(src: Source) -> str:
    data = src if isinstance(src, bytes) else src.read_bytes()
    return data.decode("utf-8", errors="replace")


def _is_text(rel: str) -> bool:
    return PurePosixPath(rel).suffix.lower() in TEXT_SUFFIXES


def outside_urls(plan: dict[str, Source]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(URLs in our own files, URLs in third-party runtime files), each path -> sorted unique URLs."""
    ours, theirs = {}, {}
    for rel, src in plan.items():
        if not _is_text(rel) or rel.endswith(".map"):
            continue
        text = _text(src)
        urls = {u.rstrip(".,;") for u in URL_RE.findall(text) if not HARMLESS_URL.match(u)}
        if rel.endswith((".html", ".htm")):
            page = _Page()
            page.feed(text)
            urls -= set(page.anchors)  # links a reader may follow are not fetched by the page
        urls = sorted(urls)
        if urls:
            (theirs if rel.startswith(THIRD_PARTY) else ours)[rel] = urls
    return ours, theirs


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.anchors: list[str] = []
        self.configs: list[str] = []
        self.loads_pyscript = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.anchors.append(a["href"])
        for key in ("src", "href"):
            if a.get(key):
                self.links.append(a[key])
        if tag == "script" and (a.get("src") or "").endswith("pyscript/core.js"):
            self.loads_pyscript = True
        if tag in ("script", "py-script", "mpy-script") and a.get("type") in ("py", "mpy", "pyodide", None) \
                and a.get("config"):
            self.configs.append(a["config"])
        if tag == "py-config" and a.get("src"):
            self.configs.append(a["src"])


def _resolve(page: str, ref: str) -> str | None:
    """A local reference as a path relative to the site root, or None for anchors, data: and the like."""
    parts = urlsplit(ref)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    base = PurePosixPath(page).parent
    path = PurePosixPath(parts.path.lstrip("/")) if parts.path.startswith("/") else base / parts.path
    out: list[str] = []
    for part in path.parts:
        if part == "..":
            out = out[:-1]
        elif part not in (".", ""):
            out.append(part)
    rel = "/".join(out)
    return rel if rel else "index.html"


def _exists(plan: dict[str, Source], rel: str) -> bool:
    return rel in plan or f"{rel}/index.html" in plan or rel.rstrip("/") + "/index.html" in plan


def check_pages(plan: dict[str, Source], shipped_packages: set[str]) -> list[str]:
    """Problems in our HTML: missing local files, and PyScript configs that would reach a CDN or PyPI."""
    problems = []
    for rel, src in plan.items():
        if not rel.endswith((".html", ".htm")) or rel.startswith(THIRD_PARTY):
            continue
        page = _Page()
        page.feed(_text(src))
        for ref in page.links:
            target = _resolve(rel, ref)
            if target is not None and not _exists(plan, target):
                problems.append(f"{rel}: links to {ref}, which is not in the site")
        if page.loads_pyscript and not page.configs:
            problems.append(f"{rel}: loads PyScript without a config: it would import Pyodide from a CDN")
        for raw in page.configs:
            problems += [f"{rel}: {p}" for p in _check_config(plan, rel, raw, shipped_packages)]
    return problems


def _check_config(plan, page: str, raw: str, shipped: set[str]) -> list[str]:
    raw = raw.strip()
    if raw.startswith("{"):
        where = "inline PyScript config"
        try:
            config = json.loads(raw)
        except ValueError as exc:
            return [f"{where} is not JSON ({exc})"]
    else:
        target = _resolve(page, raw)
        if target is None or target not in plan:
            return [f"PyScript config {raw} is not a file of the site"]
        if not target.endswith(".json"):
            return []  # TOML configs: checked by the browser tests only
        where = target
        try:
            config = json.loads(_text(plan[target]))
        except ValueError as exc:
            return [f"{where} is not JSON ({exc})"]
    problems = []
    interp = config.get("interpreter")
    if not isinstance(interp, str) or not interp.startswith(LOCAL_PREFIXES):
        problems.append(f'{where}: "interpreter" is {interp!r}; it must be a module of the site such as '
                        '"./pyodide/pyodide.mjs" (anything else loads Pyodide from a CDN)')
    elif not _exists(plan, _resolve(page, interp) or ""):
        problems.append(f'{where}: "interpreter" {interp} is not in the site')
    else:
        problems += [f"{where}: {p}" for p in _check_module(plan, _resolve(page, interp))]
    for pkg in config.get("packages", []):
        if pkg.startswith(LOCAL_PREFIXES):
            if not _exists(plan, _resolve(page, pkg) or ""):
                problems.append(f'{where}: package {pkg} is not in the site')
        elif re.split(r"[<>=!~ \[]", pkg, 1)[0].lower().replace("_", "-") not in shipped:
            problems.append(f"{where}: package {pkg!r} is not shipped in pyodide/: micropip would fetch it from PyPI")
    for key in ("files", "fetch", "js_modules"):
        blob = json.dumps(config.get(key, ""))
        if URL_RE.search(blob):
            problems.append(f"{where}: {key!r} names an outside URL")
    return problems


#: What an ES module of ours loads: `import … from "x"`, `import("x")`, `new URL("x", import.meta.url)`.
MODULE_REF = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|new\s+URL\(\s*)(["'`])([^"'`]+)\1""")


def _check_module(plan, rel: str, seen: set[str] | None = None) -> list[str]:
    """Every module and file that our module `rel` (the PyScript interpreter shim, say) loads is a file of
    the site, followed through our own modules; Pyodide's and PyScript's are not ours to follow."""
    seen = set() if seen is None else seen
    if rel in seen or rel.startswith(THIRD_PARTY):
        return []
    seen.add(rel)
    problems = []
    for _, ref in MODULE_REF.findall(_text(plan[rel])):
        if "${" in ref:  # a template: checked by the browser tests
            continue
        if not ref.startswith(LOCAL_PREFIXES):
            problems.append(f"{rel} loads {ref}, which is not a file of the site")
            continue
        target = _resolve(rel, ref)
        if ref.endswith("/") and target and any(k.startswith(target + "/") for k in plan):
            continue  # a folder of the site (a base URL)
        if target is None or not _exists(plan, target):
            problems.append(f"{rel} loads {ref}, which is not in the site")
        elif target.endswith((".js", ".mjs")):
            problems += _check_module(plan, target, seen)
    return problems


#: What the page's Content-Security-Policy must say (notes/security.md gives the reason for each).
CSP_REQUIRED = {"default-src": {"'self'"}, "script-src": {"'self'"}, "connect-src": {"'self'"},
                "object-src": {"'none'"}, "base-uri": {"'none'"}}
#: Sources that would let something from elsewhere (or inline) run or be fetched.
CSP_FORBIDDEN = re.compile(r"^(\*|https?:.*|wss?:.*|\*\..*|[a-z0-9.-]+\.[a-z]{2,}.*|'unsafe-hashes')$", re.I)


class _Meta(HTMLParser):
    def __init__(self):
        super().__init__()
        self.csp: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp.append(a.get("content") or "")


def csp_problems(html: str) -> list[str]:
    """Why the page's Content-Security-Policy <meta> is missing or too loose (empty: fine)."""
    meta = _Meta()
    meta.feed(html)
    if len(meta.csp) != 1:
        return [f"the page must carry one Content-Security-Policy <meta>, it has {len(meta.csp)}"]
    policy: dict[str, list[str]] = {}
    for part in meta.csp[0].split(";"):
        words = part.split()
        if words:
            policy[words[0].lower()] = words[1:]
    problems = []
    for directive, must in CSP_REQUIRED.items():
        if directive not in policy:
            problems.append(f"the CSP lacks {directive}")
        elif not must <= set(policy[directive]):
            problems.append(f"the CSP's {directive} is {' '.join(policy[directive])!r}, it must hold {' '.join(sorted(must))}")
    for directive, sources in policy.items():
        bad = [src for src in sources if CSP_FORBIDDEN.match(src)]
        if directive in ("script-src", "worker-src", "default-src") and "'unsafe-inline'" in sources:
            bad.append("'unsafe-inline'")
        if bad:
            problems.append(f"the CSP's {directive} allows {' '.join(bad)}: only this site's own files may be used")
    return problems


def check_site(plan: dict[str, Source], shipped_packages: set[str]) -> dict[str, list[str]]:
    """Raise BuildError on problems in our own files; return the third-party URLs found (for build-info)."""
    ours, theirs = outside_urls(plan)
    problems = [f"{rel}: outside URL {u} (everything must come from this site)" for rel, us in ours.items() for u in us]
    problems += check_pages(plan, shipped_packages)
    if problems:
        raise BuildError("the site would not work offline:\n  " + "\n  ".join(problems))
    return theirs
