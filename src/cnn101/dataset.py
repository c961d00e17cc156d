"""The tiny-imagenet-10 folder layout: class order, display names, and the reference splits.

Images are read from the user's folder (default ../shared/data/tiny-imagenet-10); never shipped.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .image import input_shape, load_image

SPLITS = ("train", "cnnx_val", "cnnx_test")
# Short names as CNN Explainer shows them, by WordNet id.
DISPLAY_NAMES = {
    "n03662601": "lifeboat", "n02165456": "ladybug", "n07873807": "pizza", "n07720875": "bell pepper",
    "n04146614": "school bus", "n01882714": "koala", "n07920052": "espresso", "n02509815": "red panda",
    "n07747607": "orange", "n04285008": "sport car",
}


@dataclass(frozen=True)
class Split:
    """Image paths and integer labels of one split."""

    name: str
    paths: list[Path]
    labels: np.ndarray

    def __len__(self):
        return len(self.paths)

    def images(self, size=64) -> np.ndarray:
        """All images preprocessed by cnn101.load_image, as one float32 batch."""
        if self.paths:
            return np.stack([load_image(p, size) for p in self.paths])
        return np.zeros((0, *input_shape(size)), np.float32)


class Dataset:
    """A folder with MANIFEST.tsv (path, wnid, sha256, cnnx_split) and class_dict_10.json (wnid → index)."""

    def __init__(self, root):
        self.root = Path(root)
        manifest = self.root / "MANIFEST.tsv"
        classes = self.root / "class_dict_10.json"
        if not manifest.exists() or not classes.exists():
            raise FileNotFoundError(f"{self.root} is not a tiny-imagenet-10 folder (needs MANIFEST.tsv and "
                                    "class_dict_10.json); build one with 'python -m training.prepare_data'.")
        cd = json.loads(classes.read_text())
        self.wnids = [w for w, _ in sorted(cd.items(), key=lambda kv: kv[1]["index"])]
        self.index = {w: cd[w]["index"] for w in self.wnids}
        self.class_names = [DISPLAY_NAMES.get(w, cd[w]["class"].split(",")[0]) for w in self.wnids]
        with manifest.open(newline="") as f:
            self.rows = list(csv.DictReader(f, delimiter="\t"))

    def split(self, name: str, classes: list[int] | None = None, per_class: int | None = None) -> Split:
        """A split, optionally limited to some class indices and the first `per_class` images of each."""
        if name not in SPLITS:
            raise ValueError(f"Unknown split {name!r}; use one of {SPLITS}.")
        paths, labels, count = [], [], {}
        for r in self.rows:
            if r["cnnx_split"] != name:
                continue
            y = self.index[r["wnid"]]
            if classes is not None and y not in classes:
                continue
            if per_class is not None and count.get(y, 0) >= per_class:
                continue
            count[y] = count.get(y, 0) + 1
            paths.append(self.root / r["path"])
            labels.append(y)
        return Split(name, paths, np.asarray(labels, np.int64))


def default_root() -> Path:
    """$CNN101_DATA, else ../shared/data/tiny-imagenet-10 beside a source checkout."""
    import os

    env = os.environ.get("CNN101_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tiny-imagenet-10"
