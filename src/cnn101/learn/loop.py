"""A training loop over NumPy arrays: seeded shuffling, mini-batches, held-out evaluation, callbacks.

    history = fit(model, xs, ys, Adam(1e-3), epochs=5, batch_size=32, seed=0, validation=(xv, yv),
                  callback=lambda step, info: print(step, info["loss"]), every=10)
    history.loss, history.val_loss, history.val_accuracy      # per epoch
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .optimizers import Optimizer, TrainingError


@dataclass
class History:
    """Per epoch: the mean training loss (each batch's loss before its step) and, with held-out data, its
    loss and accuracy after the epoch. `steps` counts optimizer steps."""

    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)  # training accuracy of each batch before its step, averaged
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    steps: int = 0
    stopped: str | None = None  # why training stopped early (a callback returned False)


def evaluate(model, xs, ys, batch_size: int = 64) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of the model on labelled images, in batches."""
    xs, ys = np.asarray(xs, np.float32), np.asarray(ys)
    if len(xs) == 0:
        raise TrainingError("There are no images to evaluate on.")
    total, correct = 0.0, 0
    for i in range(0, len(xs), batch_size):
        z = model.trace(xs[i:i + batch_size]).logits.astype(np.float64)
        y = ys[i:i + batch_size]
        m = z.max(axis=1, keepdims=True)
        logp = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
        total += float(-logp[np.arange(len(y)), y].sum())
        correct += int((z.argmax(axis=1) == y).sum())
    return total / len(xs), correct / len(xs)


def fit(model, xs, ys, optimizer: Optimizer, epochs: int = 1, batch_size: int = 32, seed: int = 0,
        validation=None, callback=None, every: int = 1) -> History:
    """Train in place. Each epoch visits every image once in an order drawn from `seed` (same seed, same
    order). `callback(step, info)` runs every `every` steps with info = {'epoch', 'loss', 'accuracy'};
    returning False stops training."""
    xs, ys = np.asarray(xs, np.float32), np.asarray(ys, np.int64)
    if len(xs) == 0 or len(xs) != len(ys):
        raise TrainingError(f"Give one label per image: {len(xs)} images and {len(ys)} labels.")
    if int(batch_size) < 1 or int(epochs) < 1:
        raise TrainingError("The batch size and the number of epochs must be at least 1.")
    rng = np.random.default_rng(seed)
    history = History()
    for epoch in range(int(epochs)):
        order = rng.permutation(len(xs))
        losses, hits, seen = [], [], 0
        for i in range(0, len(xs), int(batch_size)):
            idx = order[i:i + int(batch_size)]
            losses.append(optimizer.step(model, xs[idx], ys[idx]) * len(idx))
            hits.append(int((optimizer.last_predicted == ys[idx]).sum()))
            seen += len(idx)
            history.steps += 1
            if callback is not None and history.steps % max(1, int(every)) == 0:
                info = {"epoch": epoch, "loss": losses[-1] / len(idx), "accuracy": hits[-1] / len(idx)}
                if callback(history.steps, info) is False:
                    history.stopped = f"the callback stopped training at step {history.steps}"
                    break
        history.loss.append(sum(losses) / seen)
        history.accuracy.append(sum(hits) / seen)
        if validation is not None:
            vl, va = evaluate(model, *validation)
            history.val_loss.append(vl)
            history.val_accuracy.append(va)
        if history.stopped:
            break
    return history


__all__ = ["History", "evaluate", "fit"]
