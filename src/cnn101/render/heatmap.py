"""A 2-D grid of values + a range (lo, hi) → an RGBA uint8 buffer, in one vectorised step."""
from __future__ import annotations

import numpy as np

from .colormap import ACTIVATION, Colormap


def normalize(values, lo: float, hi: float) -> np.ndarray:
    """Positions in [0, 1]: t = (v - lo) / (hi - lo), clipped; a zero-width range maps to 0.5."""
    v = np.asarray(values, dtype=np.float64)
    lo, hi = float(lo), float(hi)
    if not hi > lo:
        return np.where(np.isnan(v), np.nan, 0.5)
    return np.clip((v - lo) / (hi - lo), 0.0, 1.0)


def heatmap(values, lo: float, hi: float, cmap: Colormap = ACTIVATION, scale: int = 1) -> np.ndarray:
    """Colour a 2-D array: returns (H*scale, W*scale, 4) uint8 RGBA, C-contiguous (ready for ImageData).

    Values outside [lo, hi] take the end colours; NaN is transparent. `scale` repeats each value in a
    scale×scale block (for images that must stay crisp without CSS scaling).
    """
    v = np.asarray(values)
    if v.ndim != 2:
        raise ValueError(f"heatmap() needs a 2-D array, got shape {v.shape}")
    t = normalize(v, lo, hi)
    out = np.empty(v.shape + (4,), dtype=np.uint8)
    out[..., :3] = cmap.lut[Colormap.index(t)]
    out[..., 3] = np.where(np.isnan(t), 0, 255)
    if scale > 1:
        out = np.repeat(np.repeat(out, scale, axis=0), scale, axis=1)
    return np.ascontiguousarray(out)
