"""TensorFlow.js layers-model: `model.json` (topology + weights manifest) and binary shards.

Reading needs no TensorFlow: float32 little-endian weights, concatenated over each group's shards.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..engine import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Softmax
from ..errors import ModelError
from .keras_config import build_layers, sequential_layers

DTYPES = {"float32": np.dtype("<f4")}


def read_weights(manifest: list[dict], read: Callable[[str], bytes]) -> dict[str, np.ndarray]:
    """Every weight of the manifest by name, checking dtype, quantization and shard lengths."""
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        paths = group.get("paths", [])
        try:
            blob = b"".join(read(p) for p in paths)
        except FileNotFoundError as e:
            raise ModelError(f"A weight file named in model.json is missing: {e.filename or e}. "
                             "Keep the .bin shards next to model.json.") from None
        offset = 0
        for w in group.get("weights", []):
            name = w.get("name", "?")
            if "quantization" in w:
                raise ModelError(f"Weight '{name}' is quantized ({w['quantization'].get('dtype', '?')}); "
                                 "cnn101 needs float32 weights. Convert the model without quantization.")
            dtype = w.get("dtype", "float32")
            if dtype not in DTYPES:
                raise ModelError(f"Weight '{name}' has dtype {dtype}; cnn101 reads float32 weights only.")
            shape = tuple(int(d) for d in w.get("shape", []))
            nbytes = math.prod(shape) * DTYPES[dtype].itemsize
            if offset + nbytes > len(blob):
                raise ModelError(f"The weight shards end early: '{name}' {shape} needs bytes {offset}–{offset + nbytes} "
                                 f"but the shards {paths} hold only {len(blob)}. A .bin file is truncated.")
            weights[name] = np.frombuffer(blob, DTYPES[dtype], count=math.prod(shape), offset=offset).reshape(shape).astype(np.float32)
            offset += nbytes
        if offset != len(blob):
            raise ModelError(f"The weight shards {paths} hold {len(blob)} bytes but the manifest describes {offset}; "
                             "model.json and its .bin files do not belong together.")
    return weights


def _by_layer(weights: dict[str, np.ndarray]) -> dict[str, list[tuple[str, np.ndarray]]]:
    out: dict[str, list] = {}
    for full, arr in weights.items():
        prefix, _, var = full.rpartition("/")
        layer = prefix.split("/")[-1] if prefix else full
        out.setdefault(layer, []).append((var, arr))
    return out


def _ordered(name: str, entries: list[tuple[str, np.ndarray]]) -> list[np.ndarray]:
    order = {"kernel": 0, "bias": 1}
    return [a for _, a in sorted(entries, key=lambda e: order.get(e[0], 2))]


def model_from_json(doc: dict, read: Callable[[str], bytes], class_names=None) -> Sequential:
    """Build a model from a parsed model.json and a function that returns a shard's bytes by path."""
    if doc.get("format") not in (None, "layers-model"):
        raise ModelError(f"This is a TF.js '{doc.get('format')}' model; cnn101 reads TF.js layers-models "
                         "(tensorflowjs_converter --output_format tfjs_layers_model).")
    topo = doc.get("modelTopology")
    if not isinstance(topo, dict):
        raise ModelError("model.json has no 'modelTopology'; it is not a TF.js layers-model.")
    model_config = topo.get("model_config", topo)
    configs, input_shape, name = sequential_layers(model_config)
    if input_shape is None:
        raise ModelError("The model does not declare its input shape (batch_input_shape on the first layer).")
    weights = _by_layer(read_weights(doc.get("weightsManifest", []), read))
    layers, notes = build_layers(configs, lambda n: _ordered(n, weights.get(n, [])))
    meta = doc.get("userDefinedMetadata") or {}
    card = {"source_format": "tfjs-layers", "notes": notes, **meta.get("cnn101", {})}
    return Sequential(layers, input_shape, class_names or meta.get("class_names"), name=card.get("name", name), card=card)


def load(path, class_names=None) -> Sequential:
    """Read `model.json` and the shards next to it."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"{path.name} is not valid JSON ({e}); is it a TF.js model.json?") from None
    return model_from_json(doc, lambda p: (path.parent / p).read_bytes(), class_names)


# --- writing (the inverse of the reader), for benchmarks and for users of TF.js ---------------------

def _keras_layers(model: Sequential) -> list[dict]:
    out = []
    first = True
    for layer in model.layers:
        c: dict = {"name": layer.name, "trainable": True, "dtype": "float32"}
        if first:
            c["batch_input_shape"] = [None, *model.input_shape]
            first = False
        if isinstance(layer, Conv2D):
            c.update(filters=int(layer.filters), kernel_size=list(layer.kernel_size), strides=list(layer.strides),
                     padding=layer.padding, data_format="channels_last", dilation_rate=[1, 1],
                     activation="linear", use_bias=layer.use_bias)
            cls = "Conv2D"
        elif isinstance(layer, Dense):
            c.update(units=int(layer.units), activation="linear", use_bias=layer.use_bias)
            cls = "Dense"
        elif isinstance(layer, MaxPool2D):
            c.update(pool_size=list(layer.pool_size), strides=list(layer.strides), padding=layer.padding,
                     data_format="channels_last")
            cls = "MaxPooling2D"
        elif isinstance(layer, Flatten):
            c.update(data_format="channels_last")
            cls = "Flatten"
        elif isinstance(layer, (ReLU, Softmax)):
            c.update(activation=layer.kind)
            cls = "Activation"
        else:  # pragma: no cover - every engine layer is handled above
            raise ModelError(f"Layer '{layer.name}' ({layer.kind}) cannot be written to TF.js.")
        out.append({"class_name": cls, "config": c})
    return out


def save(model: Sequential, directory, shard_bytes: int = 4 * 1024 * 1024) -> Path:
    """Write `model.json` and `group1-shardXofY.bin` files into `directory`; returns model.json's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    entries, chunks = [], []
    for layer in model.layers:
        for var, arr in layer.params.items():
            entries.append({"name": f"{layer.name}/{var}", "shape": list(arr.shape), "dtype": "float32"})
            chunks.append(np.ascontiguousarray(arr, dtype="<f4").tobytes())
    blob = b"".join(chunks)
    n = max(1, math.ceil(len(blob) / shard_bytes))
    paths = [f"group1-shard{i + 1}of{n}.bin" for i in range(n)]
    for i, p in enumerate(paths):
        (directory / p).write_bytes(blob[i * shard_bytes:(i + 1) * shard_bytes])
    doc = {
        "format": "layers-model",
        "generatedBy": "cnn101",
        "convertedBy": "cnn101.formats.tfjs",
        "modelTopology": {"class_name": "Sequential", "keras_version": "2.2.4-tf", "backend": "tensorflow",
                          "model_config": {"class_name": "Sequential",
                                           "config": {"name": model.name, "layers": _keras_layers(model)}}},
        "weightsManifest": [{"paths": paths, "weights": entries}],
        "userDefinedMetadata": {"class_names": model.class_names},
    }
    out = directory / "model.json"
    out.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return out
