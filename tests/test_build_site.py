"""The built site: its files, the verified Pyodide packages, sw.js, the manifest, and rebuilds."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import zipfile

import pytest
from PIL import Image

from conftest_build import DATA, REPO, built_site, options, quiet  # noqa: F401  (fixture)
from buildsite import BuildError
from buildsite.files import sync_tree
from buildsite.npm import PYODIDE_RUNTIME_FILES
from buildsite.pyodide_lock import PyodideLock
from buildsite.site import build


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_of(out):
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def assets_of(out):
    """What sw.js must list: every file but itself, build-info.json and brotli copies (<asset>.br)."""
    return {f for f in files_of(out) - {"sw.js", "build-info.json"} if not f.endswith(".br")}


def sw_lists(out) -> tuple[dict, list]:
    text = (out / "sw.js").read_text()
    precache = json.loads(re.search(r"const PRECACHE = (\{.*?\n\});", text, re.S).group(1))
    on_demand = json.loads(re.search(r"const ON_DEMAND = new Set\((\[.*?\])\);", text, re.S).group(1))
    return precache, on_demand


def sw_also(out) -> dict:
    """sw.js's ALSO: a precached path -> the other names its one fetch is stored under."""
    return json.loads(re.search(r"const ALSO = (\{.*?\});", (out / "sw.js").read_text()).group(1))


def cache_name(out) -> str:
    return re.search(r'const VERSION = "([0-9a-f]+)"', (out / "sw.js").read_text()).group(1)


def test_expected_files(built_site):
    out = built_site.out
    names = files_of(out)
    for rel in ["index.html", "pyscript.json", "pyscript/core.js", "pyscript/core.css", "sw.js",
                "manifest.webmanifest", "build-info.json", "examples/index.json"]:
        assert rel in names, rel
    for rel in PYODIDE_RUNTIME_FILES:
        assert f"pyodide/{rel}" in names, rel
    assert re.fullmatch(r"wheels/cnn101-[^-]+-py3-none-any\.whl", built_site.wheel)
    assert [n for n in names if n.startswith("wheels/")] == [built_site.wheel]
    assert not [n for n in names if n.endswith((".map", ".partial"))]
    config = json.loads((out / "pyscript.json").read_text())
    assert config["interpreter"] == "./pyodide-start.mjs"  # our shim around ./pyodide/pyodide.mjs
    shim = (out / "pyodide-start.mjs").read_text()
    assert 'from "./pyodide/pyodide.mjs"' in shim and "pyodide-snapshot-worker.mjs" in shim
    assert (out / "pyodide-snapshot-worker.mjs").is_file()
    assert "./" + built_site.wheel in config["packages"]
    # every module of the page is fetched into Pyodide's file system (a forgotten one fails only there)
    # (snapshot.py runs at build time only; main.py is the <script> itself)
    app_modules = {f"./app/{p.name}" for p in (out / "app").glob("*.py") if p.name not in ("snapshot.py", "main.py")}
    assert app_modules <= set(config["files"]), sorted(app_modules - set(config["files"]))


def test_official_lock_served_unchanged_and_packages_match_it(built_site):
    served = built_site.out / "pyodide" / "pyodide-lock.json"
    assert served.read_bytes() == (REPO / "node_modules/pyodide/pyodide-lock.json").read_bytes()
    lock = PyodideLock(served, "0.27.7")
    entries = lock.closure(["numpy", "pillow", "micropip", "ssl", "sqlite3", "jedi", "ipython"])
    assert len(entries) == 21
    for e in entries:
        assert sha256(built_site.out / "pyodide" / e.file_name) == e.sha256, e.file_name
    for rel in PYODIDE_RUNTIME_FILES:  # the runtime is npm's, byte for byte
        assert sha256(built_site.out / "pyodide" / rel) == sha256(REPO / "node_modules/pyodide" / rel)


def test_app_wheel_is_pure_python(built_site):
    with zipfile.ZipFile(built_site.out / built_site.wheel) as z:
        wheel = next(n for n in z.namelist() if n.endswith(".dist-info/WHEEL"))
        text = z.read(wheel).decode()
        assert "Root-Is-Purelib: true" in text and "Tag: py3-none-any" in text
        assert "cnn101/__init__.py" in z.namelist()


