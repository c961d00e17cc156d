"""Class probabilities of many copies of one image that differ from it only inside a small rectangle each
(an occluding patch), without running the whole network on every copy.

A conv or pool output cell depends only on the input cells under its window, so when the input changes
inside a rectangle, only the output cells whose window touches it change; a ReLU changes exactly where its
input did. Layer by layer this module recomputes just that span of cells — from the unchanged image's
activations around it, with the layer's own arithmetic run 'valid' on the crop — and keeps every other
cell from the unchanged image's trace. After the last H×W×C layer the rest of the network (flatten,
dense …) runs on whole arrays. The results equal full forward passes up to float32 rounding (the same
products, summed in the same order; only BLAS's blocking may differ).

All copies' spans have the same size (a span touching the far edge is moved inward rather than cut),
so each layer runs once per batch of copies.
"""
from __future__ import annotations

import numpy as np

from ..engine.layers import Conv2D, MaxPool2D, ReLU, Softmax, softmax
from .geometry import WindowGeometry


class _Step:
    """One H×W×C layer: how a changed span of its input maps to a changed span of its output."""

    def __init__(self, layer, in_shape):
        self.layer = layer
        self.pointwise = isinstance(layer, ReLU)
        if not self.pointwise:
            g = WindowGeometry.of(layer, in_shape)
            self.k, self.s, self.out = g.size, g.strides, g.output_hw
            self.before = (g.pad[0], g.pad[2])
            self.pad = g.pad  # (top, bottom, left, right)
            self.fill = 0.0 if isinstance(layer, Conv2D) else -np.inf
            if isinstance(layer, Conv2D):  # the same kernel object: an edit made before the call is seen
                self.valid = Conv2D(layer.name, layer.kernel, layer.bias, layer.strides, "valid")
            else:
                self.valid = MaxPool2D(layer.name, layer.pool_size, layer.strides, "valid")

    def span(self, a: np.ndarray, length: int, axis: int) -> tuple[np.ndarray, int]:
        """Output spans (first cells, common length) covering every output whose window meets input cells
        [a, a + length) along `axis`."""
        k, s, p, out = self.k[axis], self.s[axis], self.before[axis], self.out[axis]
        lo = np.maximum(0, -(-(a + p - k + 1) // s))
        hi = np.minimum(out - 1, (a + length - 1 + p) // s)
        n = int(min(out, max(1, int((hi - lo).max()) + 1)))
        return np.minimum(lo, out - n), n


def plan(model):
    """(steps over the leading H×W×C layers, the remaining layers), or None when a layer is not one this
    module knows how to localise (then run the model in full)."""
    steps = []
    layers = list(model.layers)
    for i, layer in enumerate(layers):
        if len(model.shapes[layer.name]) != 3:
            return steps, layers[i:]
        if not isinstance(layer, (Conv2D, MaxPool2D, ReLU)):
            return None
        steps.append(_Step(layer, model.shapes[model.previous(layer.name)]))
    return None  # a classifier ends flat; anything else is left to the full forward pass


def probabilities(model, x: np.ndarray, base, tops, lefts, size, values) -> np.ndarray:
    """(N, classes) probabilities of x with rectangle n, rows [tops[n], tops[n] + size[0]) × cols
    [lefts[n], lefts[n] + size[1]) (inside the image), replaced by values[n] ((N, size[0], size[1], C)).
    `base` is model.trace(x) of the unchanged image."""
    steps, rest = plan(model)
    rows, cols = np.asarray(tops, np.int64), np.asarray(lefts, np.int64)
    nr, nc = size
    new = np.asarray(values, np.float32)
    n_copies = len(rows)
    prev = "input"
    for step in steps:
        layer = step.layer
        if step.pointwise:
            new = layer.forward(new)
        else:
            r0, nr_out = step.span(rows, nr, 0)
            c0, nc_out = step.span(cols, nc, 1)
            (pt, pl), (kh, kw), (sh, sw) = step.before, step.k, step.s
            src = np.asarray(base[prev], np.float32)
            h, w, ch = src.shape
            ph, pw = (nr_out - 1) * sh + kh, (nc_out - 1) * sw + kw  # the crop, in padded coordinates
            t, bt, lt, rt = step.pad
            padded = np.full((h + t + bt, w + lt + rt, ch), step.fill, np.float32)
            padded[pt:pt + h, pl:pl + w] = src
            crops = np.empty((n_copies, ph, pw, ch), np.float32)
            for q in range(n_copies):
                top, left = int(r0[q]) * sh, int(c0[q]) * sw
                crops[q] = padded[top:top + ph, left:left + pw]
                # the changed cells, in crop coordinates, cut to the crop
                a, b = int(rows[q]) + pt - top, int(cols[q]) + pl - left
                ra, rb, ca, cb = max(a, 0), min(a + nr, ph), max(b, 0), min(b + nc, pw)
                if ra < rb and ca < cb:
                    crops[q, ra:rb, ca:cb] = new[q, ra - a:rb - a, ca - b:cb - b]
            new = step.valid.forward(crops)
            rows, cols, nr, nc = r0, c0, nr_out, nc_out
        prev = layer.name
    last = np.asarray(base[prev], np.float32)
    full = np.repeat(last[None], n_copies, axis=0)
    for q in range(n_copies):
        full[q, rows[q]:rows[q] + nr, cols[q]:cols[q] + nc] = new[q]
    out = full
    for i, layer in enumerate(rest):
        if isinstance(layer, Softmax) and i == len(rest) - 1:
            return layer.forward(out)
        out = layer.forward(out)
    return softmax(out).astype(np.float32)


__all__ = ["plan", "probabilities"]
