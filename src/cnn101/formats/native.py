"""Our own format: `<stem>.npz` (weights, no pickle) + `<stem>.json` (the model card).

The card holds the architecture (one entry per engine layer), class names, input shape and whatever
provenance the producer adds (preprocessing, training config, evaluation figures).
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from ..engine import LAYER_TYPES, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Softmax
from ..errors import ModelError
from .archive import NpzWeights
from .paths import read_file
from .json_reader import arr, int_pair, integer, names, obj, read_json, shape, string

FORMAT = "cnn101-model"
VERSION = 1


def paths_for(path) -> tuple[Path, Path]:
    """The (.json, .npz) pair for a path given with either suffix or none."""
    p = Path(path)
    stem = p.with_suffix("") if p.suffix in (".json", ".npz") else p
    return stem.with_suffix(".json"), stem.with_suffix(".npz")


def card_of(model: Sequential) -> dict:
    card = {k: v for k, v in model.card.items() if k not in ("format", "version", "layers")}
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": model.name,
        "input_shape": list(model.input_shape),
        "class_names": model.class_names,
        "layers": [layer.config() for layer in model.layers],
        "param_count": model.param_count,
        **card,
    }


def model_bytes(model: Sequential) -> tuple[bytes, bytes]:
    """(card .json bytes, weights .npz bytes): what save_model writes, for a page to download or store."""
    arrays = {f"{layer.name}/{var}": arr for layer in model.layers for var, arr in layer.params.items()}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    card = (json.dumps(card_of(model), indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    return card, buf.getvalue()


def save_model(model: Sequential, path) -> tuple[Path, Path]:
    json_path, npz_path = paths_for(path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    card, npz = model_bytes(model)
    npz_path.write_bytes(npz)
    json_path.write_bytes(card)
    return json_path, npz_path


def _layer(i: int, cfg, weights) -> object:
    cfg = obj(cfg, f"Layer {i + 1} of the model card")
    name = string(cfg.get("name"), f"The name of layer {i + 1} of the model card")
    kind = cfg.get("kind")
    if not isinstance(kind, str) or kind not in LAYER_TYPES:
        raise ModelError(f"Layer '{name}' has kind {kind!r}, which this version of cnn101 does not know "
                         f"(known: {', '.join(LAYER_TYPES)}).")
    where = f"Layer '{name}' of the model card:"

    def w(var):
        key = f"{name}/{var}"
        if key not in weights:
            raise ModelError(f"Layer '{name}': the weights file has no '{key}'. The .npz and .json do not match.")
        return weights[key]

    def use_bias():
        v = cfg.get("use_bias", True)
        if not isinstance(v, bool):
            raise ModelError(f"{where} use_bias must be true or false, not {v!r}.")
        return v

    if kind == "conv2d":
        k = w("kernel")
        if k.ndim != 4:
            raise ModelError(f"Layer '{name}': a conv kernel must have 4 axes (kh, kw, in, out), got shape {k.shape}.")
        ks = int_pair(cfg["kernel_size"], f"{where} kernel_size") if "kernel_size" in cfg else tuple(k.shape[:2])
        filters = integer(cfg.get("filters", k.shape[3]), f"{where} filters", 1)
        if tuple(k.shape[:2]) != tuple(ks) or k.shape[3] != filters:
            raise ModelError(f"Layer '{name}': kernel shape {k.shape} does not match the card "
                             f"(kernel_size {cfg.get('kernel_size')}, filters {cfg.get('filters')}).")
        return Conv2D(name, k, w("bias") if use_bias() else None, int_pair(cfg.get("strides", 1), f"{where} strides"),
                      string(cfg.get("padding", "valid"), f"{where} padding"))
    if kind == "dense":
        k = w("kernel")
        if k.ndim != 2 or k.shape[1] != integer(cfg.get("units", k.shape[-1]), f"{where} units", 1):
            raise ModelError(f"Layer '{name}': kernel shape {k.shape} does not match the card (units {cfg.get('units')}).")
        return Dense(name, k, w("bias") if use_bias() else None)
    if kind == "maxpool2d":
        strides = cfg.get("strides")
        return MaxPool2D(name, int_pair(cfg.get("pool_size", 2), f"{where} pool_size"),
                         None if strides is None else int_pair(strides, f"{where} strides"),
                         string(cfg.get("padding", "valid"), f"{where} padding"))
    return {"relu": ReLU, "flatten": Flatten, "softmax": Softmax}[kind](name)


def model_from_bytes(card_bytes: bytes, npz_bytes: bytes, names_of: tuple[str, str] | None = None) -> Sequential:
    """A model from the bytes of its card and weights (`names_of`: their file names, for messages)."""
    card_name, npz_name = names_of or ("(.json)", "(.npz)")
    card = obj(read_json(card_bytes, f"The model card {card_name}"), f"The model card {card_name}")
    if card.get("format") != FORMAT:
        raise ModelError(f"The JSON file is not a cnn101 model card (format is {card.get('format')!r}).")
    version = integer(card.get("version", VERSION), "The model card's version", 0)
    if version > VERSION:
        raise ModelError(f"The model card has version {version}; this cnn101 reads up to {VERSION}. Upgrade cnn101.")
    weights = NpzWeights(npz_bytes, f"The weights file {npz_name}")  # only arrays the card names are read
    layers = [_layer(i, cfg, weights) for i, cfg in enumerate(arr(card.get("layers", []), "The card's 'layers'"))]
    extra = {k: v for k, v in card.items() if k not in ("format", "version", "name", "input_shape", "class_names",
                                                       "layers", "param_count")}
    class_names = card.get("class_names")
    return Sequential(layers, shape(card.get("input_shape"), "The card's input_shape"),
                      None if class_names is None else names(class_names, "The card's class_names"),
                      string(card.get("name", "model"), "The card's name"), extra)


def load_model(path) -> Sequential:
    json_path, npz_path = paths_for(path)
    for p in (json_path, npz_path):
        if not p.exists():
            raise ModelError(f"{p} is missing; a cnn101 model is a .json card and a .npz of weights side by side.")
    return model_from_bytes(read_file(json_path), read_file(npz_path), (json_path.name, npz_path.name))
