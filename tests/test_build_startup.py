"""The start-up half of the build (issue 15): preload tags for what the page's start needs, and the page's
Python compiled ahead of time (buildsite/bytecode.py, buildsite/preload.py).

Checked against the files themselves: each preload tag names a file of the site, with the sha256 the
page's own request will demand (a mismatch makes the browser fetch the file twice); each .pyc in the
bytecode zip carries the hash of exactly the source the site ships next to it (CPython 3.12 would
ignore it otherwise), computed here with the same key CPython uses (`_imp.source_hash`).
"""
from __future__ import annotations

import _imp
import base64
import hashlib
import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from conftest_build import built_site  # noqa: F401  (fixture)

from buildsite.bytecode import startup_modules
from buildsite.preload import MARK, pyscript_at_start

REPO = Path(__file__).resolve().parent.parent


class _Head(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.metas = [], {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("rel") in ("preload", "modulepreload"):
            self.links.append(a)
        if tag == "meta" and a.get("name", "").startswith("cnn101-"):
            self.metas[a["name"]] = a


def _head(out: Path) -> _Head:
    head = _Head()
    head.feed((out / "index.html").read_text(encoding="utf-8"))
    return head


def _sri(path: Path) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def test_preloads_name_files_of_the_site_with_the_integrity_their_fetch_demands(built_site):  # noqa: F811
    out = built_site.out
    head = _head(out)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert MARK not in page
    hrefs = [a["href"] for a in head.links]
    assert len(hrefs) == len(set(hrefs)), "a file preloaded twice"
    for a in head.links:
        path = out / a["href"][2:]
        assert a["href"].startswith("./") and path.is_file(), a
        if a["rel"] == "preload":
            assert a.get("as") == "fetch" and a.get("crossorigin") == "anonymous", a  # as fetch() asks
            if "integrity" in a:
                assert a["integrity"] == _sri(path), a
        else:
            assert path.suffix in (".js", ".mjs"), a
    by_href = {a["href"]: a for a in head.links}
    # the runtime (the app's own stdlib and lock, buildsite/stored.py), NumPy (with the app lock's hash, as
    # Pyodide fetches it), our wheel and bytecode (with the integrity pyodide-start.mjs passes, read from the
    # metas), PyScript's config and every module of web/app
    runtime = head.metas["cnn101-pyodide"]
    assert runtime["data-lock"] == "./pyodide/stored/pyodide-lock.json"
    assert runtime["data-stdlib"] == "./pyodide/stored/python_stdlib.zip"
    lock = json.loads((out / runtime["data-lock"][2:]).read_text())["packages"]["numpy"]
    numpy = by_href[f"./pyodide/{lock['file_name']}"]
    assert numpy["integrity"] == "sha256-" + base64.b64encode(bytes.fromhex(lock["sha256"])).decode() == _sri(
        out / "pyodide" / lock["file_name"])
    for rel in ("pyodide/pyodide.asm.wasm", runtime["data-stdlib"][2:], runtime["data-lock"][2:], "pyscript.json",
                "app/main.py"):
        assert by_href[f"./{rel}"]["rel"] == "preload", rel
    # the official files (the notebook's) are not preloaded: nothing the page does not fetch
    assert not {"./pyodide/python_stdlib.zip", "./pyodide/pyodide-lock.json"} & set(by_href)
    for rel in ("pyodide/pyodide.asm.js", "pyodide/pyodide.mjs", "pyodide-start.mjs", "pyscript/core.js"):
        assert by_href[f"./{rel}"]["rel"] == "modulepreload", rel
    meta = head.metas["cnn101-app-wheel"]
    assert by_href[meta["content"]]["integrity"] == meta["data-integrity"] == _sri(out / meta["content"][2:])
    # the bytecode is not part of the first visit: no preload, not precached, on the service worker's
    # on-demand list (kept from the second visit on); its meta gives the integrity the page checks
    meta = head.metas["cnn101-bytecode"]
    assert meta["content"] not in by_href and meta["data-integrity"] == _sri(out / meta["content"][2:])
    sw = (out / "sw.js").read_text()
    precache = json.loads(re.search(r"const PRECACHE = (\{.*?\});", sw, re.S).group(1))
    on_demand = json.loads(re.search(r"const ON_DEMAND = new Set\((\[.*?\])\);", sw, re.S).group(1))
    assert meta["content"][2:] in on_demand and meta["content"][2:] not in precache
    config = json.loads((out / "pyscript.json").read_text())
    assert set(config["files"]) <= set(hrefs)
    # PyScript's modules that every page imports are the ones its core.js chunk imports statically
    core = [n for n in pyscript_at_start(p.name for p in (out / "pyscript").iterdir()) if n.startswith("core-")]
    assert core and all(f"./pyscript/{n}" in hrefs for n in core)
    # the tags come before the stylesheets and scripts, which no longer block the parser
    assert page.index('rel="preload"') < page.index('rel="stylesheet"')
    for script in ("boot.js", "export.js", "model-store.js"):
        assert re.search(rf'<script src="\./{re.escape(script)}" defer></script>', page), script


def _pyc_matches(pyc: bytes, source: bytes) -> bool:
    """A checked-hash .pyc (PEP 552) whose hash is that of `source` under the pyc's own magic number."""
    flags = int.from_bytes(pyc[4:8], "little")
    key = int.from_bytes(pyc[:4], "little")
    return flags == 0b11 and pyc[8:16] == _imp.source_hash(key, source)


def test_bytecode_is_checked_hash_pyc_of_exactly_the_shipped_sources(built_site):  # noqa: F811
    out = built_site.out
    meta = _head(out).metas["cnn101-bytecode"]
    bundle = zipfile.ZipFile(out / meta["content"][2:])
    names = bundle.namelist()
    magic = {bundle.read(n)[:4] for n in names}
    assert magic == {(3531).to_bytes(2, "little") + b"\r\n"}, "CPython 3.12's magic number, whatever runs the build"
    wheel = zipfile.ZipFile(out / built_site.wheel)
    numpy_wheel = zipfile.ZipFile(next((out / "pyodide").glob("numpy-*.whl")))
    app, ours = startup_modules(REPO / "web", REPO / "src")
    seen = {"app": set(), "cnn101": set(), "numpy": set()}
    for name in names:
        top, rest = name.split("/", 1)
        folder, pyc = rest.rsplit("/__pycache__/", 1) if top == "site-packages" else ("app", rest.split("/")[-1])
        module = pyc.split(".")[0]
        rel = f"{folder}/{module}.py"
        if top == "app":
            source = (out / rel).read_bytes()
        elif rel.startswith("cnn101/"):
            source = wheel.read(rel)
        else:
            assert rel.startswith("numpy/"), name
            source = numpy_wheel.read(rel)
        assert pyc.endswith(".cpython-312.pyc") and _pyc_matches(bundle.read(name), source), name
        dotted = rel[:-3].replace("/", ".").removesuffix(".__init__")
        seen[dotted.split(".")[0]].add(dotted)
    # every web/app module (but main.py, PyScript's script), every cnn101 module the page imports, and
    # NumPy's core
    assert seen["app"] == {"app"} | set(app)
    assert seen["cnn101"] == set(ours)
    assert {"numpy", "numpy._core", "numpy._core.numeric", "numpy.linalg"} <= seen["numpy"]


def test_startup_modules_follow_module_level_imports_only(tmp_path):
    web, src = tmp_path / "web", tmp_path / "src"
    (web / "app").mkdir(parents=True)
    (src / "cnn101" / "sub").mkdir(parents=True)
    (web / "app" / "main.py").write_text("import cnn101\nfrom app import a\n")
    (web / "app" / "__init__.py").write_text("")
    (web / "app" / "a.py").write_text("from . import b\ndef later():\n    from cnn101 import lazy\n")
    (web / "app" / "b.py").write_text("class K:\n    from cnn101.sub import deep\n")
    (src / "cnn101" / "__init__.py").write_text("from .sub import x\n")
    for n in ("lazy", "other"):
        (src / "cnn101" / f"{n}.py").write_text("")
    (src / "cnn101" / "sub" / "__init__.py").write_text("")
    (src / "cnn101" / "sub" / "x.py").write_text("")
    (src / "cnn101" / "sub" / "deep.py").write_text("import numpy\n")
    app, ours = startup_modules(web, src)
    assert app == ["app.a", "app.b"]
    assert ours == ["cnn101", "cnn101.sub", "cnn101.sub.deep", "cnn101.sub.x"]  # not lazy (in a function), not other
