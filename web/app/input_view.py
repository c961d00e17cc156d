"""The input neuron's view (level 2, a click on an input channel such as red, green or blue): the channel's
values as a matrix at the model's input size, what preprocessing did to the image (original → resized →
centre crop → /255), and how this channel feeds every kernel of the first conv layer (its kernel for this
channel and the single-channel result it gives). Hover a pixel or use the arrow keys: the window moves,
the pixel's level / 255 = value is written out with the values around it, and each result shows the
output cell whose window covers the pixel.

Numbers from cnn101.explain.input_channel and explain.preprocessing; drawing from cnn101.render.detail.
Added the way every view is: this module (a DetailView on the shared panel) + one line in views.REGISTRY.
"""
from __future__ import annotations

from cnn101.explain import input_channel, preprocessing
from cnn101.render import ACTIVATION, INPUT, WEIGHT
from cnn101.render.detail import Matrix, around, cell, figure, op, window_covering, word
from cnn101.render.svg import esc, fmt

from . import views
from .detail_panel import DetailPanel, DetailView, place


class InputView(DetailView):
    kind = "input"
    title = "Input channel"
    autoplay = False  # 4096 pixels: the learner hovers, steps or plays

    def __init__(self, trace, channel: int, original_hw, tutorial: str):
        self.d = d = input_channel(trace, channel)
        h, w = d.values.shape
        self.tutorial = tutorial
        self.grid = (h, w)
        self.prep = preprocessing(original_hw, (h, w)) if original_hw else None
        self.mx = Matrix.of(d.values, 0.0, 1.0, "input", box=300, cmap=INPUT, digits=2)
        self.kernels, self.results = [], []
        if d.layer is not None:
            kh, kw = d.geometry.size
            k_lo, k_hi = d.kernel_range
            r_lo, r_hi = d.result_range
            for f in range(d.filters):
                self.kernels.append(Matrix.of(d.kernels[:, :, f], k_lo, k_hi, f"kernel-{f}", box=min(96, 32 * max(kh, kw)),
                                              largest=32, cmap=WEIGHT, digits=2))
                self.results.append(Matrix.of(d.results[:, :, f], r_lo, r_hi, f"result-{f}", box=96))
        self.subtitle = (f"{d.label} channel of the input: {h}×{w} values from 0 to 1"
                         + (f" · feeds each of the {d.filters} kernels of {d.layer}" if d.layer else ""))
        self.description = (f"The network reads the image as {h}×{w} numbers per colour channel. This is the "
                            f"{d.label} channel: each pixel's {d.label} level (0–255) divided by 255. Hover a pixel "
                            "or use the arrow keys to read its value"
                            + (f"; below, how {d.layer}'s kernels use this channel: each neuron's kernel has one "
                               f"slice for {d.label}, and sliding it over this channel gives that neuron's "
                               f"{d.label} term." if d.layer else "."))

    # --- markup ------------------------------------------------------------------------------------------
    def _steps_html(self) -> str:
        h, w = self.grid
        steps = (self.prep.steps if self.prep is not None else
                 [f"the image as the network reads it: {w}×{h} pixels", "each 0–255 level divided by 255 → values 0–1"])
        items = "".join(f"<li>{esc(s)}</li>" for s in steps)
        return f'<div class="iv-prep"><h3 class="iv-h">What preprocessing did</h3><ol class="iv-steps">{items}</ol></div>'

    def _feeds_html(self) -> str:
        d = self.d
        if d.layer is None:
            return ""
        figs = []
        for f, (mk, mr) in enumerate(zip(self.kernels, self.results)):
            k_min, k_max, k_sum = d.kernel_stats(f)
            figs.append(f'<div class="iv-feed" data-filter="{f}">'
                        + figure(mk.svg(f"neuron {f}'s kernel for {d.label}", windows=()),
                                 f"neuron {f}: weights {fmt(k_min)} to {fmt(k_max)}, sum {fmt(k_sum)}")
                        + op("⋆")
                        + '<div class="iv-res">'
                        + figure(mr.svg(f"{d.label} ⋆ kernel of neuron {f}", windows=("out",)), f"{d.label} term of neuron {f}")
                        + f'<span class="iv-term" data-filter="{f}"></span></div></div>')
        return (f'<div class="iv-feeds"><h3 class="iv-h">How {esc(d.label)} feeds each kernel of {esc(d.layer)}</h3>'
                f'<p class="iv-note">{esc(d.layer)} neuron f = Σ over channels of (channel ⋆ its kernel) + bias; '
                f"here is the {esc(d.label)} term of every neuron.</p>"
                f'<div class="iv-grid">{"".join(figs)}</div></div>')

    def body_html(self) -> str:
        d = self.d
        h, w = self.grid
        return ('<div class="iv-top">'
                + figure(self.mx.svg(f"{d.label} channel, {h}×{w} values"), f"{d.label} channel — {h}×{w} values 0–1")
                + '<div class="dp-eq-wrap"><div class="dp-eq" aria-hidden="true"></div>'
                  '<div class="dp-eq-note"></div></div>'
                + self._steps_html() + "</div>" + self._feeds_html())

    def bind(self, root) -> None:
        root.classList.add("iv")
        self.win = root.querySelector('svg[data-grid="input"] .dp-win')
        self.eq = root.querySelector(".dp-eq")
        self.note = root.querySelector(".dp-eq-note")
        self.outs = [root.querySelector(f'svg[data-grid="result-{f}"] .dp-out') for f in range(len(self.results))]
        self.terms = [root.querySelector(f'.iv-term[data-filter="{f}"]') for f in range(len(self.results))]

    # --- one step ------------------------------------------------------------------------------------------
    def output_at(self, r: int, c: int) -> tuple[int, int]:
        """The output cell of the first conv layer whose window covers pixel (r, c)."""
        g = self.d.geometry
        return window_covering(r, c, g.strides, g.pad, g.output_hw)

    def show(self, k: int) -> None:
        r, c = divmod(int(k), int(self.grid[1]))
        d = self.d
        place(self.win, self.mx.box(r, c))
        level, value = int(d.levels[r, c]), float(d.values[r, c])
        self.eq.innerHTML = (figure(around(d.values, r, c, 0.0, 1.0, name="around", cmap=INPUT), "values around it")
                             + word(f"{d.label} level") + cell(level, 0, 255, INPUT, text=str(level), name="level")
                             + op("/") + word("255") + op("=")
                             + cell(value, 0.0, 1.0, INPUT, digits=4, name="value", extra="big"))
        self.note.textContent = f"row {r}, column {c}"
        if d.layer is None:
            return
        i, j = self.output_at(r, c)
        r_lo, r_hi = d.result_range
        for f, (win, term, m) in enumerate(zip(self.outs, self.terms, self.results)):
            place(win, m.box(i, j))
            term.innerHTML = f"at ({i}, {j}): " + cell(float(d.results[i, j, f]), r_lo, r_hi, ACTIVATION, digits=3,
                                                       name="term")

    def step_at(self, grid: str, row: int, col: int) -> int | None:
        if grid == "input":
            return int(row) * int(self.grid[1]) + int(col)
        return None

    def say(self, k: int) -> str:
        r, c = divmod(int(k), int(self.grid[1]))
        return f"Row {r}, column {c}: {self.d.label} level {int(self.d.levels[r, c])} / 255 = {fmt(float(self.d.values[r, c]), 4)}"

    def data(self) -> dict:
        d = self.d
        return {"channel": d.channel, "label": d.label, "grid": list(self.grid), "layer": d.layer,
                "filters": d.filters, "steps": self.prep.steps if self.prep is not None else None}


def open(app, column, neuron: int) -> None:  # noqa: A001  (the registry's name for a view's opener)
    view = InputView(app.ov.trace, neuron, app.inputs.original_hw, column.tutorial)
    h, w = view.grid
    views.push(DetailPanel(app, view, start=(h // 2) * w + w // 2))
