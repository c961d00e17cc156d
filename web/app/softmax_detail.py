"""The softmax detail view: p_i = exp(l_i) / Σ_j exp(l_j) with the real logits (explain.softmax_detail).
It steps class by class; hovering any number of a class (its logit, exp, probability) selects that class,
and the formula at the top shows its terms."""
from __future__ import annotations

from cnn101.explain import softmax_detail
from cnn101.render.detail import cell, op, sig, word
from cnn101.render.svg import esc, fmt

from .detail_panel import DetailView


class SoftmaxView(DetailView):
    kind = "softmax"
    title = "Softmax"
    tutorial = "tutorial-softmax"
    autoplay = False  # it opens on the chosen class; play steps through the others

    def __init__(self, trace, chosen: int | None = None):
        self.d = softmax_detail(trace)
        k = len(self.d.class_names)
        self.grid = (k, 1)
        self.lrange = self.d.logit_range
        self.start = int(self.d.predicted if chosen is None else chosen)
        self.subtitle = f"{k} classes: the logits become probabilities that add up to 1"
        self.description = ("Softmax turns the class scores (logits) into probabilities: each logit's "
                            "exponential divided by the sum of all the exponentials. A bigger logit gets a "
                            "bigger share; the probabilities add up to 1. Hover a number or use the arrow keys "
                            "to pick a class.")

    def body_html(self) -> str:
        d = self.d
        rows = []
        top = d.predicted
        for i, name in enumerate(d.class_names):
            p = float(d.probs[i])
            rows.append(
                f'<tr data-step="{i}" data-class="{i}" class="{"top" if i == top else ""}">'
                f'<td class="name">{esc(name)}</td>'
                f'<td>{cell(d.logits[i], *self.lrange, digits=3, name="logit")}</td>'
                f'<td>{cell(d.exp[i], 0, 1, text=sig(d.exp[i]), name="exp", plain=True)}</td>'
                f'<td>{cell(p, -1, 1, digits=4, name="prob")}</td>'
                f'<td><span class="bar" style="width:{max(1.0, p * 120):.1f}px"></span>'
                f'<span class="pct">{p:.1%}</span></td></tr>')
        table = ('<div class="dp-scroll"><table class="dp-softmax"><thead><tr><th>class</th><th>logit l</th><th>exp(l)</th>'
                 '<th>p = exp(l) / Σ</th><th></th></tr></thead><tbody>' + "".join(rows) + "</tbody>"
                 f'<tfoot><tr><td class="name">Σ</td><td></td>'
                 f'<td>{cell(d.total, 0, 1, text=sig(d.total), name="total", plain=True)}</td>'
                 f'<td>{cell(d.prob_sum, -1, 1, digits=4, name="prob-sum")}</td><td></td></tr></tfoot>'
                 "</table></div>")  # a phone scrolls the table sideways
        return ('<div class="dp-eq-wrap"><div class="dp-eq" aria-hidden="true"></div>'
                '<div class="dp-eq-note"></div></div>' + table)

    def bind(self, root) -> None:
        self.eq = root.querySelector(".dp-eq")
        self.note = root.querySelector(".dp-eq-note")
        self.rows = list(root.querySelectorAll(".dp-softmax tbody tr"))
        self.on = None

    def show(self, k: int) -> None:
        t = self.d.term(k)
        self.eq.innerHTML = (
            word(f"p({t.label})", "dp-fn") + op("=") + word("exp(") + cell(t.logit, *self.lrange, digits=3,
                                                                            name="logit", extra="big")
            + word(")") + op("/") + word("Σ exp(l)") + op("=")
            + cell(t.exp, 0, 1, text=sig(t.exp), name="exp", plain=True) + op("/")
            + cell(t.total, 0, 1, text=sig(t.total), name="total", plain=True) + op("=")
            + cell(t.prob, -1, 1, digits=4, name="prob", extra="big"))
        self.note.textContent = (f"{t.label}: {t.prob:.1%} — computed as exp(l − {fmt(self.d.shift)}) / "
                                 f"Σ exp(l − {fmt(self.d.shift)}), the same ratio without overflow")
        if self.on is not None:
            self.on.classList.remove("on")
        self.on = self.rows[int(k)]
        self.on.classList.add("on")

    def say(self, k: int) -> str:
        t = self.d.term(k)
        return f"{t.label}: logit {fmt(t.logit)}, exp {sig(t.exp)}, divided by {sig(t.total)}, probability {t.prob:.1%}"

    def at(self, k: int) -> tuple:
        return (int(k),)

    def index_of(self, at: tuple) -> int | None:
        return int(at[0]) if len(at) == 1 and 0 <= at[0] < self.grid[0] else None

    def data(self) -> dict:
        return {"classes": len(self.d.class_names)}
