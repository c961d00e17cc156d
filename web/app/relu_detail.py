"""The ReLU detail view: max(0, x) = y, cell by cell over one channel (numbers from explain.relu_detail)."""
from __future__ import annotations

from cnn101.explain import relu_detail
from cnn101.render.detail import Matrix, around, cell, figure, op, word
from cnn101.render.svg import fmt

from . import views
from .detail_panel import DetailPanel, DetailView, place


class ReluView(DetailView):
    kind = "relu"
    title = "ReLU"
    tutorial = "tutorial-relu"

    def __init__(self, trace, layer: str, channel: int | None):
        self.d = relu_detail(trace, layer, channel)
        x = self.d.x if self.d.x.ndim == 2 else self.d.x.reshape(-1, 1)
        self.x2, self.y2 = x, (self.d.y if self.d.y.ndim == 2 else self.d.y.reshape(-1, 1))
        self.grid = self.x2.shape
        self.lo, self.hi = self.d.range
        self.mx = Matrix.of(self.x2, self.lo, self.hi, "input", box=280)
        self.my = Matrix.of(self.y2, self.lo, self.hi, "output", box=280)
        self.zoom = not self.mx.show_numbers
        where = f"channel {channel}" if self.d.channel is not None else f"{self.x2.shape[0]} values"
        self.subtitle = f"{layer}, {where}: {self.d.source} → {layer} ({self.grid[0]}×{self.grid[1]})"
        self.description = ("ReLU keeps a positive value and turns a negative one into zero: y = max(0, x), "
                            "element by element. Left: the input channel; right: the output. The highlighted "
                            "cell moves over every position; hover a cell or use the arrow keys to choose one.")

    def body_html(self) -> str:
        return (figure(self.mx.svg(f"{self.d.source}: the input x"), f"input x — {self.d.source}")
                + op("→")
                + figure(self.my.svg(f"{self.d.layer}: the output y", windows=("out",)), f"output y — {self.d.layer}")
                + '<div class="dp-eq-wrap"><div class="dp-eq" aria-hidden="true"></div>'
                  '<div class="dp-eq-note"></div></div>')

    def bind(self, root) -> None:
        self.win_x = root.querySelector('svg[data-grid="input"] .dp-win')
        self.win_y = root.querySelector('svg[data-grid="output"] .dp-out')
        self.eq = root.querySelector(".dp-eq")
        self.note = root.querySelector(".dp-eq-note")

    def show(self, k: int) -> None:
        r, c = divmod(int(k), int(self.grid[1]))
        place(self.win_x, self.mx.box(r, c))
        place(self.win_y, self.my.box(r, c))
        x = float(self.x2[r, c])
        y = float(self.y2[r, c])
        eq = (word("max(") + cell(0.0, self.lo, self.hi, digits=3, name="zero") + op(",")
              + cell(x, self.lo, self.hi, digits=3, name="x", extra="big") + word(")") + op("=")
              + cell(y, self.lo, self.hi, digits=3, name="y", extra="big"))
        if self.zoom:  # cells too small for numbers: the numbers around the window, before and after
            eq = (figure(around(self.x2, r, c, self.lo, self.hi, name="x-around"), "x around it")
                  + eq + figure(around(self.y2, r, c, self.lo, self.hi, name="y-around"), "y around it"))
        self.eq.innerHTML = eq
        self.note.textContent = f"row {r}, column {c}" + (" — negative, so it becomes 0" if x < 0 else "")

    def step_at(self, grid: str, row: int, col: int) -> int:
        return int(row) * int(self.grid[1]) + int(col)

    def say(self, k: int) -> str:
        r, c = divmod(int(k), int(self.grid[1]))
        x, y = float(self.x2[r, c]), float(self.y2[r, c])
        return f"Row {r}, column {c}: max(0, {fmt(x)}) = {fmt(y)}"

    def data(self) -> dict:
        return {"layer": self.d.layer, "channel": self.d.channel, "grid": list(self.grid)}


def open(app, column, neuron: int) -> None:  # noqa: A001  (the registry's name for a view's opener)
    channel = neuron if len(column.shape) == 3 else None
    view = ReluView(app.ov.trace, column.name, channel)
    views.push(DetailPanel(app, view, start=0 if channel is not None else neuron))

