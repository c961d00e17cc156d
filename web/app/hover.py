"""Pointer and keyboard on the Overview: the info line (value under the pointer), highlighting, and
clicks that open a neuron's next view. Tap does what hover does; Esc or a click on empty space goes back."""
from __future__ import annotations

from . import dom

ARROWS = ("ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End")
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
        self.pointer = "mouse"  # the last pointerdown's pointerType
        self.armed = None  # (col, neuron) a first tap showed; a second tap on it opens it

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
        if event.type == "pointerdown":
            self.pointer = str(event.pointerType or "mouse")
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
        if event.target.closest(".controls, #why, a, button, input, label, select, summary, textarea"):
            return  # clicks on controls (the why panel, the FGSM panel's title) and inside the open view are theirs
        hit = _neuron_of(event.target)
        if hit is None:
            self.app.back()
            return
        col, neuron, _ = hit
        if self.pointer == "touch" and self.armed != (col, neuron):
            self.armed = (col, neuron)  # a first tap shows the value (what hover shows); the second opens
            return
        self.armed = None
        self.app.open(col, neuron)

    def _key_on_neuron(self, event) -> None:
        hit = _neuron_of(event.target)
        if hit is None:
            return
        if event.key in ("Enter", " "):
            event.preventDefault()
            self.app.open(hit[0], hit[1])
        elif event.key in ARROWS and not (event.altKey or event.ctrlKey or event.metaKey):
            event.preventDefault()  # the Overview is one Tab stop: arrow keys move between its neurons
            self._move_focus(hit[0], hit[1], hit[2], event.key)

    def _move_focus(self, col: int, neuron: int, node, key: str) -> None:
        """Up / Down: the neuron above / below; Left / Right: the neighbouring column, at the same height
        (proportionally); Home / End: the column's first / last neuron."""
        columns = self.app.layout.columns
        here = columns[col].neurons
        if key in ("ArrowLeft", "ArrowRight"):
            to_col = min(len(columns) - 1, max(0, col + (1 if key == "ArrowRight" else -1)))
            n = columns[to_col].neurons
            to = min(n - 1, int((neuron + 0.5) * n / max(1, here)))
        else:
            to_col = col
            to = {"ArrowUp": neuron - 1, "ArrowDown": neuron + 1, "Home": 0, "End": here - 1}[key]
            to = min(here - 1, max(0, to))
        target = self.app.view.element_of(to_col, to)
        if target is None:
            return
        node.tabIndex = -1
        target.tabIndex = 0
        target.focus()

    def _key(self, event) -> None:
        if event.key == "Escape":
            self.app.back()
