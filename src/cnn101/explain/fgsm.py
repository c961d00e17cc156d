"""How fragile a prediction is: the fast gradient sign method (Goodfellow et al. 2015) as plain data.

One step of size ε along the sign of d loss / d input (the loss of the target class, by default the
predicted one) raises that loss as fast as any change of at most ε per pixel value can, to first order:

    f = fgsm(model, x)                       # ε = EPSILONS by default, all traced as one batch
    f.flip_epsilon                            # the smallest ε that changes the prediction (None: none did)
    s = f.step(0.01)                          # s.image, s.difference, s.amplified, s.predicted, s.probs
    f.perturbed(0.0123)                       # any other ε (computed on demand)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.gradients import target_indices
from ..engine.model import Trace

EPSILONS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)


@dataclass(frozen=True)
class FgsmStep:
    """The image after one step of size epsilon, and what the model makes of it."""

    epsilon: float
    image: np.ndarray  # clip(x + ε · sign(gradient), lo, hi), float32 H×W×C
    difference: np.ndarray  # image − x (at most ε per value; less where clipping bit)
    probs: np.ndarray  # the model's probabilities for the perturbed image
    predicted: int
    target_prob: float  # probability of the target class after the step

    @property
    def amplified(self) -> np.ndarray:
        """The difference made visible: 0.5 + difference / (2ε), in [0, 1] (grey = unchanged)."""
        if self.epsilon <= 0:
            return np.full(self.difference.shape, 0.5, np.float32)
        return np.clip(0.5 + self.difference / (2 * self.epsilon), 0, 1).astype(np.float32)


@dataclass(frozen=True)
class Fgsm:
    """The gradient sign for one image and class, and the steps for a list of ε."""

    model: object
    input: np.ndarray
    target: int
    class_name: str
    original_prediction: int
    original_probs: np.ndarray
    gradient: np.ndarray  # d loss / d input (engine's backward)
    sign: np.ndarray  # sign of the gradient: −1, 0 or 1 per value
    steps: tuple  # FgsmStep per ε, in increasing ε
    value_range: tuple  # (lo, hi): the values an input may take

    @property
    def epsilons(self) -> tuple:
        return tuple(s.epsilon for s in self.steps)

    @property
    def flip_epsilon(self) -> float | None:
        """The smallest ε of the list whose step changes the predicted class (None if none does)."""
        return next((s.epsilon for s in self.steps if s.predicted != self.original_prediction), None)

    def step(self, epsilon: float) -> FgsmStep:
        """The computed step for an ε of the list, else a new one."""
        for s in self.steps:
            if np.isclose(s.epsilon, epsilon, rtol=0, atol=1e-12):
                return s
        return self.perturbed(epsilon)

    def perturbed(self, epsilon: float) -> FgsmStep:
        return _steps(self.model, self.input, self.sign, [float(epsilon)], self.target, self.value_range)[0]


def _steps(model, x, sign, epsilons, target, value_range) -> list[FgsmStep]:
    lo, hi = value_range
    images = np.stack([np.clip(x + np.float32(e) * sign, lo, hi).astype(np.float32) for e in epsilons])
    probs = model.trace(images).probs
    return [FgsmStep(float(e), images[i], (images[i] - x).astype(np.float32), probs[i], int(np.argmax(probs[i])),
                     float(probs[i][target])) for i, e in enumerate(epsilons)]


def fgsm(model, x, target=None, epsilons=EPSILONS, value_range=(0.0, 1.0)) -> Fgsm:
    """Steps of each ε (sorted) along the sign of the target's loss gradient; the input stays in value_range."""
    trace = x if isinstance(x, Trace) else model.trace(x)
    if trace.batched:
        raise ValueError("FGSM perturbs one image; pass an H×W×C image or its trace, not a batch.")
    eps = sorted(float(e) for e in epsilons)
    if not eps or eps[0] < 0:
        raise ValueError("Give one or more step sizes ε ≥ 0.")
    t = int(trace.predicted) if target is None else int(target_indices(model, target, 1)[0])
    grad = model.backward(trace, t)["input"]
    sign = np.sign(grad).astype(np.float32)
    steps = _steps(model, trace.input, sign, eps, t, value_range)
    return Fgsm(model, trace.input, t, model.class_names[t], int(trace.predicted), trace.probs, grad, sign,
                tuple(steps), tuple(value_range))


__all__ = ["EPSILONS", "Fgsm", "FgsmStep", "fgsm"]
