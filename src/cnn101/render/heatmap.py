"""A 2-D grid of values + a range (lo, hi) → an RGBA uint8 buffer, in one vectorised step."""
from __future__ import annotations

import numpy as np

from .colormap import ACTIVATION, N, Colormap


def normalize(values, lo: float, hi: float) -> np.ndarray:
    """Positions in [0, 1]: t = (v - lo) / (hi - lo), clipped; a zero-width range maps to 0.5."""
    v = np.asarray(values, dtype=np.float64)
    lo, hi = float(lo), float(hi)
    if not hi > lo:
        return np.where(np.isnan(v), np.nan, 0.5)
    return np.clip((v - lo) / (hi - lo), 0.0, 1.0)


def _has_nan(a: np.ndarray) -> bool:
    return bool(a.size) and bool(np.isnan(a.min()))  # one reduction, no mask: min() is NaN if any value is


def rgba(values, lo: float, hi: float, cmap: Colormap = ACTIVATION, out: np.ndarray | None = None) -> np.ndarray:
    """Colour an array of any shape: values.shape + (4,) uint8 RGBA, C-contiguous (NaN is transparent);
    into `out` (a C-contiguous uint8 array of that shape, e.g. a slice of one buffer for many maps) if given.

    The same colours as `cmap(normalize(values, lo, hi))` with alpha 255 — the LUT row is
    rint(clip((v - lo) / (hi - lo), 0, 1) · 256), computed in float64 — but in a few in-place passes and one
    4-byte gather per value (the page colours every heatmap of the Overview this way on each repaint).
    """
    v = np.asarray(values)
    lo, hi = float(lo), float(hi)
    if not hi > lo:  # a zero-width range: the middle colour
        idx = np.full(v.shape, (N - 1) // 2, np.intp)
        nan = np.isnan(v) if v.dtype.kind == "f" and _has_nan(v) else None
    else:
        t = np.subtract(v, lo, dtype=np.float64, order="C")  # C order: the gather below keeps it
        step = (hi - lo) / (N - 1)  # (v − lo) / step == ((v − lo) / (hi − lo)) · 256 when step is exact
        if step * (N - 1) == hi - lo:
            t /= step
        else:  # (hi − lo) so small that dividing it by 256 rounds: the two steps
            t /= hi - lo
            t *= N - 1
        np.minimum(t, N - 1.0, out=t)  # clipping commutes with the exact scaling by 256 (and keeps NaN)
        np.maximum(t, 0.0, out=t)  # (two passes are faster than np.clip in Pyodide)
        np.rint(t, out=t)
        nan = np.isnan(t) if _has_nan(t) else None
        if nan is not None:
            t[nan] = (N - 1) // 2
        idx = t.astype(np.intp)
    if out is None:
        out = np.empty(v.shape + (4,), np.uint8)
    elif out.shape != v.shape + (4,) or out.dtype != np.uint8 or not out.flags.c_contiguous:
        raise ValueError(f"rgba() writes into a C-contiguous uint8 array of shape {v.shape + (4,)}")
    words = out.view(np.uint32).reshape(v.shape)
    words[...] = cmap.rgba32[idx]  # (fancy indexing and a copy beat np.take(…, out=) several times in Pyodide)
    if nan is not None:  # NaN: transparent (the middle colour)
        words[nan] = cmap.rgba32_nan
    return out


def heatmap(values, lo: float, hi: float, cmap: Colormap = ACTIVATION, scale: int = 1) -> np.ndarray:
    """Colour a 2-D array: returns (H*scale, W*scale, 4) uint8 RGBA, C-contiguous (ready for ImageData).

    Values outside [lo, hi] take the end colours; NaN is transparent. `scale` repeats each value in a
    scale×scale block (for images that must stay crisp without CSS scaling).
    """
    v = np.asarray(values)
    if v.ndim != 2:
        raise ValueError(f"heatmap() needs a 2-D array, got shape {v.shape}")
    out = rgba(v, lo, hi, cmap)
    if scale > 1:
        out = np.repeat(np.repeat(out, scale, axis=0), scale, axis=1)
    return np.ascontiguousarray(out)
