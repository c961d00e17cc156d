"""Optimizers that update a model's weights in place from `model.backward`'s parameter gradients.

Each step: trace the batch, take the gradient of the mean cross-entropy (`model.backward(trace, ys,
need_input=False)`), update every parameter of every layer that is not frozen, return the loss before
the step. Arithmetic is float32, as Keras does it, so a step equals Keras's step to float32 rounding:

    SGD        w ← w − lr·g
    Momentum   m ← μ·m − lr·g;  w ← w + m                    (keras.optimizers.SGD(lr, momentum=μ))
    Adam       m ← m + (g − m)(1 − β1);  v ← v + (g² − v)(1 − β2)
               w ← w − m·α / (√v + ε),  α = lr·√(1 − β2ᵗ) / (1 − β1ᵗ)   (keras.optimizers.Adam)
               with Keras's roundings: 1 − β computed in double then float32; β1ᵗ, β2ᵗ from float32 β
"""
from __future__ import annotations

import numpy as np

from ..errors import Cnn101Error

F32 = np.float32


class TrainingError(Cnn101Error):
    """Training cannot go on (a loss that is not a number, bad settings); the message says what to do."""


def is_frozen(layer) -> bool:
    return not getattr(layer, "trainable", True)


def _batch(model, xs, ys):
    xs = np.asarray(xs, np.float32)
    if xs.ndim != 4:
        raise TrainingError(f"Give a batch of images (N×H×W×C) to train on, got shape {xs.shape}.")
    return xs, ys


def gradients(model, xs, ys):
    """The mean cross-entropy's gradients of the batch (a `Gradients` without d / d input)."""
    return _traced_gradients(model, xs, ys)[1]


def _traced_gradients(model, xs, ys):
    xs, ys = _batch(model, xs, ys)
    trace = model.trace(xs)
    if not np.all(np.isfinite(trace.logits)):
        _check(float("nan"))
    return trace, model.backward(trace, ys, need_input=False)


def _trainable(model, grads):
    """(layer name, key, parameter array, gradient) for every parameter of every trainable layer."""
    for layer in model.layers:
        if is_frozen(layer) or layer.name not in grads.params:
            continue
        params = layer.params
        for key, g in grads.params[layer.name].items():
            yield layer.name, key, params[key], g


def _check(loss: float) -> float:
    if not np.isfinite(loss):
        raise TrainingError("The loss is not a number (it overflowed): lower the learning rate and start again "
                            "from the last good weights.")
    return loss


class Optimizer:
    """Base: `step(model, xs, ys)` updates the weights in place and returns the batch's loss before the step."""

    def __init__(self, learning_rate: float):
        if not float(learning_rate) > 0:
            raise TrainingError(f"The learning rate must be a positive number, got {learning_rate}.")
        self.learning_rate = float(learning_rate)
        self.iterations = 0
        self.last_predicted = None  # the classes the model gave the last batch, before its step

    def step(self, model, xs, ys) -> float:
        trace, g = _traced_gradients(model, xs, ys)
        loss = _check(g.loss)
        self.last_predicted = trace.predicted
        self.iterations += 1
        for name, key, w, grad in _trainable(model, g):
            self.update(name, key, w, np.asarray(grad, np.float32))
        return loss

    def update(self, name: str, key: str, w: np.ndarray, g: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class SGD(Optimizer):
    """Plain gradient descent, or with momentum μ (Keras's form: the velocity holds −lr·g terms)."""

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0):
        super().__init__(learning_rate)
        if not 0.0 <= float(momentum) < 1.0:
            raise TrainingError(f"Momentum must be in [0, 1), got {momentum}.")
        self.momentum = float(momentum)
        self.velocity: dict = {}

    def update(self, name, key, w, g):
        lr = F32(self.learning_rate)
        if self.momentum == 0.0:
            w -= lr * g
            return
        m = self.velocity.setdefault((name, key), np.zeros_like(w))
        m[...] = -g * lr + m * F32(self.momentum)
        w += m


class Adam(Optimizer):
    """Adam as keras.optimizers.Adam computes it (ε added to √v, bias correction folded into α)."""

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.m: dict = {}
        self.v: dict = {}

    def update(self, name, key, w, g):
        t = F32(self.iterations)
        b1, b2 = F32(self.beta_1), F32(self.beta_2)
        alpha = F32(self.learning_rate) * np.sqrt(F32(1) - b2 ** t) / (F32(1) - b1 ** t)
        m = self.m.setdefault((name, key), np.zeros_like(w))
        v = self.v.setdefault((name, key), np.zeros_like(w))
        # 1 − β in double, rounded once (Keras multiplies by the Python float 1 − β): 1 − float32(0.999) would be
        # 1.3e-5 smaller, v as much smaller and every step 6e-6 larger, enough to drift from Keras in ten steps
        m += (g - m) * F32(1.0 - self.beta_1)
        v += (g * g - v) * F32(1.0 - self.beta_2)
        w -= (m * alpha) / (np.sqrt(v) + F32(self.epsilon))


def sgd_step(model, xs, ys, lr: float) -> float:
    """One plain SGD step on the batch's mean cross-entropy, in place; returns the loss before the step."""
    return SGD(lr).step(model, xs, ys)


__all__ = ["TrainingError", "Optimizer", "SGD", "Adam", "sgd_step", "gradients", "is_frozen"]
