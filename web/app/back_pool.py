"""The max-pooling backward view: each window sends its gradient to the cell that held its maximum, and
nothing to the others; where several cells tie for the maximum, the first one row by row gets it (as
TensorFlow does). Window by window over one channel; numbers from explain.pool_backward."""
from __future__ import annotations

from cnn101.explain import pool_backward, symmetric
from cnn101.explain.backward import TUTORIALS
from cnn101.render.detail import Matrix, cell, cells, figure, op, window_covering, word
from cnn101.render.svg import fmt

from .back_common import BackView, gradients, open_panel
from .detail_panel import place


class PoolBackView(BackView):
    kind = "back-pool"
    title = "Max pooling, backwards"
    tutorial = TUTORIALS["pool"]

    def __init__(self, trace, grads, layer: str, channel: int):
        self.d = d = pool_backward(trace, grads, layer, channel)
        g = self.g = d.geometry
        self.grid = tuple(int(v) for v in g.output_hw)
        self.lo, self.hi = d.range
        self.xlo, self.xhi = symmetric(d.input)
        self.dx = d.input_gradient
        self.mx = Matrix.of(d.input, self.xlo, self.xhi, "input", pad=g.pad, box=220)
        self.mg = Matrix.of(d.upstream, self.lo, self.hi, "upstream", pitch=self.mx.pitch)
        self.md = Matrix.of(self.dx, self.lo, self.hi, "gradient", pad=g.pad, pitch=self.mx.pitch)
        (ph, pw), (sh, sw) = g.size, g.strides
        self.subtitle = (f"{layer}, channel {d.channel}: {ph}×{pw} windows, stride {sh}"
                         + (f"×{sw}" if sw != sh else "") + f"; {self.grid[0]}×{self.grid[1]} gradients → "
                         f"{g.input_hw[0]}×{g.input_hw[1]}")
        self.description = ("Backwards, max pooling gives each window's gradient to the one input cell that "
                            "held the window's maximum; the other cells get nothing (changing them a little would "
                            "not change the output). When several cells tie for the maximum, the first of them, "
                            "row by row, gets it. Where windows overlap, a cell adds up what it receives.")

    def body_html(self) -> str:
        d = self.d
        return (figure(self.mx.svg(f"{d.source}: the input", windows=("win", "src")), f"input — {d.source}")
                + figure(self.mg.svg(f"d loss / d {d.layer}", windows=("out",)), f"upstream gradient — {d.layer}")
                + op("→")
                + figure(self.md.svg(f"d loss / d {d.source}", windows=("win", "src")), f"gradient — {d.source}")
                + '<div class="dp-eq-wrap"><div class="dp-eq" aria-hidden="true"></div>'
                  '<div class="dp-eq dp-total"></div><div class="dp-eq-note"></div></div>')

    def bind(self, root) -> None:
        q = root.querySelector
        self.win = [q('svg[data-grid="input"] .dp-win'), q('svg[data-grid="gradient"] .dp-win')]
        self.src = [q('svg[data-grid="input"] .dp-src'), q('svg[data-grid="gradient"] .dp-src')]
        self.out = q('svg[data-grid="upstream"] .dp-out')
        self.eq = q(".dp-eq")
        self.note = q(".dp-eq-note")
        self.total = q(".dp-total")

    def show(self, k: int) -> None:
        i, j = divmod(int(k), int(self.grid[1]))
        w = self.d.window(i, j)
        ph, pw = self.g.size
        for rect, m in zip(self.win, (self.mx, self.md)):
            place(rect, m.box(w.origin[0], w.origin[1], ph, pw))
        for rect, m in zip(self.src, (self.mx, self.md)):
            place(rect, m.box(*w.target_cell))
            rect.setAttribute("visibility", "visible")
        place(self.out, self.mg.box(i, j))
        self.out.setAttribute("visibility", "visible")
        padded = [[v == float("-inf") for v in row] for row in w.values.tolist()]  # −∞: the window's padding
        self.eq.innerHTML = (
            cells(w.values, self.xlo, self.xhi, digits=3, name="window", padded=padded, marked=w.tied)
            + op("→") + word(f"max at ({w.winner[0]}, {w.winner[1]}) gets") + op("")
            + cell(w.upstream, self.lo, self.hi, digits=4, name="upstream", extra="big")
            + word("the others 0"))
        self.total.innerHTML = (word(f"gradient of input ({w.target_cell[0]}, {w.target_cell[1]}), all windows =")
                                + cell(float(self.dx[w.target_cell]), self.lo, self.hi, digits=4, name="gradient"))
        cells_shown = self.eq.querySelectorAll('[data-name="window"]')
        cells_shown.item(w.winner[0] * pw + w.winner[1]).classList.add("win")  # the one that gets the gradient
        ties = ("" if w.ties == 1 else
                f" — {w.ties} cells tie for the maximum (outlined); the first, row by row, gets the gradient")
        self.note.textContent = (f"output row {i}, column {j}: the gradient goes to input row {w.target_cell[0]}, "
                                 f"column {w.target_cell[1]}{ties}")
        self.note.dataset.ties = str(w.ties)

    def step_at(self, grid: str, row: int, col: int) -> int:
        if grid in ("input", "gradient"):
            row, col = window_covering(row, col, self.g.strides, self.g.pad, self.grid)
        return int(row) * int(self.grid[1]) + int(col)

    def say(self, k: int) -> str:
        i, j = divmod(int(k), int(self.grid[1]))
        w = self.d.window(i, j)
        return (f"Output row {i}, column {j}: gradient {fmt(w.upstream)} goes to input row {w.target_cell[0]}, "
                f"column {w.target_cell[1]}" + (f"; {w.ties} cells tie" if w.ties > 1 else ""))

    def data(self) -> dict:
        return {"layer": self.d.layer, "channel": self.d.channel, "grid": list(self.grid)}


def open(app, column, neuron: int) -> None:  # noqa: A001  (the registry's name for a view's opener)
    trace, grads = gradients(app)
    open_panel(app, PoolBackView(trace, grads, column.name, neuron))
