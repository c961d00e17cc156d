"""Training one step at a time, so that a caller can pause, step once, resume or stop between steps (the
page's worker does), with exactly `fit`'s order of images: the same seed gives the same weights.

    s = Session(model, Adam(1e-3), xs, ys, batch_size=8, epochs=5, seed=0, validation=(xv, yv))
    while not s.done:
        info = s.step()              # {'step', 'epoch', 'loss', 'accuracy'} of the batch, before its step
    s.evaluate()                     # {'val_loss', 'val_accuracy'} (None without held-out images)

A step whose loss is not a number raises TrainingError and puts back the last good weights: those
before the last step that had a finite loss (the weights the bad step started from were already broken).
"""
from __future__ import annotations

import numpy as np

from .loop import evaluate
from .optimizers import Optimizer, TrainingError


def copy_weights(source, target) -> None:
    """Copy every parameter of `source` into `target` in place (same layers and shapes)."""
    for layer in target.layers:
        src = source.layer(layer.name).params
        for key, w in layer.params.items():
            if src[key].shape != w.shape:
                raise TrainingError(f"Layer {layer.name}'s {key} has shape {src[key].shape}, not {w.shape}: "
                                    "these weights belong to another network.")
            w[...] = src[key]


def _weights(model) -> dict:
    return {(layer.name, k): v.copy() for layer in model.layers for k, v in layer.params.items()}


class Session:
    def __init__(self, model, optimizer: Optimizer, xs, ys, batch_size: int = 32, epochs: int = 1,
                 seed: int = 0, validation=None):
        self.xs, self.ys = np.asarray(xs, np.float32), np.asarray(ys, np.int64)
        if len(self.xs) == 0 or len(self.xs) != len(self.ys):
            raise TrainingError(f"Give one label per image: {len(self.xs)} images and {len(self.ys)} labels.")
        if int(batch_size) < 1 or int(epochs) < 1:
            raise TrainingError("The batch size and the number of epochs must be at least 1.")
        self.model, self.optimizer = model, optimizer
        self.batch_size, self.epochs = int(batch_size), int(epochs)
        self.validation = validation if validation is not None and len(validation[0]) else None
        self.rng = np.random.default_rng(seed)
        self.epoch, self.steps = 0, 0
        self._order = self.rng.permutation(len(self.xs))
        self._at = 0
        self._good = _weights(model)  # the weights before the last step with a finite loss

    @property
    def steps_per_epoch(self) -> int:
        return -(-len(self.xs) // self.batch_size)

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.epochs

    @property
    def done(self) -> bool:
        return self.epoch >= self.epochs

    def step(self) -> dict:
        """One optimizer step on the next batch; the batch's loss and accuracy before the step."""
        if self.done:
            raise TrainingError("Training has finished; start again to train more.")
        idx = self._order[self._at:self._at + self.batch_size]
        before = _weights(self.model)
        try:
            loss = self.optimizer.step(self.model, self.xs[idx], self.ys[idx])
        except TrainingError:
            self.restore_good()
            raise
        self._good = before
        accuracy = float((self.optimizer.last_predicted == self.ys[idx]).mean())
        info = {"step": self.steps + 1, "epoch": self.epoch, "loss": float(loss), "accuracy": accuracy}
        self.steps += 1
        self._at += self.batch_size
        if self._at >= len(self.xs):
            self.epoch += 1
            self._at = 0
            if not self.done:
                self._order = self.rng.permutation(len(self.xs))
        return info

    def restore_good(self) -> None:
        for (name, key), w in self._good.items():
            self.model.layer(name).params[key][...] = w

    def evaluate(self) -> dict:
        if self.validation is None:
            return {"val_loss": None, "val_accuracy": None}
        loss, acc = evaluate(self.model, *self.validation)
        return {"val_loss": float(loss), "val_accuracy": float(acc)}


def holdout(ys, every: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(training indices, held-out indices): in each class, its 5th, 10th, … image (in the order given) is
    held out, so a class with fewer than `every` images gives none."""
    ys = np.asarray(ys)
    held = np.zeros(len(ys), bool)
    for c in np.unique(ys):
        where = np.flatnonzero(ys == c)
        held[where[every - 1::every]] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


__all__ = ["Session", "copy_weights", "holdout"]
