"""Training data as arrays, decoded by cnn101.load_image (the app's own preprocessing), and augmentation.

Augmentation is NumPy with an explicit Generator, so a seed fixes every epoch's pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn101.dataset import Dataset


@dataclass
class Arrays:
    """One split as a float32 batch (N, H, W, 3) in [0, 1] and int64 labels."""

    x: np.ndarray
    y: np.ndarray


def load_splits(root, size=64, classes=None, per_class=None, splits=("train", "cnnx_val", "cnnx_test")):
    """{split name: Arrays}, optionally limited to some class indices and the first `per_class` of each.

    With `classes`, labels are re-numbered 0..len(classes)-1 in the given order.
    """
    ds = Dataset(root)
    out = {}
    for name in splits:
        s = ds.split(name, classes=classes, per_class=per_class)
        y = s.labels
        if classes is not None:
            remap = {c: i for i, c in enumerate(classes)}
            y = np.asarray([remap[int(v)] for v in y], np.int64)
        out[name] = Arrays(s.images(size), y)
    return ds, out


@dataclass(frozen=True)
class Augment:
    """What to vary per image and epoch. All off = the images as they are."""

    flip: bool = True          # horizontal flip with probability 1/2
    shift: int = 0             # pad by `shift` pixels (reflect) and crop back at a random offset
    brightness: float = 0.0    # add U(−b, b) to all channels
    contrast: float = 0.0      # scale the deviation from the image mean by U(1−c, 1+c)
    saturation: float = 0.0    # scale the deviation from the grey value by U(1−s, 1+s)

    def as_dict(self):
        return dict(flip=self.flip, shift=self.shift, brightness=self.brightness, contrast=self.contrast,
                    saturation=self.saturation)


def augment(x: np.ndarray, aug: Augment, rng: np.random.Generator) -> np.ndarray:
    """A randomly varied copy of the batch x (N, H, W, 3); the input is never modified.

    The plain reference; training uses `EpochImages`, which gives the same pixels for the same draws.
    """
    n, h, w, _ = x.shape
    out = x.copy()
    if aug.flip:
        f = rng.random(n) < 0.5
        out[f] = out[f, :, ::-1]
    if aug.shift:
        s = aug.shift
        padded = np.pad(out, ((0, 0), (s, s), (s, s), (0, 0)), mode="reflect")
        dy = rng.integers(0, 2 * s + 1, n)
        dx = rng.integers(0, 2 * s + 1, n)
        for i in range(n):
            out[i] = padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
    if aug.saturation:
        grey = out.mean(axis=3, keepdims=True)
        k = rng.uniform(1 - aug.saturation, 1 + aug.saturation, (n, 1, 1, 1)).astype(np.float32)
        out = grey + (out - grey) * k
    if aug.contrast:
        mean = out.mean(axis=(1, 2, 3), keepdims=True)
        k = rng.uniform(1 - aug.contrast, 1 + aug.contrast, (n, 1, 1, 1)).astype(np.float32)
        out = mean + (out - mean) * k
    if aug.brightness:
        out = out + rng.uniform(-aug.brightness, aug.brightness, (n, 1, 1, 1)).astype(np.float32)
    if aug.saturation or aug.contrast or aug.brightness:
        np.clip(out, 0, 1, out=out)
    return out.astype(np.float32, copy=False)


def to_uint8(x: np.ndarray) -> np.ndarray:
    """The exact uint8 pixels behind load_image's float32 x = u8 / 255."""
    return np.rint(x * np.float32(255)).astype(np.uint8)


class EpochImages:
    """Augmented epochs of a fixed image set, fast: uint8 pixels reflect-padded once, one crop per image
    (a flip is a mirrored crop of the padded image, since reflect padding commutes with flipping), and
    one float32 buffer reused every epoch. `epoch(order, rng)` equals `augment(x[order], aug, rng)`."""

    def __init__(self, x: np.ndarray, aug: Augment):
        self.aug = aug
        self.n, self.h, self.w, c = x.shape
        s = aug.shift
        u8 = to_uint8(x)
        self.padded = np.pad(u8, ((0, 0), (s, s), (s, s), (0, 0)), mode="reflect") if s else u8
        self._u8 = np.empty((self.n, self.h, self.w, c), np.uint8)
        self._f32 = np.empty((self.n, self.h, self.w, c), np.float32)

    def epoch(self, order: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The images in `order`, augmented with draws from rng; the returned buffer is reused next epoch."""
        aug, n, h, w, s = self.aug, len(order), self.h, self.w, self.aug.shift
        flip = rng.random(n) < 0.5 if aug.flip else np.zeros(n, bool)
        dy = rng.integers(0, 2 * s + 1, n) if s else np.zeros(n, np.int64)
        dx = rng.integers(0, 2 * s + 1, n) if s else np.zeros(n, np.int64)
        u8 = self._u8[:n]
        for i, j in enumerate(order):
            if flip[i]:  # crop(pad(flip(x)), dy, dx) = flip(crop(pad(x), dy, 2s − dx))
                x0 = 2 * s - dx[i]
                u8[i] = self.padded[j, dy[i]:dy[i] + h, x0:x0 + w][:, ::-1]
            else:
                u8[i] = self.padded[j, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        out = np.divide(u8, np.float32(255), out=self._f32[:n], dtype=np.float32)
        if aug.saturation or aug.contrast or aug.brightness:
            rest = Augment(flip=False, shift=0, brightness=aug.brightness, contrast=aug.contrast,
                           saturation=aug.saturation)
            out[...] = augment(out, rest, rng)
        return out
