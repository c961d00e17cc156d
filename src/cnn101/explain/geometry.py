"""Where a sliding window (a conv kernel or a pool window) sits, for any size, stride and padding.

Output cell (i, j) reads the input window whose top-left corner is (i·sh − pad_top, j·sw − pad_left) in
input coordinates; rows or columns outside 0..H−1 / 0..W−1 are padding (zeros for a convolution, −∞ for
max pooling, as TensorFlow pads).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.layers import pad_amounts
from ..errors import InputError, OutOfRange
from ._common import _whole


@dataclass(frozen=True)
class WindowGeometry:
    """A window of `size` moved by `strides` over an input of `input_hw`, giving `output_hw` cells."""

    size: tuple[int, int]  # (kh, kw) or (ph, pw)
    strides: tuple[int, int]
    padding: str  # 'valid' or 'same'
    input_hw: tuple[int, int]
    output_hw: tuple[int, int]
    pad: tuple[int, int, int, int]  # (top, bottom, left, right)

    @classmethod
    def of(cls, layer, input_shape) -> "WindowGeometry":
        """The geometry of a Conv2D (its kernel) or MaxPool2D (its pool window) on an H×W×C input."""
        size = tuple(int(v) for v in (layer.kernel_size if hasattr(layer, "kernel_size") else layer.pool_size))
        strides = tuple(int(v) for v in layer.strides)
        h, w = int(input_shape[0]), int(input_shape[1])
        oh, pt, pb = pad_amounts(h, size[0], strides[0], layer.padding)
        ow, pl, pr = pad_amounts(w, size[1], strides[1], layer.padding)
        return cls(size, strides, layer.padding, (h, w), (oh, ow), (pt, pb, pl, pr))

    def origin(self, i: int, j: int) -> tuple[int, int]:
        """Top-left input cell (row, col) of the window for output (i, j); negative inside the padding."""
        self.check(i, j)
        return i * self.strides[0] - self.pad[0], j * self.strides[1] - self.pad[2]

    def check(self, i: int, j: int) -> None:
        oh, ow = self.output_hw
        if not (_whole(i) and _whole(j)):
            raise InputError(f"An output position is two whole numbers (row, column), not ({i!r}, {j!r}).")
        if not (0 <= i < oh and 0 <= j < ow):
            raise OutOfRange(f"Output position ({i}, {j}) is outside the {oh}×{ow} output.")

    @property
    def positions(self) -> np.ndarray:
        """(out_h·out_w, 2) int array: the window's top-left (row, col) in input coordinates for every
        output cell, in row-major order — the true path of a sliding-window animation."""
        oh, ow = self.output_hw
        rows = np.arange(oh) * self.strides[0] - self.pad[0]
        cols = np.arange(ow) * self.strides[1] - self.pad[2]
        r, c = np.meshgrid(rows, cols, indexing="ij")
        return np.stack([r.ravel(), c.ravel()], axis=1)

    def window(self, channel: np.ndarray, i: int, j: int, fill: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """(values, padded) for output (i, j) on a 2-D input: the kh×kw input cells under the window, with
        `fill` where the window hangs over the padding, and a boolean mask that is True there."""
        r0, c0 = self.origin(i, j)
        kh, kw = self.size
        h, w = self.input_hw
        rows = np.arange(r0, r0 + kh)[:, None]
        cols = np.arange(c0, c0 + kw)[None, :]
        inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
        values = np.full((kh, kw), fill, dtype=np.float64)
        values[inside] = np.asarray(channel, dtype=np.float64)[np.broadcast_to(rows, (kh, kw))[inside],
                                                               np.broadcast_to(cols, (kh, kw))[inside]]
        return values, ~inside

    def padded(self, x: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """The input (H×W or H×W×C) with its padding added, as the layer sees it."""
        pt, pb, pl, pr = self.pad
        widths = ((pt, pb), (pl, pr)) + ((0, 0),) * (np.ndim(x) - 2)
        return np.pad(np.asarray(x), widths, constant_values=fill)

    def formula(self, axis: int = 0) -> str:
        """The output-size rule along one axis (0 rows, 1 columns), e.g. 'valid: ⌊(64 − 3) / 1⌋ + 1 = 62'."""
        n, k, s, out = self.input_hw[axis], self.size[axis], self.strides[axis], self.output_hw[axis]
        if self.padding == "valid":
            return f"valid: ⌊({n} − {k}) / {s}⌋ + 1 = {out}"
        return f"same: ⌈{n} / {s}⌉ = {out}"
