"""Hostile files for tests/test_hostile_inputs.py, made in a few milliseconds each: zip archives with
deflate bombs (built bit by bit, so a 2 GB member costs 13 MB and no compression time), lying size fields,
.npy headers that declare huge arrays, a minimal Keras 3 `.keras` file written with h5py.
"""
from __future__ import annotations

import io
import json
import struct
import zlib

import numpy as np

# --- raw deflate of runs of zero bytes ----------------------------------------------------------------


class _Bits:
    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0

    def put(self, value: int, count: int, reverse: bool = False):
        if reverse:  # Huffman codes go most-significant bit first
            value = int(f"{value:0{count}b}"[::-1], 2)
        self.acc |= value << self.n
        self.n += count
        while self.n >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.n -= 8

    def flush(self) -> bytes:
        if self.n:
            self.out.append(self.acc & 0xFF)
        self.acc = self.n = 0
        return bytes(self.out)


def _match(b: _Bits):  # length 258 (fixed code 285 = 11000101), distance 1 (code 0, 5 bits)
    b.put(0b11000101, 8, reverse=True)
    b.put(0, 5, reverse=True)


def zero_deflate(n_bytes: int) -> tuple[bytes, int]:
    """(raw deflate stream, exact inflated length ≥ n_bytes) of zeros: one literal, then 258-byte copies."""
    head = _Bits()
    head.put(1, 1)  # final block
    head.put(1, 2)  # fixed Huffman codes
    head.put(0b00110000, 8, reverse=True)  # literal 0
    _match(head)  # 3 + 8 + 13 = 24 bits: byte aligned from here
    prefix = head.flush()
    pat = _Bits()
    for _ in range(8):
        _match(pat)
    pattern = pat.flush()  # 104 bits = 13 bytes = 8 × 258 zeros
    reps = max(0, -(-(n_bytes - 259) // 2064))
    tail = _Bits()
    tail.put(0, 7)  # end of block (code 256 = 0000000)
    stream = prefix + pattern * reps + tail.flush()
    return stream, 259 + reps * 2064


def zeros_crc(n: int) -> int:
    crc, chunk = 0, bytes(1 << 24)
    while n > 0:
        crc = zlib.crc32(chunk[:min(n, len(chunk))], crc)
        n -= len(chunk)
    return crc


# --- zip archives written by hand (so sizes can lie) -----------------------------------------------

def zip_bytes(members: list[tuple[str, bytes, int, int, int, int]], declared_count: int | None = None) -> bytes:
    """members: (name, stored bytes, method 0/8, crc, declared inflated size, flags)."""
    out, central = bytearray(), bytearray()
    for name, data, method, crc, size, flags in members:
        nb = name.encode()
        offset = len(out)
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, method, 0, 0x21, crc, len(data), size, len(nb), 0)
        out += nb + data
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, flags, method, 0, 0x21, crc, len(data),
                               size, len(nb), 0, 0, 0, 0, 0, offset) + nb
    count = len(members) if declared_count is None else declared_count
    eocd = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, min(count, 0xFFFF), min(count, 0xFFFF), len(central),
                       len(out), 0)
    return bytes(out + central + eocd)


def member(name: str, data: bytes, deflate: bool = True) -> tuple:
    if deflate:
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        stored = c.compress(data) + c.flush()
        return (name, stored, 8, zlib.crc32(data), len(data), 0)
    return (name, data, 0, zlib.crc32(data), len(data), 0)


def bomb_member(name: str, n_bytes: int, declared: int | None = None, prefix: bytes = b"") -> tuple:
    """A member inflating to ≈ n_bytes of zeros (after an optional stored prefix such as an .npy header)."""
    stream, size = zero_deflate(n_bytes)
    if prefix:  # a stored (non-final) block with the prefix, then the zeros
        stream = b"\x00" + struct.pack("<HH", len(prefix), len(prefix) ^ 0xFFFF) + prefix + stream
    crc = zlib.crc32(bytes(size), zlib.crc32(prefix)) if size <= (1 << 26) else 0
    return (name, stream, 8, crc, len(prefix) + size if declared is None else declared, 0)


def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def npy_header(shape: tuple, descr: str = "<f4") -> bytes:
    """Just an .npy header declaring `shape` (the data is whatever follows)."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}".encode("latin1")
    text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


def npz_of(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


# --- a minimal Keras 3 .keras file, no TensorFlow -----------------------------------------------

KERAS_CONFIG = {"module": "keras", "class_name": "Sequential", "config": {"name": "tiny", "layers": [
    {"class_name": "InputLayer", "config": {"batch_shape": [None, 8, 8, 3], "name": "input"}},
    {"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3], "strides": [1, 1],
                                        "padding": "valid", "activation": "relu", "use_bias": True}},
    {"class_name": "Flatten", "config": {"name": "f"}},
    {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "softmax", "use_bias": True}}]}}


def keras_weights_h5(edit=None) -> bytes:
    """model.weights.h5 for KERAS_CONFIG; `edit(f)` may change the h5py file before it is closed."""
    import h5py

    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for key, shapes in (("conv2d", [(3, 3, 3, 2), (2,)]), ("dense", [(72, 2), (2,)])):
            g = f.create_group(f"layers/{key}/vars")
            for i, s in enumerate(shapes):
                g.create_dataset(str(i), data=rng.normal(0, 0.3, s).astype(np.float32))
        f.create_group("layers/flatten")
        if edit:
            edit(f)
    return buf.getvalue()


def keras_file(config=None, h5: bytes | None = None, metadata=None, extra: list | None = None) -> bytes:
    members = [member("metadata.json", metadata if isinstance(metadata, bytes) else
                      json.dumps(metadata or {"keras_version": "3.0.0"}).encode()),
               member("config.json", config if isinstance(config, bytes) else json.dumps(config or KERAS_CONFIG).encode()),
               member("model.weights.h5", h5 if h5 is not None else keras_weights_h5())]
    return zip_bytes(members + (extra or []))
