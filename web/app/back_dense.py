"""The dense backward view, for one unit k of a dense layer y = x·W + b:
- each input's gradient is Σ over units of (its weight to that unit × the unit's upstream gradient), so
  unit k gives input i the share W[i, k]·gy_k;
- each weight's gradient is its input times the unit's upstream gradient: dW[i, k] = x_i·gy_k;
- the bias's gradient is the upstream gradient itself: db_k = gy_k.
Input by input; numbers from explain.dense_backward. For the layer that gives the logits, the upstream
gradient is p − y, and a button opens the softmax + cross-entropy view (level 3) that shows it."""
from __future__ import annotations

from cnn101.explain import dense_backward, symmetric
from cnn101.explain.backward import TUTORIALS
from cnn101.render.colormap import WEIGHT
from cnn101.render.detail import Matrix, cell, cells, figure, op, word
from cnn101.render.svg import fmt

from . import views
from .back_common import BackPanel, BackView, gradients, open_panel
from .back_softmax import SoftmaxBackView
from .dense_detail import _grid
from .detail_panel import place

FEW_UNITS = 12  # up to this many units, every unit's share of an input's gradient is printed


class DenseBackView(BackView):
    kind = "back-dense"
    title = "Dense unit, backwards"
    tutorial = TUTORIALS["dense"]

    def __init__(self, trace, grads, layer: str, unit: int, d=None):
        self.trace, self.grads = trace, grads
        self.d = d = dense_backward(trace, grads, layer) if d is None else d
        self.k = int(unit)
        self.n = int(d.input.size)
        self.units = int(d.upstream.size)
        self.dx = d.input_gradient
        self.dw = d.weight_gradient[:, self.k]
        self.wk = d.weights[:, self.k]
        self.gk = float(d.bias_gradient[self.k])
        self.logits = layer == trace.model.logits_layer
        self.glo, self.ghi = symmetric(d.upstream)
        self.xlo, self.xhi = symmetric(d.input)
        self.wlo, self.whi = symmetric(d.weights)
        self.dlo, self.dhi = symmetric(self.dx)
        self.tlo, self.thi = symmetric(d.input_products)
        self.wglo, self.wghi = symmetric(self.dw)
        self.mx = Matrix.of(_grid(d.input), self.xlo, self.xhi, "input", box=160)
        self.mw = Matrix.of(_grid(self.wk), self.wlo, self.whi, "weight", box=160, cmap=WEIGHT)
        self.md = Matrix.of(_grid(self.dx), self.dlo, self.dhi, "gradient", box=160)
        self.mdw = Matrix.of(_grid(self.dw), self.wglo, self.wghi, "weight-gradient", box=160)
        self.grid = (self.mx.rows, self.mx.cols)
        names = trace.model.class_names if self.logits else None
        self.label = names[self.k] if names else f"unit {self.k}"
        self.subtitle = (f"{layer}, {self.label}: its upstream gradient gy = {fmt(self.gk, 4)} goes back to "
                         f"{self.n} inputs ({d.source}) and {self.n} weights")
        self.description = ("Backwards, a dense unit sends its gradient gy to every input, times the weight "
                            "between them; an input adds what it gets from all the units. A weight's gradient is "
                            "its input times gy, and the bias's gradient is gy. Left to right: the inputs, this "
                            "unit's weights, every input's gradient, this unit's weight gradients. Hover an "
                            "element or use the arrow keys to choose one.")

    @property
    def steps(self) -> int:
        return self.n

    def extra_html(self) -> str:
        return ""

    def body_html(self) -> str:
        d = self.d
        softmax = ('<button type="button" class="bk-softmax">Where gy comes from: softmax + cross-entropy '
                   '(p − y)</button>' if self.logits else "")
        gy = cells(d.upstream, self.glo, self.ghi, digits=4, name="gy",
                   marked=[k == self.k for k in range(self.units)]) if self.units <= FEW_UNITS * 4 else ""
        return (figure(self.mx.svg(f"{d.source}: the inputs x"), f"inputs x — {d.source}")
                + figure(self.mw.svg(f"{d.layer}: the weights of {self.label}"), f"weights W[:, {self.k}]")
                + op("→")
                + figure(self.md.svg(f"d loss / d {d.source}"), f"input gradients — {d.source}")
                + figure(self.mdw.svg(f"d loss / d W[:, {self.k}]"), f"weight gradients W[:, {self.k}]")
                + self.extra_html()
                + '<div class="dp-eq-wrap">'
                + (f'<div class="dp-eq bk-gy">{word(f"upstream gradients gy of {d.layer} (unit {self.k} marked)")}'
                   f'{gy}</div>' if gy else "")
                + '<div class="dp-eq bk-input" aria-hidden="true"></div>'
                  '<div class="dp-eq bk-weight" aria-hidden="true"></div><div class="dp-eq-note"></div>'
                + f'<div class="dp-eq dp-total">{word(f"bias gradient db[{self.k}] = gy[{self.k}] =")}'
                + cell(self.gk, self.glo, self.ghi, digits=4, name="bias-gradient") + f"{softmax}</div></div>")

    def bind(self, root) -> None:
        self.wins = [root.querySelector(f'svg[data-grid="{g}"] .dp-win')
                     for g in ("input", "weight", "gradient", "weight-gradient")]
        self.eq_in = root.querySelector(".bk-input")
        self.eq_w = root.querySelector(".bk-weight")
        self.note = root.querySelector(".dp-eq-note")

    def wire(self, panel) -> None:
        button = panel.root.querySelector(".bk-softmax")
        if button is not None:
            panel.owner.on(button, "click", lambda e: panel.open_part("softmax"))

    def open_part(self, panel, part: str) -> None:
        if part != "softmax" or not self.logits:
            return
        panel.app.deeper("softmax")
        panel.root.classList.add("expanded")
        view = SoftmaxBackView(self.trace, self.grads, self.k)
        child = BackPanel(panel.app, view, parent=panel, start=view.start)
        child.root.classList.add("level-3")
        views.push(child)

    def show(self, k: int) -> None:
        i = max(0, min(int(k), self.n - 1))
        r, c = divmod(i, self.grid[1])
        for win, m in zip(self.wins, (self.mx, self.mw, self.md, self.mdw)):
            place(win, m.box(r, c))
            win.setAttribute("visibility", "visible")
        d = self.d
        terms, total = d.input_terms(i)
        if self.units <= FEW_UNITS:
            share = (word(f"Σ over units of W[{i}, u]·gy[u] =") + cells(terms, self.tlo, self.thi, digits=3, name="term"))
        else:
            share = (word(f"unit {self.k}'s share W[{i}, {self.k}]·gy[{self.k}] =")
                     + cell(terms[self.k], self.tlo, self.thi, digits=4, name="term")
                     + word(f"+ {self.units - 1} other units' shares"))
        self.eq_in.innerHTML = (word(f"d loss / d x[{i}]") + op("=") + share + op("=")
                                + cell(total, self.dlo, self.dhi, digits=4, name="gradient", extra="big"))
        x, gy, dw = d.weight_term(i, self.k)
        self.eq_w.innerHTML = (word(f"d loss / d W[{i}, {self.k}]") + op("=")
                               + cell(x, self.xlo, self.xhi, digits=4, name="x") + op("×")
                               + cell(gy, self.glo, self.ghi, digits=4, name="gy-k") + op("=")
                               + cell(dw, self.wglo, self.wghi, digits=4, name="weight-gradient", extra="big"))
        self.note.textContent = self.where(i)

    def where(self, i: int) -> str:
        return f"input {i} of {self.n}"

    def step_at(self, grid: str, row: int, col: int) -> int | None:
        k = int(row) * int(self.grid[1]) + int(col)
        return k if k < self.n else None

    def say(self, k: int) -> str:
        x, gy, dw = self.d.weight_term(int(k), self.k)
        return (f"Input {k}: gradient {fmt(float(self.dx[k]))}; weight gradient {fmt(x)} times {fmt(gy)} is "
                f"{fmt(dw)}")

    def data(self) -> dict:
        return {"layer": self.d.layer, "unit": self.k, "source": self.d.source, "n": self.n,
                "label": self.label}


def open(app, column, neuron: int) -> None:  # noqa: A001  (the registry's name for a view's opener)
    trace, grads = gradients(app)
    open_panel(app, DenseBackView(trace, grads, column.name, neuron))
