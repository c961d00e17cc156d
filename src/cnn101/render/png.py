"""A minimal PNG encoder in NumPy + zlib (no Pillow): uint8 pixels → PNG bytes or a data URI.

Works wherever NumPy does (CPython, Pyodide, JupyterLite), so notebooks and the prerendered page can
embed heatmaps as `<img src="data:image/png;base64,...">`.
"""
from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels → PNG colour type (grey, grey+alpha, RGB, RGBA)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(pixels: np.ndarray, level: int = 6) -> bytes:
    """Encode uint8 pixels as an 8-bit PNG: (H, W) grey, or (H, W, C) with C = 1 grey, 2 grey+alpha,
    3 RGB, 4 RGBA. Every row uses filter 0 (none); `level` is zlib's compression level."""
    a = np.asarray(pixels)
    if a.dtype != np.uint8:
        raise ValueError(f"png_bytes() needs uint8 pixels, got {a.dtype}; colour values first (cnn101.render.heatmap).")
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in _COLOUR_TYPE or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"png_bytes() needs an (H, W) or (H, W, 1–4) array with at least one pixel, got {a.shape}")
    h, w, c = a.shape
    raw = np.zeros((h, 1 + w * c), dtype=np.uint8)  # each row: filter byte 0, then the pixels
    raw[:, 1:] = a.reshape(h, w * c)
    header = struct.pack(">IIBBBBB", w, h, 8, _COLOUR_TYPE[c], 0, 0, 0)
    return (_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw.tobytes(), level))
            + _chunk(b"IEND", b""))


def data_uri(pixels: np.ndarray) -> str:
    """A `data:image/png;base64,...` URI of the pixels, for an <img> or SVG <image>."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(pixels)).decode("ascii")


def read_png(data: bytes) -> np.ndarray:
    """Decode a PNG written by `png_bytes` (8-bit, filter 0, not interlaced) back to (H, W, C) uint8.

    Not a general decoder: enough to check our own output where Pillow is missing."""
    if not data.startswith(_SIGNATURE):
        raise ValueError("Not a PNG file.")
    pos, idat, header = len(_SIGNATURE), b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if zlib.crc32(kind + body) & 0xFFFFFFFF != struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]:
            raise ValueError(f"Bad CRC in the {kind.decode('latin-1')} chunk.")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if header is None:
        raise ValueError("The PNG has no IHDR chunk.")
    w, h, depth, ctype, _, _, interlace = header
    c = {v: k for k, v in _COLOUR_TYPE.items()}.get(ctype)
    if depth != 8 or c is None or interlace:
        raise ValueError("read_png() only reads 8-bit, non-interlaced PNGs as png_bytes() writes them.")
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + w * c)
    if raw[:, 0].any():
        raise ValueError("read_png() only reads rows with filter 0.")
    return raw[:, 1:].reshape(h, w, c).copy()
