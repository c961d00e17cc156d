"""The one archive reader (.npz weights, .keras files): zip members by name, within limits.

- Only the members a caller names are ever inflated; the others are never read.
- Sizes are checked twice: the sizes the zip's directory declares (before anything is inflated), and
  the bytes actually inflated (a member that lies about its size is stopped at the limit).
- `.npy` members: the header (dtype, shape) is checked before any array is made, object arrays are
  refused (cnn101 never unpickles), and the data must be exactly as long as the header says.
"""
from __future__ import annotations

import ast
import io
import math
import struct
import zipfile
import zlib

import numpy as np

from ..errors import ModelError

#: A member, and all members read from one archive, at most (inflated). Tiny VGG's weights: 82 KB.
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_MEMBERS = 10_000
_CHUNK = 1 << 20
#: Number kinds a weight may have (float, signed and unsigned integers); complex, text, objects never.
WEIGHT_KINDS = "fiu"


def _member_count(data: bytes) -> int | None:
    """The entry count the end-of-central-directory record declares (None when it cannot be found)."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if at < 0 or at + 22 > len(data):
        return None
    count = struct.unpack_from("<H", data, at + 10)[0]
    if count == 0xFFFF:  # zip64: the count is in the zip64 record its locator points to
        loc = data.rfind(b"PK\x06\x07", max(0, at - 20), at)
        if loc >= 0 and loc + 20 <= len(data):
            rec = struct.unpack_from("<Q", data, loc + 8)[0]
            if rec + 40 <= len(data) and data[rec:rec + 4] == b"PK\x06\x06":
                return struct.unpack_from("<Q", data, rec + 32)[0]
    return count


class Archive:
    """A zip held in memory; `read(name)` inflates one member within the limits."""

    def __init__(self, data: bytes, what: str):
        self.what = what
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ModelError(f"{what} must be given as bytes, not {type(data).__name__}.")
        data = bytes(data)
        if data[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
            raise ModelError(f"{what} is not a zip archive (it does not start like one); choose the file that "
                             "was saved with it, unrenamed and complete.")
        count = _member_count(data)
        if count is not None and count > MAX_MEMBERS:
            raise ModelError(f"{what} declares {count:,} members, more than the {MAX_MEMBERS:,} cnn101 reads; "
                             "it is not a model file.")
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, struct.error,
                NotImplementedError, UnicodeDecodeError):
            raise ModelError(f"{what} is not a valid zip archive (damaged or truncated); save or download it again.") from None
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.filename in self.infos:
                raise ModelError(f"{what} holds two members named {info.filename!r}; it is not a file cnn101 wrote "
                                 "or Keras saved. Save it again.")
            self.infos[info.filename] = info
        self.total = 0

    def names(self) -> list[str]:
        return list(self.infos)

    def __contains__(self, name: str) -> bool:
        return name in self.infos

    def read(self, name: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
        info = self.infos.get(name)
        if info is None:
            raise ModelError(f"{self.what} has no {name!r}.")
        if info.flag_bits & 0x1:
            raise ModelError(f"{self.what}: {name} is encrypted; cnn101 reads unencrypted files only.")
        limit = min(limit, MAX_TOTAL_BYTES - self.total)
        if info.file_size > limit:
            raise ModelError(f"{self.what}: {name} inflates to {info.file_size / 2**20:,.1f} MB, more than the "
                             f"{limit / 2**20:,.1f} MB cnn101 reads; it is not a model cnn101 can explain.")
        parts, got = [], 0
        try:
            with self.zip.open(info) as f:
                while True:
                    chunk = f.read(min(_CHUNK, limit + 1 - got))
                    if not chunk:
                        break
                    got += len(chunk)
                    parts.append(chunk)
                    if got > limit:
                        raise ModelError(f"{self.what}: {name} inflates to more than its declared size and more than "
                                         f"the {limit / 2**20:,.1f} MB cnn101 reads; the file is damaged or hostile.")
        except ModelError:
            raise
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error, ValueError, NotImplementedError, RuntimeError) as e:
            raise ModelError(f"{self.what}: {name} is damaged or truncated ({e}); save the file again.") from None
        self.total += got
        return b"".join(parts)


def _npy_header(data: bytes, what: str) -> tuple[np.dtype, tuple[int, ...], bool, int]:
    """(dtype, shape, fortran order, data offset) of an .npy file, from its header alone."""
    if data[:6] != b"\x93NUMPY" or len(data) < 10:
        raise ModelError(f"{what} is not a NumPy array (.npy); the weights file is damaged.")
    major = data[6]
    if major == 1:
        hlen, start = struct.unpack_from("<H", data, 8)[0], 10
    elif major in (2, 3) and len(data) >= 12:
        hlen, start = struct.unpack_from("<I", data, 8)[0], 12
    else:
        raise ModelError(f"{what}: unknown .npy version {major}; save the weights with numpy.savez.")
    if hlen > 10_000 or start + hlen > len(data):
        raise ModelError(f"{what}: the .npy header is damaged or too long; save the weights again.")
    try:
        header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
        descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    except (ValueError, SyntaxError, KeyError, TypeError, MemoryError, RecursionError):
        raise ModelError(f"{what}: the .npy header is damaged; save the weights again.") from None
    if not isinstance(descr, str):
        raise ModelError(f"{what} holds a structured array or Python objects, which cnn101 never loads "
                         "(weights are plain float arrays); save them with numpy.savez from float32 arrays.")
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError):
        raise ModelError(f"{what} has an unknown element type {descr!r}; save the weights as float32.") from None
    if dtype.hasobject or dtype.kind not in WEIGHT_KINDS:
        kind = "Python objects" if dtype.hasobject else f"{dtype} values"
        raise ModelError(f"{what} holds {kind}; cnn101 never loads those: weights must be real numbers "
                         "(float32). Save the weights with numpy.savez from float32 arrays.")
    if (not isinstance(shape, tuple) or any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in shape)
            or not isinstance(fortran, bool)):
        raise ModelError(f"{what}: the .npy header declares an impossible shape {shape!r}; save the weights again.")
    return dtype, shape, fortran, start + hlen


def npy_array(data: bytes, what: str) -> np.ndarray:
    """The array of an .npy file's bytes, checked before allocation (float32 out)."""
    dtype, shape, fortran, offset = _npy_header(data, what)
    count = math.prod(shape)
    if count * dtype.itemsize != len(data) - offset:
        raise ModelError(f"{what} declares shape {shape} ({count * dtype.itemsize:,} bytes) but holds "
                         f"{len(data) - offset:,}; the weights file is damaged or truncated.")
    a = np.frombuffer(data, dtype, count=count, offset=offset)
    a = a.reshape(shape[::-1]).T if fortran else a.reshape(shape)
    return a.astype(np.float32)


class NpzWeights:
    """The arrays of an .npz, each read (and checked) only when asked for by name."""

    def __init__(self, data: bytes, what: str = "The weights file (.npz)"):
        self.archive = Archive(data, what)
        self.what = what

    def __contains__(self, key: str) -> bool:
        return f"{key}.npy" in self.archive

    def __getitem__(self, key: str) -> np.ndarray:
        return npy_array(self.archive.read(f"{key}.npy"), f"{self.what}: {key}")

    def keys(self) -> list[str]:
        return [n[:-4] for n in self.archive.names() if n.endswith(".npy")]
