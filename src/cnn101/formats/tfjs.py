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
from .json_reader import arr, names, obj, read_json, shape, string
from .keras_config import build_layers, sequential_layers
from .paths import read_file, shard_reader

DTYPES = {"float32": np.dtype("<f4")}


#: All weights of one model at most (the shards are read only after the manifest's sizes add up).
MAX_WEIGHT_BYTES = 256 * 1024 * 1024


def read_weights(manifest, read: Callable[[str], bytes], where: str = "model.json") -> dict[str, np.ndarray]:
    """Every weight of the manifest by name, checking types, dtype, quantization and sizes before reading."""
    weights: dict[str, np.ndarray] = {}
    plan, total = [], 0
    for g, group in enumerate(arr(manifest, f"The weightsManifest of {where}")):
        group = obj(group, f"Group {g + 1} of the weightsManifest in {where}")
        paths = [string(p, f"A weight file name in {where}") for p in arr(group.get("paths", []), f"The paths of group {g + 1} in {where}")]
        entries = []
        for w in arr(group.get("weights", []), f"The weights of group {g + 1} in {where}"):
            w = obj(w, f"A weight entry in {where}")
            name = string(w.get("name", "?"), f"A weight's name in {where}")
            quant = w.get("quantization")
            if quant is not None:
                dt = quant.get("dtype", "?") if isinstance(quant, dict) else quant
                raise ModelError(f"Weight '{name}' is quantized ({dt!r}); cnn101 needs float32 weights. "
                                 "Convert the model without quantization.")
            dtype = w.get("dtype", "float32")
            if not isinstance(dtype, str) or dtype not in DTYPES:
                raise ModelError(f"Weight '{name}' has dtype {dtype!r}; cnn101 reads float32 weights only.")
            shp = shape(w.get("shape", []), f"The shape of weight '{name}' in {where}")
            nbytes = math.prod(shp) * DTYPES[dtype].itemsize
            total += nbytes
            if total > MAX_WEIGHT_BYTES:
                raise ModelError(f"{where} declares more than {MAX_WEIGHT_BYTES / 2**20:g} MB of weights (at '{name}' "
                                 f"{shp}); cnn101 explains small models. Choose a smaller model.")
            entries.append((name, dtype, shp, nbytes))
        plan.append((paths, entries))
    for paths, entries in plan:
        try:
            blob = b"".join(read(p) for p in paths)
        except FileNotFoundError as e:
            raise ModelError(f"A weight file named in {where} is missing: {e.filename or e}. "
                             "Keep the .bin shards next to model.json.") from None
        offset = 0
        for name, dtype, shp, nbytes in entries:
            if offset + nbytes > len(blob):
                raise ModelError(f"The weight shards end early: '{name}' {shp} needs bytes {offset}–{offset + nbytes} "
                                 f"but the shards {paths} hold only {len(blob)}. A .bin file is truncated.")
            weights[name] = np.frombuffer(blob, DTYPES[dtype], count=math.prod(shp), offset=offset).reshape(shp).astype(np.float32)
            offset += nbytes
        if offset != len(blob):
            raise ModelError(f"The weight shards {paths} hold {len(blob)} bytes but the manifest describes {offset}; "
                             f"{where} and its .bin files do not belong together.")
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


def model_from_json(doc, read: Callable[[str], bytes], class_names=None, where: str = "model.json") -> Sequential:
    """Build a model from a parsed model.json and a function that returns a shard's bytes by path."""
    doc = obj(doc, where)
    if doc.get("format") not in (None, "layers-model"):
        raise ModelError(f"This is a TF.js {doc.get('format')!r} model; cnn101 reads TF.js layers-models "
                         "(tensorflowjs_converter --output_format tfjs_layers_model).")
    topo = doc.get("modelTopology")
    if not isinstance(topo, dict):
        raise ModelError(f"{where} has no 'modelTopology' object; it is not a TF.js layers-model.")
    model_config = obj(topo.get("model_config", topo), f"The model_config in {where}")
    configs, input_shape, name = sequential_layers(model_config)
    if input_shape is None:
        raise ModelError("The model does not declare its input shape (batch_input_shape on the first layer).")
    weights = _by_layer(read_weights(doc.get("weightsManifest", []), read, where))
    layers, notes = build_layers(configs, lambda n: _ordered(n, weights.get(n, [])))
    meta = obj(doc.get("userDefinedMetadata") or {}, f"The userDefinedMetadata in {where}")
    card = {"source_format": "tfjs-layers", "notes": notes, **obj(meta.get("cnn101", {}), f"userDefinedMetadata.cnn101 in {where}")}
    labels = class_names if class_names is not None else meta.get("class_names")
    return Sequential(layers, input_shape, None if labels is None else names(labels, f"The class names of {where}"),
                      name=string(card.get("name", name), f"The model name in {where}"), card=card)


def load(path, class_names=None) -> Sequential:
    """Read `model.json` and the shards next to it (plain file names in its folder only)."""
    path = Path(path)
    doc = read_json(read_file(path), path.name)
    return model_from_json(doc, shard_reader(path.parent, path.name), class_names, path.name)


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


def files(model: Sequential, shard_bytes: int = 4 * 1024 * 1024) -> dict[str, bytes]:
    """{file name: bytes}: `model.json` and its `group1-shardXofY.bin` files (what `save` writes)."""
    entries, chunks = [], []
    for layer in model.layers:
        for var, arr in layer.params.items():
            entries.append({"name": f"{layer.name}/{var}", "shape": list(arr.shape), "dtype": "float32"})
            chunks.append(np.ascontiguousarray(arr, dtype="<f4").tobytes())
    blob = b"".join(chunks)
    n = max(1, math.ceil(len(blob) / shard_bytes))
    paths = [f"group1-shard{i + 1}of{n}.bin" for i in range(n)]
    out = {p: blob[i * shard_bytes:(i + 1) * shard_bytes] for i, p in enumerate(paths)}
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
    out["model.json"] = json.dumps(doc, indent=1).encode("utf-8")
    return out


def save(model: Sequential, directory, shard_bytes: int = 4 * 1024 * 1024) -> Path:
    """Write `model.json` and `group1-shardXofY.bin` files into `directory`; returns model.json's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files(model, shard_bytes).items():
        (directory / name).write_bytes(data)
    return directory / "model.json"
