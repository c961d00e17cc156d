"""Colour maps as 257-entry lookup tables: a position t in [0, 1] → an RGB colour.

- ACTIVATION: diverging red–white–blue (ColorBrewer RdBu); t = 0.5 (a value of zero in a range
  symmetric around zero) is pure white, negative values red, positive values blue.
- WEIGHT: diverging brown–white–green (ColorBrewer BrBG) for kernel weights; zero is white.
- INPUT: greys for an input channel, 0 → black, 1 → white (the channel looks like a photo).
- ATTRIBUTION: sequential white–yellow–red for unsigned attribution maps (0 is white).
"""
from __future__ import annotations

import numpy as np

N = 257  # odd, so that t = 0.5 (zero) lands exactly on the white centre


def _hex(code: str) -> tuple[int, int, int]:
    return int(code[0:2], 16), int(code[2:4], 16), int(code[4:6], 16)


class Colormap:
    """A named list of anchor colours, evenly spaced over [0, 1] and interpolated linearly."""

    def __init__(self, name: str, anchors: list[str]):
        self.name = name
        self.anchors = tuple(anchors)
        points = np.array([_hex(a) for a in anchors], dtype=np.float64)  # (k, 3)
        xs = np.linspace(0.0, 1.0, len(points))
        t = np.linspace(0.0, 1.0, N)
        lut = np.stack([np.interp(t, xs, points[:, c]) for c in range(3)], axis=-1)
        self.lut = np.round(lut).astype(np.uint8)  # (257, 3)
        self.lut.setflags(write=False)
        table = np.empty((N, 4), np.uint8)  # the same colours with alpha, one 4-byte word per row (render.rgba)
        table[:, :3], table[:, 3] = self.lut, 255
        self.rgba32 = table.view(np.uint32).reshape(N)
        self.rgba32.setflags(write=False)
        nan = np.array([*self.lut[(N - 1) // 2], 0], np.uint8)  # NaN: the middle colour, transparent
        self.rgba32_nan = nan.view(np.uint32)[0]
        self._css = {}  # css_gradient's strings

    def __call__(self, t) -> np.ndarray:
        """Colours for positions t in [0, 1] (clipped; NaN → the middle): array of shape t.shape + (3,)."""
        return self.lut[self.index(t)]

    @staticmethod
    def index(t) -> np.ndarray:
        """LUT row for each position t (clipped to [0, 1], NaN → middle row)."""
        t = np.asarray(t, dtype=np.float64)
        t = np.where(np.isnan(t), 0.5, t)
        return np.rint(np.clip(t, 0.0, 1.0) * (N - 1)).astype(np.intp)

    def hex(self, t: float) -> str:
        """One colour as CSS '#rrggbb'."""
        r, g, b = (int(v) for v in self(t))
        return f"#{r:02x}{g:02x}{b:02x}"

    def stops(self, n: int = 11) -> list[str]:
        """n evenly spaced CSS colours, e.g. for a legend's linear-gradient."""
        return [self.hex(t) for t in np.linspace(0.0, 1.0, n)]

    def css_gradient(self, n: int = 11, direction: str = "to right") -> str:
        """A CSS `linear-gradient(...)` showing the map from 0 to 1 (made once per n and direction: the
        Overview's legends ask for it on every repaint)."""
        key = (n, direction)
        if key not in self._css:
            self._css[key] = f"linear-gradient({direction}, {', '.join(self.stops(n))})"
        return self._css[key]

    def __repr__(self):
        return f"Colormap({self.name!r})"


# ColorBrewer RdBu with the centre made pure white so that zero reads as "nothing".
ACTIVATION = Colormap("activation", [
    "67001f", "b2182b", "d6604d", "f4a582", "fddbc7", "ffffff",
    "d1e5f0", "92c5de", "4393c3", "2166ac", "053061",
])
# ColorBrewer BrBG with a pure white centre.
WEIGHT = Colormap("weight", [
    "543005", "8c510a", "bf812d", "dfc27d", "f6e8c3", "ffffff",
    "c7eae5", "80cdc1", "35978f", "01665e", "003c30",
])
INPUT = Colormap("input", ["000000", "ffffff"])
# Sequential white → yellow → red (ColorBrewer YlOrRd) for unsigned attribution maps: 0 is white.
ATTRIBUTION = Colormap("attribution", ["ffffff", "ffeda0", "fed976", "feb24c", "fd8d3c", "fc4e2a", "e31a1c", "b10026"])

COLORMAPS = {c.name: c for c in (ACTIVATION, WEIGHT, INPUT, ATTRIBUTION)}
