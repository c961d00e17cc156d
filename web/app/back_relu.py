"""The ReLU backward view: the gradient passes where the input was positive and stops where it was not
(the ReLU was flat there). Cell by cell over one channel (or a vector); numbers from explain.relu_backward."""
from __future__ import annotations

from cnn101.explain import relu_backward, symmetric
from cnn101.explain.backward import TUTORIALS
from cnn101.render.detail import Matrix, cell, figure, op, word
from cnn101.render.svg import fmt

from .back_common import BackView, gradients, open_panel
from .detail_panel import place


class ReluBackView(BackView):
    kind = "back-relu"
    title = "ReLU, backwards"
    tutorial = TUTORIALS["relu"]

    def __init__(self, trace, grads, layer: str, channel: int | None):
        self.d = d = relu_backward(trace, grads, layer, channel)
        as2 = (lambda a: a if a.ndim == 2 else a.reshape(-1, 1))
        self.x, self.gy, self.dx, self.mask = as2(d.input), as2(d.upstream), as2(d.input_gradient), as2(d.mask)
        self.grid = tuple(int(v) for v in self.x.shape)
        self.lo, self.hi = d.range
        self.xlo, self.xhi = symmetric(d.input)
        self.mx = Matrix.of(self.x, self.xlo, self.xhi, "input", box=200)
        self.mg = Matrix.of(self.gy, self.lo, self.hi, "upstream", box=200)
        self.md = Matrix.of(self.dx, self.lo, self.hi, "gradient", box=200)
        where = f"channel {d.channel}" if d.channel is not None else f"{self.x.size} values"
        self.subtitle = f"{layer}, {where}: d loss / d {layer} → d loss / d {d.source}"
        self.description = ("Backwards, a ReLU lets the gradient through where its input was positive (there "
                            "y = x, slope 1) and stops it where the input was zero or negative (there y = 0, "
                            "slope 0). Left: the input x; middle: the gradient arriving from above; right: the "
                            "gradient passed down. Hover a cell or use the arrow keys to choose one.")

    def body_html(self) -> str:
        d = self.d
        return (figure(self.mx.svg(f"{d.source}: the input x"), f"input x — {d.source}")
                + figure(self.mg.svg(f"d loss / d {d.layer}", windows=("out",)), f"upstream gradient — {d.layer}")
                + op("→")
                + figure(self.md.svg(f"d loss / d {d.source}", windows=("src",)), f"gradient — {d.source}")
                + '<div class="dp-eq-wrap"><div class="dp-eq" aria-hidden="true"></div>'
                  '<div class="dp-eq-note"></div></div>')

    def bind(self, root) -> None:
        self.wins = [root.querySelector(f'svg[data-grid="{g}"] .dp-{w}')
                     for g, w in (("input", "win"), ("upstream", "out"), ("gradient", "src"))]
        self.eq = root.querySelector(".dp-eq")
        self.note = root.querySelector(".dp-eq-note")

    def show(self, k: int) -> None:
        r, c = divmod(int(k), int(self.grid[1]))
        for win, m in zip(self.wins, (self.mx, self.mg, self.md)):
            place(win, m.box(r, c))
            win.setAttribute("visibility", "visible")
        x, passes = float(self.x[r, c]), bool(self.mask[r, c])
        self.eq.innerHTML = (word("x =") + cell(x, self.xlo, self.xhi, digits=3, name="x")
                             + word("> 0" if passes else "≤ 0") + op("→")
                             + cell(float(self.gy[r, c]), self.lo, self.hi, digits=4, name="upstream", extra="big")
                             + op("×") + word("1" if passes else "0") + op("=")
                             + cell(float(self.dx[r, c]), self.lo, self.hi, digits=4, name="gradient", extra="big"))
        self.note.textContent = f"row {r}, column {c}: " + ("passes" if passes else "stopped: the input was not positive")

    def step_at(self, grid: str, row: int, col: int) -> int:
        return int(row) * int(self.grid[1]) + int(col)

    def say(self, k: int) -> str:
        r, c = divmod(int(k), int(self.grid[1]))
        return (f"Row {r}, column {c}: input {fmt(float(self.x[r, c]))}, gradient "
                f"{fmt(float(self.gy[r, c]))} becomes {fmt(float(self.dx[r, c]))}")

    def data(self) -> dict:
        return {"layer": self.d.layer, "channel": self.d.channel, "grid": list(self.grid)}


def open(app, column, neuron: int) -> None:  # noqa: A001  (the registry's name for a view's opener)
    channel = neuron if len(column.shape) == 3 else None
    trace, grads = gradients(app)
    open_panel(app, ReluBackView(trace, grads, column.name, channel), start=0 if channel is not None else neuron)
