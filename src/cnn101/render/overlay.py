"""An attribution map laid over the input image: the map's colour, blended in proportion to its strength.

A pixel's colour comes from the map's colour map over (lo, hi); how much of it covers the image is
`opacity` × the value's strength (|value| / max |range|): zero shows the image untouched, the strongest
value shows `opacity` of its colour. One vectorised step; the result is RGBA uint8 (ready for ImageData).
"""
from __future__ import annotations

import numpy as np

from .colormap import ACTIVATION, Colormap
from .heatmap import heatmap


def overlay(image, values, lo: float, hi: float, opacity: float = 0.6, cmap: Colormap = ACTIVATION) -> np.ndarray:
    """(H, W, 4) uint8: `values` (H, W) coloured over `image` (H, W, 3 or 1, floats in [0, 1])."""
    img = np.asarray(image, np.float64)
    v = np.asarray(values, np.float64)
    if img.ndim != 3 or img.shape[:2] != v.shape:
        raise ValueError(f"overlay() needs an H×W×C image and an H×W map of the same size, got {img.shape} and {v.shape}.")
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    if not 0.0 <= float(opacity) <= 1.0:
        raise ValueError(f"Opacity is between 0 and 1, got {opacity}.")
    colours = heatmap(v, lo, hi, cmap)[..., :3].astype(np.float64) / 255.0
    top = max(abs(float(lo)), abs(float(hi)))
    strength = np.clip(np.abs(np.nan_to_num(v)) / top, 0.0, 1.0) if top > 0 else np.zeros_like(v)
    a = (float(opacity) * strength)[..., None]
    out = np.empty(v.shape + (4,), np.uint8)
    out[..., :3] = np.clip(np.rint(((1 - a) * np.clip(img, 0, 1) + a * colours) * 255), 0, 255)
    out[..., 3] = 255
    return out
