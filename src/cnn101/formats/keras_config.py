"""Keras Sequential configs (Keras 2 as in TF.js files, Keras 3 as in .keras files) → engine layers.

Shared by the TF.js and .keras readers: they differ only in where the weights come from.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..engine import Conv2D, Dense, Flatten, Layer, MaxPool2D, ReLU, Softmax
from ..errors import ModelError
from .json_reader import arr, int_pair, obj, shape, string

# Layers that do nothing at inference time: skipped, and listed in the model card.
IDENTITY_AT_INFERENCE = {"Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "ActivityRegularization"}
ACTIVATIONS = {"relu": ReLU, "softmax": Softmax}
SUPPORTED = "Conv2D, MaxPooling2D, Flatten, Dense, ReLU/Activation('relu'|'softmax'|'linear'), Softmax, Dropout"


def sequential_layers(model_config) -> tuple[list[dict], tuple | None, str]:
    """The list of layer configs, the input shape (H, W, C) if declared, and the model's name."""
    model_config = obj(model_config, "The model config")
    cls = model_config.get("class_name")
    if cls in ("Functional", "Model"):
        raise ModelError("This is a functional (graph) Keras model; cnn101 explains linear models only. "
                         "Rebuild it as keras.Sequential([...]) with the same layers and save it again.")
    if cls != "Sequential":
        raise ModelError(f"Unsupported model type {cls!r}: cnn101 reads Keras Sequential models.")
    cfg = model_config.get("config", {})
    if isinstance(cfg, list):
        layers, name = cfg, "model"
    else:
        cfg = obj(cfg, "The Sequential model's config")
        layers = arr(cfg.get("layers", []), "The model's 'layers'")
        name = cfg.get("name", "model")
        name = "model" if name is None else string(name, "The model's name")
    input_shape = None
    out = []
    for i, lc in enumerate(layers):
        lc = obj(lc, f"Layer {i + 1} of the model")
        c = obj(lc.get("config", {}), f"The config of layer {i + 1}")
        raw = c.get("batch_input_shape") or c.get("batch_shape")
        if raw is None and "build_config" in lc and not out and lc.get("class_name") != "InputLayer":
            raw = obj(lc["build_config"] or {}, f"The build_config of layer {i + 1}").get("input_shape")
        if raw is not None and input_shape is None:
            full = shape(raw, f"The input shape of layer {i + 1}", allow_batch=True) if isinstance(raw, list) \
                else shape(raw, f"The input shape of layer {i + 1}")
            input_shape = tuple(full[1:])
        if lc.get("class_name") == "InputLayer":
            continue
        out.append(lc)
    if input_shape is not None and (len(input_shape) != 3 or any(d is None or d < 1 for d in input_shape)):
        raise ModelError(f"The model's input shape {input_shape} is not a fixed height × width × channels.")
    return out, input_shape, name


def _kernel_and_bias(name: str, weights: list[np.ndarray], use_bias: bool) -> tuple[np.ndarray, np.ndarray | None]:
    want = 2 if use_bias else 1
    if len(weights) != want:
        raise ModelError(f"Layer '{name}': expected {want} weight arrays (kernel{', bias' if use_bias else ''}), "
                         f"found {len(weights)}.")
    return weights[0], (weights[1] if use_bias else None)


