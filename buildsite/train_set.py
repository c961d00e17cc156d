"""The training set of "Watch it learn from scratch": images copied byte for byte from the dataset's
training split (and held-out images from its cnnx_val split) into train-set/, with an index.

Read at build time from the dataset folder (never committed). The service worker does not precache them:
they are fetched when the learner asks to train from scratch, so a first visit stays small.
"""
from __future__ import annotations

from pathlib import Path

from .examples import _slug

PREFIX = "train-set/"


def choose_train_set(data: Path | None, per_class: int = 40, held_per_class: int = 10,
                     log=print) -> tuple[dict[str, Path], dict | None]:
    """(plan: 'train-set/<file>' -> source path, index.json content or None without a dataset)."""
    from cnn101.dataset import Dataset

    try:
        ds = Dataset(data) if data is not None else None
    except FileNotFoundError:
        ds = None
    if ds is None:
        log(f"train-set: no dataset with MANIFEST.tsv at {data}: 'Watch it learn from scratch' is not offered")
        return {}, None
    plan: dict[str, Path] = {}
    index = {"version": 1, "classes": ds.class_names, "train": [], "held": []}
    for split, n, key in (("train", per_class, "train"), ("cnnx_val", held_per_class, "held")):
        s = ds.split(split, per_class=n)
        count: dict[int, int] = {}
        for path, y in zip(s.paths, s.labels.tolist()):
            count[y] = count.get(y, 0) + 1
            name = f"{key}-{_slug(ds.class_names[y])}-{count[y]}{path.suffix.lower().replace('.jpeg', '.jpg')}"
            plan[PREFIX + name] = path
            index[key].append([name, int(y)])
    log(f"train-set: {len(index['train'])} training and {len(index['held'])} held-out images from {data}")
    return plan, index
