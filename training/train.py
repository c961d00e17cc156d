"""One training run: train on `train`, pick the checkpoint by `cnnx_val`, evaluate `cnnx_test` once.

    python -m training.train --seed 0 --out runs/seed0 [--data DIR] [--epochs 60] [...]

Writes into --out: run.json (config, per-epoch history, timings, figures), model.keras (the chosen
checkpoint) and tiny-vgg.json/.npz (the same model in cnn101's format, with its model card).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from cnn101.dataset import default_root

from .data import Augment, EpochImages, load_splits


@dataclass
class Config:
    seed: int = 0
    epochs: int = 60
    batch_size: int = 32
    optimizer: str = "adamw"         # adam | adamw | sgd (momentum 0.9, nesterov)
    lr: float = 3e-3
    weight_decay: float = 1e-4       # decoupled (AdamW / SGD); ignored by adam
    schedule: str = "cosine"         # constant | cosine (to 0, after `warmup` epochs of linear warm-up)
    warmup: int = 2
    label_smoothing: float = 0.0
    augment: Augment = field(default_factory=lambda: Augment(flip=True, shift=6))
    classes: list[int] | None = None  # limit to these class indices (tiny CI runs)
    per_class: int | None = None      # limit to the first N images per class in every split

    def as_dict(self):
        d = asdict(self)
        d["augment"] = self.augment.as_dict()
        return d


def _setup_tf(seed: int):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:  # pragma: no cover - older TF
        pass
    return tf


def _optimizer(cfg: Config, steps_per_epoch: int):
    import keras

    total = cfg.epochs * steps_per_epoch
    warm = min(cfg.warmup * steps_per_epoch, total)
    if cfg.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(
            0.0 if warm else cfg.lr, max(total - warm, 1), alpha=0.0,
            warmup_target=cfg.lr if warm else None, warmup_steps=warm)
    elif cfg.schedule == "constant":
        lr = cfg.lr
    else:
        raise ValueError(f"unknown schedule {cfg.schedule!r}")
    if cfg.optimizer == "adam":
        return keras.optimizers.Adam(lr)
    if cfg.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay or None)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}")


def _scores(probs: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of predicted probabilities."""
    p = np.clip(probs[np.arange(len(y)), y], 1e-12, 1.0)
    return float(np.mean(probs.argmax(1) == y)), float(-np.mean(np.log(p)))


def run(cfg: Config, data_root, out_dir, log=print) -> dict:
    """Train, select by cnnx_val, evaluate cnnx_test once, export; returns the run record (also run.json)."""
    t_start = time.perf_counter()
    tf = _setup_tf(cfg.seed)
    import keras

    from . import export
    from .model import ARCHITECTURE, tiny_vgg

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ds, splits = load_splits(data_root, 64, cfg.classes, cfg.per_class)
    train, val = splits["train"], splits["cnnx_val"]
    load_s = time.perf_counter() - t0
    names = [ds.class_names[c] for c in cfg.classes] if cfg.classes is not None else ds.class_names
    k = len(names)
    log(f"data: {len(train.y)} train, {len(val.y)} cnnx_val, {len(splits['cnnx_test'].y)} cnnx_test "
        f"images of {k} classes from {data_root} ({load_s:.1f} s)")

    model = tiny_vgg(train.x.shape[1:], k)
    steps = math.ceil(len(train.y) / cfg.batch_size)
    model.compile(optimizer=_optimizer(cfg, steps),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing))
    rng = np.random.default_rng(cfg.seed)
    epochs = EpochImages(train.x, cfg.augment)
    onehot = np.eye(k, dtype=np.float32)
    history, best, best_weights = [], None, None
    t_train = time.perf_counter()
    for epoch in range(cfg.epochs):
        te = time.perf_counter()
        order = rng.permutation(len(train.y))
        xb = epochs.epoch(order, rng)  # = data.augment(train.x[order], cfg.augment, rng), faster
        h = model.fit(xb, onehot[train.y[order]], batch_size=cfg.batch_size, epochs=1, shuffle=False, verbose=0)
        val_acc, val_loss = _scores(model.predict(val.x, batch_size=500, verbose=0), val.y)
        rec = {"epoch": epoch + 1, "train_loss": float(h.history["loss"][-1]), "val_acc": val_acc,
               "val_loss": val_loss, "seconds": round(time.perf_counter() - te, 2)}
        history.append(rec)
        # Checkpoint selection by cnnx_val only: higher accuracy, then lower loss.
        if best is None or (val_acc, -val_loss) > (best["val_acc"], -best["val_loss"]):
            best, best_weights = rec, model.get_weights()
        log(f"epoch {epoch + 1:3d}/{cfg.epochs}  loss {rec['train_loss']:.4f}  cnnx_val {val_acc:.3f} "
            f"(loss {val_loss:.3f})  {rec['seconds']:.1f} s")
    train_s = time.perf_counter() - t_train
    model.set_weights(best_weights)
    keras_path = out_dir / "model.keras"
    model.save(keras_path)

    # The finished model, evaluated once on cnnx_test — by the NumPy engine (the figures we ship) and by Keras.
    engine_model = export.engine_from_keras(keras_path, model, names)
    figures = {s: export.evaluate(engine_model, a.x, a.y, names) for s, a in splits.items()}
    keras_test_acc, _ = _scores(model.predict(splits["cnnx_test"].x, batch_size=500, verbose=0), splits["cnnx_test"].y)
    record = {
        "seed": cfg.seed,
        "config": cfg.as_dict(),
        "architecture": ARCHITECTURE,
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "data_root": str(data_root),
        "dataset_manifest_sha256": export.manifest_sha256(data_root),
        "selected_epoch": best["epoch"],
        "cnnx_val_accuracy": figures["cnnx_val"]["accuracy"],
        "cnnx_test_accuracy": figures["cnnx_test"]["accuracy"],
        "train_accuracy": figures["train"]["accuracy"],
        "keras_cnnx_test_accuracy": keras_test_acc,
        "figures": figures,
        "history": history,
        "seconds": {"load": round(load_s, 1), "train": round(train_s, 1),
                    "per_epoch": round(train_s / max(cfg.epochs, 1), 2),
                    "total": round(time.perf_counter() - t_start, 1)},
        "threads": os.cpu_count(),
    }
    export.attach_card(engine_model, record)
    engine_model.save(out_dir / "tiny-vgg")
    (out_dir / "run.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    log(f"selected epoch {best['epoch']}: cnnx_val {record['cnnx_val_accuracy']:.3f}, "
        f"cnnx_test {record['cnnx_test_accuracy']:.3f} (Keras {keras_test_acc:.3f}); "
        f"{record['seconds']['total']:.0f} s in all")
    return record


