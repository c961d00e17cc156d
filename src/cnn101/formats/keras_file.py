"""Keras 3 `.keras` files: a zip of `config.json` and `model.weights.h5` (read with h5py, no TensorFlow)."""
from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
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
    try:
        with h5py.File(io.BytesIO(h5_bytes), "r") as f:
            root = f["layers"] if "layers" in f else f
            for key in root:
                vars_ = root[key].get("vars")
                if vars_ is None:
                    continue
                out[key] = [np.asarray(vars_[str(i)], dtype=np.float32) for i in range(len(vars_))]
    except (OSError, KeyError, TypeError, AttributeError) as e:
        raise ModelError(f"The weights inside this .keras file (model.weights.h5) are damaged ({e}).") from None
    return out


def _snake_case(name: str) -> str:
    """Keras's naming.to_snake_case: 'MaxPooling2D' → 'max_pooling2d', 'ReLU' → 're_lu'."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def model_from_bytes(data: bytes, class_names=None) -> Sequential:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            missing = [n for n in ("config.json", "model.weights.h5") if n not in z.namelist()]
            if missing:
                raise ModelError(f"This .keras file lacks {' and '.join(missing)}; save it with Keras 3's "
                                 "model.save('x.keras').")
            config = json.loads(z.read("config.json"))
            h5 = z.read("model.weights.h5")
            meta = json.loads(z.read("metadata.json")) if "metadata.json" in z.namelist() else {}
    except (zipfile.BadZipFile, EOFError, zlib.error):
        raise ModelError("This .keras file is not a valid zip archive (truncated or not a Keras 3 file).") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"The config.json inside this .keras file is not valid JSON ({e}).") from None
    if not isinstance(config, dict):
        raise ModelError("The config.json inside this .keras file does not describe a Keras model.")
    configs, input_shape, name = sequential_layers(config)
    if input_shape is None:
        raise ModelError("The Keras model does not declare its input shape; build it with keras.Input(shape=...).")
    weights = _h5_weights(h5)
    # Keras 3 keys each layer's weights by its class, not its name: layers/conv2d, layers/conv2d_1, …,
    # numbered in model order per class (keras.src.saving.saving_lib._save_container_state).
    keys, used = {}, {}
    for lc in configs:
        base = _snake_case(str(lc.get("class_name", "")))
        used[base] = used.get(base, -1) + 1
        keys[lc.get("config", {}).get("name")] = base if used[base] == 0 else f"{base}_{used[base]}"

    def get(n):
        key = keys.get(n)
        return weights[key] if key in weights else weights.get(n, [])

    layers, notes = build_layers(configs, get)
    card = {"source_format": "keras", "keras_version": meta.get("keras_version"), "notes": notes}
    return Sequential(layers, input_shape, class_names, name=name, card=card)


def load(path, class_names=None) -> Sequential:
    return model_from_bytes(Path(path).read_bytes(), class_names)
