"""What crosses between a page and the Web Worker that trains for it: plain bytes and JSON in, plain bytes
and JSON out, every number computed here (the worker's JavaScript only passes messages).

    job = Job(card, npz, xs_bytes, xs_shape, ys, xv_bytes, xv_shape, yv, settings_json)
    report = job.advance(4)          # JSON: the steps' losses and accuracies, the held-out figures
    npz = job.weights()              # the weights now (our .npz), for the page to show
"""
from __future__ import annotations

import json
import time

import numpy as np

from ..formats.native import model_bytes, model_from_bytes
from .optimizers import SGD, Adam, TrainingError
from .session import Session
from .setup import freeze

OPTIMIZERS = ("adam", "sgd")
LAYERS = ("head", "all")
MAX_BATCH, MAX_EPOCHS = 256, 500


def check_settings(settings: dict) -> dict:
    """The settings with their defaults, or TrainingError saying which one is wrong."""
    s = {"optimizer": "adam", "learning_rate": 0.001, "momentum": 0.9, "batch_size": 8, "epochs": 10,
         "train": "head", "seed": 0, **(settings or {})}
    if s["optimizer"] not in OPTIMIZERS:
        raise TrainingError(f"Choose the optimizer: {' or '.join(OPTIMIZERS)}.")
    if s["train"] not in LAYERS:
        raise TrainingError("Choose which layers train: the output layer only ('head') or the whole network ('all').")
    try:
        lr = float(s["learning_rate"])
    except (TypeError, ValueError):
        lr = float("nan")
    if not (lr > 0 and np.isfinite(lr)):
        raise TrainingError("The learning rate must be a positive number, such as 0.001.")
    for key, top, what in (("batch_size", MAX_BATCH, "batch size"), ("epochs", MAX_EPOCHS, "number of epochs")):
        try:
            v = int(s[key])
        except (TypeError, ValueError):
            v = 0
        if not 1 <= v <= top or v != s[key]:
            raise TrainingError(f"The {what} must be a whole number from 1 to {top}.")
    s["learning_rate"] = lr
    return s


def optimizer_for(settings: dict):
    s = check_settings(settings)
    if s["optimizer"] == "adam":
        return Adam(s["learning_rate"])
    return SGD(s["learning_rate"], momentum=float(s["momentum"]))


def prepare(model, settings: dict) -> None:
    """Freeze what the settings leave untrained (head: every layer but the logits layer)."""
    s = check_settings(settings)
    freeze(model, [layer.name for layer in model.layers], trainable=True)
    if s["train"] == "head":
        freeze(model)


def session_for(model, settings: dict, xs, ys, validation=None) -> Session:
    s = check_settings(settings)
    prepare(model, s)
    return Session(model, optimizer_for(s), xs, ys, s["batch_size"], s["epochs"], int(s["seed"]), validation)


def _raw(data) -> bytes:
    """bytes from bytes, or from a JavaScript Uint8Array / ArrayBuffer as Pyodide hands it over."""
    return data.to_bytes() if hasattr(data, "to_bytes") else bytes(data)


def _images(data, shape) -> np.ndarray:
    shape = tuple(int(d) for d in shape)
    return np.frombuffer(_raw(data), "<f4").reshape(shape).astype(np.float32)


class Job:
    """A training run held by the worker: the model from our format's bytes, the images as float32 bytes."""

    def __init__(self, card: bytes, npz: bytes, xs: bytes, xs_shape, ys, xv: bytes, xv_shape, yv, settings: str):
        self.model = model_from_bytes(_raw(card), _raw(npz))
        train = (_images(xs, xs_shape), np.asarray([int(y) for y in ys], np.int64))
        held = None
        if int(xv_shape[0]) > 0:
            held = (_images(xv, xv_shape), np.asarray([int(y) for y in yv], np.int64))
        self.session = session_for(self.model, json.loads(settings), *train, validation=held)

    def advance(self, n: int = 1) -> str:
        """Up to n steps (fewer at the end); JSON: {'steps': [...], 'done', 'epoch', 'total_steps',
        'val_loss', 'val_accuracy', 'error'}. A loss that is not a number stops with the last good weights."""
        steps, error = [], None
        try:
            for _ in range(int(n)):
                if self.session.done:
                    break
                t0 = time.perf_counter()
                info = self.session.step()
                info["seconds"] = time.perf_counter() - t0  # forward + backward + update (benchmarks)
                steps.append(info)
        except TrainingError as exc:
            error = str(exc)
        report = {"steps": steps, "done": self.session.done, "epoch": self.session.epoch, "step": self.session.steps,
                  "total_steps": self.session.total_steps, "error": error, **self.session.evaluate()}
        return json.dumps(report)

    def weights(self) -> bytes:
        return model_bytes(self.model)[1]


__all__ = ["Job", "check_settings", "optimizer_for", "prepare", "session_for", "OPTIMIZERS", "LAYERS"]
