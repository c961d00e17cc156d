"""Keras 3 `.keras` files: a zip of `config.json` and `model.weights.h5` (read with h5py, no TensorFlow)."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from ..engine import Sequential
from ..errors import ModelError
from .keras_config import build_layers, sequential_layers


def _h5_weights(h5_bytes: bytes) -> dict[str, list[np.ndarray]]:
    try:
        import h5py
    except ImportError:
        raise ModelError("Reading .keras files needs h5py (pip install h5py). "
                         "Or export the model to TF.js layers format, which needs nothing extra.") from None
    out: dict[str, list[np.ndarray]] = {}
    with h5py.File(io.BytesIO(h5_bytes), "r") as f:
        root = f["layers"] if "layers" in f else f
        for key in root:
            vars_ = root[key].get("vars")
            if vars_ is None:
                continue
            out[key] = [np.asarray(vars_[str(i)], dtype=np.float32) for i in range(len(vars_))]
    return out


def model_from_bytes(data: bytes, class_names=None) -> Sequential:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            config = json.loads(z.read("config.json"))
            h5 = z.read("model.weights.h5")
            meta = json.loads(z.read("metadata.json")) if "metadata.json" in z.namelist() else {}
    except zipfile.BadZipFile:
        raise ModelError("This .keras file is not a valid zip archive (truncated or not a Keras 3 file).") from None
    except KeyError as e:
        raise ModelError(f"This .keras file lacks {e}; save it with Keras 3's model.save('x.keras').") from None
    configs, input_shape, name = sequential_layers(config)
    if input_shape is None:
        raise ModelError("The Keras model does not declare its input shape; build it with keras.Input(shape=...).")
    weights = _h5_weights(h5)
    # h5 groups are keyed by the layer's name in the model; fall back to positional order if not.
    names = [lc.get("config", {}).get("name") for lc in configs]
    positional = list(weights.values()) if not set(names) & set(weights) else None
    weighted = [n for n, lc in zip(names, configs) if lc.get("class_name") in ("Conv2D", "Dense")]

    def get(n):
        if positional is not None:
            i = weighted.index(n)
            return positional[i] if i < len(positional) else []
        return weights.get(n, [])

    layers, notes = build_layers(configs, get)
    card = {"source_format": "keras", "keras_version": meta.get("keras_version"), "notes": notes}
    return Sequential(layers, input_shape, class_names, name=name, card=card)


def load(path, class_names=None) -> Sequential:
    return model_from_bytes(Path(path).read_bytes(), class_names)
