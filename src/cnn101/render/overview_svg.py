"""The Overview as one self-contained SVG file (for slides), and the exact pixels of its neuron maps in a
PNG made from it.

Same geometry and colours as the page's Overview (render.overview), but pure SVG: text as <text>, bars as
<rect>, legends as <linearGradient>, heatmaps as PNG data URIs (render.png). No external reference, no
script, no CSS file: it opens in a browser, Inkscape or a slide program as it is.

    svg = overview_svg(ov, scope="unit", title="koala 2 · koala 61.2 %")
    s = png_scale(geo)                        # PNG px per SVG px, so that every map cell gets ≥ 1 px
    for x, y, rgba in map_rasters(ov, geo, "unit", s): ...   # the maps' pixels in that PNG, exactly

A browser rasterises the SVG (text, edges) and then puts `map_rasters` over the maps, so the PNG's map
pixels do not depend on the browser's image scaling: they are nearest-neighbour samples of
`render.heatmap`, the same colours the page paints.
"""
from __future__ import annotations

import math

import numpy as np

from .colormap import ACTIVATION, INPUT
from .overview import BAR, SHORT, format_value, geometry, heatmaps, legend_span
from .png import data_uri
from .svg import esc

HEAD = 30  # px above the Overview for the title line
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
INK, MUTED, EDGE, ACCENT, TRACK, FILL = "#1d2733", "#6b7785", "#c3c9d1", "#1d3557", "#edf0f3", "#9fb0c4"
MAX_SCALE = 8
CHANGE_TEXT = 48  # px to the right of the output column for the change in points (compare)


