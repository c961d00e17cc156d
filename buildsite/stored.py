"""The app's own copies of Pyodide's standard library and of the NumPy and Pillow wheels, repacked
uncompressed (ZIP_STORED), and an app-only pyodide-lock.json that names them.

Why: these zips arrive deflated member by member, and deflate is all a browser gets of them (brotli over a
deflated file gains ≈ 2 %). Stored, the same members compress as one stream with brotli across files:
NumPy 3.02 → 1.95 MB, the standard library 2.31 → 1.49 MB, Pillow 0.98 → 0.75 MB on the wire
(quality 11, the build's `.br` copies, which build.py serve sends; notes/startup.md). Same members,
same order, same names and dates: only the compression differs (checked here, member by member).

NumPy's copy also leaves out what the app never imports (≈ 0.25 MB brotli): the files for building C
extensions against NumPy (headers, static libraries, Cython declarations, pkg-config), typing stubs, f2py,
numpy.testing, the PyInstaller hook, examples and docs. A build-time check (`check_numpy_trim`) parses
every module kept and our own sources, and stops the build if any of them imports what was left out.

Pyodide checks a package's bytes against the sha256 in its lock, so the app starts Pyodide with its own
lock (`lockFileURL`), the official one with these files' names and sha256; its stdlib comes from
`stdLibURL`. Both are in `pyodide/stored/`, next to the official files the notebook site keeps using.
Nothing else changes: the official lock and files are still served unchanged (for the notebook).
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

from . import BuildError
from .files import partial_path, sha256_file

#: dist/ folder of the repacked files and the app's lock (a lock file_name is relative to pyodide/).
PREFIX = "pyodide/stored/"
LOCK = PREFIX + "pyodide-lock.json"
STDLIB = PREFIX + "python_stdlib.zip"
#: The lock packages the app loads, repacked (numpy at start, pillow on the first upload or once ready).
PACKAGES = ("numpy", "pillow")
#: Bumped when the way the copies are made changes (a new cache key).
RECIPE = "2"

#: NumPy's members the app never imports (see the module docstring), and the modules among them.
NUMPY_LEFT_OUT = ("numpy/f2py/", "numpy/testing/", "numpy/_pyinstaller/", "numpy/doc/", "numpy/_core/include/",
                  "numpy/_core/lib/", "numpy/random/lib/", "numpy/random/_examples/", "numpy/ma/testutils.py",
                  "numpy/ma/timer_comparison.py", "numpy/matlib.py")
#: (`from numpy import *` reaches np.testing and np.f2py through numpy's __all__: numpy.matlib does it)
NUMPY_LEFT_OUT_MODULES = ("numpy.f2py", "numpy.testing", "numpy._pyinstaller", "numpy.doc", "numpy.ma.testutils",
                          "numpy.ma.timer_comparison", "numpy.matlib", "numpy.*")
#: Kept modules that name a left-out one only behind an attribute the app never touches: numpy's lazy
#: `np.testing` / `np.f2py` / `np.matlib` (its module __getattr__) and `np.test()` (the test runner).
NUMPY_LAZY_USERS = ("numpy/__init__.py", "numpy/_pytesttester.py")


def numpy_left_out(name: str) -> bool:
    return name.startswith(NUMPY_LEFT_OUT) or name.endswith((".pyi", ".pxd")) or "/tests/" in name


def repack_stored(src: Path, cache: Path, left_out=None) -> Path:
    """`src` (a zip or wheel) with every member stored uncompressed, but those `left_out(name)` is true
    for (a wheel's RECORD then lists only what is left); made once per input, then cached."""
    rule = f"{left_out.__module__}.{left_out.__name__} {NUMPY_LEFT_OUT!r}" if left_out else ""  # the rule's own key
    key = hashlib.sha256(f"stored {RECIPE} {rule} {sha256_file(src)}".encode()).hexdigest()[:16]
    target = cache / "stored" / key / src.name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(target)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as zout:
        dropped = {i.filename for i in zin.infolist() if left_out and left_out(i.filename)}
        for info in zin.infolist():
            if info.filename in dropped:
                continue
            data = zin.read(info)
            if dropped and info.filename.endswith(".dist-info/RECORD"):
                data = b"".join(line for line in data.splitlines(keepends=True)
                                if line.split(b",", 1)[0].decode() not in dropped)
            out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            out.external_attr, out.create_system = info.external_attr, info.create_system
            out.compress_type = zipfile.ZIP_STORED
            zout.writestr(out, data)
    _check_same_members(src, partial, dropped)
    os.replace(partial, target)
    return target


def _check_same_members(original: Path, repacked: Path, dropped: set[str]) -> None:
    def listing(infos):
        return [(i.filename, None if i.filename.endswith("/RECORD") else i.CRC, i.date_time) for i in infos
                if i.filename not in dropped]

    with zipfile.ZipFile(original) as a, zipfile.ZipFile(repacked) as b:
        ib = b.infolist()
        if listing(a.infolist()) != listing(ib) or b.testzip() is not None \
                or any(i.compress_type != zipfile.ZIP_STORED for i in ib):
            raise BuildError(f"repacking {original.name} uncompressed changed its members: delete "
                             f"{repacked.parent} and build again.")


def _imports(source: str, module: str) -> set[str]:
    """Absolute names of every module a source imports, at any level (functions too)."""
    package = module.rpartition(".")[0] if not module.endswith(".__init__") else module[: -len(".__init__")]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            mod = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names)
    return found


