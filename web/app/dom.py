"""Small browser helpers: find elements, listen to events, paint RGBA buffers onto canvases.

The only place (with main.py) that knows how Python values cross into JavaScript. A heatmap crosses once:
a whole NumPy RGBA buffer becomes one Uint8ClampedArray, wrapped in ImageData, put on its canvas; the
Overview's maps cross together, one buffer for all its columns (paint_columns).
"""
from __future__ import annotations

import numpy as np
from cnn101.image import to_uint8
from pyscript import document, window
from pyscript.ffi import create_proxy, to_js

_keep = []  # event-handler proxies live as long as the page


def el(element_id: str):
    return document.getElementById(element_id)


def ensure(element_id: str, tag: str, parent, cls: str = "", **attrs):
    """The element with this id, made (tag, class, attributes) and appended to `parent` on first use."""
    node = el(element_id)
    if node is None:
        node = document.createElement(tag)
        node.id = element_id
        node.className = cls
        for name, value in attrs.items():
            node.setAttribute(name.replace("_", "-"), value)
        parent.appendChild(node)
    return node


def keep(fn):
    """A proxy of fn that lives as long as the page (page-wide handlers; a view uses its view.Owner)."""
    proxy = create_proxy(fn)
    _keep.append(proxy)
    return proxy


def on(target, event: str, handler) -> None:
    """A page-lifetime listener (views listen through their view.Owner, released when they close)."""
    target.addEventListener(event, keep(handler))


def mark(name: str) -> None:
    """A performance mark 'cnn101:<name>' (start-up phases, for benchmarks)."""
    window.performance.mark("cnn101:" + name)


def now() -> float:
    return float(window.performance.now())


def js_bytes(buffer: np.ndarray):
    """A JS Uint8ClampedArray holding a copy of a uint8 NumPy buffer (one crossing)."""
    u8 = to_js(np.ascontiguousarray(buffer, dtype=np.uint8).reshape(-1))  # Uint8Array copy
    return window.Uint8ClampedArray.new(u8.buffer, u8.byteOffset, u8.length)


def paint(canvas, rgba: np.ndarray) -> None:
    """Put an (H, W, 4) uint8 buffer on a canvas of the same size."""
    h, w = int(rgba.shape[0]), int(rgba.shape[1])
    if int(canvas.width) != w or int(canvas.height) != h:
        canvas.width, canvas.height = w, h
    canvas.getContext("2d").putImageData(window.ImageData.new(js_bytes(rgba), w, h), 0, 0)


def paint_many(canvases, rgba: np.ndarray) -> None:
    """Paint neuron k of an (n, H, W, 4) buffer on canvases[k]: one buffer crossing for the whole column."""
    n, h, w = (int(d) for d in rgba.shape[:3])
    data = js_bytes(rgba)
    if hasattr(window, "cnn101PaintMany"):  # boot.js: the loop in JavaScript, one border crossing
        window.cnn101PaintMany(canvases if hasattr(canvases, "length") else to_js(list(canvases[:n])), data, w, h)
        return
    size = h * w * 4
    for k in range(n):
        c = canvases[k]
        part = window.Uint8ClampedArray.new(data.buffer, data.byteOffset + k * size, size)
        c.getContext("2d").putImageData(window.ImageData.new(part, w, h), 0, 0)


def paint_columns(canvases, data: np.ndarray, dims) -> None:
    """Paint several columns' maps from one uint8 buffer, in one crossing: `dims` (a JS Int32Array) holds
    (neurons, width, height) per column and `canvases` (a JS array) every column's canvases in that order."""
    window.cnn101PaintColumns(canvases, js_bytes(data), dims)


def rgb_to_rgba(x: np.ndarray) -> np.ndarray:
    """A float H×W×3 image in [0, 1] → H×W×4 uint8 for a canvas."""
    h, w = x.shape[:2]
    out = np.empty((h, w, 4), np.uint8)
    out[..., :3] = to_uint8(x)  # the one inverse of /255 (a one-channel image shows as grey)
    out[..., 3] = 255
    return out


def show(element, visible: bool) -> None:
    element.hidden = not visible


def reveal(element, margin: float = 120) -> None:
    """Scroll the window so that `element` is in it: whole if it fits (as scrollIntoView's "nearest"), else
    from its top, unless its top already shows with `margin` px below it. By its layout box (offsetTop,
    offsetHeight), not its bounding box: a view opening with a scale animation reports a box that moves while it
    grows (scrollIntoView left the conv view ≈ 28 px above the window on a phone)."""
    top, node = 0.0, element
    while node is not None:
        top += float(node.offsetTop)
        node = node.offsetParent
    height = float(element.offsetHeight)
    y, window_h = float(window.scrollY), float(window.innerHeight)
    if top < y:
        to = top - 8
    elif height + 16 <= window_h and top + height > y + window_h:
        to = top + height + 8 - window_h  # the whole of it, its top still in the window
    elif top > y + window_h - margin:
        to = top - 8
    else:
        return
    window.scrollTo(float(window.scrollX), max(0.0, to))


def once(fn):
    """A proxy for a one-shot callback (requestAnimationFrame, setTimeout) that frees itself."""
    holder = []

    def call(*args):
        try:
            fn(*args)
        finally:
            holder[0].destroy()

    proxy = create_proxy(call)
    holder.append(proxy)
    return proxy


def document_root():
    return document


def download(name: str, text: str, mime: str = "application/json") -> None:
    """Offer `text` as a file called `name` (a Blob URL on a temporary link, released a second later)."""
    blob = window.Blob.new(to_js([text]), to_js({"type": mime}, dict_converter=window.Object.fromEntries))
    url = window.URL.createObjectURL(blob)
    a = document.createElement("a")
    a.href = url
    a.download = name
    a.click()
    window.setTimeout(once(lambda *args: window.URL.revokeObjectURL(url)), 1000)


def js_object(d: dict):
    """A plain JS object from a dict (nested dicts too), e.g. getUserMedia's constraints."""
    return to_js(d, dict_converter=window.Object.fromEntries)
