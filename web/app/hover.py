"""Pointer and keyboard on the Overview: the info line (value under the pointer), highlighting, and
clicks that open a neuron's next view. Tap does what hover does; Esc or a click on empty space goes back."""
from __future__ import annotations

from . import dom

HINT = "Hover over a neuron to see its value; click it to look inside."


def _neuron_of(target):
    """(column index, neuron) of a neuron element under the pointer, or None."""
    node = target.closest("[data-neuron]") if target is not None and hasattr(target, "closest") else None
    if node is None:
        return None
    return int(node.dataset.col), int(node.dataset.neuron), node


def cell_at(event, node, shape) -> tuple[int, int]:
    """Row and column of the heatmap cell under the pointer (the centre cell for keyboard focus)."""
    h, w = int(shape[0]), int(shape[1])
    rect = node.getBoundingClientRect()
    if getattr(event, "clientX", None) is None or float(rect.width) <= 0:
        return h // 2, w // 2
    fx = (float(event.clientX) - float(rect.left)) / float(rect.width)
    fy = (float(event.clientY) - float(rect.top)) / float(rect.height)
    return min(h - 1, max(0, int(fy * h))), min(w - 1, max(0, int(fx * w)))


class Hover:
    """`app` gives: .ov (the current Overview), .view (OverviewView), .open(col, neuron), .back()."""

    def __init__(self, app):
        self.app = app
        self.info = dom.el("info")
        self.current = None  # (col, neuron) highlighted

    def mount(self, stage_frame) -> None:
        dom.on(stage_frame, "pointermove", self._moved)
        dom.on(stage_frame, "pointerdown", self._moved)  # a tap shows what a hover shows
        dom.on(stage_frame, "pointerleave", self._left)
        dom.on(stage_frame, "focusin", self._moved)
        dom.on(dom.document_root(), "click", self._clicked)  # empty space anywhere goes back
        dom.on(stage_frame, "keydown", self._key_on_neuron)
        dom.on(dom.document_root(), "keydown", self._key)

    def describe(self, event, col: int, neuron: int, node) -> str:
        ov = self.app.why.shown()  # the gradients in why mode
        column = ov.column(col)
        if column.is_grid:
            row, c = cell_at(event if event.type != "focusin" else None, node, column.shape)
            return ov.describe(col, neuron, row, c)
        return ov.describe(col, neuron)

    def _moved(self, event) -> None:
        if self.app.ov is None:
            return
        hit = _neuron_of(event.target)
        if hit is None:
            self._left(event)
            return
        col, neuron, node = hit
        self.info.textContent = self.describe(event, col, neuron, node)
        if self.current != (col, neuron):
            self.current = (col, neuron)
            self.app.view.highlight(col, neuron)

    def _left(self, _event) -> None:
        if self.current is not None:
            self.current = None
            self.app.view.highlight(None, None)
        self.info.textContent = HINT

    def _clicked(self, event) -> None:
        if self.app.ov is None or not hasattr(event.target, "closest"):
            return
        if event.target.closest(".controls, a, button, input, label, select, textarea"):
            return  # clicks on controls and inside the open view are theirs
        hit = _neuron_of(event.target)
        if hit is None:
            self.app.back()
            return
        col, neuron, _ = hit
        self.app.open(col, neuron)

    def _key_on_neuron(self, event) -> None:
        if event.key in ("Enter", " "):
            hit = _neuron_of(event.target)
            if hit is not None:
                event.preventDefault()
                self.app.open(hit[0], hit[1])

    def _key(self, event) -> None:
        if event.key == "Escape":
            self.app.back()
