"""Drawing on the model's input array (H×W×C float32 in [0, 1]): brush strokes and flood fill, shared by
the page's drawing pad and the notebook.

    from cnn101 import draw
    y = draw.stroke(x, [(10, 10), (20, 30)], radius=2, colour=(1, 0, 0))     # a red line
    y = draw.stroke(x, [(5, 5)], radius=3, colour=1.0, channel="red")        # paint into the red channel only
    y = draw.fill(x, 0, 0, colour=(1, 1, 1))                                 # flood the region around (0, 0)

Coordinates are (row, column) in pixels; pixel (i, j) has its centre at (i, j). A stroke paints every pixel
whose centre lies within `radius` of the polyline through its points (a single point paints a disc), so a
radius of 0.5 paints a one-pixel-wide line. Points may lie outside the image; only pixels inside are painted.
Each function returns a new array and leaves its input alone; values stay in [0, 1] because only given
colours are written. Unusable settings raise PerturbError.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from .errors import PerturbError
from .perturb import channel_index, image
from .perturb import colour as _colour


def _points(points) -> np.ndarray:
    try:
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2) if len(points) else np.zeros((0, 2))
    except (TypeError, ValueError):
        raise PerturbError(f"A stroke needs a list of (row, column) points, got {points!r}.") from None
    if len(p) == 0 or not np.all(np.isfinite(p)):
        raise PerturbError("A stroke needs at least one (row, column) point, all finite numbers.")
    return p


def _paint(a: np.ndarray, mask: np.ndarray, value, channel) -> np.ndarray:
    c = a.shape[2]
    if channel is None:
        a[mask] = _colour(value, c, "brush")
    else:
        k = channel_index(channel, c)
        v = np.asarray(value, dtype=np.float64).reshape(-1)
        v = _colour(v if v.size == 1 else v[k:k + 1] if v.size == c else v, 1, "brush")[0]
        a[mask, k] = v
    return a


def stroke_mask(shape, points, radius: float) -> np.ndarray:
    """(H, W) bool: the pixels whose centre lies within `radius` of the polyline through `points`."""
    h, w = int(shape[0]), int(shape[1])
    p = _points(points)
    r = float(radius) if np.isscalar(radius) else float("nan")
    if not np.isfinite(r) or r <= 0:
        raise PerturbError(f"The brush radius must be a positive number of pixels, got {radius!r}.")
    mask = np.zeros((h, w), bool)
    segments = list(zip(p[:-1], p[1:])) or [(p[0], p[0])]
    for a, b in segments:
        lo = np.floor(np.minimum(a, b) - r).astype(int)
        hi = np.ceil(np.maximum(a, b) + r).astype(int)
        r0, r1 = max(lo[0], 0), min(hi[0] + 1, h)
        c0, c1 = max(lo[1], 0), min(hi[1] + 1, w)
        if r0 >= r1 or c0 >= c1:
            continue
        rr, cc = np.meshgrid(np.arange(r0, r1), np.arange(c0, c1), indexing="ij")
        d = b - a
        length2 = float(d @ d)
        t = 0.0 if length2 == 0 else np.clip(((rr - a[0]) * d[0] + (cc - a[1]) * d[1]) / length2, 0.0, 1.0)
        dist2 = (rr - (a[0] + t * d[0])) ** 2 + (cc - (a[1] + t * d[1])) ** 2
        mask[r0:r1, c0:c1] |= dist2 <= r * r + 1e-9
    return mask


def stroke(x, points, radius: float = 1.5, colour=0.0, channel=None) -> np.ndarray:
    """Paint a brush stroke through `points` ((row, col) pairs) of `radius` pixels in `colour` (one number
    or one per channel). With `channel` (an index or 'red' / 'green' / 'blue') only that channel is
    painted, with colour[channel] or the single number; the other channels keep their values."""
    a = image(x)
    return _paint(a, stroke_mask(a.shape, points, radius), colour, channel)


def fill_mask(x, row: int, col: int, tolerance: float = 0.0, channel=None) -> np.ndarray:
    """(H, W) bool: the 4-connected region around (row, col) of pixels whose value differs from that pixel's
    by at most `tolerance` in every channel (or in `channel` only)."""
    a = image(x)
    h, w, c = a.shape
    if isinstance(row, bool) or isinstance(col, bool) or not all(isinstance(v, (int, np.integer)) for v in (row, col)):
        raise PerturbError(f"The fill starts at a whole-number pixel (row, column), got ({row!r}, {col!r}).")
    if not (0 <= row < h and 0 <= col < w):
        raise PerturbError(f"Pixel ({row}, {col}) is outside the {h}×{w} image; fill starts at a pixel inside it.")
    tol = float(tolerance) if np.isscalar(tolerance) else float("nan")
    if not (0 <= tol <= 1):
        raise PerturbError(f"The fill tolerance must be between 0 and 1, got {tolerance!r}.")
    v = a if channel is None else a[:, :, channel_index(channel, c):][:, :, :1]
    similar = np.all(np.abs(v.astype(np.float64) - v[row, col].astype(np.float64)) <= tol + 1e-12, axis=2)
    region = np.zeros((h, w), bool)
    region[row, col] = True
    queue = deque([(int(row), int(col))])
    while queue:
        i, j = queue.popleft()
        for ni, nj in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)):
            if 0 <= ni < h and 0 <= nj < w and similar[ni, nj] and not region[ni, nj]:
                region[ni, nj] = True
                queue.append((ni, nj))
    return region


def fill(x, row: int, col: int, colour=0.0, tolerance: float = 0.0, channel=None) -> np.ndarray:
    """Flood fill from pixel (row, col): its 4-connected region of similar pixels (see fill_mask) takes
    `colour`; with `channel`, only that channel is compared and painted."""
    a = image(x)
    return _paint(a, fill_mask(a, row, col, tolerance, channel), colour, channel)


def blank(shape, colour=1.0) -> np.ndarray:
    """A new drawing canvas of shape (H, W, C) in one colour (white by default)."""
    h, w, c = (int(v) for v in shape)
    if min(h, w, c) < 1:
        raise PerturbError(f"A canvas needs at least one pixel and one channel, got shape {tuple(shape)}.")
    return np.broadcast_to(_colour(colour, c, "canvas"), (h, w, c)).copy()


__all__ = ["stroke", "stroke_mask", "fill", "fill_mask", "blank"]
