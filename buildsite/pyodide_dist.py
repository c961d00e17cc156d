"""Wasm packages from an official Pyodide distribution (folder or .tar.bz2/.tar.gz), given with
--pyodide-dist: what a user with internet access would download from Pyodide's releases.

Only the package files are taken from it, and each is checked against npm pyodide's official lock just
like the carrier's. The runtime files (pyodide.mjs, .wasm, stdlib, lock) always come from npm.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
from pathlib import Path

from . import BuildError
from .files import partial_path
from .pyodide_lock import LockEntry
from .wheels import verify_against_lock


def _check_lock_version(lock_bytes: bytes | None, origin: str, version: str) -> None:
    if lock_bytes is None:
        return
    try:
        got = json.loads(lock_bytes)["info"]["version"]
    except (ValueError, KeyError, TypeError):
        raise BuildError(f"{origin}: its pyodide-lock.json is not a Pyodide lock file.") from None
    if got != version:
        raise BuildError(f"{origin} is Pyodide {got}; this site needs Pyodide {version}.")


def _folder_files(folder: Path, entries: list[LockEntry], version: str) -> dict[str, Path]:
    if not (folder / "pyodide-lock.json").is_file() and (folder / "pyodide" / "pyodide-lock.json").is_file():
        folder = folder / "pyodide"  # the unpacked release tarball holds one folder, pyodide/
    lock = folder / "pyodide-lock.json"
    _check_lock_version(lock.read_bytes() if lock.is_file() else None, str(folder), version)
    return {e.file_name: folder / e.file_name for e in entries}


def _tarball_files(tarball: Path, entries: list[LockEntry], cache: Path, version: str, log) -> dict[str, Path]:
    st = tarball.stat()
    key = hashlib.sha256(f"{tarball.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    store = cache / "pyodide-dist" / key
    wanted = {e.file_name for e in entries}
    if not all((store / name).is_file() for name in wanted):
        log(f"pyodide-dist: reading {tarball.name} (a full distribution: this takes a while, once)")
        if store.parent.is_dir():  # keep one unpacked distribution: the one in use
            for old in store.parent.iterdir():
                shutil.rmtree(old, ignore_errors=True)
        store.mkdir(parents=True, exist_ok=True)
        lock_bytes = None
        try:
            with tarfile.open(tarball, "r:*") as tar:
                for member in tar:
                    name = os.path.basename(member.name)
                    if not member.isfile() or (name not in wanted and name != "pyodide-lock.json"):
                        continue
                    data = tar.extractfile(member).read()
                    if name == "pyodide-lock.json":
                        lock_bytes = data
                        continue
                    tmp = partial_path(store / name)
                    tmp.write_bytes(data)
                    os.replace(tmp, store / name)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BuildError(f"cannot read {tarball} as a tar archive: {exc}") from None
        _check_lock_version(lock_bytes, str(tarball), version)
    return {name: store / name for name in wanted}


def dist_packages(path: Path, entries: list[LockEntry], cache: Path, lock_path: Path, version: str,
                  log=print) -> dict[str, Path]:
    """Verified package files (file name -> path) from an official distribution folder or tarball."""
    if not path.exists():
        raise BuildError(f"--pyodide-dist {path}: no such file or folder.")
    if path.is_dir():
        files = _folder_files(path, entries, version)
    elif path.name.endswith((".tar.bz2", ".tar.gz", ".tgz", ".tar")):
        files = _tarball_files(path, entries, cache, version, log)
    else:
        raise BuildError(f"--pyodide-dist {path}: expected a folder or a .tar.bz2/.tar.gz of Pyodide {version}.")
    verify_against_lock(entries, files, lock_path, f"--pyodide-dist {path}")
    return files
