"""buildsite/stored.py: the app's stdlib and NumPy/Pillow wheels repacked uncompressed, and its own lock."""
from __future__ import annotations

import hashlib
import json
import zipfile

import pytest

from conftest_build import built_site  # noqa: F401  (fixture)
from buildsite import BuildError
from buildsite.stored import LOCK, PREFIX, STDLIB, app_lock, check_numpy_trim, numpy_left_out, repack_stored
from pyodide_node import run_pyodide


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _members(path, left_out=lambda name: False):
    """Each member but those left out (a wheel's RECORD by name only: it lists what is left)."""
    with zipfile.ZipFile(path) as z:
        return [(i.filename, i.date_time, i.external_attr) + (() if i.filename.endswith("/RECORD") else (i.CRC, i.file_size))
                for i in z.infolist() if not left_out(i.filename)]


def test_repacked_zip_has_the_same_members_stored(tmp_path):
    src = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("pkg/", date_time=(2020, 1, 2, 3, 4, 6)), b"")
        info = zipfile.ZipInfo("pkg/__init__.py", date_time=(2021, 5, 6, 7, 8, 10))
        info.external_attr = 0o755 << 16
        z.writestr(info, b"x = 1\n" * 1000, zipfile.ZIP_DEFLATED)
        z.writestr("pkg/data.bin", bytes(range(256)) * 50, zipfile.ZIP_DEFLATED)
    out = repack_stored(src, tmp_path / "cache")
    assert out.name == src.name and _members(out) == _members(src)
    with zipfile.ZipFile(out) as z, zipfile.ZipFile(src) as orig:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
        assert all(z.read(n) == orig.read(n) for n in orig.namelist())
    before = out.stat().st_mtime_ns
    assert repack_stored(src, tmp_path / "cache") == out and out.stat().st_mtime_ns == before  # cached
    assert repack_stored(src, tmp_path / "cache").read_bytes() == out.read_bytes()


def test_numpy_trim_leaves_out_only_what_is_never_imported_and_says_so(tmp_path):
    src = tmp_path / "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"
    kept = {"numpy/__init__.py": "def __getattr__(a):\n    import numpy.testing as t\n    return t\n",
            "numpy/linalg/linalg.py": "from ..lib import x\n", "numpy/random/_pcg64.so": "wasm"}
    gone = {"numpy/f2py/__init__.py": "", "numpy/testing/__init__.py": "", "numpy/_core/include/numpy/x.h": "",
            "numpy/__init__.pyi": "", "numpy/_core/tests/test_x.py": "", "numpy/ma/testutils.py": ""}
    record = "".join(f"{n},sha256=x,1\n" for n in [*kept, *gone]) + "numpy-2.0.2.dist-info/RECORD,,\n"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in {**kept, **gone, "numpy-2.0.2.dist-info/RECORD": record}.items():
            z.writestr(name, text)
    out = repack_stored(src, tmp_path / "cache", numpy_left_out)
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == [*kept, "numpy-2.0.2.dist-info/RECORD"]
        assert z.read("numpy-2.0.2.dist-info/RECORD").decode().splitlines() == \
            [f"{n},sha256=x,1" for n in kept] + ["numpy-2.0.2.dist-info/RECORD,,"]
    check_numpy_trim(out, [])  # numpy/__init__.py's lazy np.testing is allowed: only an attribute reaches it
    ours = tmp_path / "ours.py"
    ours.write_text("import numpy as np\nnp.testing.assert_equal(1, 1)\n")
    with pytest.raises(BuildError, match="ours.py uses testing"):
        check_numpy_trim(out, [ours])
    ours.write_text("def f():\n    from numpy.f2py import x\n")
    with pytest.raises(BuildError, match="numpy.f2py"):
        check_numpy_trim(out, [ours])
    bad = tmp_path / "bad" / src.name
    bad.parent.mkdir()
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("numpy/linalg/linalg.py", "def f():\n    from ..testing import assert_\n")
    with pytest.raises(BuildError, match="numpy/linalg/linalg.py imports numpy.testing"):
        check_numpy_trim(bad, [])


