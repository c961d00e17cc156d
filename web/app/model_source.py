"""Where the page's model comes from: the weights bundled in our wheel, else model files in the site.

Order: the model build-info.json names (a site built with its own weights folder: `"model"`); else
`cnn101.load_model()` (the wheel's weights); else model files the build put in weights/ (listed in
build-info.json): a `<name>.json` card + `<name>.npz` (our format, tiny-vgg first) or a TF.js `model.json`
with its shards, fetched from the site. Class names missing from a model file are taken from the examples' index when
the counts match. Nothing here assumes a particular architecture.
"""
from __future__ import annotations

import json
from pathlib import Path

import cnn101
from cnn101.page import site_model_file
from pyscript import fetch

WEIGHTS = "./weights/"
LOCAL = Path("/tmp/cnn101-site-weights")


async def _get(url: str) -> bytes | None:
    try:
        response = await fetch(url)
    except Exception:  # offline and not cached, or blocked
        return None
    if not response.ok:
        return None
    return bytes(await response.bytearray())


async def _fetch_native(stem: str) -> Path | None:
    card = await _get(f"{WEIGHTS}{stem}.json")
    if card is None:
        return None
    data = await _get(f"{WEIGHTS}{stem}.npz")
    if data is None:
        return None
    LOCAL.mkdir(parents=True, exist_ok=True)
    (LOCAL / f"{stem}.json").write_bytes(card)
    (LOCAL / f"{stem}.npz").write_bytes(data)
    return LOCAL / f"{stem}.json"


async def _fetch_tfjs() -> Path | None:
    topology = await _get(f"{WEIGHTS}model.json")
    if topology is None:
        return None
    LOCAL.mkdir(parents=True, exist_ok=True)
    (LOCAL / "model.json").write_bytes(topology)
    for group in json.loads(topology).get("weightsManifest", []):
        for shard in group.get("paths", []):
            data = await _get(WEIGHTS + shard)
            if data is None:
                raise cnn101.ModelError(f"The model's weight file {shard} is missing from the site.")
            (LOCAL / shard).write_bytes(data)
    return LOCAL / "model.json"


async def load_model(class_names_hint: list[str] | None = None):
    """The model to show, or raise ModelError with a message for the page."""
    info = {}
    raw = await _get("./build-info.json")
    if raw:
        try:
            info = json.loads(raw)
        except ValueError:
            info = {}
    chosen = info.get("model") if isinstance(info, dict) else None  # the build was given its own model
    if not chosen:
        try:
            return cnn101.load_model()
        except cnn101.ModelError:
            pass  # no weights in the wheel yet: look for model files in the site
    files = set()
    try:
        files = {f[len("weights/"):] for f in info.get("files", {}) if f.startswith("weights/")}
    except AttributeError:
        pass
    first = site_model_file(files)  # the build's snapshot chose by the same rule
    stems = [first[:-5]] if first and first != "model.json" else []
    if chosen and chosen.startswith("weights/") and chosen.endswith(".json") and chosen != "weights/model.json":
        stems = [chosen[len("weights/"):-5]]
    path = None
    for stem in stems:
        path = await _fetch_native(stem)
        if path:
            break
    if path is None and "model.json" in files:
        path = await _fetch_tfjs()
    if path is None:
        raise cnn101.ModelError("No trained model is installed in this site yet (no weights in the cnn101 "
                                "wheel nor in weights/). Rebuild the site once the weights exist.")
    model = cnn101.load_model(path)
    if class_names_hint and len(class_names_hint) == model.num_classes and all(
            name.startswith("class ") for name in model.class_names):
        model = cnn101.load_model(path, class_names=class_names_hint)
    return model
