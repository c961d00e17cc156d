"""The convolutional intermediate view (level 2), drawn from plain numbers: geometry, SVG edges, HTML.

One row per input channel: the channel (with its padding, if any), its kernel, and the single-channel
result; every result (and the bias) flows into a "+" and on into the chosen neuron. Everything is
derived from the shapes handed in — channel count, input size, kernel size, stride, padding, output
size — so any Conv2D draws correctly. NumPy only (no engine, no browser): the page calls it in Pyodide,
tests call it on CPython.

The sliding-kernel animation moves nothing but CSS variables on the view's root (`frame_style`): every
input channel has the same size, so one set of percentages places all the kernel windows, all result
cursors and the reveal clip of every result at once — one style write per animation frame.

    g = geometry(channels=10, input_hw=(62, 62), kernel_hw=(3, 3), strides=(1, 1),
                 pad=(0, 0, 0, 0), output_hw=(60, 60))
    html = view_html(g, Labels(...))
    style = frame_style(g, cursor=(i, j), revealed=k)
"""
from __future__ import annotations

from dataclasses import dataclass

from .clock import SPEEDS, closest_speed
from .svg import esc, fmt

AREA = 720.0  # px of height the channel rows may share
PITCH_MIN, PITCH_MAX = 38.0, 136.0  # px per channel row
SIDE_MAX = 116.0  # px, the larger side of an input or result heatmap
TOP = 86.0  # room above the rows for column titles and the annotation
BOTTOM = 30.0
LEFT = 84.0  # room for each row's channel caption
GAP = 64.0  # between input, kernel and result
SUM_GAP = 118.0  # from the results to the "+" (room for each row's value)
PLUS_R = 16.0
NEURON_GAP = 64.0
RIGHT = 28.0
SWEEP_MS = 8000.0  # a whole sweep at speed 1, whatever the number of output positions ...
STEP_MS = (1.0, 300.0)  # ... within these bounds per step
SELECTED = ' selected="selected"'


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def mid_y(self) -> float:
        return self.y + self.h / 2

    @property
    def mid_x(self) -> float:
        return self.x + self.w / 2

    def css(self) -> str:
        return f"left:{_f(self.x)}px;top:{_f(self.y)}px;width:{_f(self.w)}px;height:{_f(self.h)}px"


@dataclass(frozen=True)
class ConvViewGeometry:
    """Where everything of the intermediate view goes, in px, plus the sweep's shape."""

    channels: int
    input_hw: tuple[int, int]
    kernel_hw: tuple[int, int]
    strides: tuple[int, int]
    pad: tuple[int, int, int, int]  # (top, bottom, left, right) in cells
    output_hw: tuple[int, int]
    width: float
    height: float
    pitch: float
    inputs: tuple  # Rect per channel: the input heatmap itself
    padded: tuple  # Rect per channel: the heatmap with its padding frame (== inputs when there is none)
    kernels: tuple  # Rect per channel
    results: tuple  # Rect per channel
    plus: Rect  # the circle's bounding box
    bias: Rect
    neuron: Rect
    columns: dict  # title -> (x, width) of each column, for the headers

    @property
    def steps(self) -> int:
        """Number of output positions the kernel visits."""
        return self.output_hw[0] * self.output_hw[1]

    @property
    def has_padding(self) -> bool:
        return any(self.pad)

    def origin(self, i: int, j: int) -> tuple[int, int]:
        """Top-left input cell (row, col) of the kernel for output (i, j); negative inside the padding."""
        return i * self.strides[0] - self.pad[0], j * self.strides[1] - self.pad[2]

    def position(self, step: int) -> tuple[int, int]:
        """Output (i, j) of a sweep step (row-major, as explain's `positions`)."""
        return divmod(int(step), self.output_hw[1])

    def step(self, i: int, j: int) -> int:
        return int(i) * self.output_hw[1] + int(j)