def test_app_lock_changes_only_the_repacked_entries(tmp_path):
    wheel = tmp_path / "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"
    wheel.write_bytes(b"stored bytes")
    official = {"info": {"version": "0.27.7"}, "packages": {
        "numpy": {"name": "numpy", "file_name": wheel.name, "sha256": "0" * 64, "depends": []},
        "pillow": {"name": "Pillow", "file_name": "pillow-10.2.0-x.whl", "sha256": "1" * 64, "depends": []}}}
    path = tmp_path / "pyodide-lock.json"
    path.write_text(json.dumps(official))
    lock = json.loads(app_lock(path, {"numpy": wheel}))
    assert lock["packages"]["numpy"]["file_name"] == "stored/" + wheel.name
    assert lock["packages"]["numpy"]["sha256"] == _sha(wheel)
    assert lock["packages"]["pillow"] == official["packages"]["pillow"] and lock["info"] == official["info"]
    with pytest.raises(BuildError, match="official lock"):
        app_lock(path, {"pillow": wheel})  # not the file the official entry names


def test_site_ships_stored_copies_named_by_the_app_lock(built_site):  # noqa: F811
    out = built_site.out
    info = json.loads((out / "build-info.json").read_text())
    official = json.loads((out / "pyodide" / "pyodide-lock.json").read_text())["packages"]
    ours = json.loads((out / LOCK).read_text())["packages"]
    assert set(ours) == set(official)
    changed = {k for k in ours if ours[k] != official[k]}
    assert changed == {"numpy", "pillow"}
    for name in changed:
        stored, orig = out / "pyodide" / ours[name]["file_name"], out / "pyodide" / official[name]["file_name"]
        assert ours[name]["file_name"] == PREFIX[len("pyodide/"):] + orig.name
        assert ours[name]["sha256"] == _sha(stored) != _sha(orig)
        assert _members(stored) == _members(orig, numpy_left_out if name == "numpy" else lambda n: False)
    assert _members(out / STDLIB) == _members(out / "pyodide" / "python_stdlib.zip")
    assert sorted(info["app_runtime"]) == sorted(f"{PREFIX}{f}" for f in
                                                 ["pyodide-lock.json", "python_stdlib.zip"] +
                                                 [ours[n]["file_name"].split("/")[-1] for n in changed])
    # the point of it all: on the wire (the build's brotli copies, which build.py serve sends) each stored
    # zip is smaller than the deflated original
    for rel in [STDLIB] + [f"pyodide/{ours[n]['file_name']}" for n in changed]:
        br = out / (rel + ".br")
        assert br.is_file() and rel + ".br" in info["brotli_copies"], rel
        original = out / "pyodide" / rel.split("/")[-1]
        assert br.stat().st_size < 0.9 * original.stat().st_size, rel


@pytest.mark.slow
def test_the_app_runtime_imports_numpy_pillow_and_every_cnn101_module(built_site):  # noqa: F811
    """Pyodide under Node started as the page starts it: the app's lock and stdlib, its NumPy and Pillow."""
    code = """
import importlib, pkgutil, sys, zipfile
import numpy, PIL.Image, cnn101
names = sorted(m.name for m in pkgutil.walk_packages(cnn101.__path__, "cnn101."))
for name in names:
    importlib.import_module(name)
# every NumPy module the trim kept imports (numpy._core.cversions needs NumPy's source tree: it fails
# in the official wheel as well)
failed = []
for m in pkgutil.walk_packages(numpy.__path__, "numpy.", onerror=failed.append):
    try:
        importlib.import_module(m.name)
    except BaseException:
        failed.append(m.name)
import email.parser, json, asyncio  # deeper in the stdlib zip, read from the stored copy
with zipfile.ZipFile(sys.path[[p.endswith(".zip") for p in sys.path].index(True)]) as z:
    kinds = {i.compress_type for i in z.infolist()}
RESULT = {"numpy": numpy.__version__, "pillow": PIL.__version__, "modules": len(names),
          "stdlib_stored": kinds == {zipfile.ZIP_STORED}, "numpy_failed": failed}
"""
    run = run_pyodide(code, built_site.out, packages=("numpy", "pillow"), app_runtime=True)
    assert run.result["numpy"] == "2.0.2" and run.result["pillow"] == "10.2.0"
    assert run.result["modules"] > 30 and run.result["stdlib_stored"]
    assert run.result["numpy_failed"] == ["numpy._core.cversions"]
    assert {run.loaded.get("numpy"), run.loaded.get("Pillow")} == {"default channel"}