def _f(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _map_columns(ov):
    return [c for c in ov.columns if c.kind != "output"]


def png_scale(geo, ov=None, least: int = 2) -> int:
    """PNG px per SVG px: at least `least` (slides), and enough that each cell of the largest map gets a
    whole pixel or more (so nearest-neighbour sampling shows every cell), at most MAX_SCALE."""
    s = least
    if ov is not None:
        for col in _map_columns(ov):
            for box in geo.columns[col.index].boxes[:1]:
                h, w = (col.shape[0], col.shape[1]) if col.is_grid else (1, 1)
                s = max(s, math.ceil(max(w / box.w, h / box.h)))
    return int(min(MAX_SCALE, s))


def svg_size(geo, compare: bool = False) -> tuple[float, float]:
    """(width, height) of overview_svg's document (compare: a column more for the changes)."""
    return geo.width + (CHANGE_TEXT if compare else 0), geo.height + HEAD


def png_size(geo, scale: int, compare: bool = False) -> tuple[int, int]:
    """(width, height) in px of the PNG of an Overview at `scale`."""
    w, h = svg_size(geo, compare)
    return int(round(w * scale)), int(round(h * scale))


def _rect(box, scale: int) -> tuple[int, int, int, int]:
    x0, y0 = int(round(box.x * scale)), int(round((box.y + HEAD) * scale))
    x1, y1 = int(round((box.x + box.w) * scale)), int(round((box.y + box.h + HEAD) * scale))
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def sample(rgba: np.ndarray, width: int, height: int) -> np.ndarray:
    """Nearest-neighbour resampling of an (H, W, 4) buffer to (height, width, 4): output pixel (i, j)
    takes cell (⌊(i + ½)·H / height⌋, ⌊(j + ½)·W / width⌋) (integer arithmetic, no rounding doubt)."""
    h, w = rgba.shape[:2]
    rows = ((2 * np.arange(height) + 1) * h) // (2 * height)
    cols = ((2 * np.arange(width) + 1) * w) // (2 * width)
    return rgba[rows][:, cols]


def map_rasters(ov, geo, scope: str, scale: int) -> list[tuple[int, int, np.ndarray]]:
    """(x, y, rgba) of every neuron map in the PNG at `scale`: its top-left pixel and its pixels
    (nearest-neighbour samples of the heatmap the page paints, fully opaque)."""
    out = []
    for col in _map_columns(ov):
        maps = heatmaps(ov, col, scope)
        for k, box in enumerate(geo.columns[col.index].boxes):
            x, y, w, h = _rect(box, scale)
            out.append((x, y, sample(maps[k], w, h)))
    return out


def linear_gradient(gid: str, stops: list[str]) -> str:
    """A left-to-right <linearGradient> through `stops` (CSS colours), for legends."""
    n = len(stops) - 1
    s = "".join(f'<stop offset="{i / n:.3f}" stop-color="{c}"/>' for i, c in enumerate(stops))
    return f'<linearGradient id="{gid}" x1="0" x2="1" y1="0" y2="0">{s}</linearGradient>'


def _text(x, y, text, size=11, colour=INK, anchor="start", weight="normal", cls="") -> str:
    c = f' class="{cls}"' if cls else ""
    w = f' font-weight="{weight}"' if weight != "normal" else ""
    return (f'<text{c} x="{_f(x)}" y="{_f(y)}" font-size="{size}" fill="{colour}" text-anchor="{anchor}"{w}>'
            f'{esc(text)}</text>')


def _legends(ov, geo, scope: str) -> tuple[list[str], list[str]]:
    defs, parts = [], []
    y = geo.height - 58 + 14
    for i, lg in enumerate(ov.legends(scope)):
        left, width = legend_span(geo, lg)
        gid = f"lg{i}"
        if lg.colormap == "output":
            defs.append(linear_gradient(gid, ["#e9ecef", "#4a6fa5"]))
            ticks = ("0%", "", "100%")
        else:
            cmap = INPUT if lg.colormap == "input" else ACTIVATION
            defs.append(linear_gradient(gid, cmap.stops(11)))
            ticks = (format_value(lg.lo), "" if lg.colormap == "input" else "0", format_value(lg.hi))
        parts.append(f'<g class="legend" data-legend="{esc(lg.scope)}">'
                     f'<rect x="{_f(left)}" y="{_f(y)}" width="{_f(width)}" height="8" fill="url(#{gid})" '
                     f'stroke="#cfd5dc" stroke-width="1"/>'
                     + _text(left, y + 20, ticks[0], 10, MUTED)
                     + (_text(left + width / 2, y + 20, ticks[1], 10, MUTED, "middle") if ticks[1] else "")
                     + _text(left + width, y + 20, ticks[2], 10, MUTED, "end") + "</g>")
    return defs, parts


def _output_rows(ov, col, gradient: bool, compare: bool) -> tuple[np.ndarray, list[str], list[str], int]:
    """(bar lengths 0–1, the text beside each bar, the change beside that (compare), the row in bold)."""
    v = ov.values(col.index)
    if gradient:  # p − y: bars |p − y|, the target in bold
        return np.abs(v), [f"{float(p):+.3f}" for p in v], [], int(ov.target)
    if compare:  # B's probabilities, each with its change from A in points (as the page shows it)
        b = ov.b.values(col.index)
        return b, [f"{float(p):.1%}" for p in b], [f"({100 * float(d):+.1f})" for d in v], int(np.argmax(b))
    return v, [f"{float(p):.1%}" for p in v], [], int(np.argmax(v))


def overview_svg(ov, geo=None, scope: str = "unit", detail: bool = False, title: str = "",
                 gradient: bool = False, compare: bool = False) -> str:
    """The Overview of `ov` (an explain.overview.Overview) as a standalone SVG document: a title line,
    edges, every neuron map, the input captions, the output bars with their percentages, the legends.
    `detail`: full layer names and shapes instead of short captions. `gradient`: `ov` is a
    GradientOverview (why mode): the output rows show p − y (bars |p − y|, the target class in bold).
    `compare`: `ov` is an explain.compare.Comparison: the maps show B − A, the rows B's probability and
    its change in points."""
    from .overview import edge_path

    geo = geo or geometry(ov.layout)
    width, height = svg_size(geo, compare)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
           f'viewBox="0 0 {_f(width)} {_f(height)}" font-family="{FONT}">',
           f'<title>{esc(title or "cnn101 Overview")}</title>',
           f'<rect width="100%" height="100%" fill="#ffffff"/>']
    defs, legends = _legends(ov, geo, scope)
    out.append("<defs>" + "".join(defs) + "</defs>")
    if title:
        out.append(_text(8, 20, title, 14, ACCENT, weight="bold", cls="title"))
    out.append(f'<g transform="translate(0 {HEAD})">')
    for e in ov.edges:
        sw = "0.8" if e.connection != "all" else "0.6"
        out.append(f'<path d="{edge_path(geo, e)}" fill="none" stroke="{EDGE}" stroke-width="{sw}" opacity="0.75"/>')
    for col in ov.columns:
        cg = geo.columns[col.index]
        label_w = cg.width if col.kind != "output" else BAR
        cx = cg.x + label_w / 2
        if detail:
            out.append(_text(cx, 16, col.name, 11, ACCENT, "middle", cls="label"))
            out.append(_text(cx, 29, str(tuple(int(d) for d in col.shape)), 10, MUTED, "middle"))
        else:
            out.append(_text(cx, 16, SHORT.get(col.kind, col.kind), 11, ACCENT, "middle", cls="label"))
        if col.kind == "output":
            bars, texts, changes, top = _output_rows(ov, col, gradient, compare)
            for k, box in enumerate(cg.boxes):
                p, shown = float(bars[k]), texts[k]
                change = _text(box.x + BAR + 116, box.mid_y + 4, changes[k], 11, MUTED, cls="change") if changes else ""
                fill = ACCENT if k == top else FILL
                weight = "bold" if k == top else "normal"
                out.append(f'<g class="class" data-neuron="{k}">'
                           f'<rect x="{_f(box.x)}" y="{_f(box.y)}" width="{BAR}" height="{_f(box.h)}" rx="2" fill="{TRACK}"/>'
                           f'<rect x="{_f(box.x)}" y="{_f(box.y)}" width="{_f(BAR * p)}" height="{_f(box.h)}" fill="{fill}"/>'
                           + _text(box.x + BAR + 6, box.mid_y + 4, col.neuron_labels[k], 12, INK, weight=weight)
                           + _text(box.x + BAR + 112, box.mid_y + 4, shown, 11, MUTED, "end", cls="pct")
                           + change + "</g>")
            continue
        maps = heatmaps(ov, col, scope)
        for k, box in enumerate(cg.boxes):
            rgba = maps[k][..., :3] if maps[k][..., 3].min() == 255 else maps[k]
            out.append(f'<image class="neuron" data-col="{col.index}" data-neuron="{k}" href="{data_uri(rgba)}" '
                       f'x="{_f(box.x)}" y="{_f(box.y)}" width="{_f(box.w)}" height="{_f(box.h)}" '
                       f'preserveAspectRatio="none" style="image-rendering:pixelated"/>'
                       f'<rect x="{_f(box.x)}" y="{_f(box.y)}" width="{_f(box.w)}" height="{_f(box.h)}" fill="none" '
                       f'stroke="#d5dae0" stroke-width="0.5"/>')
            if col.kind == "input":
                out.append(_text(box.x - 4, box.mid_y + 3.5, col.neuron_labels[k], 10, MUTED, "end"))
    out += legends
    out.append("</g></svg>")
    return "".join(out)


__all__ = ["HEAD", "linear_gradient", "png_scale", "svg_size", "png_size", "sample", "map_rasters", "overview_svg"]