def parse_args(argv=None) -> tuple[Config, Path, Path]:
    d = Config()
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--data", type=Path, default=None, help="a tiny-imagenet-10 folder (default: $CNN101_DATA "
                   "or ../shared/data/tiny-imagenet-10)")
    p.add_argument("--out", type=Path, required=True, help="folder for run.json, model.keras and the exported model")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--optimizer", choices=("adam", "adamw", "sgd"), default=d.optimizer)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--schedule", choices=("constant", "cosine"), default=d.schedule)
    p.add_argument("--warmup", type=int, default=d.warmup, help="epochs of linear warm-up (cosine schedule)")
    p.add_argument("--label-smoothing", type=float, default=d.label_smoothing)
    a0 = d.augment
    p.add_argument("--no-flip", action="store_true", help="no horizontal flips")
    p.add_argument("--shift", type=int, default=a0.shift, help="random crop after reflect-padding by this many pixels")
    p.add_argument("--brightness", type=float, default=a0.brightness)
    p.add_argument("--contrast", type=float, default=a0.contrast)
    p.add_argument("--saturation", type=float, default=a0.saturation)
    p.add_argument("--classes", type=lambda s: [int(c) for c in s.split(",")], default=None,
                   help="comma-separated class indices to use (for quick trials)")
    p.add_argument("--per-class", type=int, default=None, help="use only the first N images per class and split")
    a = p.parse_args(argv)
    cfg = Config(seed=a.seed, epochs=a.epochs, batch_size=a.batch_size, optimizer=a.optimizer, lr=a.lr,
                 weight_decay=a.weight_decay, schedule=a.schedule, warmup=a.warmup,
                 label_smoothing=a.label_smoothing,
                 augment=Augment(flip=not a.no_flip, shift=a.shift, brightness=a.brightness,
                                 contrast=a.contrast, saturation=a.saturation),
                 classes=a.classes, per_class=a.per_class)
    return cfg, (a.data or default_root()), a.out


def main(argv=None):
    cfg, data, out = parse_args(argv)
    if not (Path(data) / "MANIFEST.tsv").exists():
        raise SystemExit(f"No tiny-imagenet-10 folder at {data}. Pass --data DIR, set CNN101_DATA, or build one "
                         "with 'python -m training.prepare_data --source tiny-imagenet-200.zip --out DIR'.")
    run(cfg, data, out)


if __name__ == "__main__":
    main()
