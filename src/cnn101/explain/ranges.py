"""Colour ranges and running sums: the derived numbers every view shows next to its values.

    symmetric(a, b, …)   (−m, m) covering every finite value, zero in the middle (white)
    running_sum(v)       v[0], v[0] + v[1], … in float64 (the dense view's "sum so far")
"""
from __future__ import annotations

import math

import numpy as np


def symmetric(*arrays) -> tuple[float, float]:
    """A range (−m, m) covering every finite value, so that zero sits in the middle (white); (0, 0) when
    every value is zero (render.normalize draws a zero-width range as the middle colour)."""
    m = 0.0
    for a in arrays:
        a = np.asarray(a)
        if a.size and a.dtype.kind == "f":  # two reductions, no copy (the page does this on every repaint)
            top = max(float(a.max()), -float(a.min()))
            if math.isfinite(top):  # (NaN or ±inf somewhere: the finite values only, below)
                m = max(m, top)
                continue
        a = np.asarray(a, dtype=np.float64)
        a = a[np.isfinite(a)]
        if a.size:
            m = max(m, float(np.abs(a).max()))
    return -m, m


def running_sum(values) -> np.ndarray:
    """Partial sums in float64: out[k] = values[0] + … + values[k]."""
    return np.cumsum(np.asarray(values, dtype=np.float64))


IMAGE_RANGE = (0.0, 1.0)  # the input image's values (after /255)