def test_build_info_lists_every_file(built_site):
    out = built_site.out
    info = json.loads((out / "build-info.json").read_text())
    assert set(info["files"]) == files_of(out) - {"build-info.json"}
    for rel, f in info["files"].items():
        assert (out / rel).stat().st_size == f["size"] and sha256(out / rel) == f["sha256"], rel


def test_service_worker_lists_every_asset(built_site):
    out = built_site.out
    precache, on_demand = sw_lists(out)
    # build-info.json names sw.js's hash, so sw.js precaches it without one (the page reads it on load)
    assert precache.pop("build-info.json") == ""
    # the page is fetched once, as "./", and stored under "index.html" too (not fetched a second time)
    assert "index.html" not in precache and sw_also(out) == {"./": ["index.html"]}
    assert set(precache) - {"./"} | {"index.html"} | set(on_demand) == assets_of(out)
    assert not set(precache) & set(on_demand)
    for rel, integrity in precache.items():
        path = out / ("index.html" if rel == "./" else rel)
        assert integrity == "sha256-" + base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
    # what the page needs is precached; the notebook's extra packages, the training set and the precompiled
    # bytecode (kept from the second visit on) wait for first use
    for rel in ["pyodide/pyodide.asm.wasm", "pyodide/stored/python_stdlib.zip", "pyodide/stored/pyodide-lock.json",
                built_site.wheel, "pyscript/core.js", "examples/index.json"]:
        assert rel in precache
    assert any(p.startswith("pyodide/stored/numpy-") for p in precache)
    assert any(p.startswith("pyodide/stored/pillow-") for p in precache)  # an upload works offline after one visit
    # the official stdlib, lock and wheels are the notebook's: the app starts from its stored copies
    for rel in ["pyodide/python_stdlib.zip", "pyodide/pyodide-lock.json"]:
        assert rel in on_demand
    assert not [p for p in precache if p.startswith(("pyodide/numpy-", "pyodide/pillow-"))]
    assert on_demand and all(p.startswith(("pyodide/", "train-set/", "pyscript/", "bytecode/")) for p in on_demand)
    # PyScript's chunks for features the app does not use wait for first use; its core is precached
    lazy_pyscript = {p for p in on_demand if p.startswith("pyscript/")}
    assert any("codemirror" in p for p in lazy_pyscript) and any("xterm" in p for p in lazy_pyscript)
    assert not {p for p in lazy_pyscript if p.split("/")[1].startswith(("core", "py-", "error", "donkey"))}
    assert cache_name(out) == built_site.cache_name


def test_the_server_sends_every_brotli_copy_the_build_made(built_site):
    """The server answers a file with its `.br` copy only if the copy is not older than the file; the build
    dates them so (index.html, written from bytes after its copy was made, used to go out gzip)."""
    import urllib.request

    from buildsite.precompress import ENCODED_SUFFIX
    from buildsite.server import start_in_thread

    out = built_site.out
    copies = json.loads((out / "build-info.json").read_text())["brotli_copies"]
    assert "index.html.br" in copies and any(c.endswith(".wasm.br") for c in copies)
    server, url = start_in_thread(out)
    try:
        sent = {}
        for rel in copies:
            req = urllib.request.Request(url + rel[: -len(ENCODED_SUFFIX)], headers={"Accept-Encoding": "gzip, br"})
            with urllib.request.urlopen(req, timeout=30) as r:
                sent[rel] = r.headers.get("Content-Encoding")
    finally:
        server.shutdown()
        server.server_close()
    assert {rel: enc for rel, enc in sent.items() if enc != "br"} == {}


def test_manifest_and_icons(built_site):
    out = built_site.out
    manifest = json.loads((out / "manifest.webmanifest").read_text())
    assert manifest["start_url"] == "./" and manifest["display"] == "standalone"
    sizes = set()
    for icon in manifest["icons"]:
        with Image.open(out / icon["src"]) as im:
            assert im.format == "PNG" and f"{im.width}x{im.height}" == icon["sizes"]
            sizes.add(im.width)
    assert {192, 512} <= sizes
    assert 'rel="manifest"' in (out / "index.html").read_text()


