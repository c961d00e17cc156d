"""Keras 3 `.keras` files: a zip of `config.json` and `model.weights.h5` (read with h5py, no TensorFlow)."""
from __future__ import annotations

import re

from ..engine import Sequential
from ..errors import ModelError
from .archive import Archive
from .hdf5 import keras_weights
from .json_reader import MAX_JSON_BYTES, names, obj, read_json
from .keras_config import build_layers, sequential_layers
from .paths import read_file


def _snake_case(name: str) -> str:
    """Keras's naming.to_snake_case: 'MaxPooling2D' → 'max_pooling2d', 'ReLU' → 're_lu'."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def model_from_bytes(data: bytes, class_names=None) -> Sequential:
    z = Archive(data, "This .keras file")
    missing = [n for n in ("config.json", "model.weights.h5") if n not in z]
    if missing:
        raise ModelError(f"This .keras file lacks {' and '.join(missing)}; save it with Keras 3's "
                         "model.save('x.keras').")
    config = read_json(z.read("config.json", MAX_JSON_BYTES), "The config.json inside this .keras file")
    meta = read_json(z.read("metadata.json", MAX_JSON_BYTES), "The metadata.json inside this .keras file") \
        if "metadata.json" in z else {}
    meta = obj(meta, "The metadata.json inside this .keras file")
    if not isinstance(config, dict):
        raise ModelError("The config.json inside this .keras file does not describe a Keras model.")
    configs, input_shape, name = sequential_layers(config)
    if input_shape is None:
        raise ModelError("The Keras model does not declare its input shape; build it with keras.Input(shape=...).")
    weights = keras_weights(z.read("model.weights.h5"))
    # Keras 3 keys each layer's weights by its class, not its name: layers/conv2d, layers/conv2d_1, …,
    # numbered in model order per class (keras.src.saving.saving_lib._save_container_state).
    keys, used = {}, {}
    for lc in configs:
        base = _snake_case(str(lc.get("class_name", "")))
        used[base] = used.get(base, -1) + 1
        n = lc.get("config", {}).get("name")
        keys[n if isinstance(n, str) else None] = base if used[base] == 0 else f"{base}_{used[base]}"

    def get(n):
        key = keys.get(n)
        return weights[key] if key in weights else weights.get(n, [])

    layers, notes = build_layers(configs, get)
    version = meta.get("keras_version")
    card = {"source_format": "keras", "keras_version": version if isinstance(version, str) else None, "notes": notes}
    return Sequential(layers, input_shape, None if class_names is None else names(class_names, "class_names"),
                      name=name, card=card)


def load(path, class_names=None) -> Sequential:
    return model_from_bytes(read_file(path), class_names)