_ATTRIBUTE = re.compile(r"\b(?:np|numpy)\.(f2py|testing|_pyinstaller|doc|matlib)\b")


def check_numpy_trim(wheel: Path, ours: list[Path]) -> None:
    """Stop the build if a module kept in the trimmed NumPy wheel, or one of our own sources (cnn101,
    web/app), imports or names a module the trim left out."""
    left = NUMPY_LEFT_OUT_MODULES
    problems = []
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.endswith(".py") and name not in NUMPY_LAZY_USERS:
                module = name[:-3].replace("/", ".")
                bad = {m for m in _imports(z.read(name).decode("utf-8"), module) if m.startswith(left)}
                problems += [f"{name} imports {m}" for m in sorted(bad)]
    for path in ours:
        text = path.read_text(encoding="utf-8")
        bad = {m for m in _imports(text, "ours.x") if m.startswith(left)} | set(_ATTRIBUTE.findall(text))
        problems += [f"{path} uses {m}" for m in sorted(bad)]
    if problems:
        raise BuildError("the app's trimmed NumPy wheel (buildsite/stored.py) leaves out what is used: "
                         + "; ".join(problems[:5]) + ". Keep it in (NUMPY_LEFT_OUT).")


def app_lock(official_lock: Path, repacked: dict[str, Path]) -> bytes:
    """The official lock with each repacked package (lock name → repacked file) named in pyodide/stored/
    with its new sha256; every other entry unchanged."""
    lock = json.loads(official_lock.read_bytes())
    packages = lock["packages"]
    for name, path in repacked.items():
        entry = packages.get(name)
        if entry is None or entry["file_name"] != path.name:
            raise BuildError(f"{official_lock} has no entry {name!r} for {path.name}: is it the official lock?")
        entry["file_name"] = PREFIX[len("pyodide/"):] + path.name  # resolved against pyodide/ (the indexURL)
        entry["sha256"] = sha256_file(path)
    return (json.dumps(lock, separators=(",", ":"), sort_keys=True) + "\n").encode()


def stored_files(official_lock: Path, stdlib: Path, wheels: dict[str, Path], cache: Path,
                 ours: list[Path]) -> dict[str, Path | bytes]:
    """dist/ path → source of the app's stored copies and of its lock. `wheels`: lock name → the verified
    wheel of each package in PACKAGES; `ours`: our Python sources, checked against NumPy's trim."""
    repacked = {name: repack_stored(path, cache, numpy_left_out if name == "numpy" else None)
                for name, path in wheels.items()}
    check_numpy_trim(repacked["numpy"], ours)
    out = {STDLIB: repack_stored(stdlib, cache), LOCK: app_lock(official_lock, repacked)}
    out.update({PREFIX + path.name: path for path in repacked.values()})
    return out
