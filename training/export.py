"""Trained Keras model → cnn101 engine model (via the .keras file, checked against the live weights),
evaluation with the NumPy engine, the model card, and shipping the best run by cnnx_val.

    python -m training.export runs/seed0 runs/seed1 runs/seed2 --to weights

writes weights/tiny-vgg.json + .npz (our format) and weights/tfjs/ (TF.js layers-model) from the run with
the best cnnx_val accuracy; the card lists every run's figures.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

import cnn101
from cnn101.engine import Sequential
from cnn101.formats import tfjs

MODEL_NAME = "tiny-vgg"
PREPROCESSING = ("cnn101.load_image(path, 64): decode with Pillow (first frame), apply EXIF orientation, "
                 "composite transparency on white, convert to RGB, resize (bilinear) so the shorter side is 64, "
                 "centre-crop 64×64, divide by 255 → float32 in [0, 1]; no mean/std normalisation.")


def manifest_sha256(root) -> str:
    """sha256 of the dataset's MANIFEST.tsv (which lists every image's own sha256)."""
    return hashlib.sha256((Path(root) / "MANIFEST.tsv").read_bytes()).hexdigest()


def engine_from_keras(keras_path, keras_model, class_names) -> Sequential:
    """Read the saved .keras file with cnn101 (no TensorFlow) and check every weight against the live model."""
    m = cnn101.load_model(keras_path, class_names=class_names)
    live = {layer.name: layer.get_weights() for layer in keras_model.layers if layer.get_weights()}
    ours = {layer.name: [layer.params["kernel"], layer.params["bias"]] for layer in m.layers if layer.params}
    if set(live) != set(ours):
        raise RuntimeError(f"cnn101 read layers {sorted(ours)} from {keras_path}, Keras has {sorted(live)}.")
    for name, ws in live.items():
        for a, b in zip(ws, ours[name]):
            if a.shape != b.shape or not np.array_equal(a, b):
                raise RuntimeError(f"cnn101 read different weights for layer '{name}' from {keras_path}.")
    return Sequential(m.layers, m.input_shape, class_names, MODEL_NAME, {})


def predict(model: Sequential, x: np.ndarray, batch: int = 250) -> np.ndarray:
    """Class probabilities of the NumPy engine, in batches (the conv keeps a k·k·C_out copy of its input)."""
    return np.concatenate([model.predict(x[i:i + batch]) for i in range(0, len(x), batch)]) if len(x) else \
        np.zeros((0, model.num_classes), np.float32)


def evaluate(model: Sequential, x: np.ndarray, y: np.ndarray, class_names) -> dict:
    """Accuracy, per-class accuracy and confusion matrix (rows: true class, columns: predicted)."""
    pred = predict(model, x).argmax(1) if len(x) else np.zeros(0, np.int64)
    k = len(class_names)
    conf = np.zeros((k, k), np.int64)
    np.add.at(conf, (y, pred), 1)
    n = conf.sum(1)
    return {
        "n": int(len(y)),
        "correct": int(np.trace(conf)),
        "accuracy": float(np.trace(conf) / max(len(y), 1)),
        "per_class_accuracy": {c: (float(conf[i, i] / n[i]) if n[i] else None) for i, c in enumerate(class_names)},
        "confusion_matrix": conf.tolist(),
    }


def _seed_summary(r: dict) -> dict:
    return {"seed": r["seed"], "selected_epoch": r["selected_epoch"], "cnnx_val_accuracy": r["cnnx_val_accuracy"],
            "cnnx_test_accuracy": r["cnnx_test_accuracy"], "train_accuracy": r["train_accuracy"],
            "train_seconds": r["seconds"]["train"], "seconds_per_epoch": r["seconds"]["per_epoch"]}


def attach_card(model: Sequential, record: dict, runs: list[dict] | None = None) -> None:
    """Put the model card fields into model.card (the native writer keeps them)."""
    runs = runs or [record]
    tests = [r["cnnx_test_accuracy"] for r in runs]
    model.card.clear()
    model.card.update({
        "description": "Tiny VGG trained by cnn101's training pipeline (training/) on the ten Tiny ImageNet classes "
                       "of CNN Explainer.",
        "architecture": record["architecture"],
        "preprocessing": PREPROCESSING,
        "dataset": {"name": "tiny-imagenet-10", "manifest_sha256": record["dataset_manifest_sha256"],
                    "train": "train (500 per class)", "selection": "cnnx_val", "evaluation": "cnnx_test"},
        "training": record["config"],
        "seed": record["seed"],
        "selected_epoch": record["selected_epoch"],
        "tensorflow_version": record["tensorflow_version"],
        "keras_version": record["keras_version"],
        "cnnx_val_accuracy": record["cnnx_val_accuracy"],
        "cnnx_test_accuracy": record["cnnx_test_accuracy"],
        "evaluation": {s: record["figures"][s] for s in ("cnnx_val", "cnnx_test")},
        "train_accuracy": record["train_accuracy"],
        "evaluated_with": "cnn101 NumPy engine",
        "selection": f"best cnnx_val accuracy of {len(runs)} run(s); checkpoint (epoch) chosen by cnnx_val",
        "seeds": [_seed_summary(r) for r in runs],
        "mean_cnnx_test_accuracy": float(np.mean(tests)),
    })


def ship(run_dirs, to) -> Path:
    """Copy the best run by cnnx_val (ties: lower seed) into `to` with a card listing every run."""
    runs = [json.loads((Path(d) / "run.json").read_text()) for d in run_dirs]
    dirs = dict(zip([id(r) for r in runs], map(Path, run_dirs)))
    best = max(runs, key=lambda r: (r["cnnx_val_accuracy"], -r["seed"]))
    model = cnn101.load_model(dirs[id(best)] / f"{MODEL_NAME}.json")
    attach_card(model, best, runs)
    to = Path(to)
    model.save(to / MODEL_NAME)
    tf_dir = to / "tfjs"
    if tf_dir.exists():
        shutil.rmtree(tf_dir)
    tfjs.save(model, tf_dir)
    return to / f"{MODEL_NAME}.json"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", type=Path, help="run folders written by training.train")
    p.add_argument("--to", type=Path, default=Path("weights"))
    a = p.parse_args(argv)
    card = ship(a.runs, a.to)
    m = cnn101.load_model(card)
    print(f"shipped seed {m.card['seed']} to {card}: cnnx_val {m.card['cnnx_val_accuracy']:.3f}, "
          f"cnnx_test {m.card['cnnx_test_accuracy']:.3f}; mean cnnx_test over {len(m.card['seeds'])} runs "
          f"{m.card['mean_cnnx_test_accuracy']:.3f}")


if __name__ == "__main__":
    main()
