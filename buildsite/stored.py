"""The app's own copies of Pyodide's standard library and of the NumPy and Pillow wheels, repacked
uncompressed (ZIP_STORED), and an app-only pyodide-lock.json that names them.

Why: these zips arrive deflated member by member, and deflate is all a browser gets of them (brotli over a
deflated file gains ≈ 2 %). Stored, the same members compress as one stream with brotli across files:
NumPy 3.02 → 1.95 MB, the standard library 2.31 → 1.49 MB, Pillow 0.98 → 0.75 MB on the wire
(quality 11, the build's `.br` copies, which build.py serve sends; notes/startup.md). Same members,
same order, same names and dates: only the compression differs (checked here, member by member).

Pyodide checks a package's bytes against the sha256 in its lock, so the app starts Pyodide with its own
lock (`lockFileURL`), the official one with these files' names and sha256; its stdlib comes from
`stdLibURL`. Both are in `pyodide/stored/`, next to the official files the notebook site keeps using.
Nothing else changes: the official lock and files are still served unchanged (for the notebook).
"""
from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

from . import BuildError
from .files import sha256_file

#: dist/ folder of the repacked files and the app's lock (a lock file_name is relative to pyodide/).
PREFIX = "pyodide/stored/"
LOCK = PREFIX + "pyodide-lock.json"
STDLIB = PREFIX + "python_stdlib.zip"
#: The lock packages the app loads, repacked (numpy at start, pillow on the first upload or once ready).
PACKAGES = ("numpy", "pillow")
#: Bumped when the way the copies are made changes (a new cache key).
RECIPE = "1"


def repack_stored(src: Path, cache: Path) -> Path:
    """`src` (a zip or wheel) with every member stored uncompressed; made once per input, then cached."""
    key = hashlib.sha256(f"stored {RECIPE} {sha256_file(src)}".encode()).hexdigest()[:16]
    target = cache / "stored" / key / src.name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            out.external_attr, out.create_system = info.external_attr, info.create_system
            out.compress_type = zipfile.ZIP_STORED
            zout.writestr(out, zin.read(info))
    _check_same_members(src, partial)
    os.replace(partial, target)
    return target


def _check_same_members(original: Path, repacked: Path) -> None:
    with zipfile.ZipFile(original) as a, zipfile.ZipFile(repacked) as b:
        ia, ib = a.infolist(), b.infolist()
        same = [(i.filename, i.CRC, i.file_size, i.date_time) for i in ia] == \
               [(i.filename, i.CRC, i.file_size, i.date_time) for i in ib]
        if not same or b.testzip() is not None or any(i.compress_type != zipfile.ZIP_STORED for i in ib):
            raise BuildError(f"repacking {original.name} uncompressed changed its members: delete "
                             f"{repacked.parent} and build again.")


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


def stored_files(official_lock: Path, stdlib: Path, wheels: dict[str, Path], cache: Path) -> dict[str, Path | bytes]:
    """dist/ path → source of the app's stored copies and of its lock. `wheels`: lock name → the verified
    wheel of each package in PACKAGES."""
    repacked = {name: repack_stored(path, cache) for name, path in wheels.items()}
    out = {STDLIB: repack_stored(stdlib, cache), LOCK: app_lock(official_lock, repacked)}
    out.update({PREFIX + path.name: path for path in repacked.values()})
    return out
