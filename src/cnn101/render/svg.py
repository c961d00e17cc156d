"""Small SVG/HTML building blocks shared by the notebook and the page: heatmap images, number grids
with readable text on coloured cells, legends. NumPy only; every string is well-formed XML, so it can
sit inside HTML, inline SVG or an XHTML document.

    img(heatmap(v, lo, hi), 96)                       # <img> of a PNG data URI, scaled without blur
    number_grid(kernel, lo, hi, WEIGHT, digits=3)     # <table> of values on their colours
"""
from __future__ import annotations

import html as _html
import math

import numpy as np

from .colormap import ACTIVATION, Colormap
from .heatmap import heatmap, normalize
from .png import data_uri

PIXELATED = "image-rendering:pixelated"
PADDING_BG = "#eceff1"  # cells that lie in the zero/−∞ padding
HIGHLIGHT = "#212529"


def esc(text) -> str:
    """Text or an attribute value, escaped for HTML/XML."""
    return _html.escape(str(text), quote=True)


def fmt(v, digits: int = 3) -> str:
    """A number as shown in every view: fixed `digits` decimals, ASCII minus, no '-0.000', ∞ for infinities."""
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "−∞" if v < 0 else "∞"
    s = f"{v:.{digits}f}"
    if s.startswith("-") and float(s) == 0:
        s = s[1:]
    return s


def luminance(rgb) -> float:
    """WCAG relative luminance of an sRGB colour given as 0–255 integers."""
    c = np.asarray(rgb[:3], dtype=np.float64) / 255.0
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


