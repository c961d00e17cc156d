"""Decoding uploaded and example images so that the page sees the same pixels as CPython.

Pyodide 0.27.7's Pillow 10.2 is built with IJG libjpeg 9, whose chroma upsampling differs from the
libjpeg-turbo of CPython's Pillow (the decoder the model was trained and tested with): the same JPEG
decodes up to ±111 levels apart (median 2). Chromium decodes JPEGs with libjpeg-turbo and matches
CPython's Pillow exactly. So for a JPEG, Pillow (in Pyodide) checks and decodes the file as usual, the
browser decodes it too (no colour management; EXIF orientation applied, as browsers always do), and if
the two are the same picture (same size, mean difference ≤ 8 levels) the browser's pixels are
used; `cnn101.load_image` then does everything else (crop, resize, scaling). Other formats, and anything
the browser cannot decode, go through Pillow alone.

Pillow is not loaded at start: the page starts faster without it (≈ 0.1–0.2 s). The build's example
images are decoded by the browser alone (`load_example`: opaque pixels of the model's size need no
Pillow in `cnn101.load_image`); uploads and addresses load Pillow first (`ensure_pillow`), which the
page also does in the background once it is ready.
"""
from __future__ import annotations

import asyncio

import numpy as np
from cnn101.image import load_image, open_image
from pyscript import window
from pyscript.ffi import to_js

_BITMAP_OPTIONS = {"colorSpaceConversion": "none", "premultiplyAlpha": "none", "imageOrientation": "from-image"}
SAME_PICTURE = 8.0  # mean |difference| in levels: libjpeg 9 vs turbo on 100 val JPEGs ≤ 4.0, a flipped image ≥ 14


async def browser_pixels(data: bytes, size: tuple[int, int]) -> np.ndarray | None:
    """RGBA uint8 (H, W, 4) decoded by the browser, or None if it cannot (or the size disagrees)."""
    rgba = await browser_rgba(data)
    if rgba is None or (rgba.shape[1], rgba.shape[0]) != tuple(size):
        return None
    return rgba


_pillow: asyncio.Future | None = None
_pillow_failed = False  # the last attempt failed (a later upload tries again)


async def _load_pillow() -> None:
    import pyodide_js  # Pyodide's own loader: the wheel is in ./pyodide/, checked by the build, precached

    await pyodide_js.loadPackage("pillow", to_js({"messageCallback": lambda *_: None},
                                                 dict_converter=window.Object.fromEntries))
    import PIL.Image  # noqa: F401  (imported now, not on the first upload)


async def ensure_pillow() -> None:
    """Load Pillow (once; concurrent callers wait for the same load)."""
    global _pillow, _pillow_failed
    if _pillow is None:
        _pillow = asyncio.ensure_future(_load_pillow())
    loading = _pillow
    try:
        await loading
    except Exception:
        if _pillow is loading:  # not already replaced by a newer attempt
            _pillow, _pillow_failed = None, True
        raise
    _pillow_failed = False


def pillow_state() -> str:
    """'not loaded', 'loading', 'loaded' or 'failed' (for the page's state and its tests)."""
    if _pillow is None:
        return "failed" if _pillow_failed else "not loaded"
    if not _pillow.done():
        return "loading"
    return "failed" if _pillow.exception() is not None else "loaded"


async def image_hw(data: bytes) -> tuple[int, int] | None:
    """(height, width) of an image as the browser decodes it (EXIF orientation applied), or None: the
    'original' of the input view's preprocessing steps."""
    try:
        blob = window.Blob.new([to_js(data)])
        bitmap = await window.createImageBitmap(blob, to_js(_BITMAP_OPTIONS, dict_converter=window.Object.fromEntries))
        hw = (int(bitmap.height), int(bitmap.width))
        bitmap.close()
        return hw
    except Exception:
        return None


async def browser_rgba(data: bytes) -> np.ndarray | None:
    """RGBA uint8 (H, W, 4) as the browser decodes `data` (EXIF orientation applied), or None."""
    try:
        blob = window.Blob.new([to_js(data)])
        bitmap = await window.createImageBitmap(blob, to_js(_BITMAP_OPTIONS, dict_converter=window.Object.fromEntries))
        w, h = int(bitmap.width), int(bitmap.height)
        canvas = window.OffscreenCanvas.new(w, h)
        ctx = canvas.getContext("2d")
        ctx.drawImage(bitmap, 0, 0)
        bitmap.close()
        pixels = ctx.getImageData(0, 0, w, h).data.to_bytes()
    except Exception:
        return None
    return np.frombuffer(pixels, np.uint8).reshape(h, w, 4)


async def load_example(data: bytes, model) -> np.ndarray:
    """An example image of the build (a JPEG the browser decodes exactly as CPython's Pillow): straight
    from the browser's pixels when they are opaque and of the model's size, else as any upload."""
    rgba = await browser_rgba(data)
    if rgba is not None and rgba.shape[:2] == tuple(model.input_shape[:2]) and bool(np.all(rgba[..., 3] == 255)):
        return load_image(rgba, model)
    await ensure_pillow()
    return await load(data, model)


async def load(data: bytes, model) -> np.ndarray:
    """bytes of any image → the model's input, exactly as `cnn101.load_image` gives on CPython."""
    img = open_image(data)  # checks the file (not an image, truncated, too large) and decodes it
    if img.format == "JPEG" and img.mode in ("RGB", "L"):
        from PIL import Image, ImageOps

        upright = ImageOps.exif_transpose(img)  # what load_image would orient it to
        rgba = await browser_pixels(data, upright.size)
        if rgba is not None:
            px = np.ascontiguousarray(rgba[..., 0] if img.mode == "L" else rgba[..., :3])
            ref = np.asarray(upright)
            if float(np.abs(px.astype(np.int16) - ref).mean()) <= SAME_PICTURE:
                img = Image.fromarray(px)  # upright already: no EXIF left to apply
    return load_image(img, model)
