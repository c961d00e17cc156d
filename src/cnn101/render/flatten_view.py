"""The flatten view's drawing, pure (NumPy only): every channel of the flattened H×W×C layer, the flatten
vector (channels-last: index = (row·W + col)·C + channel), an edge from each pixel to its flatten element,
and an edge from each flatten element to the chosen class coloured by its weight.

Thousands of edges stay cheap: one <path> per channel for the unrolling, and one <path> per colour
bucket for the weights; the hovered element's path is a separate <path class="fv-hi"> the page fills
with `FlattenLayout.path(n)`.

    lay = FlattenLayout((13, 13, 10))
    svg = flatten_svg(lay, values_hwc, weights, value_range, weight_range, "koala", logit)
    lay.hit(x, y)  -> ("pixel" | "flatten", flatten index) or None
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .colormap import ACTIVATION, WEIGHT, Colormap
from .heatmap import heatmap, normalize
from .svg import esc, fmt, hex_colour, svg_image, text_colour

BUCKETS = 15  # weight colour buckets (odd: the middle one is white-ish, drawn faintest)


@dataclass(frozen=True)
class FlattenLayout:
    """Where everything goes, from the flattened layer's (H, W, C) alone."""

    shape: tuple[int, int, int]
    height: float = 560.0  # the drawing's inner height (the flatten column's length)
    top: float = 28.0  # room for the column captions
    map_box: float = 72.0  # the largest side of one channel map
    gap: float = 6.0
    spread: float = 170.0  # horizontal room for the unrolling edges
    reach: float = 230.0  # horizontal room for the weight edges

    @property
    def n(self) -> int:
        h, w, c = self.shape
        return h * w * c

    @property
    def per_column(self) -> int:
        """Channel maps per column (more columns when there are many channels)."""
        c = self.shape[2]
        return c if c <= 12 else math.ceil(c / math.ceil(c / 12))

    @property
    def map_columns(self) -> int:
        return math.ceil(self.shape[2] / self.per_column)

    @property
    def map_size(self) -> float:
        k = self.per_column
        return max(4.0, min(self.map_box, (self.height - (k - 1) * self.gap) / k))

    @property
    def pixel(self) -> float:
        """Side of one map pixel in px."""
        h, w, _ = self.shape
        return self.map_size / max(h, w)

    def map_origin(self, channel: int) -> tuple[float, float]:
        """(x, y) of channel `channel`'s map (top-left); maps stacked and centred vertically."""
        col, row = divmod(int(channel), self.per_column)
        k = self.per_column
        h, w, _ = self.shape
        stack = k * self.map_size + (k - 1) * self.gap
        y0 = self.top + (self.height - stack) / 2
        x = 40.0 + col * (w * self.pixel + 2 * self.gap)
        return x, y0 + row * (self.map_size + self.gap)

    @property
    def maps_right(self) -> float:
        h, w, _ = self.shape
        return self.map_origin(self.shape[2] - 1)[0] + w * self.pixel

    @property
    def flatten_x(self) -> float:
        return self.maps_right + self.spread

    flatten_w = 16.0

    @property
    def class_x(self) -> float:
        return self.flatten_x + self.flatten_w + self.reach

    @property
    def class_y(self) -> float:
        return self.top + self.height / 2

    @property
    def width(self) -> float:
        return self.class_x + 150.0

    @property
    def total_height(self) -> float:
        return self.top + self.height + 14.0

    def element_y(self, n) -> np.ndarray | float:
        """y of flatten element(s) n (centre)."""
        return self.top + (np.asarray(n, dtype=np.float64) + 0.5) * self.height / self.n

    def pixel_xy(self, n) -> tuple[np.ndarray, np.ndarray]:
        """Centre (x, y) of the map pixel(s) that flatten element(s) n come from."""
        h, w, c = self.shape
        n = np.asarray(n)
        row, rest = np.divmod(n, w * c)
        col, ch = np.divmod(rest, c)
        ch_col, ch_row = np.divmod(ch, self.per_column)
        k = self.per_column
        stack = k * self.map_size + (k - 1) * self.gap
        y0 = self.top + (self.height - stack) / 2 + ch_row * (self.map_size + self.gap)
        x0 = 40.0 + ch_col * (w * self.pixel + 2 * self.gap)
        return x0 + (col + 0.5) * self.pixel, y0 + (row + 0.5) * self.pixel

    def index(self, row: int, col: int, channel: int) -> int:
        h, w, c = self.shape
        return (int(row) * w + int(col)) * c + int(channel)

    def path(self, n: int) -> str:
        """The 'd' of element n's whole path: map pixel → flatten element → the class."""
        px, py = self.pixel_xy(n)
        fy = float(self.element_y(n))
        return (f"M{float(px):.1f} {float(py):.1f}L{self.flatten_x:.1f} {fy:.1f}"
                f"M{self.flatten_x + self.flatten_w:.1f} {fy:.1f}L{self.class_x:.1f} {self.class_y:.1f}")

    def hit(self, x: float, y: float) -> tuple[str, int] | None:
        """What is under drawing px (x, y): a map pixel or a flatten element (its flatten index)."""
        h, w, c = self.shape
        if self.flatten_x - 4 <= x <= self.flatten_x + self.flatten_w + 4 and self.top <= y < self.top + self.height:
            return "flatten", min(self.n - 1, max(0, int((y - self.top) / self.height * self.n)))
        for ch in range(c):
            x0, y0 = self.map_origin(ch)
            if x0 <= x < x0 + w * self.pixel and y0 <= y < y0 + h * self.pixel:
                return "pixel", self.index(int((y - y0) // self.pixel), int((x - x0) // self.pixel), ch)
        return None


def _lines(x0, y0, x1, y1) -> str:
    return "".join(f"M{a:.1f} {b:.1f}L{c:.1f} {d:.1f}" for a, b, c, d in zip(x0, y0, x1, y1))


def weight_buckets(weights, lo: float, hi: float, buckets: int = BUCKETS) -> np.ndarray:
    """The colour bucket (0..buckets−1) of each weight over [lo, hi]."""
    t = normalize(np.asarray(weights, dtype=np.float64), lo, hi)
    return np.clip(np.rint(t * (buckets - 1)), 0, buckets - 1).astype(int)


def flatten_svg(lay: FlattenLayout, values, weights, value_range, weight_range, label: str, logit: float,
                source: str = "", cmap: Colormap = ACTIVATION, wmap: Colormap = WEIGHT) -> str:
    """The whole flatten view as one <svg>: maps, unrolling edges (one path per channel), the flatten
    column, weight edges (one path per colour bucket), the class node, and an empty highlight path."""
    v = np.asarray(values, dtype=np.float64)
    h, w, c = lay.shape
    flat = v.reshape(-1)
    n = np.arange(lay.n)
    lo, hi = value_range
    wlo, whi = weight_range
    px, py = lay.pixel_xy(n)
    fy = lay.element_y(n)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="fv-svg" width="{lay.width:.0f}" '
             f'height="{lay.total_height:.0f}" viewBox="0 0 {lay.width:.0f} {lay.total_height:.0f}" role="img" '
             f'aria-label="{esc(f"{source} unrolled into {lay.n} values, each weighted into the score of {label}")}">',
             f'<text class="fv-cap" x="40" y="14">{esc(source)} ({h}×{w}×{c})</text>',
             f'<text class="fv-cap" x="{lay.flatten_x + lay.flatten_w / 2:.1f}" y="14" text-anchor="middle">'
             f'flatten ({lay.n})</text>',
             f'<text class="fv-cap" x="{(lay.flatten_x + lay.class_x) / 2 + 8:.1f}" y="14" text-anchor="middle">'
             'weights to the class</text>']
    # unrolling edges, one path per channel
    parts.append('<g class="fv-unroll">')
    for ch in range(c):
        sel = n[n % c == ch]
        parts.append(f'<path data-channel="{ch}" d="{_lines(px[sel], py[sel], np.full(sel.size, lay.flatten_x), fy[sel])}" />')
    parts.append("</g>")
    # weight edges, one path per colour bucket; stronger weights drawn later and more opaque
    b = weight_buckets(weights, wlo, whi)
    mid = (BUCKETS - 1) / 2
    order = sorted(range(BUCKETS), key=lambda k: abs(k - mid))
    parts.append('<g class="fv-weights">')
    x0 = np.full(lay.n, lay.flatten_x + lay.flatten_w)
    for k in order:
        sel = n[b == k]
        if sel.size == 0:
            continue
        strength = abs(k - mid) / mid
        colour = hex_colour(wmap(np.array([k / (BUCKETS - 1)]))[0])
        d = _lines(x0[sel], fy[sel], np.full(sel.size, lay.class_x), np.full(sel.size, lay.class_y))
        parts.append(f'<path data-bucket="{k}" stroke="{colour}" stroke-opacity="{0.12 + 0.6 * strength:.2f}" '
                     f'stroke-width="{0.5 + 0.9 * strength:.2f}" d="{d}" />')
    parts.append("</g>")
    # channel maps
    show_numbers = lay.pixel >= 28
    for ch in range(c):
        mx, my = lay.map_origin(ch)
        parts.append(svg_image(heatmap(v[:, :, ch], lo, hi, cmap), mx, my, w * lay.pixel, h * lay.pixel))
        parts.append(f'<rect class="fv-map" data-channel="{ch}" x="{mx:.1f}" y="{my:.1f}" '
                     f'width="{w * lay.pixel:.1f}" height="{h * lay.pixel:.1f}" />')
        parts.append(f'<text class="fv-ch" x="{mx - 5:.1f}" y="{my + h * lay.pixel / 2:.1f}" text-anchor="end" '
                     f'dominant-baseline="central">{ch}</text>')
        if show_numbers:
            cols = cmap(normalize(v[:, :, ch], lo, hi))
            for i in range(h):
                for j in range(w):
                    parts.append(f'<text class="fv-num" x="{mx + (j + .5) * lay.pixel:.1f}" '
                                 f'y="{my + (i + .5) * lay.pixel:.1f}" fill="{text_colour(cols[i, j])}">'
                                 f'{esc(fmt(v[i, j, ch], 2))}</text>')
    # the flatten column: one image, N×1
    parts.append(svg_image(heatmap(flat[:, None], lo, hi, cmap), lay.flatten_x, lay.top, lay.flatten_w, lay.height))
    parts.append(f'<rect class="fv-flat" x="{lay.flatten_x:.1f}" y="{lay.top:.1f}" width="{lay.flatten_w:.1f}" '
                 f'height="{lay.height:.1f}" />')
    # the class node
    parts.append(f'<circle class="fv-class" cx="{lay.class_x:.1f}" cy="{lay.class_y:.1f}" r="7" />'
                 f'<text class="fv-label" x="{lay.class_x + 14:.1f}" y="{lay.class_y - 4:.1f}">{esc(label)}</text>'
                 f'<text class="fv-logit" x="{lay.class_x + 14:.1f}" y="{lay.class_y + 13:.1f}">logit '
                 f'{esc(fmt(logit, 3))}</text>')
    # hover: the element's path and markers (the page moves them)
    parts.append('<path class="fv-hi" d="" />'
                 f'<rect class="fv-mark-px" x="0" y="0" width="{lay.pixel:.1f}" height="{lay.pixel:.1f}" visibility="hidden" />'
                 f'<rect class="fv-mark-fl" x="{lay.flatten_x - 3:.1f}" y="0" width="{lay.flatten_w + 6:.1f}" '
                 'height="3" visibility="hidden" />')
    parts.append("</svg>")
    return "".join(parts)
