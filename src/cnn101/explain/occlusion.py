"""Occlusion: slide a grey patch over the image and watch the probability of one class drop.

No gradient is needed, so it is a sanity check for the gradient-based maps.

    occ = occlusion(model, x, target, size=8, stride=4)     # target: a class index or name
    occ.drops          # (rows, cols): p(target | x) − p(target | x with the patch at that position)
    occ.tops, occ.lefts  # the patch's top-left pixel for each row / column of `drops`
    occ.pixels         # (H, W): each pixel's mean drop over the patches that cover it, for overlays

Position (i, j) of `drops` puts a size×size patch (or (rows, cols)) of `value` with its top-left pixel at
(tops[i], lefts[j]) = (i·stride, j·stride). Patches stay inside the image, so there are
⌊(H − size) / stride⌋ + 1 rows of positions (the same rule as a 'valid' convolution) and likewise columns;
when the stride does not divide H − size evenly the last rows/columns of pixels are never covered
(`coverage` is 0 there and `pixels` holds 0). A positive drop means the patch hid something the class needed.

Positions run in batches. A patch changes only the cells whose window can see it, so for models
made of conv, ReLU and pooling layers before the flat ones, each layer recomputes just those cells from
the unoccluded trace (explain.local_forward): 16–19 ms for the 225 positions of an 8×8 patch at stride 4
on Tiny VGG in CPython, 74–79 ms in Pyodide, against 130–200 ms / 1.1–1.2 s for whole images. Models with a layer it
cannot localise run whole occluded images through `model.predict`. Either way the numbers
equal a loop calling `model.predict` once per position (to float32 rounding).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import PerturbError
from ..perturb import colour, image
from . import local_forward

BATCH = 32  # positions per local recomputation: amortises Python overhead (16 ms for 225 positions vs 25 ms at 8)
# Whole occluded images go one at a time: stacking them made each image slower (a 64×64 Tiny VGG trace leaves
# the cache), 207 ms in CPython for 225 positions in batches of 32 against 133 ms one by one; in Pyodide
# 1.8 s against 1.1 s (bench/bench_occlusion.py, shared machine).
WHOLE_BATCH = 1


@dataclass(frozen=True)
class OcclusionMap:
    """The result of `occlusion`: per-position probability drops and where each patch was."""

    target: int
    class_name: str
    size: tuple[int, int]  # patch (rows, cols)
    stride: tuple[int, int]
    value: np.ndarray  # the patch colour, one value per channel
    base: float  # p(target) without any patch
    probs: np.ndarray  # (rows, cols) float32: p(target) with the patch at each position
    tops: np.ndarray  # (rows,) top pixel row of the patch for each row of the map
    lefts: np.ndarray  # (cols,) left pixel column of the patch for each column of the map
    input_hw: tuple[int, int]

    @property
    def drops(self) -> np.ndarray:
        """(rows, cols) float32: base − probs; positive where the patch lowers the target's probability."""
        return (np.float32(self.base) - self.probs).astype(np.float32)

    @property
    def shape(self) -> tuple[int, int]:
        return self.probs.shape

    def __array__(self, dtype=None, copy=None):
        d = self.drops
        return d if dtype is None else d.astype(dtype)

    def patch(self, i: int, j: int) -> tuple[int, int, int, int]:
        """(top, left, rows, cols) of the patch at map position (i, j), in input pixels."""
        return int(self.tops[i]), int(self.lefts[j]), self.size[0], self.size[1]

    @property
    def coverage(self) -> np.ndarray:
        """(H, W) int: how many patch positions cover each input pixel."""
        h, w = self.input_hw
        rows = np.zeros(h, np.int64)
        cols = np.zeros(w, np.int64)
        for t in self.tops:
            rows[t:t + self.size[0]] += 1
        for left in self.lefts:
            cols[left:left + self.size[1]] += 1
        return rows[:, None] * cols[None, :]

    @property
    def pixels(self) -> np.ndarray:
        """(H, W) float32: each pixel's mean drop over the patches covering it (0 where none does)."""
        h, w = self.input_hw
        total = np.zeros((h, w), np.float64)
        d = self.drops.astype(np.float64)
        for i, t in enumerate(self.tops):
            for j, left in enumerate(self.lefts):
                total[t:t + self.size[0], left:left + self.size[1]] += d[i, j]
        cov = self.coverage
        return np.where(cov > 0, total / np.maximum(cov, 1), 0.0).astype(np.float32)


