"""The backward pass: exact gradients of the cross-entropy loss for a chosen class, through every layer.

    trace = model.trace(x)
    g = model.backward(trace, "espresso")      # or a class index; an array of them for a batch
    g["conv_1_1"], g["input"], g["logits"]     # d loss / d (that array), shaped like the trace's
    g.params["conv_1_1"]["kernel"]             # shaped like model.layer("conv_1_1").params["kernel"]
    g.loss                                      # −log p[target] (the mean over a batch)

The loss is computed from the logits (the input of a final Softmax, or the last layer's output when the
model has no Softmax): L = log Σ_j exp(z_j) − z_t, so d L / d z = p − y with y the one-hot target; a
final Softmax layer is never differentiated through (no division by p). Each layer's own `backward`
(engine/layers.py, next to its `forward`) carries the gradient one layer down.

`backward_from(model, trace, g_logits)` starts from any gradient at the logits instead (attribution
uses a one-hot there to differentiate one class's score); training reuses `backward` unchanged.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import Cnn101Error
from .layers import Softmax


class TargetError(Cnn101Error):
    """A target class that the model does not have."""


class Gradients(Mapping):
    """d loss / d every array of a trace, under the same keys ('input', each layer, 'logits', 'probs').

    `params[layer]` holds the gradients of the layer's parameters (same keys as `layer.params`);
    `loss` is the loss (mean over a batch), `target` the class index (an array of them for a batch).
    Arrays keep the batch axis only if the trace had one.
    """

    def __init__(self, model, arrays: dict, params: dict, loss: float, target, batched: bool):
        self.model = model
        self._g = arrays
        self.params = params
        self.loss = loss
        self.target = target
        self.batched = batched

    def __getitem__(self, key):
        return self._g[key]

    def __iter__(self):
        return iter(self._g)

    def __len__(self):
        return len(self._g)

    @property
    def input(self) -> np.ndarray:
        return self._g["input"]

    @property
    def logits(self) -> np.ndarray:
        return self._g["logits"]

    def __repr__(self):
        return f"<Gradients of {self.model.name}: loss {self.loss:.4f}, {len(self)} arrays>"


def target_indices(model, target, n: int) -> np.ndarray:
    """Class indices (n,) from an index, a class name, or a sequence of them (one per image)."""
    def one(t) -> int:
        if isinstance(t, str):
            if t not in model.class_names:
                raise TargetError(f"The model has no class named {t!r}; its classes are {model.class_names}.")
            return model.class_names.index(t)
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer)):
            raise TargetError(f"A target is a class index or a class name, got {t!r}.")
        if not 0 <= int(t) < model.num_classes:
            raise TargetError(f"Class {int(t)} does not exist; the model has {model.num_classes} classes "
                              f"(0 to {model.num_classes - 1}).")
        return int(t)

    if isinstance(target, np.ndarray) and target.ndim == 0:
        target = target.item()
    if not isinstance(target, (list, tuple, np.ndarray)):
        return np.full(n, one(target), np.int64)
    items = list(target)
    if len(items) != n:
        raise TargetError(f"Give one target per image: {len(items)} targets for a batch of {n}.")
    return np.array([one(t.item() if isinstance(t, np.generic) else t) for t in items], np.int64)


def _final_softmax(model) -> bool:
    return isinstance(model.layers[-1], Softmax)


def _batch(trace, key) -> np.ndarray:
    a = trace[key]
    return a if trace.batched else a[None]


def backward_from(model, trace, g_logits: np.ndarray, need_input: bool = True):
    """Carry a gradient at the logits (n × classes, batch axis always) down every layer.

    Returns (arrays, params): arrays has the gradient of every layer's output and of 'input' (batch axis
    kept); params[layer] the layer's parameter gradients. 'logits'/'probs' are left to the caller.
    With need_input=False the first layer skips d / d input (training needs only the parameters).
    """
    layers = model.layers[:-1] if _final_softmax(model) else model.layers
    gy = np.asarray(g_logits, np.float32)
    arrays, params = {}, {}
    for i in range(len(layers) - 1, -1, -1):
        layer = layers[i]
        below = "input" if i == 0 else layers[i - 1].name
        arrays[layer.name] = gy
        gx, gp = layer.backward(_batch(trace, below), _batch(trace, layer.name), gy,
                                need_input=need_input or i > 0)
        if layer.params:
            params[layer.name] = gp
        if gx is not None:
            arrays[below] = gx
        gy = gx
    return arrays, params


def backward(model, trace, target, need_input: bool = True) -> Gradients:
    """d (cross-entropy for `target`) / d every array of `trace` and every parameter (see module doc)."""
    if trace.model is not model and [la.name for la in trace.model.layers] != [la.name for la in model.layers]:
        raise ValueError("The trace comes from a different model; trace the image with this model first.")
    z = np.asarray(_batch(trace, "logits"), np.float64)
    n = z.shape[0]
    t = target_indices(model, target, n)
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=-1, keepdims=True)
    rows = np.arange(n)
    loss = float(np.add.reduce(np.log(total[:, 0]) - shifted[rows, t]) / n)
    p = e / total
    p[rows, t] -= 1.0  # p − y, y the one-hot target
    g_logits = (p / n).astype(np.float32)
    arrays, params = backward_from(model, trace, g_logits, need_input)
    # d L / d p = −1 / p[target] at the target, 0 elsewhere; shown, never used to go further down
    g_probs = np.zeros(p.shape, np.float32)
    p_target = np.asarray(_batch(trace, "probs"))[rows, t].astype(np.float64) * n
    if np.all(p_target != 0):  # (np.errstate, for a probability rounded to 0, costs as much as the rest here)
        g_probs[rows, t] = -1.0 / p_target
    else:
        with np.errstate(divide="ignore"):
            g_probs[rows, t] = -1.0 / p_target
    if _final_softmax(model):
        arrays[model.layers[-1].name] = g_probs
    arrays["logits"], arrays["probs"] = g_logits, g_probs
    ordered = {k: arrays[k] for k in trace if k in arrays}
    if not trace.batched:
        ordered = {k: v[0] for k, v in ordered.items()}
    params = {la.name: params[la.name] for la in model.layers if la.name in params}
    return Gradients(model, ordered, params, loss, t if trace.batched else int(t[0]), trace.batched)


__all__ = ["Gradients", "TargetError", "backward", "backward_from", "target_indices"]
