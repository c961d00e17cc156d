"""Softmax: turn the logits into probabilities, p_i = exp(l_i) / Σ_j exp(l_j).

The terms are computed in float64 from the real logits. Subtracting the largest logit first
(exp(l_i − m) / Σ_j exp(l_j − m)) gives the same probabilities without overflow; both are kept.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ranges import symmetric

from ._common import single


@dataclass(frozen=True)
class SoftmaxTerm:
    """One class: its logit, exp(logit), the shared sum and the probability."""

    index: int
    label: str
    logit: float
    exp: float
    total: float
    prob: float


@dataclass(frozen=True)
class SoftmaxDetail:
    class_names: list[str]
    logits: np.ndarray  # (K,) float64
    exp: np.ndarray  # (K,) exp(logits), float64 (inf only for logits above ≈ 709)
    total: float  # Σ exp
    shift: float  # max logit
    exp_shifted: np.ndarray  # (K,) exp(logits − shift)
    probs: np.ndarray  # (K,) recomputed in float64
    trace_probs: np.ndarray  # (K,) the engine's probabilities

    @property
    def order(self) -> np.ndarray:
        """Class indices from most to least probable."""
        return np.argsort(-self.probs, kind="stable")

    @property
    def predicted(self) -> int:
        return int(self.order[0])

    @property
    def prob_sum(self) -> float:
        """Σ p (1 up to rounding): the table's last line."""
        return float(np.sum(self.probs, dtype=np.float64))

    @property
    def logit_range(self) -> tuple[float, float]:
        """Colour range of the logits, symmetric around zero."""
        return symmetric(self.logits)

    def term(self, i: int) -> SoftmaxTerm:
        i = int(i)
        return SoftmaxTerm(i, self.class_names[i], float(self.logits[i]), float(self.exp[i]), self.total,
                           float(self.probs[i]))


def softmax_detail(trace) -> SoftmaxDetail:
    """The softmax detail view of a trace's logits."""
    single(trace)
    logits = np.asarray(trace.logits, dtype=np.float64)
    with np.errstate(over="ignore"):
        e = np.exp(logits)
    shift = float(logits.max())
    es = np.exp(logits - shift)
    probs = es / es.sum()
    return SoftmaxDetail(list(trace.model.class_names), logits, e, float(e.sum()), shift, es, probs,
                         np.asarray(trace.probs))
