"""The "why" Overview as plain data: the same columns as the Overview, showing d loss / d every activation.

For a chosen class (the prediction by default), each neuron's map is the gradient of that class's
cross-entropy loss with respect to its activations: negative (blue) where a larger value would raise the
class's probability, positive (red) where it would lower it. The input column shows d loss / d pixel per
colour channel, the output column p − y per class. Every range is symmetric around 0 (diverging colours):
hidden columns share ranges per scope exactly as in the Overview (unit / module / global); the input and
the output have their own.

    gov = gradient_overview(model, trace)            # or gradient_overview(model, trace, "koala")
    gov.values("conv_1_1"), gov.range("conv_1_1", "module"), gov.legends("global"), gov.grads.loss
"""
from __future__ import annotations

import numpy as np

from ._common import symmetric
from .overview import SCOPES, Column, Layout, Legend, Overview


class GradientOverview(Overview):
    """An Overview whose values are gradients of the loss (see the module doc); ranges reuse the Overview's scopes."""

    def __init__(self, model, trace, grads, lay: Layout | None = None):
        if getattr(grads, "batched", False):
            raise ValueError("The gradient Overview shows one image; compute the gradients of a single image.")
        self.grads = grads
        super().__init__(model, trace, lay)

    def _column_values(self, col: Column) -> np.ndarray:
        if col.kind == "output":
            return np.asarray(self.grads["logits"], dtype=np.float32)  # p − y
        a = np.asarray(self.grads[col.name], dtype=np.float32)
        return np.moveaxis(a, -1, 0) if a.ndim == 3 else a

    @property
    def target(self) -> int:
        return int(self.grads.target)

    def range(self, key, scope: str = "unit") -> tuple[float, float]:
        """Symmetric around 0 under every scope; the input and the output keep their own range."""
        if scope not in SCOPES:
            raise ValueError(f"Unknown colour scope {scope!r}; choose one of {', '.join(SCOPES)}.")
        col = self.column(key)
        if col.kind in ("input", "output"):
            lo, hi = symmetric(self.values(col.index))
            return (lo, hi) if hi > 0 else (-1.0, 1.0)
        return self._ranges[scope, col.index]

    def legends(self, scope: str = "unit") -> list[Legend]:
        first, last = self.columns[0], self.columns[-1]
        out = [Legend("input", (first.index,), *self.range(first.index), "gradient")]
        for group in self.layout.groups[scope]:
            lo, hi = self.range(group[0], scope)
            out.append(Legend(scope, tuple(group), lo, hi, "gradient"))
        out.append(Legend("output", (last.index,), *self.range(last.index), "gradient"))
        return out

    def describe(self, key, neuron: int, row: int | None = None, col: int | None = None) -> str:
        column = self.column(key)
        value = self.value_at(column.index, neuron, row, col)
        who = column.neuron_labels[neuron]
        target = self.model.class_names[self.target]
        if column.kind == "output":
            p = float(self.trace.probs[neuron])
            y = 1 if neuron == self.target else 0
            return f"{column.name}, {who}: d loss / d logit = p − y = {p:.4f} − {y} = {value:.4f} (loss of {target})"
        where = f", row {row}, column {col}" if column.is_grid else ""
        return f"{column.name}, {who}{where}: d loss / d value {value:.4g} (loss of {target})"


def gradient_overview(model, trace, target=None, lay: Layout | None = None) -> GradientOverview:
    """The gradient Overview of one image for `target` (a class index or name; default: the prediction)."""
    if getattr(trace, "batched", False):
        raise ValueError("The gradient Overview shows one image; trace a single image (H×W×C), not a batch.")
    t = int(trace.predicted) if target is None else target
    return GradientOverview(model, trace, model.backward(trace, t), lay)


__all__ = ["GradientOverview", "gradient_overview"]
