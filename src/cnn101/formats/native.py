"""Our own format: `<stem>.npz` (weights, no pickle) + `<stem>.json` (the model card).

The card holds the architecture (one entry per engine layer), class names, input shape and whatever
provenance the producer adds (preprocessing, training config, evaluation figures).
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from ..engine import LAYER_TYPES, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Softmax
from ..errors import ModelError

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


def save_model(model: Sequential, path) -> tuple[Path, Path]:
    json_path, npz_path = paths_for(path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"{layer.name}/{var}": arr for layer in model.layers for var, arr in layer.params.items()}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    npz_path.write_bytes(buf.getvalue())
    json_path.write_text(json.dumps(card_of(model), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return json_path, npz_path


def _layer(cfg: dict, weights) -> object:
    kind, name = cfg.get("kind"), cfg.get("name")
    if kind not in LAYER_TYPES:
        raise ModelError(f"Layer '{name}' has kind '{kind}', which this version of cnn101 does not know "
                         f"(known: {', '.join(LAYER_TYPES)}).")

    def w(var):
        key = f"{name}/{var}"
        if key not in weights:
            raise ModelError(f"Layer '{name}': the weights file has no '{key}'. The .npz and .json do not match.")
        return weights[key]

    if kind == "conv2d":
        k = w("kernel")
        if list(k.shape[:2]) != list(cfg.get("kernel_size", k.shape[:2])) or k.shape[3] != cfg.get("filters", k.shape[3]):
            raise ModelError(f"Layer '{name}': kernel shape {k.shape} does not match the card "
                             f"(kernel_size {cfg.get('kernel_size')}, filters {cfg.get('filters')}).")
        return Conv2D(name, k, w("bias") if cfg.get("use_bias", True) else None, cfg.get("strides", 1),
                      cfg.get("padding", "valid"))
    if kind == "dense":
        k = w("kernel")
        if k.ndim != 2 or k.shape[1] != cfg.get("units", k.shape[1]):
            raise ModelError(f"Layer '{name}': kernel shape {k.shape} does not match the card (units {cfg.get('units')}).")
        return Dense(name, k, w("bias") if cfg.get("use_bias", True) else None)
    if kind == "maxpool2d":
        return MaxPool2D(name, cfg.get("pool_size", 2), cfg.get("strides"), cfg.get("padding", "valid"))
    return {"relu": ReLU, "flatten": Flatten, "softmax": Softmax}[kind](name)


def model_from_bytes(card_bytes: bytes, npz_bytes: bytes) -> Sequential:
    try:
        card = json.loads(card_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"The model card is not valid JSON ({e}).") from None
    if card.get("format") != FORMAT:
        raise ModelError(f"The JSON file is not a cnn101 model card (format is {card.get('format')!r}).")
    if int(card.get("version", 0)) > VERSION:
        raise ModelError(f"The model card has version {card.get('version')}; this cnn101 reads up to {VERSION}. Upgrade cnn101.")
    try:
        with np.load(io.BytesIO(npz_bytes), allow_pickle=False) as z:
            weights = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise ModelError(f"The weights file (.npz) is damaged or truncated ({e}).") from None
    layers = [_layer(cfg, weights) for cfg in card.get("layers", [])]
    extra = {k: v for k, v in card.items() if k not in ("format", "version", "name", "input_shape", "class_names",
                                                       "layers", "param_count")}
    return Sequential(layers, card.get("input_shape", ()), card.get("class_names"), card.get("name", "model"), extra)


def load_model(path) -> Sequential:
    json_path, npz_path = paths_for(path)
    for p in (json_path, npz_path):
        if not p.exists():
            raise ModelError(f"{p} is missing; a cnn101 model is a .json card and a .npz of weights side by side.")
    return model_from_bytes(json_path.read_bytes(), npz_path.read_bytes())
