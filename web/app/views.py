"""The next level below the Overview: which view a clicked neuron opens.

Each entry: column kind → (title, what it will show). The detail views (issue 5) replace these
placeholders by registering a function in OPENERS: opener(app, column, neuron) -> None.

Open views form a stack (STACK, innermost last; each has .close()): an opener pushes its view, a level-2
view pushes the level-3 view it opens, `close_view` (Esc, empty click) closes the innermost one. A view may
offer `open_part(part)` (open its level-3 view) and `go_to(at)` (move its window), used to restore the URL's
state and to redraw the same views after the image changes.
"""
from __future__ import annotations

from . import dom

NEXT = {
    "conv2d": ("Convolution view", "each input channel with its kernel, the per-channel results, and their sum plus the bias"),
    "relu": ("ReLU view", "max(0, x), element by element"),
    "maxpool2d": ("Max-pooling view", "the largest value of each window"),
    "output": ("Flatten view", "every value of the last feature maps, its weight, and the sum that gives this class's score"),
    "dense": ("Dense view", "the weighted sum of all inputs plus the bias"),
    "input": ("Input channel", "the pixel values of this colour channel"),
}
OPENERS = {}  # kind -> callable(app, column, neuron); filled in by the detail views
STACK = []  # the open views, innermost last


def push(view) -> None:
    STACK.append(view)


def open_view(app, column, neuron: int) -> None:
    close_all()
    opener = OPENERS.get(column.kind)
    if opener is not None:
        opener(app, column, neuron)
        return
    placeholder(column, neuron)


def placeholder(column, neuron: int) -> None:
    """The plain 'coming next' panel for a kind no view handles yet."""
    title, what = NEXT.get(column.kind, ("Detail view", "how this neuron's value is computed"))
    who = column.neuron_labels[neuron]
    dom.el("next-title").textContent = f"{column.name}, {who}: {title} coming next"
    dom.el("next-body").textContent = (f"This will show {what}. Press Esc or click empty space to go back "
                                       "to the Overview.")
    panel = dom.el("next-level")
    dom.show(panel, True)
    panel.dataset.column = column.name
    panel.dataset.neuron = str(neuron)


def close_view() -> None:
    """One level up: close the innermost open view (or the placeholder)."""
    if STACK:
        STACK.pop().close()
        return
    dom.show(dom.el("next-level"), False)


def close_all() -> None:
    while STACK:
        STACK.pop().close()
    dom.show(dom.el("next-level"), False)


def restore(want) -> None:
    """After the level-2 view of `want` opened: open its level-3 part and move the window, as `want` says."""
    top = STACK[-1] if STACK else None
    if want.level == 3 and want.part and top is not None and hasattr(top, "open_part"):
        top.open_part(want.part)
        top = STACK[-1]
    if want.at and top is not None and hasattr(top, "go_to"):
        top.go_to(tuple(want.at))