def _f(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _fit(hw, side: float) -> tuple[float, float]:
    """(w, h) of an H×W grid fitted in side×side, aspect kept."""
    h, w = hw
    s = side / max(h, w)
    return w * s, h * s


def geometry(channels: int, input_hw, kernel_hw, strides, pad, output_hw) -> ConvViewGeometry:
    """The layout for a conv neuron reading `channels` channels of input_hw through kernel_hw kernels."""
    c = int(channels)
    if c < 1:
        raise ValueError("A convolution reads at least one channel.")
    (h, w), (kh, kw), (oh, ow) = (tuple(int(v) for v in t) for t in (input_hw, kernel_hw, output_hw))
    pt, pb, pl, pr = (int(v) for v in pad)
    pitch = max(PITCH_MIN, min(PITCH_MAX, AREA / c))
    side = min(SIDE_MAX, pitch * 0.85)
    # input: the padded grid fits the side, so the window never leaves the picture
    hp, wp = h + pt + pb, w + pl + pr
    cell = side / max(hp, wp)
    ksize = min(side * 0.72, max(26.0, 11.0 * max(kh, kw)))
    kcell = ksize / max(kh, kw)
    rw, rh = _fit((oh, ow), side)
    x_in = LEFT
    x_k = x_in + wp * cell + GAP
    x_r = x_k + kw * kcell + GAP
    x_plus = x_r + rw + SUM_GAP
    nside = max(120.0, min(176.0, side * 1.6))
    nw, nh = _fit((oh, ow), nside)
    x_n = x_plus + 2 * PLUS_R + NEURON_GAP
    inputs, padded, kernels, results = [], [], [], []
    for k in range(c):
        mid = TOP + (k + 0.5) * pitch
        py = mid - hp * cell / 2
        padded.append(Rect(x_in, py, wp * cell, hp * cell))
        inputs.append(Rect(x_in + pl * cell, py + pt * cell, w * cell, h * cell))
        kernels.append(Rect(x_k, mid - kh * kcell / 2, kw * kcell, kh * kcell))
        results.append(Rect(x_r, mid - rh / 2, rw, rh))
    rows_mid = TOP + c * pitch / 2
    plus = Rect(x_plus, rows_mid - PLUS_R, 2 * PLUS_R, 2 * PLUS_R)
    bias = Rect(x_plus + PLUS_R - 40, plus.bottom + 30, 80, 38)
    neuron = Rect(x_n, rows_mid - nh / 2, nw, nh)
    height = max(TOP + c * pitch + BOTTOM, bias.bottom + BOTTOM, neuron.bottom + BOTTOM)
    width = x_n + nw + RIGHT
    columns = {"input": (x_in, wp * cell), "kernel": (x_k, kw * kcell), "result": (x_r, rw),
               "sum": (x_plus, 2 * PLUS_R), "neuron": (x_n, nw)}
    return ConvViewGeometry(c, (h, w), (kh, kw), tuple(int(s) for s in strides), (pt, pb, pl, pr), (oh, ow),
                            round(width, 1), round(height, 1), pitch, tuple(inputs), tuple(padded),
                            tuple(kernels), tuple(results), plus, bias, neuron, columns)


# --- the sweep -------------------------------------------------------------------------------------
def _pct(v: float) -> str:
    return f"{v * 100:.4f}".rstrip("0").rstrip(".") + "%"


def frame_style(g: ConvViewGeometry, cursor: tuple[int, int] | None, revealed: int) -> str:
    """CSS variables for one animation frame: the kernel window and result cursor at `cursor` (output
    (i, j); None hides them) and result cells 0..`revealed` (row-major step; −1 none) uncovered.

    All in percent of the picture they sit on, so one string serves every channel, result and the neuron:
      --wl/--wt  window's top-left on the input (negative or past 100 % inside the padding)
      --cl/--ct  cursor's top-left on a result
      --ry0/--rx1/--ry1  the reveal: rows above ry0 whole, the current row up to rx1, nothing below ry1
    """
    (h, w), (oh, ow) = g.input_hw, g.output_hw
    revealed = max(-1, min(int(revealed), g.steps - 1))
    if revealed < 0:
        ry0 = rx1 = ry1 = 0.0
    else:
        ri, rj = g.position(revealed)
        ry0, rx1, ry1 = ri / oh, (rj + 1) / ow, (ri + 1) / oh
    parts = [f"--ry0:{_pct(ry0)}", f"--rx1:{_pct(rx1)}", f"--ry1:{_pct(ry1)}"]
    if cursor is None:
        parts.append("--cursor:hidden")
    else:
        i, j = cursor
        r0, c0 = g.origin(i, j)
        parts += [f"--wl:{_pct(c0 / w)}", f"--wt:{_pct(r0 / h)}", f"--cl:{_pct(j / ow)}", f"--ct:{_pct(i / oh)}",
                  "--cursor:visible"]
    return ";".join(parts)


def output_for_input(g: ConvViewGeometry, r: int, c: int) -> tuple[int, int]:
    """The output cell whose kernel window is centred closest to input cell (r, c) (clamped)."""
    (kh, kw), (sh, sw), (oh, ow) = g.kernel_hw, g.strides, g.output_hw
    i = round((r - (kh - 1) / 2 + g.pad[0]) / sh)
    j = round((c - (kw - 1) / 2 + g.pad[2]) / sw)
    return min(oh - 1, max(0, int(i))), min(ow - 1, max(0, int(j)))


def cell_at(fx: float, fy: float, hw) -> tuple[int, int]:
    """Row and column of the cell at fractions (fx, fy) of an H×W picture (clamped to the grid)."""
    h, w = int(hw[0]), int(hw[1])
    return min(h - 1, max(0, int(fy * h))), min(w - 1, max(0, int(fx * w)))


def input_cell_at(g: ConvViewGeometry, fx: float, fy: float) -> tuple[int, int]:
    """Input cell (row, col) at fractions of the *padded* picture; may lie in the padding (negative)."""
    (h, w), (pt, pb, pl, pr) = g.input_hw, g.pad
    hp, wp = h + pt + pb, w + pl + pr
    r, c = cell_at(fx, fy, (hp, wp))
    return r - pt, c - pl


# --- markup ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Labels:
    """The words of the view (all derived from the model by the caller)."""

    layer: str  # e.g. 'conv_1_2'
    neuron: str  # e.g. 'neuron 3'
    source: str  # the layer read, e.g. 'relu_1_1' or 'input'
    channels: tuple  # one caption per input channel ('red', 'channel 4', ...)
    bias: float
    relu: str | None = None


def edge_path(g: ConvViewGeometry) -> str:
    """One SVG path: channel → kernel → result → "+" for every row, bias → "+", "+" → neuron."""
    d = []
    px, py = g.plus.x, g.plus.mid_y
    for p, k, r in zip(g.padded, g.kernels, g.results):
        y = k.mid_y
        d.append(f"M{_f(p.right + 3)} {_f(y)}H{_f(k.x - 3)}")
        d.append(f"M{_f(k.right + 3)} {_f(y)}H{_f(r.x - 3)}")
        x1 = r.right + 3
        mx = (x1 + px) / 2
        d.append(f"M{_f(x1)} {_f(y)}C{_f(mx)} {_f(y)} {_f(mx)} {_f(py)} {_f(px - 2)} {_f(py)}")
    d.append(f"M{_f(g.plus.mid_x)} {_f(g.bias.y - 2)}V{_f(g.plus.bottom + 2)}")
    d.append(f"M{_f(g.plus.right + 2)} {_f(py)}H{_f(g.neuron.x - 4)}")
    return "".join(d)


def view_html(g: ConvViewGeometry, lab: Labels) -> str:
    """The stage: canvases (painted by the page), the kernel windows and result cursors (placed by the
    CSS variables of `frame_style`), edges, "+", the bias, captions and annotations. Well-formed XML."""
    (h, w), (kh, kw), (oh, ow) = g.input_hw, g.kernel_hw, g.output_hw
    win = f"width:{_pct(kw / w)};height:{_pct(kh / h)}"
    cur = f"width:{_pct(1 / ow)};height:{_pct(1 / oh)}"
    parts = [f'<div class="cv-stage" style="width:{_f(g.width)}px;height:{_f(g.height)}px">',
             f'<svg class="cv-edges" width="{_f(g.width)}" height="{_f(g.height)}" aria-hidden="true">'
             f'<path class="cv-edge" d="{edge_path(g)}"/></svg>']
    (sh, sw), many = g.strides, "s" * (g.channels != 1)
    titles = {"input": ("input channels", f"{lab.source} · {h}×{w}"),
              "kernel": (f"kernel{many}", f"{kh}×{kw} · stride {sh}" if sh == sw else f"{kh}×{kw} · stride {sh}×{sw}"),
              "result": (f"result{many}", f"{oh}×{ow} · one per channel"),
              "neuron": (lab.layer, f"{lab.neuron} · {oh}×{ow}")}
    for key, (text, sub) in titles.items():
        x, width = g.columns[key]
        lines = "".join(f"<span>{esc(line)}</span>" for line in sub.split(" · "))  # one per line: narrow columns
        parts.append(f'<div class="cv-title" style="left:{_f(x + width / 2)}px;top:{_f(TOP - 52)}px">{esc(text)}'
                     f'{lines}</div>')
    kx, kwid = g.columns["kernel"]
    parts.append(f'<div class="cv-note" style="left:{_f(kx + kwid / 2)}px;top:{_f(TOP - 72)}px">'
                 "each input channel has its own kernel</div>")
    for c in range(g.channels):
        p, i_r, k_r, r_r = g.padded[c], g.inputs[c], g.kernels[c], g.results[c]
        name = esc(lab.channels[c]) if c < len(lab.channels) else f"channel {c}"
        parts.append(f'<div class="cv-caption" style="left:{_f(p.x - LEFT + 4)}px;top:{_f(p.mid_y - 8)}px;'
                     f'width:{_f(LEFT - 12)}px">{name}</div>')
        pad = ' has-pad' if g.has_padding else ""
        parts.append(f'<div class="cv-pair cv-in{pad}" data-channel="{c}" data-part="input" role="button" tabindex="0" '
                     f'aria-label="{name}: open the convolution of this channel" style="{p.css()}">'
                     f'<canvas class="cv-map" width="{w}" height="{h}" style="left:{_f(i_r.x - p.x)}px;'
                     f'top:{_f(i_r.y - p.y)}px;width:{_f(i_r.w)}px;height:{_f(i_r.h)}px"></canvas>'
                     f'<div class="cv-win" style="left:{_f(i_r.x - p.x)}px;top:{_f(i_r.y - p.y)}px;width:{_f(i_r.w)}px;'
                     f'height:{_f(i_r.h)}px"><div class="cv-window" style="{win}"></div></div></div>')
        parts.append(f'<div class="cv-kernel" data-channel="{c}" tabindex="0" role="img" '
                     f'aria-label="kernel of {name}" style="{k_r.css()}">'
                     f'<canvas class="cv-map" width="{kw}" height="{kh}"></canvas></div>')
        parts.append(f'<div class="cv-pair cv-res" data-channel="{c}" data-part="result" role="button" tabindex="-1" '
                     f'aria-label="result of {name}" style="{r_r.css()}">'
                     f'<canvas class="cv-map cv-reveal" width="{ow}" height="{oh}"></canvas>'
                     f'<div class="cv-cursor" style="{cur}"></div></div>')
        parts.append(f'<div class="cv-value" data-channel="{c}" style="left:{_f(r_r.right + 8)}px;'
                     f'top:{_f(r_r.mid_y - 19)}px"></div>')
    pl = g.plus
    parts.append(f'<div class="cv-note" style="left:{_f(pl.mid_x)}px;top:{_f(pl.y - 46)}px">'
                 "add up all results,<br/>then add the bias</div>")
    parts.append(f'<div class="cv-plus" role="button" tabindex="0" aria-label="the whole neuron: all channels and the bias" '
                 f'style="{pl.css()}">+</div>')
    parts.append(f'<div class="cv-bias" style="{g.bias.css()}"><span>bias</span>'
                 f'<b data-value="{float(lab.bias)!r}">{esc(fmt(lab.bias))}</b></div>')
    parts.append(f'<div class="cv-pair cv-neuron" data-part="neuron" role="button" tabindex="0" '
                 f'aria-label="{esc(lab.layer)}, {esc(lab.neuron)}: the whole neuron" style="{g.neuron.css()}">'
                 f'<canvas class="cv-map cv-reveal" width="{ow}" height="{oh}"></canvas>'
                 f'<div class="cv-cursor" style="{cur}"></div></div>')
    parts.append("</div>")
    return "".join(parts)


def sum_html(position, channel_sums, bias: float, total: float, relu: str | None = None,
             value: float | None = None, captions=()) -> str:
    """The sum at one position, term by term: r_0 + r_1 + … + bias = the neuron's value (+ its ReLU).

    Each number carries its full value in data-value; the text is the view's 3-decimal `fmt`."""
    i, j = (int(v) for v in position)
    terms = []
    for c, v in enumerate(channel_sums):
        sep = " + " if c else ""
        who = esc(captions[c]) if c < len(captions) else f"channel {c}"
        terms.append(f'{sep}<span class="cv-term" data-channel="{c}" data-value="{float(v)!r}" '
                     f'title="result of {who}">{esc(_paren(v))}</span>')
    out = [f'<span class="cv-at">at ({i}, {j}):</span> ',
           f'<span class="cv-terms">{"".join(terms)}</span>',
           f' + <span class="cv-term cv-b" data-value="{float(bias)!r}" title="bias">{esc(_paren(bias))}</span>',
           f' = <b class="cv-total" data-value="{float(total)!r}">{esc(fmt(total))}</b>']
    if relu and value is not None:
        out.append(f'<span class="cv-relu"> → {esc(relu)}: max(0, {esc(fmt(total))}) = '
                   f'<b class="cv-activated" data-value="{float(value)!r}">{esc(fmt(value))}</b></span>')
    return "".join(out)


def _paren(v: float) -> str:
    s = fmt(v)
    return f"({s})" if s.startswith("-") else s


def value_label(v: float) -> str:
    """A row's value at the cursor, beside its result: '= 0.123' (title: more digits)."""
    return f'<span data-value="{float(v)!r}" title="{esc(fmt(v, 6))}">{esc(fmt(v))}</span>'


def apart_offsets(left_edge: float, right_edge: float, scale: float, panel_left: float, panel_right: float,
                  margin: float = 16.0) -> tuple[float, float]:
    """How far (in the Overview's own, unscaled px) the columns left of the gap must move left and the
    columns right of it move right so that a panel spanning [panel_left, panel_right] (screen px in the
    same frame) fits between them. `left_edge`/`right_edge`: the gap's sides in Overview px."""
    s = scale if scale > 0 else 1.0
    dl = max(0.0, left_edge * s - (panel_left - margin)) / s
    dr = max(0.0, (panel_right + margin) - right_edge * s) / s
    return round(dl, 1), round(dr, 1)


# --- the clock -------------------------------------------------------------------------------------
def step_ms(steps: int) -> float:
    """Milliseconds per sweep step at speed 1: the whole sweep takes about SWEEP_MS."""
    return max(STEP_MS[0], min(STEP_MS[1], SWEEP_MS / max(1, int(steps))))


# --- the panel around the stage ---------------------------------------------------------------------
def panel_html(title: str, subtitle: str, description: str, stage: str, tutorial: str, speed: float,
               playing: bool, legends: str = "") -> str:
    """The level-2 panel: title, controls (play/pause, replay, fast-forward, speed), the stage, the sum
    line (a live region) and the colour legends."""
    chosen = closest_speed(speed)
    options = "".join(f'<option value="{v:g}"{SELECTED if v == chosen else ""}>{v:g}×</option>' for v in SPEEDS)
    return (f'<section id="conv-view" class="cv-view" role="dialog" aria-modal="false" aria-labelledby="cv-heading" '
            f'aria-describedby="cv-desc" tabindex="-1">'
            f'<header class="cv-head"><h2 id="cv-heading" class="cv-heading">{esc(title)}</h2>'
            f'<span class="cv-subtitle">{esc(subtitle)}</span>'
            f'<a class="cv-tutorial" href="#{esc(tutorial)}">How convolution works</a>'
            f'<button type="button" class="cv-close" aria-label="Back to the Overview" title="Back (Esc)">×</button>'
            f'</header><p id="cv-desc" class="cv-desc">{esc(description)}</p>'
            f'<div class="cv-controls" role="toolbar" aria-label="Animation">'
            f'<button type="button" class="cv-play" aria-pressed="{"true" if playing else "false"}">'
            f'{"Pause" if playing else "Play"}</button>'
            f'<button type="button" class="cv-replay" title="Start the sweep again">Replay</button>'
            f'<button type="button" class="cv-ff" title="Show every result at once">Fast-forward</button>'
            f'<label class="cv-speed-label">speed <select class="cv-speed">{options}</select></label>'
            f'<span class="cv-pos"></span></div>'
            f'<p class="cv-sum" aria-live="polite"><span class="cv-at">Pause or hover a position to see its sum: '
            "the results of all channels + the bias = the neuron's value.</span></p>"
            f'<div class="cv-frame">{stage}</div>'
            f'<div class="cv-legends">{legends}</div>'
            f'<div class="cv-tip" role="tooltip" hidden="hidden"></div></section>')


__all__ = ["step_ms", "panel_html", "Rect", "ConvViewGeometry", "Labels", "geometry", "frame_style", "output_for_input", "cell_at",
           "input_cell_at", "edge_path", "view_html", "sum_html", "value_label", "apart_offsets"]
