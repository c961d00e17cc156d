"""Compare two images' traces through the same network: per-neuron difference maps (B − A) for every
column of the Overview, diverging colour ranges per scope, and the change of every class probability.

    c = compare(model.trace(x), model.trace(perturb.occlude(x, 20, 20, 8)))
    c.values("conv_1_1")          # (neurons, H, W): B − A, the Overview's shape
    c.range("conv_1_1", "unit")   # (−m, m): zero (no change) in the middle, white
    c.changes                     # every class: A, B and B − A, the largest change (either sign) first

The difference arrays are a trace of their own (`c.difference`: 'input', each layer, 'logits', 'probs',
each B − A), and the colour ranges per scope are those of an Overview of that trace: the same groups
and the same rule as the Overview of one image. The input and the output, which an Overview shows on
fixed 0–1 scales, get symmetric ranges of their own here, because a difference can be negative.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.model import Trace
from ..errors import ModelError
from ._common import single
from .ranges import symmetric
from .overview import SCOPES, Layout, Legend, Overview, layout


@dataclass(frozen=True)
class ProbabilityChange:
    """One class: its probability for image A and image B, and B − A."""

    index: int
    name: str
    a: float
    b: float

    @property
    def change(self) -> float:
        return self.b - self.a


class Comparison:
    """Image B against image A, column by column of the Overview (see the module's docstring)."""

    input_colormap = "activation"  # B − A of the pixels is signed: the diverging map, as every other column

    def __init__(self, trace_a, trace_b, lay: Layout | None = None):
        single(trace_a)
        single(trace_b)
        ma, mb = trace_a.model, trace_b.model
        if ma.shapes != mb.shapes or list(ma.class_names) != list(mb.class_names):
            raise ModelError("The two traces come from networks with different layers or classes; compare two "
                             "images traced by the same model.")
        self.model = ma
        self.trace_a, self.trace_b = trace_a, trace_b
        diff = {k: (np.asarray(trace_b[k], np.float32) - np.asarray(trace_a[k], np.float32)) for k in trace_a}
        self.difference = Trace(ma, diff, batched=False)
        self.layout = lay or layout(ma)
        self._diff = Overview(ma, self.difference, self.layout)
        self.a = Overview(ma, trace_a, self.layout)
        self.b = Overview(ma, trace_b, self.layout)
        first, last = self.layout.columns[0], self.layout.columns[-1]
        self._own = {first.index: symmetric(self._diff.values(first.index)),
                     last.index: symmetric(self._diff.values(last.index))}

    # --- structure -----------------------------------------------------------------------------------
    @property
    def columns(self) -> tuple:
        return self.layout.columns

    @property
    def edges(self) -> tuple:
        return self.layout.edges

    def column(self, key):
        return self.layout.column(key)

    # --- numbers -------------------------------------------------------------------------------------
    def values(self, key) -> np.ndarray:
        """B − A of a column, shaped as `Overview.values`: (neurons, H, W) or (neurons,) (output: probabilities)."""
        return self._diff.values(key)

    def range(self, key, scope: str = "unit") -> tuple[float, float]:
        """The symmetric colour range (−m, m) of a column's differences under a scope ('unit', 'module',
        'global'); the input and the output have their own range under every scope."""
        if scope not in SCOPES:
            raise ValueError(f"Unknown colour scope {scope!r}; choose one of {', '.join(SCOPES)}.")
        i = self.column(key).index
        return self._own.get(i) or self._diff.range(i, scope)

    def legends(self, scope: str = "unit") -> list[Legend]:
        """One legend for the input's differences, one per group of hidden columns, one for the output's;
        all on the diverging red–white–blue map ('activation')."""
        out = []
        for lg in self._diff.legends(scope):
            lo, hi = self._own.get(lg.columns[0], (lg.lo, lg.hi))
            out.append(Legend(lg.scope, lg.columns, lo, hi, "activation"))
        return out

    @property
    def changes(self) -> list[ProbabilityChange]:
        """Every class's probability for A and B, sorted by the size of the change (largest first; ties by index)."""
        pa, pb = np.asarray(self.trace_a.probs), np.asarray(self.trace_b.probs)
        rows = [ProbabilityChange(k, self.model.class_names[k], float(pa[k]), float(pb[k])) for k in range(len(pa))]
        return sorted(rows, key=lambda r: (-abs(r.change), r.index))

    def value_at(self, key, neuron: int, row: int | None = None, col: int | None = None) -> tuple[float, float, float]:
        """(A, B, B − A) of one neuron, or one cell of a neuron's heatmap."""
        a = self.a.value_at(key, neuron, row, col)
        b = self.b.value_at(key, neuron, row, col)
        return a, b, self._diff.value_at(key, neuron, row, col)

    def describe(self, key, neuron: int, row: int | None = None, col: int | None = None) -> str:
        """One plain line for the info line: both values and their difference."""
        column = self.column(key)
        a, b, d = self.value_at(key, neuron, row, col)
        where = f", row {row}, column {col}" if column.is_grid else ""
        what = {"input": "pixel value", "output": "probability"}.get(column.kind, "activation")
        return f"{column.name}, {column.neuron_labels[neuron]}{where}: {what} A {a:.4f}, B {b:.4f}, B − A {d:+.4f}"


def compare(trace_a, trace_b, lay: Layout | None = None) -> Comparison:
    """Image B's trace against image A's (both single images through the same model): B − A everywhere."""
    return Comparison(trace_a, trace_b, lay)


__all__ = ["ProbabilityChange", "Comparison", "compare"]
