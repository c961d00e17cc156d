"""Hashing, and writing a planned file tree into a folder without touching unchanged files."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Union

from . import BuildError


def partial_path(target: Path) -> Path:
    """Where a file or folder for the shared cache is written before `os.replace` puts it at `target`: a name of
    this process's own, so that two builds filling the same cache entry at once (the test workers) never write
    into each other's file."""
    return target.with_name(f"{target.name}.{os.getpid()}.partial")

#: What a planned file comes from: a file on disk (copied with its mtime) or bytes made by the build.
Source = Union[Path, bytes]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def source_size(src: Source) -> int:
    return len(src) if isinstance(src, bytes) else src.stat().st_size


def source_sha256(src: Source) -> str:
    return sha256_bytes(src) if isinstance(src, bytes) else sha256_file(src)


def _unchanged(src: Source, dest: Path, sha256: str | None = None) -> bool:
    """dest already holds src's bytes: compared by content (a same-size edit with the old mtime, made by
    hand or by a tool that keeps mtimes, must not survive a rebuild), not by size and mtime."""
    if not dest.is_file() or dest.is_symlink():
        return False
    if dest.stat().st_size != source_size(src):
        return False
    if isinstance(src, bytes):
        return dest.read_bytes() == src
    return sha256_file(dest) == (sha256 or sha256_file(src))


def sync_tree(plan: dict[str, Source], out: Path, marker: str,
              hashes: dict[str, str] | None = None) -> tuple[int, int]:
    """Make `out` hold exactly the files of `plan` (relative POSIX path -> source).

    Unchanged files are left alone, so a rebuild with nothing changed writes nothing. Files not in the
    plan are removed, but only from a folder this build made before (one holding `marker`) or an empty
    one: a mistyped --out never wipes someone's folder. Files are compared by content (`hashes`: the
    sources' sha256 when already known). Returns (files written, files removed).
    """
    out = out.resolve()
    if out.exists() and any(out.iterdir()) and not (out / marker).is_file():
        raise BuildError(f"{out} exists, is not empty and holds no {marker}: refusing to write the site "
                         "into it. Choose another --out or empty the folder.")
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    # The marker goes first: a build interrupted half way still leaves a folder the next build may clean.
    order = sorted(plan, key=lambda rel: rel != marker)
    for rel in order:
        src = plan[rel]
        dest = out / rel
        if _unchanged(src, dest, (hashes or {}).get(rel)):
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = partial_path(dest)
        if isinstance(src, bytes):
            tmp.write_bytes(src)
        else:
            shutil.copy2(src, tmp)
        os.replace(tmp, dest)
        written += 1
    removed = 0
    keep = set(plan)
    for path in sorted(out.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        rel = path.relative_to(out).as_posix()
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
        elif rel not in keep:
            path.unlink()
            removed += 1
    return written, removed


def pip_download(requirement: str, sha256: str, file_name: str, folder: Path, log, what: str, remedy: str) -> Path:
    """folder/file_name: one wheel fetched with pip from PyPI (once), pinned by sha256 — refused otherwise.
    `what` prefixes the log line (e.g. 'lite'); `remedy` ends the error message (what else the user can do)."""
    path = folder / file_name
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        req = folder / "requirements.txt"
        req.write_text(f"{requirement} --hash=sha256:{sha256}\n")
        log(f"{what}: downloading {requirement} with pip")
        run = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                              "--require-hashes", "-r", str(req), "-d", str(folder), "-q"],
                             capture_output=True, text=True)
        if run.returncode != 0 or not path.is_file():
            raise BuildError(f"could not download {requirement} from PyPI with pip:\n"
                             f"{run.stderr.strip()[-1500:]}\n{remedy}")
    got = sha256_file(path)
    if got != sha256:
        raise BuildError(f"{path} has sha256 {got}, not the pinned {sha256}: delete it and build again.")
    return path