@pytest.mark.skipif(not (DATA / "val").is_dir(), reason="no dataset in ../shared/data")
def test_examples_from_validation_images(built_site):
    index = json.loads((built_site.out / "examples/index.json").read_text())
    assert len(index["classes"]) == 10
    per_class = {}
    for ex in index["examples"]:
        assert ex["source"].startswith("val/")
        src = DATA / ex["source"]
        assert sha256(built_site.out / "examples" / ex["file"]) == sha256(src) == ex["sha256"]
        per_class[ex["class_index"]] = per_class.get(ex["class_index"], 0) + 1
    assert set(per_class.values()) == {4} and len(per_class) == 10


def fake_dataset(root, classes=2, per_class=3):
    """A tiny dataset in the tiny-imagenet-10 layout, with generated JPEGs."""
    for c in range(classes):
        folder = root / "val" / f"n0000000{c}"
        folder.mkdir(parents=True)
        for k in range(per_class):
            Image.new("RGB", (64, 64), (40 * k, 100, 20 * c)).save(folder / f"val_{k}.JPEG", quality=90)
    return root


def test_rebuild_is_incremental_and_cache_name_follows_assets(built_site, tmp_path):
    data = fake_dataset(tmp_path / "data")
    out = tmp_path / "dist"
    first = build(options(out, data=data, examples_per_class=3), log=quiet)
    again = build(options(out, data=data, examples_per_class=3), log=quiet)
    assert again.written == 0 and again.removed == 0 and again.cache_name == first.cache_name

    fewer = build(options(out, data=data, examples_per_class=1), log=quiet)  # 4 example images fewer
    assert fewer.cache_name != first.cache_name and cache_name(out) == fewer.cache_name
    assert fewer.removed == 4 and fewer.written == 3  # index.json, sw.js, build-info.json
    precache, on_demand = sw_lists(out)
    assert set(precache) - {"./", "build-info.json"} | {"index.html"} | set(on_demand) == assets_of(out)
    index = json.loads((out / "examples/index.json").read_text())
    assert [e["class_index"] for e in index["examples"]] == [0, 1]


def test_build_without_dataset(tmp_path):
    result = build(options(tmp_path / "dist", data=tmp_path / "no-such-dataset"), log=quiet)
    index = json.loads((result.out / "examples/index.json").read_text())
    assert index["examples"] == [] and index["classes"] == []
    with pytest.raises(BuildError, match="no val/ folder"):
        build(options(tmp_path / "dist2", data=tmp_path / "no-such-dataset", data_explicit=True), log=quiet)


def test_never_wipes_a_foreign_folder(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(BuildError, match="refusing"):
        sync_tree({"a.txt": b"x"}, tmp_path, "build-info.json")
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_examples_the_model_gets_right_come_first_within_each_class(tmp_path):
    """The page opens on a right answer; misclassified examples stay, numbered after the right ones."""
    import cnn101
    from buildsite.examples import choose_examples, correct_first

    if not (DATA / "val").is_dir():
        pytest.skip("no dataset")
    plan, index = choose_examples(DATA, 4, False, log=lambda *a: None)
    model = cnn101.load_model()
    before = {str(p) for p in plan.values()}
    plan = correct_first(plan, index, model)
    assert {str(p) for p in plan.values()} == before  # same images, none dropped
    for e in index["examples"]:
        x = cnn101.load_image(plan["examples/" + e["file"]], model)
        assert (int(model.trace(x).predicted) == e["class_index"]) == e["model_correct"]
    for cls in {e["class_index"] for e in index["examples"]}:
        flags = [e["model_correct"] for e in index["examples"] if e["class_index"] == cls]
        assert flags == sorted(flags, reverse=True)
    assert index["examples"][0]["model_correct"] and index["examples"][0]["id"].endswith("-1")
