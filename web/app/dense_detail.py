"""The dense view: one unit of a dense layer that reads a plain vector (a hidden dense layer, or an output
layer after one) — every input × its weight, the running sum, + bias = the unit's value. (A dense layer
that reads a Flatten of feature maps opens the flatten view instead.) Numbers from explain.dense_neuron."""
from __future__ import annotations

import numpy as np
from cnn101.explain import dense_neuron
from cnn101.render.colormap import WEIGHT
from cnn101.render.detail import Matrix, cell, figure, op, word
from cnn101.render.svg import fmt

from . import views
from .detail_panel import DetailPanel, DetailView, place

PER_ROW = 16  # the input vector is laid out in rows of this many elements


def _grid(v: np.ndarray) -> np.ndarray:
    """A vector as rows of PER_ROW (the last row padded with NaN: drawn empty)."""
    n = int(v.size)
    cols = min(PER_ROW, max(1, n))
    rows = -(-n // cols)
    out = np.full(rows * cols, np.nan)
    out[:n] = v
    return out.reshape(rows, cols)


class DenseView(DetailView):
    kind = "dense"
    title = "Dense unit"
    tutorial = "tutorial-dense"

    def __init__(self, trace, layer: str | None, unit: int):
        """`layer`: the dense layer (None: the one that gives the logits)."""
        self.d = d = dense_neuron(trace, unit, layer)
        n = int(d.inputs.size)
        self.n = n
        self.running = d.running
        x, w, p = (np.asarray(a, np.float64) for a in (d.inputs, d.weights, d.contributions))
        self.x_lo, self.x_hi = d.input_range
        self.w_lo, self.w_hi = d.weight_range
        self.p_lo, self.p_hi = d.contribution_range
        self.mx = Matrix.of(_grid(x), self.x_lo, self.x_hi, "input", box=200)
        self.mw = Matrix.of(_grid(w), self.w_lo, self.w_hi, "weight", box=200, cmap=WEIGHT)
        self.mp = Matrix.of(_grid(p), self.p_lo, self.p_hi, "product", box=200)
        self.grid = (self.mx.rows, self.mx.cols)
        self.subtitle = f"{d.layer}, {d.label}: {n} inputs from {d.source}, each times its weight, summed, plus the bias"
        self.description = (f"A dense unit multiplies each of its {n} inputs by its own weight and adds the "
                            "products and a bias. Left to right: the inputs, the weights, the products. The "
                            "highlighted element moves over every input with the running sum; hover an element "
                            "or use the arrow keys to choose one.")

    @property
    def steps(self) -> int:
        return self.n

    def body_html(self) -> str:
        d = self.d
        return (figure(self.mx.svg(f"{d.source}: the inputs x"), f"inputs x — {d.source}")
                + op("×")
                + figure(self.mw.svg(f"{d.layer}: the weights of {d.label}"), f"weights w — {d.label}")
                + op("=")
                + figure(self.mp.svg("the products x·w"), "products x·w")
                + '<div class="dp-eq-wrap"><div class="dp-eq" aria-hidden="true"></div>'
                  '<div class="dp-eq-note"></div><div class="dp-eq dp-total"></div></div>')

    def bind(self, root) -> None:
        self.wins = [root.querySelector(f'svg[data-grid="{g}"] .dp-win') for g in ("input", "weight", "product")]
        self.eq = root.querySelector(".dp-eq")
        self.note = root.querySelector(".dp-eq-note")
        total = root.querySelector(".dp-total")
        d = self.d
        lo, hi = d.total_range
        total.innerHTML = (word("Σ x·w") + op("=") + cell(d.sum, lo, hi, digits=4, name="sum") + op("+")
                           + cell(d.bias, lo, hi, digits=4, name="bias") + op("=")
                           + cell(d.value, lo, hi, digits=4, name="value", extra="big")
                           + word(f"= {d.label}", "dp-note-word"))

    def show(self, k: int) -> None:
        k = max(0, min(int(k), self.n - 1))
        r, c = divmod(k, self.grid[1])
        for win, m in zip(self.wins, (self.mx, self.mw, self.mp)):
            place(win, m.box(r, c))
        d = self.d
        x, w, p = float(d.inputs[k]), float(d.weights[k]), float(d.contributions[k])
        s = float(self.running[k])
        self.eq.innerHTML = (cell(x, self.x_lo, self.x_hi, digits=4, name="x") + op("×")
                             + cell(w, self.w_lo, self.w_hi, WEIGHT, digits=4, name="w") + op("=")
                             + cell(p, self.p_lo, self.p_hi, digits=4, name="product", extra="big"))
        self.note.textContent = (f"input {k} of {self.n}; sum of the products so far (inputs 0–{k}): {fmt(s, 4)}")
        self.note.dataset.running = repr(s)

    def step_at(self, grid: str, row: int, col: int) -> int | None:
        k = int(row) * int(self.grid[1]) + int(col)
        return k if k < self.n else None

    def say(self, k: int) -> str:
        d = self.d
        return (f"Input {k}: {fmt(float(d.inputs[k]))} times weight {fmt(float(d.weights[k]))} is "
                f"{fmt(float(d.contributions[k]))}; running sum {fmt(float(self.running[k]))}")

    def data(self) -> dict:
        d = self.d
        return {"layer": d.layer, "unit": d.unit, "source": d.source, "n": self.n, "total": d.sum,
                "bias": d.bias, "value": d.value}


def open(app, column, neuron: int) -> None:  # noqa: A001  (the registry's name for a view's opener)
    """A unit of a dense layer that reads a vector: a hidden layer, or the output (its logits layer)."""
    views.push(DetailPanel(app, DenseView(app.ov.trace, column.name, neuron)))
