"""The one rule for files that a model file names (TF.js weight shards) and for reading model files
from disk: base names only, inside the model's folder, regular files only, sizes checked before reading.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import ModelError

#: Any one model file read from disk, at most (the page's limit for all files chosen together).
MAX_FILE_BYTES = 200 * 1024 * 1024


def shard_name(path, manifest: str = "model.json") -> str:
    """A weight file named in a manifest: a plain base name ('group1-shard1of1.bin'), nothing else."""
    if not isinstance(path, str):
        raise ModelError(f"{manifest} names a weight file as {path!r}, which is not a file name.")
    if (not path or path in (".", "..") or "\x00" in path or PurePosixPath(path).name != path
            or PureWindowsPath(path).name != path):
        raise ModelError(f"{manifest} names the weight file {path!r}, which is not a plain file name next to it: "
                         "cnn101 reads only files in the model's own folder (names without '/', '\\\\' or '..').")
    return path


def read_file(path, what: str | None = None, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file (no device, FIFO, folder or symbolic link), at most `limit` of them."""
    p = Path(path)
    what = what or p.name
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        raise ModelError(f"{what} is missing ({p}); keep a model's files together in one folder.") from None
    except OSError as e:
        raise ModelError(f"{what} cannot be read ({e.strerror}).") from None
    if stat.S_ISLNK(st.st_mode):
        raise ModelError(f"{what} is a symbolic link; cnn101 reads a model's files only as regular files in its "
                         "folder. Copy the file there.")
    if not stat.S_ISREG(st.st_mode):
        raise ModelError(f"{what} is not a regular file (a folder, device or pipe); choose the model's own files.")
    if st.st_size > limit:
        raise ModelError(f"{what} is {st.st_size / 2**20:,.1f} MB, more than the {limit / 2**20:g} MB cnn101 reads "
                         "for a model file.")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(p, flags)
    except OSError as e:
        raise ModelError(f"{what} cannot be read ({e.strerror}).") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise ModelError(f"{what} is not a regular file; choose the model's own files.")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ModelError(f"{what} grew past {limit / 2**20:g} MB while being read; choose a finished file.")
    return data


def shard_reader(folder, manifest: str = "model.json", limit: int = MAX_FILE_BYTES):
    """read(name) for the shards of a model.json in `folder`, under one shared byte budget."""
    folder = Path(folder)
    left = [limit]

    def read(name) -> bytes:
        data = read_file(folder / shard_name(name, manifest), f"The weight file {name} named in {manifest}", left[0])
        left[0] -= len(data)
        return data

    return read
