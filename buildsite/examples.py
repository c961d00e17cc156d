"""Example images for the page, chosen deterministically from the dataset's validation split.

Layout read (tiny-imagenet-10): val/<wnid>/*.JPEG and class_dict_10.json (wnid -> {class, index}).
The chosen files are copied byte for byte (never re-encoded: the app must decode what the dataset
holds). Without a dataset the index is empty and the page offers upload only.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from cnn101.dataset import DISPLAY_NAMES

from . import BuildError
from .files import sha256_file

IMAGE_SUFFIXES = {".jpeg", ".jpg", ".png"}


def _classes(data: Path) -> list[dict]:
    """[{index, wnid, label, description}] in the model's output order."""
    class_dict = data / "class_dict_10.json"
    if class_dict.is_file():
        d = json.loads(class_dict.read_text())
        items = sorted(d.items(), key=lambda kv: kv[1]["index"])
        return [{"index": v["index"], "wnid": wnid, "label": DISPLAY_NAMES.get(wnid, v["class"].split(",")[0].strip()),
                 "description": v["class"]} for wnid, v in items]
    wnids = sorted(p.name for p in (data / "val").iterdir() if p.is_dir())
    return [{"index": i, "wnid": w, "label": w, "description": w} for i, w in enumerate(wnids)]


def _usable(path: Path) -> tuple[int, int] | None:
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            size = im.size
            im.load()
        return size
    except (OSError, UnidentifiedImageError, SyntaxError):
        return None


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "class"


def choose_examples(data: Path | None, per_class: int, explicit: bool, log=print) -> tuple[dict[str, Path], dict]:
    """(plan: 'examples/<file>' -> source path, index.json content)."""
    index = {"version": 1, "source": None, "classes": [], "examples": []}
    if data is None or not (data / "val").is_dir():
        if explicit:
            raise BuildError(f"--data {data}: no val/ folder there (expected val/<class id>/*.JPEG).")
        log(f"examples: no dataset at {data}: dist/examples/index.json lists none (the page offers upload)")
        return {}, index
    index["source"] = data.name
    index["classes"] = _classes(data)
    plan: dict[str, Path] = {}
    for cls in index["classes"]:
        folder = data / "val" / cls["wnid"]
        files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES] \
            if folder.is_dir() else []
        # Deterministic and spread over the split: order by a hash of the file name, not its number.
        files.sort(key=lambda p: hashlib.sha256(f"{cls['wnid']}/{p.name}".encode()).hexdigest())
        chosen = 0
        for p in files:
            if chosen == per_class:
                break
            size = _usable(p)
            if size is None:
                log(f"examples: skipping {p} (not a readable image)")
                continue
            chosen += 1
            name = f"{_slug(cls['label'])}-{chosen}{'.png' if p.suffix.lower() == '.png' else '.jpg'}"
            plan[f"examples/{name}"] = p
            index["examples"].append({
                "id": name.rsplit(".", 1)[0], "file": name, "label": cls["label"], "class_index": cls["index"],
                "wnid": cls["wnid"], "source": p.relative_to(data).as_posix(), "width": size[0],
                "height": size[1], "sha256": sha256_file(p)})
    log(f"examples: {len(plan)} images from {data} ({per_class} per class)")
    return plan, index


def correct_first(plan: dict[str, Path], index: dict, model) -> dict[str, Path]:
    """Within each class, the examples the model classifies correctly come first (numbered 1, 2, …), so
    the page opens on a right answer; the misclassified ones stay in the gallery. Updates `index` in
    place and returns the renamed plan."""
    import cnn101

    if list(model.class_names) != [c["label"] for c in index.get("classes", [])]:
        return plan  # another model's classes: "correct" has no meaning here
    by_class: dict[int, list[dict]] = {}
    for e in index["examples"]:
        by_class.setdefault(e["class_index"], []).append(e)
    new_plan: dict[str, Path] = {}
    ordered = []
    for cls, entries in by_class.items():
        def right(e):
            x = cnn101.load_image(plan["examples/" + e["file"]], model)
            return int(model.trace(x).predicted) == cls
        marks = {id(e): right(e) for e in entries}
        entries.sort(key=lambda e: not marks[id(e)])  # stable: hash order kept within each group
        for n, e in enumerate(entries, 1):
            src = plan["examples/" + e["file"]]
            suffix = e["file"].rsplit(".", 1)[1]
            e["id"] = f"{_slug(e['label'])}-{n}"
            e["file"] = f"{e['id']}.{suffix}"
            e["model_correct"] = marks[id(e)]
            new_plan["examples/" + e["file"]] = src
            ordered.append(e)
    index["examples"] = ordered
    return new_plan