def contrast(rgb_a, rgb_b) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((luminance(rgb_a), luminance(rgb_b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour(rgb) -> str:
    """Black or white, whichever reads better on the background `rgb`."""
    return "#000000" if contrast(rgb, (0, 0, 0)) >= contrast(rgb, (255, 255, 255)) else "#ffffff"


def hex_colour(rgb) -> str:
    r, g, b = (int(v) for v in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def cell_scale(shape, box: int) -> float:
    """Px per cell of an H×W image drawn in about box×box: a whole number when the image is smaller than
    the box (crisp cells), else the fraction that shrinks it to fit."""
    s = box / max(int(shape[0]), int(shape[1]))
    return float(max(1, round(s))) if s >= 1 else s


def fit(shape, box: int, scale: float | None = None) -> tuple[int, int]:
    """(width, height) in px of an H×W image at `scale` px per cell (default: `cell_scale(shape, box)`).
    Give two images one scale to keep their sizes comparable (a pooling output half its input)."""
    h, w = int(shape[0]), int(shape[1])
    s = cell_scale(shape, box) if scale is None else float(scale)
    return max(1, round(w * s)), max(1, round(h * s))


def img(rgba: np.ndarray, box: int = 96, title: str | None = None, alt: str = "", cls: str | None = None) -> str:
    """An <img> of RGBA pixels (a PNG data URI) scaled to fit `box` px, crisp (no smoothing)."""
    w, h = fit(rgba.shape, box)
    attrs = f' class="{esc(cls)}"' if cls else ""
    attrs += f' title="{esc(title)}"' if title else ""
    return (f'<img src="{data_uri(rgba)}" width="{w}" height="{h}" alt="{esc(alt)}"{attrs} '
            f'style="{PIXELATED};vertical-align:middle" />')


def heatmap_img(values, lo: float, hi: float, cmap: Colormap = ACTIVATION, box: int = 96,
                title: str | None = None, alt: str = "") -> str:
    """A 2-D array coloured with `cmap` over [lo, hi], as an <img>."""
    return img(heatmap(values, lo, hi, cmap), box, title, alt)


def svg_image(rgba: np.ndarray, x: float, y: float, width: float, height: float) -> str:
    """An SVG <image> of RGBA pixels stretched over a rectangle, crisp."""
    return (f'<image href="{data_uri(rgba)}" x="{x:g}" y="{y:g}" width="{width:g}" height="{height:g}" '
            f'preserveAspectRatio="none" style="{PIXELATED}" />')


def marked_heatmap(values, lo: float, hi: float, cmap: Colormap = ACTIVATION, box: int = 120,
                   window: tuple[int, int, int, int] | None = None, title: str = "",
                   scale: float | None = None) -> str:
    """An inline <svg> heatmap with a window outlined: window = (row, col, height, width) in cells.
    `scale`: px per cell (default: fit in `box`).

    A window that hangs over the edge (into the layer's padding) is drawn in full: the picture grows to
    show the padding cells it covers, dotted."""
    v = np.asarray(values)
    h, w = v.shape
    pw, ph = fit(v.shape, box, scale)
    sx, sy = pw / w, ph / h
    x0, y0, x1, y1 = 0.0, 0.0, float(pw), float(ph)
    rect = ""
    if window is not None:
        r, c, wh, ww = window
        wx, wy, wx1, wy1 = c * sx, r * sy, (c + ww) * sx, (r + wh) * sy
        x0, y0, x1, y1 = min(x0, wx), min(y0, wy), max(x1, wx1), max(y1, wy1)
        rect = (f'<rect class="window" x="{wx:g}" y="{wy:g}" width="{wx1 - wx:g}" height="{wy1 - wy:g}" '
                f'fill="none" stroke="{HIGHLIGHT}" stroke-width="2" />')
    m = 3
    vb = f"{x0 - m:g} {y0 - m:g} {x1 - x0 + 2 * m:g} {y1 - y0 + 2 * m:g}"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{x1 - x0 + 2 * m:g}" height="{y1 - y0 + 2 * m:g}" '
             f'viewBox="{vb}" role="img" aria-label="{esc(title)}" style="vertical-align:middle">',
             f'<title>{esc(title)}</title>']
    if (x0, y0, x1, y1) != (0.0, 0.0, float(pw), float(ph)):
        parts.append(f'<rect class="padding" x="{x0:g}" y="{y0:g}" width="{x1 - x0:g}" height="{y1 - y0:g}" '
                     f'fill="{PADDING_BG}" stroke="#adb5bd" stroke-width="0.5" stroke-dasharray="2 2" />')
    parts += [svg_image(heatmap(v, lo, hi, cmap), 0, 0, pw, ph),
              f'<rect x="0" y="0" width="{pw}" height="{ph}" fill="none" stroke="#adb5bd" stroke-width="0.5" />',
              rect, "</svg>"]
    return "".join(parts)


def grid_cell(size) -> int:
    """Pixels per cell of a printed kernel of `size` (kh, kw): the cell-size ladder of every kernel table."""
    k = max(int(v) for v in size)
    return 40 if k <= 3 else 34 if k <= 5 else 28


def number_grid(values, lo: float, hi: float, cmap: Colormap = ACTIVATION, digits: int = 3,
                padded=None, marked=None, caption: str | None = None, cell: int = 44, name: str = "") -> str:
    """A <table> with each value printed on its colour, text black or white for contrast.

    `padded` (bool array): padding cells, drawn grey and hatched-looking; `marked` (bool array): cells
    outlined (e.g. the maximum of a pool window). Each <td> carries data-row, data-col and a title
    with more digits; the table carries data-name=`name`.
    """
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    pad = np.zeros(v.shape, bool) if padded is None else np.atleast_2d(np.asarray(padded, bool))
    mark = np.zeros(v.shape, bool) if marked is None else np.atleast_2d(np.asarray(marked, bool))
    colours = cmap(normalize(v, lo, hi))
    texts = [[fmt(x, digits) for x in r] for r in v]
    width = max(cell, 7 * max(len(t) for r in texts for t in r) + 8)
    rows = []
    for i in range(v.shape[0]):
        cells = []
        for j in range(v.shape[1]):
            bg = PADDING_BG if pad[i, j] else hex_colour(colours[i, j])
            fg = "#495057" if pad[i, j] else text_colour(colours[i, j])
            border = f"2px solid {HIGHLIGHT}" if mark[i, j] else "1px solid #ffffff"
            style = (f"background:{bg};color:{fg};border:{border};width:{width}px;height:{int(cell * 0.62)}px;"
                     f"text-align:center;font:11px/1.1 ui-monospace,Menlo,Consolas,monospace;padding:0")
            tip = ("padding: " if pad[i, j] else "") + fmt(v[i, j], 6)
            cls = ' class="pad"' if pad[i, j] else (' class="mark"' if mark[i, j] else "")
            cells.append(f'<td{cls} data-row="{i}" data-col="{j}" title="{esc(tip)}" style="{style}">'
                         f'{esc(texts[i][j])}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = (f'<caption style="caption-side:top;font:12px sans-serif;color:#495057;padding:2px">{esc(caption)}'
           "</caption>") if caption else ""
    return (f'<table class="grid" data-name="{esc(name)}" style="border-collapse:collapse;display:inline-table;'
            f'vertical-align:middle;margin:2px">{cap}<tbody>' + "".join(rows) + "</tbody></table>")


def legend(lo: float, hi: float, cmap: Colormap = ACTIVATION, label: str = "", width: int = 160, digits: int = 3) -> str:
    """A horizontal colour bar from lo to hi with its end values."""
    grad = cmap.css_gradient(11)
    return (f'<span class="legend" style="display:inline-block;font:11px sans-serif;color:#495057;margin:4px 8px">'
            f'<span style="display:block">{esc(label)}</span>'
            f'<span style="display:inline-block;width:{width}px;height:9px;background:{grad};'
            f'border:1px solid #ced4da;vertical-align:middle"></span>'
            f'<span style="display:flex;justify-content:space-between;width:{width}px">'
            f'<span>{esc(fmt(lo, digits))}</span><span>{esc(fmt(hi, digits))}</span></span></span>')


def op(symbol: str) -> str:
    """An operator between blocks (×, =, +, Σ …)."""
    return (f'<span class="op" style="display:inline-block;font:20px sans-serif;color:#495057;'
            f'margin:0 6px;vertical-align:middle">{esc(symbol)}</span>')


def block(*parts: str, caption: str = "", gap: int = 4) -> str:
    """An inline box holding parts side by side, with a small caption under them."""
    cap = (f'<div style="font:11px sans-serif;color:#495057;text-align:center;margin-top:2px">{esc(caption)}</div>'
           if caption else "")
    return (f'<div class="block" style="display:inline-block;vertical-align:middle;margin:{gap}px;text-align:center">'
            + "".join(parts) + cap + "</div>")
