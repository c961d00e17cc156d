"""The notebook kernel's packages with their bytecode inside (issue 15: the notebook's first cell ≤ 8 s).

Pyodide's wheels hold sources only, so the kernel compiled every module it imported at each start:
IPython and its dependencies (prompt_toolkit, pygments, jedi, traitlets, …) when it starts, NumPy and
cnn101 in the first cell — most of the kernel's start (notes/lite.md, session 7). Here the build runs
Pyodide 0.27.7 itself under Node (buildsite/bytecode.mjs, as for the app's bytecode), loads those
packages, imports what the kernel and the first cell import, compiles each of those modules to a
*checked-hash* .pyc (PEP 552: used only while the hash of the source beside it matches, so never stale
code) and repacks every wheel that gained one with the .pyc beside each source (and listed in its RECORD).

The repacked wheels are served from lite/pyc/<sha256[:16]>/<original file name> (a new path for new
bytes), and only the notebook's lock (lite/cnn101-pyodide-lock.json) names them, with their own sha256
(Pyodide checks it). The app's files, pyodide/ and its official lock, are not touched. Kept in the cache
by the hash of every input, so a rebuild takes no Node.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import zipfile
from pathlib import Path, PurePosixPath

from .bytecode import BytecodeError, run_in_node
from .files import partial_path, sha256_file

PREFIX = "lite/pyc/"
#: Bumped when the way the wheels are made changes (a new key for the cache).
RECIPE = "1"
TAG = "cpython-312"
#: What the kernel imports as it starts (pyodide-kernel 0.6.1's worker: micropip, piplite, then
#: pyodide_kernel, which imports IPython, ipykernel's shim, …) and what the tutorial's first cell runs.
IMPORTS = ("micropip", "piplite.piplite", "pyodide_kernel", "numpy", "cnn101")
#: Packages compiled whole (ours: later cells import cnn101.explain, render, …).
WHOLE = ("cnn101",)
_DATE = (1980, 1, 1, 0, 0, 0)

# Run inside Pyodide: import what the kernel imports, then compile every module loaded from a source
# file of site-packages (or of the standard library's folder, where the ssl/sqlite3 wheels go) into a
# zip of "<site|stdlib>/<path of the .pyc under that folder>" entries.
_CODE = r'''
import importlib, importlib.util, os, py_compile, site, sys, sysconfig, zipfile
sp = site.getsitepackages()[0]
std = sysconfig.get_paths()["stdlib"]
for name in IMPORTS:
    importlib.import_module(name)
sources = {getattr(m, "__file__", None) or "" for m in list(sys.modules.values())}
for name in WHOLE:
    folder = os.path.dirname(sys.modules[name].__file__)
    for root, _, files in os.walk(folder):
        sources.update(os.path.join(root, f) for f in files if f.endswith(".py"))
MODE = py_compile.PycInvalidationMode.CHECKED_HASH
entries = []
for f in sorted(s for s in sources if s.endswith(".py")):
    for tag, root in (("site/", sp), ("stdlib/", std)):
        if f.startswith(root + "/"):
            entries.append((f, tag + os.path.relpath(importlib.util.cache_from_source(f), root)))
            break
with zipfile.ZipFile("/tmp/bytecode.zip", "w", zipfile.ZIP_STORED) as z:
    for f, arc in entries:
        cfile = "/tmp/pyc/" + arc
        py_compile.compile(f, cfile=cfile, doraise=True, invalidation_mode=MODE)
        info = zipfile.ZipInfo(arc, date_time=(1980, 1, 1, 0, 0, 0))
        with open(cfile, "rb") as fh:
            z.writestr(info, fh.read())
'''


def cache_path(source: str) -> str:
    """The .pyc path of a source path inside a wheel (posix), as importlib.util.cache_from_source."""
    p = PurePosixPath(source)
    return (p.parent / "__pycache__" / f"{p.stem}.{TAG}.pyc").as_posix()


def repack(wheel: Path, root: str, pyc: dict[str, bytes]) -> bytes | None:
    """The wheel with the .pyc of each of its sources that `pyc` has ("<root>/<path>" keys), beside the
    source and in RECORD; None if it gains none. The same input gives the same bytes."""
    with zipfile.ZipFile(wheel) as zin:
        infos = zin.infolist()
        names = {i.filename for i in infos}
        added = {}
        for info in infos:
            if info.filename.endswith(".py"):
                arc = cache_path(info.filename)
                data = pyc.get(f"{root}/{arc}")
                if data is not None and arc not in names:
                    added[arc] = data
        if not added:
            return None
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
            for info in infos:
                data = zin.read(info)
                if info.filename.endswith(".dist-info/RECORD"):
                    # PEP 376/427: a .pyc may be listed without a hash
                    data = data.rstrip(b"\n") + b"\n" + b"".join(f"{a},,\n".encode() for a in sorted(added))
                zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            for arc in sorted(added):
                info = zipfile.ZipInfo(arc, date_time=_DATE)
                info.external_attr = 0o644 << 16
                zout.writestr(info, added[arc], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        return out.getvalue()


def _key(runtime: dict[str, Path], packages: dict[str, Path], names: list[str],
         wheels: dict[str, tuple[Path, str]]) -> str:
    h = hashlib.sha256(f"recipe {RECIPE}\n{IMPORTS} {WHOLE}\n{names}\n".encode())
    for name, path in sorted({**runtime, **packages}.items()):
        h.update(f"{name} {sha256_file(path)}\n".encode())
    for name, (path, root) in sorted(wheels.items()):
        h.update(f"wheel {name} {root} {path.name} {sha256_file(path)}\n".encode())
    return h.hexdigest()[:16]


def _compile(runtime: dict[str, Path], packages: dict[str, Path], names: list[str], extra: list[Path],
             log) -> dict[str, bytes]:
    """{"site/…/__pycache__/x.cpython-312.pyc": bytes} from Pyodide under Node."""
    log("lite: compiling the kernel's Python with Pyodide under Node (once per change)")
    job = {"packages": names + [str(p.resolve()) for p in extra], "app": {},
           "code": f"IMPORTS = {IMPORTS!r}\nWHOLE = {WHOLE!r}\n" + _CODE}
    with run_in_node(runtime, packages, job, prefix="cnn101-kernel-pyc-") as out, zipfile.ZipFile(out) as z:
        return {n: z.read(n) for n in z.namelist()}

def kernel_wheels(runtime: dict[str, Path], packages: dict[str, Path], names: list[str],
                  wheels: dict[str, tuple[Path, str]], cache: Path, log=print) -> dict[str, Path]:
    """{name: repacked wheel} for those of `wheels` (name → (wheel, its install root: "site" or "stdlib"))
    that gain bytecode. In Node, Pyodide loads `names` (from its lock; their files in `packages` by file
    name) and, by path, the wheels that are not among them. Made once per input, then taken from
    `cache`/lite-pyc/<key>/."""
    folder = cache / "lite-pyc" / _key(runtime, packages, names, wheels)
    manifest = folder / "wheels.json"
    if manifest.is_file():
        return {name: folder / file for name, file in json.loads(manifest.read_text()).items()}
    in_lock = {p.resolve() for p in packages.values()}
    extra = [path for path, _ in wheels.values() if path.resolve() not in in_lock]
    pyc = _compile(runtime, packages, names, extra, log)
    made = {name: data for name, (path, root) in sorted(wheels.items()) if (data := repack(path, root, pyc))}
    tmp = partial_path(folder)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    files = {}
    for name, data in made.items():
        files[name] = f"{name}/{wheels[name][0].name}"
        (tmp / name).mkdir()
        (tmp / files[name]).write_bytes(data)
    (tmp / "wheels.json").write_text(json.dumps(files, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    try:
        os.replace(tmp, folder)
    except OSError:
        if not manifest.is_file():  # not a concurrent build's finished copy
            raise
    return {name: folder / file for name, file in files.items()}


def served_path(wheel: Path) -> str:
    """Where a repacked wheel is served: lite/pyc/<sha256[:16]>/<its file name> (new bytes, new path)."""
    return f"{PREFIX}{sha256_file(wheel)[:16]}/{wheel.name}"
