"""Compare two images (issue 13): 'Pin as A' keeps the current image's trace; from then on the Overview shows
B − A for every neuron (B: whatever the network sees now — another example, a changed or drawn image) on the
diverging map with its own legends, and a list gives the change of every class probability. All numbers come
from `cnn101.explain.compare`; this module only paints them."""
from __future__ import annotations

import base64
import html
import json

import cnn101
import numpy as np
from cnn101.explain import compare
from cnn101.render.overview import legends_html
from pyscript import window

from . import dom


class Compare:
    def __init__(self, app):
        self.app = app
        self.a = None  # the pinned trace (image A)
        self.a_label = ""
        self.cmp = None  # the last Comparison shown
        self.shown_count = 0  # comparisons painted (tests wait for one)

    def mount(self, root) -> None:
        dom.el("lab-toggle").insertAdjacentHTML("afterend", """
<div class="compare-bar" role="group" aria-label="Compare two images">
  <button type="button" id="compare-pin">Pin this image as A</button>
  <button type="button" id="compare-stop" hidden>Stop comparing</button>
  <span id="compare-status" class="compare-status" aria-live="polite"></span>
</div>
<section id="compare-changes" class="compare-changes" aria-label="Change of every class probability (B − A)" hidden></section>""")
        dom.on(dom.el("compare-pin"), "click", lambda e: self.pin())
        dom.on(dom.el("compare-stop"), "click", lambda e: self.stop())
        window.cnn101_compare = dom.keep(self.snapshot)

    def pin(self) -> None:
        ov = self.app.ov
        if ov is None:
            return
        self.a = ov.trace
        self.a_label = self.app.image_label or "this image"
        dom.show(dom.el("compare-stop"), True)
        dom.el("compare-pin").textContent = "Pin this image as A again"
        self.shown(ov)

    def stop(self) -> None:
        self.a = self.cmp = None
        self.in_view()  # the open view's line goes
        dom.show(dom.el("compare-stop"), False)
        dom.show(dom.el("compare-changes"), False)
        dom.el("compare-pin").textContent = "Pin this image as A"
        dom.el("compare-status").textContent = ""
        if self.app.ov is not None:
            self.app.view.stage.classList.remove("comparing")
            self.app.why.paint()  # the activations again (or the gradients, in why mode)

    def shown(self, ov) -> None:
        """After every repaint of the Overview (App.set_image via the lab): B is `ov`'s trace."""
        if self.a is None or ov is None:
            return
        try:
            self.cmp = compare(self.a, ov.trace, self.app.layout)
        except cnn101.ModelError:
            self.stop()
            dom.el("compare-status").textContent = "Image A was traced by another model: pin an image again."
            return
        self.paint()

    def paint(self) -> None:
        c, view = self.cmp, self.app.view
        if c is None or self.a is None or view.stage is None:
            return
        scope = self.app.state.scope
        view.paint_maps(c, scope)  # B − A, diverging everywhere
        view.forget_shown()  # the percentages and legends below are compare's
        for ch in c.changes:
            row = view.rows.get(ch.index)
            if row is not None:
                row.querySelector(".ov-pct").textContent = f"{ch.b:.1%} ({100 * ch.change:+.1f})"
        view.stage.querySelector(".ov-legends").innerHTML = legends_html(c, view.geo, scope)
        view.stage.classList.add("comparing")
        dom.el("compare-status").textContent = (f"Comparing: the Overview shows B − A (blue: B higher, red: B lower, as on the activation map); "
                                                f"A = {self.a_label}, B = {self.app.image_label or 'the current image'}.")
        box = dom.el("compare-changes")
        box.innerHTML = ("<h3>Class probabilities: A → B (change, points)</h3><ol>" + "".join(
            f'<li><span class="cc-name">{html.escape(ch.name)}</span> {ch.a:.1%} → {ch.b:.1%} '
            f'<b class="{"up" if ch.change > 0 else "down" if ch.change < 0 else ""}">{100 * ch.change:+.2f}</b></li>'
            for ch in c.changes) + "</ol>")
        dom.show(box, True)
        self.shown_count += 1
        self.in_view()

    def paused(self) -> None:
        """Why mode paints gradients over the Overview: with an image pinned, say that B − A comes back
        with the activations, and drop compare's look (faded bars) and its line in an open view."""
        if self.a is None or self.app.view.stage is None:
            return
        self.app.view.stage.classList.remove("comparing")
        dom.show(dom.el("compare-changes"), False)
        dom.el("compare-status").textContent = (f"A = {self.a_label} stays pinned. The Overview shows gradients now; "
                                                "B − A comes back when you switch back to activations.")

    def in_view(self) -> None:
        """Compare mode inside the open detail view: a line with A's and B's value (and B − A) of the view's
        neuron at its current position (`state.at`: the output cell of a conv / relu / pool view, nothing
        for a vector neuron such as a class probability). Called when the position, the view or B changes."""
        from . import views

        view = views.top()
        root = getattr(view, "root", None)
        if root is None:
            return
        line = root.querySelector(".cmp-line")
        st = self.app.state
        values = None
        if self.cmp is not None and self.a is not None and st.selected is not None and not st.why:
            try:
                col = self.app.layout.column(st.column)
                at = tuple(st.at)
                row, cell = (at[0], at[1]) if col.is_grid and len(at) == 2 else (0, 0) if col.is_grid else (None, None)
                values = (col, row, cell, self.cmp.value_at(col.index, st.neuron, row, cell))
            except (KeyError, IndexError, ValueError):
                values = None
        if values is None:
            if line is not None:
                line.remove()
            return
        col, row, cell, (a, b, d) = values
        if line is None:
            root.insertAdjacentHTML("afterbegin", '<p class="cmp-line" role="status" aria-live="polite"></p>')
            line = root.querySelector(".cmp-line")
        where = f" at row {row}, column {cell}" if row is not None else ""
        line.textContent = (f"Comparing: {col.name} · neuron {st.neuron}{where}: A {a:.4f}, B {b:.4f}, "
                            f"B − A {d:+.4f}")
        line.dataset.at = json.dumps([] if row is None else [int(row), int(cell)])
        line.dataset.values = json.dumps([float(a), float(b), float(d)])

    def snapshot(self) -> str:
        c = self.cmp
        if c is None or self.a is None:
            return json.dumps({"active": False, "shown": self.shown_count})
        cols = {col.name: {"shape": list(np.shape(c.values(col.index))),
                           "values": base64.b64encode(np.ascontiguousarray(c.values(col.index), "<f4").tobytes()).decode(),
                           "range": list(c.range(col.index, self.app.state.scope))}
                for col in self.app.layout.columns}
        return json.dumps({"active": True, "shown": self.shown_count, "columns": cols,
                           "changes": [[ch.name, ch.a, ch.b] for ch in c.changes]})
