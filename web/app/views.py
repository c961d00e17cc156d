"""The next level below the Overview: which view a clicked neuron opens.

Each entry: column kind → (title, what it will show). The detail views (issue 5) replace these
placeholders by registering a function in OPENERS: opener(app, column, neuron) -> None.
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


def open_view(app, column, neuron: int) -> None:
    opener = OPENERS.get(column.kind)
    if opener is not None:
        opener(app, column, neuron)
        return
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
    dom.show(dom.el("next-level"), False)
