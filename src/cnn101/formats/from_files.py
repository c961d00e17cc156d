"""A model from files chosen together, by name and bytes (a browser's file picker, an upload form):

- a cnn101 model card (`<name>.json`) with its weights (`<name>.npz`);
- a TF.js layers-model (`model.json`, any name) with the weight shards its manifest names;
- a Keras `.keras` file (needs h5py);

plus, optionally, class labels: a `metadata.json` with a "labels" list (as Teachable Machine exports) or a
`.txt` file named for them (labels.txt, classes.txt, …) with one label per line. Anything else chosen alongside is ignored. Every problem — nothing
that is a model, two models, a missing partner file, labels that do not fit — is a ModelError saying
which file and what to choose instead.
"""
from __future__ import annotations

import importlib.util
from pathlib import PurePath
from typing import Mapping

from ..engine import Sequential
from ..errors import ModelError
from . import keras_file, native, tfjs
from .json_reader import MAX_JSON_BYTES, names, read_json

MAX_TOTAL_BYTES = 200 * 1024 * 1024
CHOOSE = ("choose a TF.js model.json with its .bin weight files, a cnn101 .json card with its .npz, "
          "or a .keras file")


def _json(data: bytes, name: str = "file", problems: dict | None = None):
    """The JSON in `data`, or None when it is not JSON cnn101 would read (too big, too deep, not UTF-8);
    the reason is kept in `problems[name]`."""
    try:
        return read_json(data, name, MAX_JSON_BYTES)
    except ModelError as e:
        if problems is not None:
            problems[name] = str(e)
        return None


def _labels(files: dict[str, bytes], used: set[str]) -> tuple[list[str] | None, str | None]:
    """(labels, the file they came from) from metadata.json's "labels" or a .txt; (None, None) if none."""
    for name, data in files.items():
        if name in used:
            continue
        if name.lower().endswith(".json"):
            doc = _json(data)
            if isinstance(doc, dict) and isinstance(doc.get("labels"), list):
                return names(doc["labels"], f"The labels in {name}"), name
    for name, data in files.items():
        low = name.lower()
        if low.endswith(".txt") and ("label" in low or "class" in low):
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ModelError(f"{name} is not a UTF-8 text file of class labels (one per line).") from None
            return [line.strip() for line in text.splitlines() if line.strip()], name
    return None, None


def model_from_files(files: Mapping[str, bytes], class_names=None) -> Sequential:
    """The model in `files` (file name → bytes; folders in names are ignored)."""
    if not isinstance(files, Mapping):
        raise ModelError(f"model_from_files takes a mapping of file name → bytes, not {type(files).__name__}; "
                         "e.g. {'model.json': open('model.json', 'rb').read(), …}.")
    chosen: dict[str, bytes] = {}
    for name, data in files.items():
        if not isinstance(name, str):
            raise ModelError(f"File names must be text, not {type(name).__name__} ({name!r}).")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ModelError(f"The contents of {name} must be bytes, not {type(data).__name__}; read files in binary "
                             "mode (open(path, 'rb').read()).")
        base = PurePath(name.replace("\\", "/")).name
        if not base:
            raise ModelError(f"{name!r} is not a file name.")
        data = bytes(data)
        if base in chosen and chosen[base] != data:
            raise ModelError(f"Two different files named {base} were chosen (from different folders); choose the "
                             "files of one model only.")
        chosen[base] = data
    files = chosen
    if not files:
        raise ModelError(f"No files were chosen: {CHOOSE}.")
    total = sum(len(d) for d in files.values())
    if total > MAX_TOTAL_BYTES:
        raise ModelError(f"The chosen files add up to {total / 2**20:.1f} MB, more than the {MAX_TOTAL_BYTES / 2**20:g} MB "
                         "cnn101 takes; choose only the model's files (a model for cnn101 is usually well under 10 MB).")
    cards, topologies, kerases = [], [], []
    problems: dict[str, str] = {}
    for name, data in sorted(files.items()):
        low = name.lower()
        if low.endswith(".keras"):
            kerases.append(name)
        elif low.endswith(".json"):
            doc = _json(data, name, problems)
            if isinstance(doc, dict) and doc.get("format") == native.FORMAT:
                cards.append(name)
            elif isinstance(doc, dict) and "modelTopology" in doc:
                topologies.append(name)
        elif low.endswith((".h5", ".hdf5")):
            raise ModelError(f"{name} is a legacy Keras .h5 file, which cnn101 does not read; save the model as "
                             ".keras (Keras 3) or export it to TF.js.")
    entries = cards + topologies + kerases
    if not entries and problems:
        raise ModelError(next(iter(problems.values())))
    if not entries:
        raise ModelError(f"None of the chosen files ({', '.join(sorted(files))}) is a model: {CHOOSE}.")
    if len(entries) > 1:
        raise ModelError(f"Choose one model at a time: {' and '.join(entries)} are each a model.")
    entry = entries[0]
    used = {entry}
    if entry in cards:
        weights = entry[: -len(".json")] + ".npz"
        npzs = [n for n in files if n.lower().endswith(".npz")]
        if weights not in files and len(npzs) == 1:
            weights = npzs[0]  # renamed on the way: the only .npz is this card's
        if weights not in files:
            raise ModelError(f"The weights of {entry} were not chosen: select {entry[:-5]}.npz together with it.")
        used.add(weights)
        model = native.model_from_bytes(files[entry], files[weights], (entry, weights))
    elif entry in topologies:
        def read(path: str) -> bytes:
            shard = PurePath(path).name
            if shard not in files:
                raise ModelError(f"The weight file {shard} named in {entry} was not chosen: select {entry} "
                                 "together with all its .bin files.")
            used.add(shard)
            return files[shard]

        model = tfjs.model_from_json(read_json(files[entry], entry), read, where=entry)
    else:
        if importlib.util.find_spec("h5py") is None:
            raise ModelError(f"Reading {entry} needs h5py, which is not available here (the web page does not "
                             "include it). In Python: cnn101.load_model('model.keras').save('model'), then choose "
                             "model.json and model.npz; or export the model to TF.js.")
        model = keras_file.model_from_bytes(files[entry])
    labels, where = (names(class_names, "class_names"), "class_names") if class_names is not None \
        else _labels(files, used)
    if labels is not None:
        if len(labels) != model.num_classes:
            raise ModelError(f"{where} has {len(labels)} labels, but the model has {model.num_classes} classes: "
                             f"choose a labels file with one line per class, in the order of the model's outputs "
                             "(or none: the classes are then numbered).")
        model = Sequential(model.layers, model.input_shape, labels, model.name, model.card)
    return model
