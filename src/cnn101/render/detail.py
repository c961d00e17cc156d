"""The detail panel's drawing and stepping, pure (NumPy only): the floating panel's markup, matrices as
one SVG each (a heatmap, numbers in the cells when they fit, a movable window), small equation pieces,
and the autoplay clock. The page (web/app/detail_panel.py) only mounts these strings and moves windows.

    m = Matrix.of(values, lo, hi, name="input", pad=(1, 2, 1, 2))   # geometry + colours of one matrix
    m.svg(title="relu_1_1, channel 3: input")                         # one <svg>, window rects inside
    m.box(row, col, height, width)                                    # the window's x, y, w, h in the svg
    panel_html("dp-relu", "ReLU", "tutorial-relu", body, description) # the floating panel shell
    Player(n=3844).advance(now_ms)                                    # autoplay by elapsed time
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .clock import SPEEDS, speed_index, speed_label
from .colormap import ACTIVATION, Colormap
from .heatmap import heatmap, normalize
from .svg import PADDING_BG, esc, fmt, hex_colour, svg_image

NUMBERS_FROM = 30.0  # px per cell from which a matrix prints its numbers in the cells
WINDOW_STROKE = "#1d2733"
OUTPUT_STROKE = "#e07a1f"
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def cell_pitch(shape, box: float = 300.0, largest: float = 40.0, smallest: float = 2.0) -> float:
    """Pixels per cell for an H×W matrix drawn in about box×box: whole pixels, at most `largest`."""
    h, w = int(shape[0]), int(shape[1])
    p = min(largest, box / max(h, w, 1))
    return float(max(smallest, math.floor(p))) if p >= 1 else max(p, 0.5)


@dataclass
class Matrix:
    """A 2-D matrix as the detail views draw it: cells of `pitch` px, padding (top, bottom, left, right)
    shown as a grey frame the window can move into, colours from `cmap` over [lo, hi]."""

    values: np.ndarray
    lo: float
    hi: float
    name: str
    pitch: float
    pad: tuple[int, int, int, int] = (0, 0, 0, 0)
    cmap: Colormap = ACTIVATION
    digits: int = 2
    numbers: bool = field(default=None)  # None: when the cells are wide enough

    @classmethod
    def of(cls, values, lo: float, hi: float, name: str, pad=(0, 0, 0, 0), box: float = 300.0,
           largest: float = 40.0, cmap: Colormap = ACTIVATION, digits: int = 2, numbers: bool | None = None,
           pitch: float | None = None):
        """`pitch`: px per cell, e.g. another matrix's, to draw both at one scale (a pooling output then
        shows at its true size next to its input); default: fit in about box×box."""
        v = np.asarray(values, dtype=np.float64)
        if v.ndim == 1:
            v = v[:, None]
        pt, pb, pl, pr = (int(p) for p in pad)
        shape = (v.shape[0] + pt + pb, v.shape[1] + pl + pr)
        pitch = cell_pitch(shape, box, largest) if pitch is None else float(pitch)
        return cls(v, float(lo), float(hi), name, pitch, (pt, pb, pl, pr), cmap, digits, numbers)

    @property
    def rows(self) -> int:
        return int(self.values.shape[0])

    @property
    def cols(self) -> int:
        return int(self.values.shape[1])

    @property
    def show_numbers(self) -> bool:
        return (self.pitch >= NUMBERS_FROM) if self.numbers is None else bool(self.numbers)

    @property
    def origin(self) -> tuple[float, float]:
        """(x, y) in the svg of cell (0, 0)'s top-left corner (after the padding frame and a margin)."""
        m = 2.0
        return m + self.pad[2] * self.pitch, m + self.pad[0] * self.pitch

    @property
    def size(self) -> tuple[float, float]:
        """(width, height) of the whole svg."""
        m = 2.0
        return (2 * m + (self.cols + self.pad[2] + self.pad[3]) * self.pitch,
                2 * m + (self.rows + self.pad[0] + self.pad[1]) * self.pitch)

    def box(self, row: int, col: int, height: int = 1, width: int = 1) -> tuple[float, float, float, float]:
        """(x, y, w, h) in svg px of the cells rows row..row+height−1, cols col..col+width−1 (may lie in
        the padding: negative or past the edge)."""
        x0, y0 = self.origin
        p = self.pitch
        return x0 + col * p, y0 + row * p, width * p, height * p

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """The (row, col) under svg px (x, y), clamped to the matrix; None outside the drawing."""
        x0, y0 = self.origin
        w, h = self.size
        if not (0 <= x <= w and 0 <= y <= h):
            return None
        r = int((y - y0) // self.pitch)
        c = int((x - x0) // self.pitch)
        return min(self.rows - 1, max(0, r)), min(self.cols - 1, max(0, c))

    def svg(self, title: str = "", windows=("win",), extra_class: str = "") -> str:
        """The matrix as one <svg>: a padding frame, the heatmap, numbers in cells (if they fit), a thin
        grid (if cells are big), and one hidden window <rect class="dp-<w>"> per entry of `windows`."""
        w, h = self.size
        x0, y0 = self.origin
        p = self.pitch
        cw, ch = self.cols * p, self.rows * p
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="dp-matrix {esc(extra_class)}" '
                 f'data-grid="{esc(self.name)}" data-rows="{self.rows}" data-cols="{self.cols}" '
                 f'data-pitch="{p:g}" data-x0="{x0:g}" data-y0="{y0:g}" width="{w:g}" height="{h:g}" '
                 f'viewBox="0 0 {w:g} {h:g}" role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>']
        if any(self.pad):
            parts.append(f'<rect class="dp-padding" x="2" y="2" width="{w - 4:g}" height="{h - 4:g}" '
                         f'fill="{PADDING_BG}" stroke="#adb5bd" stroke-width="0.6" stroke-dasharray="3 2" />')
        parts.append(svg_image(heatmap(self.values, self.lo, self.hi, self.cmap), x0, y0, cw, ch))
        if p >= 8:
            lines = [f"M{x0:g} {y0 + i * p:g}h{cw:g}" for i in range(1, self.rows)]
            lines += [f"M{x0 + j * p:g} {y0:g}v{ch:g}" for j in range(1, self.cols)]
            parts.append(f'<path d="{"".join(lines)}" stroke="#ffffff" stroke-opacity=".55" stroke-width="1" '
                         'fill="none" />')
        if self.show_numbers:
            parts.append(self._numbers())
        parts.append(f'<rect x="{x0:g}" y="{y0:g}" width="{cw:g}" height="{ch:g}" fill="none" stroke="#9aa3ad" '
                     'stroke-width="0.8" />')
        for name in windows:
            parts.append(f'<rect class="dp-{esc(name)}" x="{x0:g}" y="{y0:g}" width="{p:g}" height="{p:g}" '
                         f'fill="none" visibility="hidden" />')
        parts.append("</svg>")
        return "".join(parts)

    def _numbers(self) -> str:
        x0, y0 = self.origin
        p = self.pitch
        fgs = text_colours(self.cmap(normalize(self.values, self.lo, self.hi)))
        size = max(8.0, min(12.0, p / 3.4))
        out = [f'<g font-family="ui-monospace,Menlo,Consolas,monospace" font-size="{size:.1f}" '
               'text-anchor="middle" dominant-baseline="central" pointer-events="none">']
        for i in range(self.rows):
            for j in range(self.cols):
                out.append(f'<text x="{x0 + (j + .5) * p:g}" y="{y0 + (i + .5) * p:g}" '
                           f'fill="{fgs[i, j]}">{esc(fmt(self.values[i, j], self.digits))}</text>')
        out.append("</g>")
        return "".join(out)


def sig(v, digits: int = 4) -> str:
    """A number that may be huge or tiny (e.g. exp of a logit) with `digits` significant digits."""
    v = float(v)
    if not math.isfinite(v):
        return fmt(v)
    if v != 0 and (abs(v) >= 10 ** digits or abs(v) < 1e-3):
        m, e = f"{v:.{digits - 1}e}".split("e")
        return f"{m}×10{str(int(e)).translate(SUPERSCRIPT)}"
    return f"{v:.{digits}g}"


# --- equation pieces ---------------------------------------------------------------------------------
def cell(value: float, lo: float, hi: float, cmap: Colormap = ACTIVATION, digits: int = 3, name: str = "",
         padded: bool = False, marked: bool = False, extra: str = "", text: str | None = None,
         plain: bool = False) -> str:
    """One number on its colour (text black or white for contrast), with its exact value in data-value.
    `text` replaces the printed number (e.g. `sig(v)`); `plain` draws it on light grey, not a colour."""
    v = float(value)
    if plain:
        bg, fg = "#eef1f4", "#1d2733"
    elif padded:
        bg, fg = PADDING_BG, "#495057"
    else:
        rgb = cmap(normalize(np.array([v if math.isfinite(v) else 0.0]), lo, hi))[0]
        bg, fg = hex_colour(rgb), str(text_colours(rgb))
    cls = "dp-cell" + (" pad" if padded else "") + (" mark" if marked else "") + (f" {extra}" if extra else "")
    tip = ("padding: " if padded else "") + fmt(v, 6)
    return (f'<span class="{cls}" data-name="{esc(name)}" data-value="{v!r}" title="{esc(tip)}" '
            f'style="background:{bg};color:{fg}">{esc(fmt(v, digits) if text is None else text)}</span>')


def text_colours(rgb) -> np.ndarray:
    """svg.text_colour for a whole (…, 3) array of 0–255 colours at once: '#000000' or '#ffffff'."""
    c = np.asarray(rgb, dtype=np.float64)[..., :3] / 255.0
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    lum = 0.2126 * c[..., 0] + 0.7152 * c[..., 1] + 0.0722 * c[..., 2]
    # black wins when (L + 0.05) / 0.05 >= 1.05 / (L + 0.05)
    return np.where((lum + 0.05) ** 2 >= 0.0525, "#000000", "#ffffff")


def cells(values, lo: float, hi: float, cmap: Colormap = ACTIVATION, digits: int = 3, name: str = "",
          padded=None, marked=None) -> str:
    """A small matrix of `cell`s (e.g. a pool window), rows of spans in a CSS grid; colours are computed
    for the whole block at once (it is redrawn at every autoplay step)."""
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    pad = np.zeros(v.shape, bool) if padded is None else np.atleast_2d(np.asarray(padded, bool))
    mark = np.zeros(v.shape, bool) if marked is None else np.atleast_2d(np.asarray(marked, bool))
    rgb = cmap(normalize(np.where(np.isfinite(v), v, 0.0), lo, hi))
    fgs = text_colours(rgb)
    out = []
    for (i, j), x in np.ndenumerate(v):
        x = float(x)
        if pad[i, j]:
            bg, fg = PADDING_BG, "#495057"
        else:
            r, g, b = (int(t) for t in rgb[i, j, :3])
            bg, fg = f"#{r:02x}{g:02x}{b:02x}", fgs[i, j]
        cls = "dp-cell" + (" pad" if pad[i, j] else "") + (" mark" if mark[i, j] else "")
        tip = ("padding: " if pad[i, j] else "") + fmt(x, 6)
        out.append(f'<span class="{cls}" data-name="{esc(name)}" data-value="{x!r}" title="{esc(tip)}" '
                   f'style="background:{bg};color:{fg}">{esc(fmt(x, digits))}</span>')
    return (f'<span class="dp-cells" data-cells="{esc(name)}" data-rows="{v.shape[0]}" data-cols="{v.shape[1]}" '
            f'style="grid-template-columns:repeat({v.shape[1]},auto)">' + "".join(out) + "</span>")


def around(values, row: int, col: int, lo: float, hi: float, radius: int = 2, name: str = "",
           cmap: Colormap = ACTIVATION, digits: int = 2) -> str:
    """The numbers around cell (row, col) of a large matrix — a (2·radius+1)² neighbourhood clipped to the
    matrix, the cell itself marked — for matrices whose cells are too small to print numbers in."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    r0, r1 = max(0, row - radius), min(v.shape[0], row + radius + 1)
    c0, c1 = max(0, col - radius), min(v.shape[1], col + radius + 1)
    part = v[r0:r1, c0:c1]
    mark = np.zeros(part.shape, bool)
    mark[row - r0, col - c0] = True
    return cells(part, lo, hi, cmap, digits, name, marked=mark).replace(
        'class="dp-cells"', f'class="dp-cells dp-around" data-top="{r0}" data-left="{c0}"', 1)


def op(symbol: str) -> str:
    return f'<span class="dp-op">{esc(symbol)}</span>'


def word(text: str, cls: str = "dp-fn") -> str:
    return f'<span class="{cls}">{esc(text)}</span>'


def figure(inner: str, caption: str, cls: str = "") -> str:
    """A matrix with its caption under it."""
    return (f'<figure class="dp-fig {esc(cls)}">{inner}<figcaption>{esc(caption)}</figcaption></figure>')


# --- the floating panel ---------------------------------------------------------------------------------
def panel_html(panel_id: str, title: str, tutorial: str, body: str, description: str, subtitle: str = "",
               steps: int = 0, speed: float = 1.0, playing: bool = True) -> str:
    """The floating panel: a header (title, tutorial link, close), an accessible description, the body,
    the step controls (play/pause, back, step, speed, position) when `steps` > 1, and a live region."""
    k = speed_index(speed)
    controls = ""
    if steps > 1:
        controls = (
            '<div class="dp-controls" role="group" aria-label="Animation controls">'
            f'<button type="button" class="dp-play" aria-pressed="{"true" if playing else "false"}">'
            f'{"Pause" if playing else "Play"}</button>'
            '<button type="button" class="dp-prev" aria-label="Step back" title="Step back (←)">◀</button>'
            '<button type="button" class="dp-next" aria-label="Step forward" title="Step forward (→)">▶</button>'
            f'<label class="dp-speed-label">speed <input type="range" class="dp-speed" min="0" '
            f'max="{len(SPEEDS) - 1}" step="1" value="{k}" aria-valuetext="{esc(speed_label(SPEEDS[k]))}" /></label>'
            f'<output class="dp-speed-out">{esc(speed_label(SPEEDS[k]))}</output>'
            f'<span class="dp-pos" aria-hidden="true"></span>'
            '</div>')
    sub = f'<p class="dp-sub">{esc(subtitle)}</p>' if subtitle else ""
    return (f'<section id="{esc(panel_id)}" class="dp" role="dialog" aria-modal="false" '
            f'aria-labelledby="{esc(panel_id)}-title" aria-describedby="{esc(panel_id)}-desc" tabindex="-1">'
            '<header class="dp-head">'
            f'<h2 id="{esc(panel_id)}-title" class="dp-title">{esc(title)}</h2>'
            f'<a class="dp-tutorial" href="#{esc(tutorial)}">how it works</a>'
            '<button type="button" class="dp-close" aria-label="Close (Esc)" title="Close (Esc)">×</button>'
            f'</header>{sub}'
            f'<p id="{esc(panel_id)}-desc" class="dp-desc">{esc(description)}</p>'
            f'<div class="dp-body">{body}</div>{controls}'
            '<p class="dp-live sr-only" aria-live="polite"></p>'
            '</section>')


def arrow_move(index: int, key: str, rows: int, cols: int) -> int:
    """The step an arrow key leads to on a rows×cols grid of steps (row-major): left/right by one column,
    up/down by one row, clamped at the edges; Home/End to the first/last step."""
    n = rows * cols
    if cols == 1 and key in ("ArrowLeft", "ArrowRight"):  # a single column: left/right step too
        key = "ArrowUp" if key == "ArrowLeft" else "ArrowDown"
    elif rows == 1 and key in ("ArrowUp", "ArrowDown"):
        key = "ArrowLeft" if key == "ArrowUp" else "ArrowRight"
    r, c = divmod(int(index), cols)
    if key == "ArrowLeft":
        c = max(0, c - 1)
    elif key == "ArrowRight":
        c = min(cols - 1, c + 1)
    elif key == "ArrowUp":
        r = max(0, r - 1)
    elif key == "ArrowDown":
        r = min(rows - 1, r + 1)
    elif key == "Home":
        return 0
    elif key == "End":
        return n - 1
    return r * cols + c


def window_covering(row: int, col: int, strides, pad, output_hw) -> tuple[int, int]:
    """The output cell (i, j) of the last window that starts at or before input cell (row, col) — it
    covers the cell whenever any window does (clamped to the output)."""
    def one(x, s, p, n):
        return max(0, min(n - 1, (x + p) // s))
    return (one(int(row), int(strides[0]), int(pad[0]), int(output_hw[0])),
            one(int(col), int(strides[1]), int(pad[2]), int(output_hw[1])))
