"""The flatten view (level 2, from an output neuron): every channel of the flattened layer unrolled into the
flatten vector, each element's edge to the chosen class coloured by its weight, hover (or arrow keys) →
an element's whole path with its value, weight and product; Σ + bias = the logit; the softmax step
expands the logits column and opens the softmax detail view (level 3).

Numbers from explain.flatten_class (dense_neuron); drawing from cnn101.render.flatten_view (one SVG)."""
from __future__ import annotations

from cnn101.explain import flatten_class, softmax_detail, symmetric
from cnn101.render.colormap import WEIGHT
from cnn101.render.detail import cell, op, word
from cnn101.render.flatten_view import FlattenLayout, flatten_svg
from cnn101.render.svg import esc, fmt
from pyscript import document
from pyscript.ffi import to_js

from . import dom, keyboard, views
from .detail_panel import DetailPanel, refocus, fit_host, host, scroll_to_tutorial
from .softmax_detail import SoftmaxView
from .view import View


class FlattenView(View):
    """One open flatten view (route() opens it for a dense layer that reads a Flatten)."""

    kind = "flatten"

    def __init__(self, app, column, k: int):
        super().__init__(app)
        self.k = int(k)
        trace = app.ov.trace
        self.trace = trace
        self.d = flatten_class(trace, self.k)
        self.values = self.d.grid(self.d.inputs)  # (H, W, C), the flattened layer as it was
        self.lay = FlattenLayout(tuple(int(v) for v in self.d.flatten.shape))
        self.vrange = self.d.input_range
        self.wrange = self.d.weight_range
        self.current = None
        self._opener = document.activeElement
        self.softmax = softmax_detail(trace)
        self.logits = self.softmax.logits
        self.open()

    def open(self) -> None:
        old = dom.el("lv-flatten")
        if old is not None:
            old.remove()
        host().insertAdjacentHTML("beforeend", self._html())
        self.root = dom.el("lv-flatten")
        self.svg = self.root.querySelector("svg.fv-svg")
        self.hi = self.root.querySelector(".fv-hi")
        self.mark_px = self.root.querySelector(".fv-mark-px")
        self.mark_fl = self.root.querySelector(".fv-mark-fl")
        self.info = self.root.querySelector(".fv-info")
        self._wire()
        fit_host()
        self.root.focus(to_js({"preventScroll": True}))
        dom.reveal(self.root)  # its top in the window (by layout: the opening animation moves its box)
        keyboard.announce(f"Flatten view of {self.d.label} opened. Arrow keys move along the flatten vector; "
                          "Esc goes back.")

    # --- markup -------------------------------------------------------------------------------------
    def _html(self) -> str:
        d, lay = self.d, self.lay
        h, w, c = lay.shape
        src = d.flatten.source
        svg = flatten_svg(lay, self.values, d.weights, self.vrange, self.wrange, d.label, d.value, src)
        lo, hi = d.total_range
        top = "".join(
            f'<li data-index="{int(n)}"><span class="fv-where">{esc(_where(d, int(n)))}</span> '
            f'{cell(d.inputs[n], *self.vrange, digits=3, name="top-x")}{op("×")}'
            f'{cell(d.weights[n], *self.wrange, WEIGHT, digits=3, name="top-w")}{op("=")}'
            f'{cell(d.contributions[n], lo, hi, digits=3, name="top-xw")}</li>' for n in d.top(5))
        names = self.trace.model.class_names
        lrange = self.softmax.logit_range
        logits = "".join(
            f'<li class="{"on" if i == self.k else ""}"><span class="fv-cls">{esc(name)}</span>'
            f'{cell(self.logits[i], *lrange, digits=3, name="logit")}</li>' for i, name in enumerate(names))
        return (
            '<section id="lv-flatten" class="lv" role="dialog" aria-modal="false" aria-labelledby="lv-flatten-title" '
            'aria-describedby="lv-flatten-desc" tabindex="-1">'
            '<header class="dp-head">'
            f'<h2 id="lv-flatten-title" class="dp-title">Flatten → {esc(d.label)}</h2>'
            '<a class="dp-tutorial" href="#tutorial-flatten">how it works</a>'
            '<button type="button" class="dp-close" aria-label="Close (Esc)" title="Close (Esc)">×</button></header>'
            f'<p class="dp-sub">{esc(src)} ({h}×{w}×{c}) → flatten ({lay.n} values, row by row, channels '
            f'interleaved) → {esc(d.layer)}, class {esc(d.label)}</p>'
            f'<p id="lv-flatten-desc" class="dp-desc">Every value of the last feature maps is unrolled into one long '
            f'list (index = (row·{w} + column)·{c} + channel). Each value is multiplied by its weight — the edge '
            f'colour: green positive, brown negative — and the {lay.n} products plus the bias give the score '
            f'(logit) of {esc(d.label)}. Hover a pixel or the flatten column, or use the arrow keys.</p>'
            '<div class="fv-main">'
            f'<div class="fv-drawing">{svg}</div>'
            '<div class="fv-side">'
            '<p class="fv-info" aria-live="polite">Hover a pixel or a flatten element to follow its path.</p>'
            '<div class="fv-sum dp-eq">'
            + word("Σ x·w") + cell(d.sum, lo, hi, digits=3, name="sum") + op("+") + word("bias")
            + cell(d.bias, lo, hi, digits=3, name="bias") + op("=")
            + cell(d.value, lo, hi, digits=3, name="logit", extra="big") + "</div>"
            f'<p class="fv-note">the engine: {esc(fmt(d.trace_value, 5))}</p>'
            f'<h3 class="fv-h">strongest contributions</h3><ol class="fv-top">{top}</ol>'
            '<button type="button" class="fv-softmax">softmax →</button>'
            f'<div class="fv-logits" aria-label="The logits of every class"><h3 class="fv-h">logits</h3>'
            f'<ul>{logits}</ul><p class="fv-note">softmax turns them into probabilities</p></div>'
            '</div></div></section>')

    # --- events ------------------------------------------------------------------------------------
    def _on(self, target, event, fn) -> None:
        self.owner.on(target, event, fn)

    def _wire(self) -> None:
        self._on(self.root.querySelector(".dp-close"), "click", lambda e: self.app.back())
        self._on(self.root.querySelector(".fv-softmax"), "click", lambda e: self.open_part("softmax"))
        self._on(self.root.querySelector(".dp-tutorial"), "click", self._tutorial)
        self._on(self.svg, "pointermove", self._pointer)
        self._on(self.svg, "pointerdown", self._pointer)
        self._on(self.root, "click", lambda e: e.stopPropagation())
        for li in self.root.querySelectorAll(".fv-top li"):
            self._on(li, "pointerenter", lambda e: self.highlight(int(e.currentTarget.dataset.index)))

    def _tutorial(self, event) -> None:
        event.preventDefault()
        scroll_to_tutorial("tutorial-flatten")

    def _pointer(self, event) -> None:
        rect = self.svg.getBoundingClientRect()
        if float(rect.width) <= 0:
            return
        scale = float(rect.width) / self.lay.width
        x = (float(event.clientX) - float(rect.left)) / scale
        y = (float(event.clientY) - float(rect.top)) / scale
        hit = self.lay.hit(x, y)
        if hit is not None:
            self.highlight(hit[1])

    def key(self, event) -> bool:
        k = str(event.key)
        n = -1 if self.current is None else self.current
        moves = {"ArrowLeft": -1, "ArrowUp": -1, "ArrowRight": 1, "ArrowDown": 1}
        if k in moves:
            self.highlight(min(self.lay.n - 1, max(0, n + moves[k])))
        elif k == "Home":
            self.highlight(0)
        elif k == "End":
            self.highlight(self.lay.n - 1)
        else:
            return False
        return True

    # --- highlight ----------------------------------------------------------------------------------
    def highlight(self, n: int) -> None:
        """Show flatten element n's path, its pixel, and its value × weight."""
        n = int(n)
        if self.closed or n == self.current:
            return
        self.current = n
        d, lay = self.d, self.lay
        self.hi.setAttribute("d", lay.path(n))
        px, py = lay.pixel_xy(n)
        half = lay.pixel / 2
        self.mark_px.setAttribute("x", f"{float(px) - half:.1f}")
        self.mark_px.setAttribute("y", f"{float(py) - half:.1f}")
        self.mark_px.setAttribute("visibility", "visible")
        self.mark_fl.setAttribute("y", f"{float(lay.element_y(n)) - 1.5:.1f}")
        self.mark_fl.setAttribute("visibility", "visible")
        lo, hi = symmetric(d.contributions[n])
        self.info.innerHTML = (
            f'<span class="fv-where">{esc(_where(d, n))}</span><br>'
            + cell(d.inputs[n], *self.vrange, digits=4, name="x") + op("×")
            + cell(d.weights[n], *self.wrange, WEIGHT, digits=4, name="w") + op("=")
            + cell(d.contributions[n], lo, hi, digits=4, name="xw"))
        self.info.setAttribute("aria-label", f"{_where(d, n)}: value {fmt(d.inputs[n], 4)} times weight "
                                             f"{fmt(d.weights[n], 4)} = {fmt(d.contributions[n], 4)}")
        self.app.update(at=(n,))

    def at(self) -> tuple:
        return () if self.current is None else (int(self.current),)

    def go_to(self, at: tuple) -> None:
        if len(at) == 1 and 0 <= at[0] < self.lay.n:
            self.highlight(int(at[0]))

    # --- the softmax step ------------------------------------------------------------------------------
    def open_part(self, part: str) -> None:
        """The softmax step: the logits column expands and the softmax view opens over the left side
        (its fade-in waits for the expansion, in CSS; instant with prefers-reduced-motion)."""
        if part != "softmax" or self.closed or (views.STACK and views.STACK[-1] is not self):
            return
        self.root.classList.add("expanded")
        self.app.deeper("softmax")
        panel = DetailPanel(self.app, SoftmaxView(self.trace, self.k), parent=self, start=self.k)
        panel.root.classList.add("level-3")
        views.push(panel)

    def child_closed(self, child) -> None:
        if not self.closed:
            self.root.classList.remove("expanded")

    # --- closing ----------------------------------------------------------------------------------
    def teardown(self) -> None:
        had_focus = self.root.contains(document.activeElement)
        self.root.remove()
        fit_host()
        keyboard.announce("Flatten view closed.")
        if had_focus:
            refocus(self._opener)

    def state(self) -> dict:
        return {"id": "lv-flatten", "kind": "flatten", "class": self.k, "current": self.current,
                "n": self.lay.n, "shape": list(self.lay.shape), "expanded": bool(self.root.classList.contains("expanded"))}


def _where(d, n: int) -> str:
    r, c, ch = d.flatten.position(n)
    return f"{d.flatten.source} channel {ch}, row {r}, column {c} → flatten[{n}]"


def open(app, column, neuron: int) -> None:  # noqa: A001  (the registry's name for a view's opener)
    views.push(FlattenView(app, column, neuron))
