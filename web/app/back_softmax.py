"""The softmax + cross-entropy backward view: the loss is −log p(target), and its gradient with respect to
each logit is simply p − y (the probability, minus 1 for the target class). Class by class; numbers from
explain.softmax_backward (p − y computed there, next to the engine's d loss / d logits)."""
from __future__ import annotations

from cnn101.explain import softmax_backward
from cnn101.explain.backward import TUTORIALS
from cnn101.render.detail import cell, op, word
from cnn101.render.svg import esc, fmt

from .back_common import BackView


class SoftmaxBackView(BackView):
    kind = "back-softmax"
    title = "Softmax + cross-entropy, backwards"
    tutorial = TUTORIALS["softmax"]
    autoplay = False  # it opens on the chosen class; play steps through the others

    def __init__(self, trace, grads, chosen: int | None = None):
        self.d = d = softmax_backward(trace, grads)
        k = len(d.class_names)
        self.grid = (k, 1)
        self.lo, self.hi = d.range
        self.start = int(d.target if chosen is None else chosen)
        self.subtitle = (f"loss = −log p({d.class_names[d.target]}) = {fmt(d.loss, 4)}; "
                         f"d loss / d logit = p − y for each of {k} classes")
        self.description = ("The loss is minus the log of the probability of the class being explained. Its "
                            "gradient with respect to each logit is p − y: the probability, minus 1 for that "
                            "class (y = 1) and minus 0 for the others. A negative value means raising that logit "
                            "lowers the loss. Hover a row or use the arrow keys to pick a class.")

    def body_html(self) -> str:
        d = self.d
        rows = []
        for i, name in enumerate(d.class_names):
            rows.append(
                f'<tr data-step="{i}" data-class="{i}" class="{"top" if i == d.target else ""}">'
                f'<td class="name">{esc(name)}</td>'
                f'<td>{cell(d.probs[i], -1, 1, digits=4, name="p")}</td>'
                f'<td>{cell(d.onehot[i], -1, 1, digits=0, name="y", plain=True)}</td>'
                f'<td>{cell(d.logit_gradient[i], self.lo, self.hi, digits=4, name="p-y")}</td></tr>')
        table = ('<div class="dp-scroll"><table class="dp-softmax"><thead><tr><th>class</th><th>p</th><th>y</th>'
                 '<th>p − y</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table></div>")
        return ('<div class="dp-eq-wrap"><div class="dp-eq" aria-hidden="true"></div>'
                f'<div class="dp-eq-note"></div><div class="dp-eq dp-total">{word("loss = −log p =")}'
                f'{cell(d.loss, 0, 1, digits=4, name="loss", plain=True)}</div></div>' + table)

    def bind(self, root) -> None:
        self.eq = root.querySelector(".dp-eq")
        self.note = root.querySelector(".dp-eq-note")
        self.rows = list(root.querySelectorAll(".dp-softmax tbody tr"))
        self.on = None

    def show(self, k: int) -> None:
        d, k = self.d, int(k)
        self.eq.innerHTML = (word(f"d loss / d logit({d.class_names[k]})", "dp-fn") + op("=")
                             + cell(d.probs[k], -1, 1, digits=4, name="step-p") + op("−")
                             + cell(d.onehot[k], -1, 1, digits=0, name="step-y", plain=True) + op("=")
                             + cell(d.logit_gradient[k], self.lo, self.hi, digits=4, name="step-p-y", extra="big"))
        self.note.textContent = (f"{d.class_names[k]}: " + ("the class being explained (y = 1)" if k == d.target
                                                             else "another class (y = 0)")
                                 + f"; the engine's value: {fmt(float(d.engine[k]), 6)}")
        if self.on is not None:
            self.on.classList.remove("on")
        self.on = self.rows[k]
        self.on.classList.add("on")

    def say(self, k: int) -> str:
        d = self.d
        return (f"{d.class_names[k]}: p {fmt(float(d.probs[k]))} minus y {int(d.onehot[k])} is "
                f"{fmt(float(d.logit_gradient[k]))}")

    def at(self, k: int) -> tuple:
        return (int(k),)

    def index_of(self, at: tuple) -> int | None:
        return int(at[0]) if len(at) == 1 and 0 <= at[0] < self.grid[0] else None

    def data(self) -> dict:
        return {"target": self.d.target, "classes": len(self.d.class_names)}


def open(app, column, neuron: int) -> None:  # noqa: A001  (the registry's name for a view's opener)
    from .back_common import gradients, open_panel

    trace, grads = gradients(app)
    view = SoftmaxBackView(trace, grads, neuron)
    open_panel(app, view, start=view.start)