def build_layers(layer_configs: list[dict], get_weights: Callable[[str], list[np.ndarray]]) -> tuple[list[Layer], list[str]]:
    """Engine layers for Keras layer configs; a fused activation becomes a second layer `<name>_<act>`.

    Returns the layers and notes about what was skipped (e.g. Dropout).
    """
    layers: list[Layer] = []
    notes: list[str] = []
    for lc in layer_configs:
        cls = lc.get("class_name")
        if not isinstance(cls, str):
            raise ModelError(f"Layer {len(layers) + 1} has no class_name string (it has {cls!r}); the file is not a Keras model.")
        c = lc.get("config", {})
        name = c.get("name") or f"{cls.lower()}_{len(layers)}"
        name = string(name, f"The name of a {cls} layer")
        where = f"Layer '{name}':"
        fmt = c.get("data_format", "channels_last")
        if fmt not in (None, "channels_last"):
            raise ModelError(f"Layer '{name}': data_format {fmt!r} is not supported; use channels_last.")
        act = None
        if cls == "Conv2D":
            if int_pair(c.get("dilation_rate", 1), f"{where} dilation_rate") != (1, 1):
                raise ModelError(f"Layer '{name}': dilated convolutions are not supported.")
            if c.get("groups", 1) != 1:
                raise ModelError(f"Layer '{name}': grouped convolutions are not supported.")
            kernel, bias = _kernel_and_bias(name, get_weights(name), _use_bias(c, name))
            ks = int_pair(c["kernel_size"], f"{where} kernel_size") if "kernel_size" in c else tuple(kernel.shape[:2])
            if kernel.ndim != 4 or tuple(kernel.shape[:2]) != ks:
                raise ModelError(f"Layer '{name}': kernel shape {kernel.shape} does not match kernel_size {ks}.")
            if "filters" in c and kernel.shape[3] != c["filters"]:
                raise ModelError(f"Layer '{name}': kernel shape {kernel.shape} does not match filters={c.get('filters')!r}.")
            layers.append(Conv2D(name, kernel, bias, int_pair(c.get("strides", 1), f"{where} strides"),
                                 string(c.get("padding", "valid"), f"{where} padding")))
            act = c.get("activation", "linear")
        elif cls == "Dense":
            kernel, bias = _kernel_and_bias(name, get_weights(name), _use_bias(c, name))
            if kernel.ndim != 2 or ("units" in c and kernel.shape[1] != c["units"]):
                raise ModelError(f"Layer '{name}': kernel shape {kernel.shape} does not match units={c.get('units')!r}.")
            layers.append(Dense(name, kernel, bias))
            act = c.get("activation", "linear")
        elif cls == "MaxPooling2D":
            strides = c.get("strides")
            layers.append(MaxPool2D(name, int_pair(c.get("pool_size", 2), f"{where} pool_size"),
                                    None if strides is None else int_pair(strides, f"{where} strides"),
                                    string(c.get("padding", "valid"), f"{where} padding")))
        elif cls == "Flatten":
            layers.append(Flatten(name))
        elif cls == "Activation":
            a = _activation_name(c.get("activation"), name)
            if a != "linear":
                layers.append(ACTIVATIONS[a](name))
        elif cls == "ReLU":
            if c.get("max_value") is not None or _number(c.get("negative_slope"), name) != 0 or _number(c.get("threshold"), name) != 0:
                raise ModelError(f"Layer '{name}': only the plain ReLU max(0, x) is supported (no max_value, slope or threshold).")
            layers.append(ReLU(name))
        elif cls == "Softmax":
            if c.get("axis", -1) not in (-1, None):
                raise ModelError(f"Layer '{name}': softmax must be over the last axis.")
            layers.append(Softmax(name))
        elif cls in IDENTITY_AT_INFERENCE:
            notes.append(f"{cls} layer '{name}' does nothing at inference and was left out.")
        else:
            raise ModelError(f"Layer '{name}' is a {cls}, which cnn101 does not support. Supported layers: {SUPPORTED}.")
        if act is not None:
            a = _activation_name(act, name)
            if a != "linear":
                layers.append(ACTIVATIONS[a](f"{name}_{a}"))
    return layers, notes


def _use_bias(c: dict, layer: str) -> bool:
    v = c.get("use_bias", True)
    if not isinstance(v, bool):
        raise ModelError(f"Layer '{layer}': use_bias must be true or false, not {v!r}.")
    return v


def _number(v, layer: str) -> float:
    if v is None:
        return 0.0
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ModelError(f"Layer '{layer}': a ReLU setting must be a number, not {v!r}.")
    return float(v)


def _activation_name(act, layer: str) -> str:
    if isinstance(act, dict):  # Keras 3 may serialise activations as objects
        inner = act.get("config")
        act = (inner.get("name") if isinstance(inner, dict) else None) or act.get("class_name")
        if act is None:
            raise ModelError(f"Layer '{layer}': its activation object names no activation; re-export the model.")
    if act is not None and not isinstance(act, str):
        raise ModelError(f"Layer '{layer}': activation must be a name such as 'relu', not {act!r}.")
    a = str(act or "linear").lower()
    if a not in ("linear", *ACTIVATIONS):
        raise ModelError(f"Layer '{layer}': activation '{a}' is not supported (use relu, softmax or linear).")
    return a
