"""The max-pooling detail view: max(window) = y, window by window at the layer's stride, any pool size
and padding ('same' pads with −∞, shown as a grey frame). Numbers from explain.pool_channel."""
from __future__ import annotations

from cnn101.explain import pool_channel
from cnn101.render.detail import Matrix, cells, cell, figure, op, window_covering, word
from cnn101.render.svg import fmt

from . import views
from .detail_panel import DetailPanel, DetailView, place


class PoolView(DetailView):
    kind = "pool"
    title = "Max pooling"
    tutorial = "tutorial-pooling"

    def __init__(self, trace, layer: str, channel: int):
        self.d = pool_channel(trace, layer, channel)
        g = self.d.geometry
        self.g = g
        self.grid = tuple(int(v) for v in g.output_hw)
        self.lo, self.hi = self.d.range
        self.mx = Matrix.of(self.d.input, self.lo, self.hi, "input", pad=g.pad, box=300)
        # both at one scale: the output is drawn smaller than its input, as pooling makes it (issue 17)
        self.my = Matrix.of(self.d.output, self.lo, self.hi, "output", pitch=self.mx.pitch)
        (ph, pw), (sh, sw) = g.size, g.strides
        pad = "" if not any(g.pad) else ", padded with −∞ (grey)"
        self.subtitle = (f"{layer}, channel {channel}: {ph}×{pw} windows, stride {sh}"
                         + (f"×{sw}" if sw != sh else "") + f"{pad}; {g.input_hw[0]}×{g.input_hw[1]} → "
                         f"{self.grid[0]}×{self.grid[1]}")
        self.description = (f"Max pooling keeps the largest value of each {ph}×{pw} window; the window moves "
                            f"{sh} cell{'s' if sh != 1 else ''} at a time, so the output is smaller. Left: the "
                            f"input channel ({self.d.source}); right: the output. Hover a cell or use the arrow "
                            "keys to move the window.")

    def body_html(self) -> str:
        return (figure(self.mx.svg(f"{self.d.source}: the input", windows=("win", "src")),
                       f"input — {self.d.source}")
                + op("→")
                + figure(self.my.svg(f"{self.d.layer}: the output", windows=("out",)), f"output — {self.d.layer}")
                + '<div class="dp-eq-wrap"><div class="dp-eq" aria-hidden="true"></div>'
                  '<div class="dp-eq-note"></div></div>')

    def bind(self, root) -> None:
        self.win = root.querySelector('svg[data-grid="input"] .dp-win')
        self.src = root.querySelector('svg[data-grid="input"] .dp-src')
        self.out = root.querySelector('svg[data-grid="output"] .dp-out')
        self.eq = root.querySelector(".dp-eq")
        self.note = root.querySelector(".dp-eq-note")

    def show(self, k: int) -> None:
        i, j = divmod(int(k), int(self.grid[1]))
        w = self.d.window(i, j)
        ph, pw = self.g.size
        place(self.win, self.mx.box(w.origin[0], w.origin[1], ph, pw))
        place(self.src, self.mx.box(w.source_cell[0], w.source_cell[1]))
        self.src.setAttribute("visibility", "visible")
        place(self.out, self.my.box(i, j))
        marked = [[(a, b) == w.argmax for b in range(pw)] for a in range(ph)]
        self.eq.innerHTML = (word("max") + op("(") + cells(w.values, self.lo, self.hi, digits=3, name="window",
                                                           padded=w.padded, marked=marked)
                             + op(")") + op("=") + cell(w.value, self.lo, self.hi, digits=3, name="y", extra="big"))
        self.note.textContent = (f"output row {i}, column {j}: the window starts at input row {w.origin[0]}, "
                                 f"column {w.origin[1]}; the largest value is at row {w.source_cell[0]}, "
                                 f"column {w.source_cell[1]}")

    def step_at(self, grid: str, row: int, col: int) -> int:
        if grid == "input":
            row, col = window_covering(row, col, self.g.strides, self.g.pad, self.grid)
        return int(row) * int(self.grid[1]) + int(col)

    def say(self, k: int) -> str:
        i, j = divmod(int(k), int(self.grid[1]))
        w = self.d.window(i, j)
        values = ", ".join(fmt(v) for v in w.values.ravel())
        return f"Output row {i}, column {j}: max of {values} = {fmt(w.value)}"

    def data(self) -> dict:
        return {"layer": self.d.layer, "channel": self.d.channel, "grid": list(self.grid)}


def open(app, column, neuron: int) -> None:  # noqa: A001  (the registry's name for a view's opener)
    views.push(DetailPanel(app, PoolView(app.ov.trace, column.name, neuron)))