def _class_index(model, target) -> int:
    if isinstance(target, str):
        if target not in model.class_names:
            raise PerturbError(f"Unknown class {target!r}; the model's classes are: {', '.join(model.class_names)}.")
        return model.class_names.index(target)
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or not 0 <= target < model.num_classes:
        raise PerturbError(f"Class {target!r} does not exist; give a class name or an index from 0 to "
                           f"{model.num_classes - 1}.")
    return int(target)


def _positive_pair(v, what: str) -> tuple[int, int]:
    vals = tuple(v) if isinstance(v, (tuple, list, np.ndarray)) else (v, v)
    if len(vals) != 2 or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) or a < 1 for a in vals):
        raise PerturbError(f"The patch {what} must be a whole number of pixels of at least 1 (or two of them: "
                           f"rows, columns), got {v!r}.")
    return int(vals[0]), int(vals[1])


def positions(input_hw, size, stride) -> tuple[np.ndarray, np.ndarray]:
    """(tops, lefts): the patch's top-left rows and columns, every `stride` pixels, patches inside the image."""
    (h, w), (sh, sw), (th, tw) = input_hw, _positive_pair(size, "size"), _positive_pair(stride, "stride")
    if sh > h or sw > w:
        raise PerturbError(f"A {sh}×{sw} patch does not fit the {h}×{w} image; choose a smaller patch.")
    return np.arange(0, h - sh + 1, th), np.arange(0, w - sw + 1, tw)


def occlusion(model, x, target, size, stride, value=0.5) -> OcclusionMap:
    """Slide a size×size patch of colour `value` over x in steps of `stride`; for each position, how much the
    probability of class `target` (an index or a name) drops. See the module's docstring for the layout."""
    a = image(x)
    if a.shape != tuple(model.input_shape):
        raise PerturbError(f"The image is {a.shape} but the model takes {tuple(model.input_shape)}; "
                           "use cnn101.load_image(source, model).")
    k = _class_index(model, target)
    sh, sw = _positive_pair(size, "size")
    st = _positive_pair(stride, "stride")
    fill = colour(value, a.shape[2], "patch")
    tops, lefts = positions(a.shape[:2], (sh, sw), st)
    trace = model.trace(a)
    base = float(trace.probs[k])
    coords = [(t, left) for t in tops for left in lefts]
    probs = np.empty(len(coords), np.float32)
    local = local_forward.plan(model) is not None
    step = BATCH if local else WHOLE_BATCH
    for start in range(0, len(coords), step):
        chunk = coords[start:start + step]
        if local:  # recompute only the cells each patch can reach
            patches = np.broadcast_to(fill, (len(chunk), sh, sw, a.shape[2]))
            p = local_forward.probabilities(model, a, trace, [c[0] for c in chunk], [c[1] for c in chunk],
                                            (sh, sw), patches)
        else:
            batch = np.repeat(a[None], len(chunk), axis=0)
            for n, (t, left) in enumerate(chunk):
                batch[n, t:t + sh, left:left + sw] = fill
            p = model.predict(batch)
        probs[start:start + len(chunk)] = p[:, k]
    return OcclusionMap(k, model.class_names[k], (sh, sw), st, fill, base,
                        probs.reshape(len(tops), len(lefts)), tops, lefts, (a.shape[0], a.shape[1]))


__all__ = ["OcclusionMap", "occlusion", "positions"]
