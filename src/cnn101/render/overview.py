"""Where everything of the Overview goes on screen, and its SVG edges and HTML markup.

Takes plain data (an `explain.overview.Layout` / `Overview`, or anything shaped like them) and gives
pixel positions, SVG path strings and HTML. NumPy only: the page (Pyodide) and the build (CPython,
for the prerendered snapshot) call the same functions, so the two look the same.

    geo = geometry(ov.layout)
    html = overview_html(ov, geo, scope="unit")           # canvases, to be painted by the page
    html = overview_html(ov, geo, scope="unit", images="png")   # self-contained snapshot
"""
from __future__ import annotations

import html as _html
from dataclasses import dataclass

import numpy as np

from .colormap import ACTIVATION, INPUT
from .heatmap import rgba
from .png import data_uri

#: Short column captions when details are hidden.
SHORT = {"input": "input", "conv2d": "conv", "relu": "relu", "maxpool2d": "max pool", "dense": "dense",
         "output": "output"}

NODE_MAX = 36  # px, the side of a neuron's heatmap
NODE_MIN = 6
NEURON_AREA = 440  # px of height the tallest column may use
TOP = 46  # room for the labels
BOTTOM = 58  # room for the legends
GAP_ALL = 64  # horizontal room for 'all' edges
GAP_ONE = 38  # ... and for one-to-one edges
BAR = 84  # output bar length
OUTPUT_TEXT = 118  # room for a class name and its percentage
MARGIN = 56  # room left of the input column for its channel captions


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def mid_y(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class ColumnGeometry:
    index: int
    x: float  # left edge
    width: float
    boxes: tuple  # one Box per neuron (for the output: the bar's track)

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Geometry:
    width: float
    height: float
    node: float
    pitch: float  # vertical distance between neurons
    columns: tuple  # of ColumnGeometry

    def out_port(self, col: int, neuron: int) -> tuple[float, float]:
        b = self.columns[col].boxes[neuron]
        return b.x + b.w, b.mid_y

    def in_port(self, col: int, neuron: int) -> tuple[float, float]:
        b = self.columns[col].boxes[neuron]
        return b.x, b.mid_y


def _fit(shape, node: float) -> tuple[float, float]:
    """(w, h) of a heatmap of shape (H, W, ...) fitted in a node×node square, keeping its aspect."""
    if len(shape) != 3:
        return node, node
    h, w = shape[0], shape[1]
    s = node / max(h, w)
    return max(2.0, round(w * s, 1)), max(2.0, round(h * s, 1))


def geometry(layout) -> Geometry:
    """Positions for every column and neuron; the node size shrinks for columns with many neurons."""
    cols = layout.columns
    most = max(c.neurons for c in cols)
    node = float(max(NODE_MIN, min(NODE_MAX, int(NEURON_AREA / (most * 1.22)))))
    pitch = round(node * 1.22, 1)
    area = (most - 1) * pitch + node
    out, x = [], float(MARGIN)
    for c in cols:
        if c.index > 0:
            x += GAP_ALL if layout.edges[c.index - 1].connection == "all" else GAP_ONE
        top = TOP + (area - ((c.neurons - 1) * pitch + node)) / 2
        if c.kind == "output":
            bar_h = min(node, 14.0)
            boxes = tuple(Box(x, round(top + k * pitch + (node - bar_h) / 2, 1), BAR, bar_h) for k in range(c.neurons))
            width = BAR + OUTPUT_TEXT
        else:
            w, h = _fit(c.shape, node)
            boxes = tuple(Box(x + (node - w) / 2, round(top + k * pitch + (node - h) / 2, 1), w, h)
                          for k in range(c.neurons))
            width = node
        out.append(ColumnGeometry(c.index, x, width, boxes))
        x += width
    return Geometry(round(x + 14), round(TOP + area + BOTTOM), node, pitch, tuple(out))


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def edge_path(geo: Geometry, edges, targets=None) -> str:
    """One SVG path `d` for the edges into a column (only into `targets` neurons, if given).

    'all' edges are smooth curves from the right side of each source to the left side of each target;
    one-to-one edges are straight lines.
    """
    parts = []
    js = range(edges.n_target) if targets is None else targets
    for j in js:
        x2, y2 = geo.in_port(edges.target, j)
        for i in edges.incoming(j):
            x1, y1 = geo.out_port(edges.source, i)
            if edges.connection == "all":
                mx = (x1 + x2) / 2
                parts.append(f"M{_f(x1)} {_f(y1)}C{_f(mx)} {_f(y1)} {_f(mx)} {_f(y2)} {_f(x2)} {_f(y2)}")
            else:
                parts.append(f"M{_f(x1)} {_f(y1)}L{_f(x2)} {_f(y2)}")
    return "".join(parts)


def _png_uri(rgba: np.ndarray) -> str:
    """A PNG data URI; RGB when fully opaque (a quarter fewer bytes)."""
    return data_uri(rgba[..., :3] if rgba[..., 3].min() == 255 else rgba)


def heatmaps(ov, col, scope: str, out: np.ndarray | None = None) -> np.ndarray:
    """RGBA buffers of every neuron of a column: (neurons, H, W, 4) uint8 (vector columns: 1×1 each), written
    into `out` if given (e.g. the column's part of one buffer for the whole Overview)."""
    v = ov.values(col.index)
    if v.ndim == 1:
        v = v.reshape(-1, 1, 1)
    lo, hi = ov.range(col.index, scope)
    # the input's own map, unless the Overview's input values are signed (a comparison's B − A)
    cmap = INPUT if col.kind == "input" and getattr(ov, "input_colormap", "input") == "input" else ACTIVATION
    return rgba(v, lo, hi, cmap, out)  # (the (C, H, W) view of the trace's H×W×C values: no copy first)


def format_value(v: float) -> str:
    """A short number for legends: 3 significant digits, no '-0'."""
    if v == 0:
        return "0"
    return f"{v:.3g}"


def legend_span(geo: Geometry, lg) -> tuple[float, float]:
    """(left, width) of a legend under the columns it covers; wide enough for its ticks (a signed range
    has three: −m, 0, m)."""
    first, last = geo.columns[lg.columns[0]], geo.columns[lg.columns[-1]]
    left, right = first.x, last.x + (BAR if lg.colormap == "output" else last.width)
    return left, max(right - left, 56.0 if lg.colormap in ("input", "output") else 80.0)


def legends_html(ov, geo: Geometry, scope: str) -> str:
    """The colour legends of a scope, each under the columns it covers."""
    parts = []
    y = geo.height - BOTTOM + 14
    for lg in ov.legends(scope):
        left, width = legend_span(geo, lg)
        if lg.colormap == "output":
            grad = "linear-gradient(to right, #e9ecef, #4a6fa5)"
            ticks = ("0%", "", "100%")
            title = "probability"
        else:
            cmap = INPUT if lg.colormap == "input" else ACTIVATION
            grad = cmap.css_gradient(11)
            ticks = (format_value(lg.lo), "" if lg.colormap == "input" else "0", format_value(lg.hi))
            title = "pixel value" if lg.colormap == "input" else f"{scope} range"
        parts.append(
            f'<div class="ov-legend" data-legend="{lg.scope}" style="left:{_f(left)}px;top:{_f(y)}px;'
            f'width:{_f(width)}px" title="{title}"><span class="ov-grad" style="background:{grad}"></span>'
            f'<span class="ov-tick lo">{ticks[0]}</span><span class="ov-tick mid">{ticks[1]}</span>'
            f'<span class="ov-tick hi">{ticks[2]}</span></div>')
    return "".join(parts)


def output_html(ov, geo: Geometry, col) -> str:
    """The output column's rows: a probability bar, the class name and its percentage."""
    probs = ov.values(col.index)
    top = int(np.argmax(probs))
    rows = []
    for k, box in enumerate(geo.columns[col.index].boxes):
        p = float(probs[k])
        name = _html.escape(col.neuron_labels[k])
        rows.append(
            f'<div class="ov-class{" top" if k == top else ""}" data-col="{col.index}" data-neuron="{k}" '
            f'tabindex="-1" role="button" aria-label="{name}: {p:.1%}" '
            f'style="left:{_f(box.x)}px;top:{_f(box.y)}px;height:{_f(box.h)}px">'
            f'<span class="ov-bar" style="width:{BAR}px"><span class="ov-fill" style="width:{p * 100:.2f}%">'
            f'</span></span><span class="ov-name">{name}</span><span class="ov-pct">{p:.1%}</span></div>')
    return "".join(rows)


def overview_html(ov, geo: Geometry | None = None, scope: str = "unit", images: str = "canvas") -> str:
    """The whole Overview as one HTML string (a `div.ov-stage`).

    images='canvas': empty canvases (width × height = the heatmap's cells) that the page paints;
    images='png': heatmaps embedded as PNG data URIs, for a snapshot that needs no script.
    """
    geo = geo or geometry(ov.layout)
    svg = [f'<svg class="ov-edges" width="{_f(geo.width)}" height="{_f(geo.height)}" aria-hidden="true">']
    for e in ov.edges:
        svg.append(f'<path class="ov-edge {e.connection}" data-target="{e.target}" d="{edge_path(geo, e)}"/>')
    svg.append('<path class="ov-edge-hi" d=""/></svg>')
    body = []
    for col in ov.columns:
        cg = geo.columns[col.index]
        short = SHORT.get(col.kind, col.kind)
        shape = str(tuple(int(d) for d in col.shape))
        body.append(
            f'<a class="ov-label" href="#{col.tutorial}" data-col="{col.index}" style="left:{_f(cg.x)}px;'
            f'width:{_f(cg.width if col.kind != "output" else BAR)}px">'
            f'<span class="short">{_html.escape(short)}</span><span class="full">{_html.escape(col.name)}</span>'
            f'<span class="shape">{shape}</span></a>')
        if col.kind == "output":
            body.append(output_html(ov, geo, col))
            continue
        rgba = heatmaps(ov, col, scope) if images == "png" else None
        n_h, n_w = (col.shape[0], col.shape[1]) if col.is_grid else (1, 1)
        for k, box in enumerate(cg.boxes):
            pos = f'style="left:{_f(box.x)}px;top:{_f(box.y)}px;width:{_f(box.w)}px;height:{_f(box.h)}px"'
            aria = _html.escape(f"{col.name}, {col.neuron_labels[k]}")
            stop = "0" if (col.index, k) == (0, 0) else "-1"  # one Tab stop; arrow keys move inside (roving)
            common = (f'class="ov-neuron" data-col="{col.index}" data-neuron="{k}" tabindex="{stop}" role="button" '
                      f'aria-label="{aria}" {pos}')
            if images == "png":
                body.append(f'<img {common} alt="" src="{_png_uri(rgba[k])}">')
            else:
                body.append(f'<canvas {common} width="{n_w}" height="{n_h}"></canvas>')
            if col.kind == "input":  # the channel's name beside it: red, green, blue
                body.append(f'<span class="ov-caption" style="left:{_f(box.x - 52)}px;top:{_f(box.mid_y - 7)}px">'
                            f'{_html.escape(col.neuron_labels[k])}</span>')
    legends = f'<div class="ov-legends">{legends_html(ov, geo, scope)}</div>'
    return (f'<div class="ov-stage" data-scope="{scope}" style="width:{_f(geo.width)}px;height:{_f(geo.height)}px">'
            + "".join(svg) + "".join(body) + legends + "</div>")


__all__ = ["Box", "ColumnGeometry", "Geometry", "geometry", "edge_path", "heatmaps", "legends_html",
           "output_html", "overview_html", "format_value"]
