"""Preparing a model to train: seeded Glorot re-initialisation, a new output layer, frozen layers."""
from __future__ import annotations

import copy

import numpy as np

from ..engine.layers import Conv2D, Dense, Softmax
from ..engine.model import Sequential
from .optimizers import TrainingError


def glorot_uniform(shape, rng) -> np.ndarray:
    """Keras's GlorotUniform: U(−l, l), l = √(6 / (fan_in + fan_out)); a conv's fans count kh·kw."""
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(np.float32)


def reinitialize(model, seed: int = 0, layers=None) -> None:
    """Glorot-uniform kernels and zero biases, in place, drawn in layer order from `seed` (same seed, same
    weights bit for bit). `layers`: only these names (default: every conv and dense layer)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if not isinstance(layer, (Conv2D, Dense)) or (layers is not None and layer.name not in layers):
            continue
        layer.kernel[...] = glorot_uniform(layer.kernel.shape, rng)
        layer.bias[...] = 0.0


def logits_dense(model) -> Dense:
    """The dense layer that gives the logits (before a final Softmax)."""
    i = len(model.layers) - (2 if isinstance(model.layers[-1], Softmax) and len(model.layers) > 1 else 1)
    layer = model.layers[i]
    if not isinstance(layer, Dense):
        raise TrainingError(f"The model's logits come from {layer.name!r}, a {layer.kind} layer; only a dense output "
                            "layer can be replaced.")
    return layer


def replace_output(model, class_names, seed: int = 0) -> Sequential:
    """A new model: copies of every layer but the output (training it leaves `model` as it was), and a fresh
    dense output layer (Glorot, zero bias, seeded) with one unit per class name, then the model's Softmax if it
    had one. Give two or more class names."""
    names = [str(c) for c in class_names]
    if len(names) < 2:
        raise TrainingError("A classifier needs at least two classes; add another class.")
    if len(set(names)) != len(names):
        raise TrainingError("Two classes have the same name; give each class its own name.")
    old = logits_dense(model)
    rng = np.random.default_rng(seed)
    head = Dense(old.name, glorot_uniform((old.kernel.shape[0], len(names)), rng), np.zeros(len(names), np.float32))
    layers = [head if layer is old else copy.deepcopy(layer) for layer in model.layers]
    return Sequential(layers, model.input_shape, names, name=model.name, card=model.card)


def freeze(model, names=None, trainable: bool = False) -> None:
    """Freeze (or with trainable=True, unfreeze) the named layers — default: every layer but the logits layer."""
    if names is None:
        keep = logits_dense(model).name
        names = [layer.name for layer in model.layers if layer.name != keep]
    for name in names:
        model.layer(name).trainable = bool(trainable)


__all__ = ["glorot_uniform", "reinitialize", "replace_output", "freeze", "logits_dense"]
