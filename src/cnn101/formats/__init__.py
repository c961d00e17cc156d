"""Model files ↔ engine models: our own format, TF.js layers-models, and Keras `.keras` files."""
from __future__ import annotations

from pathlib import Path

from ..engine import Sequential
from ..errors import ModelError
from . import keras_file, native, tfjs
from .from_files import model_from_files
from .json_reader import names, read_json
from .paths import read_file, shard_reader

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "weights"
BUNDLED_NAME = "tiny-vgg"


def bundled_path() -> Path:
    """Where the shipped model's card lives (inside the installed package)."""
    return BUNDLED_DIR / f"{BUNDLED_NAME}.json"


def load_model(path=None, class_names=None) -> Sequential:
    """Load a model: no path → the bundled Tiny VGG; otherwise by format (.json card or model.json, .npz, .keras, folder)."""
    if path is None:
        p = bundled_path()
        if not p.exists():
            raise ModelError("No bundled model is installed yet (weights/tiny-vgg.json). Train one with "
                             "'python -m training.train' or pass the path of a model file.")
        return native.load_model(p)
    if not isinstance(path, (str, Path)):
        raise ModelError(f"load_model takes a path (text or pathlib.Path), not {type(path).__name__}; for files in "
                         "memory use cnn101.formats.model_from_files({name: bytes}).")
    p = Path(path)
    if p.is_dir():
        for candidate in ("model.json", f"{BUNDLED_NAME}.json"):
            if (p / candidate).exists():
                return load_model(p / candidate, class_names)
        cards = sorted(p.glob("*.json")) or sorted(p.glob("*.keras"))
        if not cards:
            raise ModelError(f"The folder {p} holds no model (no model.json, .json card or .keras).")
        p = cards[0]
    if not p.exists():
        raise ModelError(f"{p} does not exist.")
    suffix = p.suffix.lower()
    if suffix == ".keras":
        return keras_file.load(p, class_names)
    if suffix == ".npz":
        model = native.load_model(p)
    elif suffix == ".json":
        head = read_json(read_file(p), p.name)
        if isinstance(head, dict) and head.get("format") == native.FORMAT:
            model = native.load_model(p)
        elif isinstance(head, dict) and "modelTopology" in head:
            return tfjs.model_from_json(head, shard_reader(p.parent, p.name), class_names, p.name)
        else:
            raise ModelError(f"{p.name} is neither a cnn101 model card nor a TF.js model.json.")
    elif suffix in (".h5", ".hdf5"):
        raise ModelError("Legacy Keras .h5 files are not supported; save the model as .keras (Keras 3) or TF.js.")
    else:
        raise ModelError(f"Unknown model file type '{suffix}'; use a .json card + .npz, a TF.js model.json, or .keras.")
    if class_names is not None:
        model = Sequential(model.layers, model.input_shape, names(class_names, "class_names"), model.name, model.card)
    return model


__all__ = ["load_model", "model_from_files", "bundled_path", "native", "tfjs", "keras_file"]
