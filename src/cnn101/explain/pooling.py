"""Max pooling, window by window: y[i, j] = the largest value in the pool window at output (i, j).

The window moves by the layer's stride; with 'same' padding TensorFlow pads with −∞, so a padding cell
never wins.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine.layers import MaxPool2D
from ._common import check_channel, layer_of, single, symmetric
from .geometry import WindowGeometry


@dataclass(frozen=True)
class PoolWindow:
    """max(window) = y at output (i, j), and which cell held the maximum."""

    layer: str
    channel: int
    position: tuple[int, int]
    origin: tuple[int, int]  # top-left input (row, col) of the window
    values: np.ndarray  # (ph, pw) input values, −∞ in padding cells
    padded: np.ndarray  # (ph, pw) bool
    argmax: tuple[int, int]  # (row, col) of the maximum inside the window (first one if tied)
    source_cell: tuple[int, int]  # the same cell in input coordinates
    value: float  # the maximum
    trace_value: float  # the engine's output at (i, j)


@dataclass(frozen=True)
class PoolChannel:
    """One channel of a max-pool layer: its input, its output and the window geometry."""

    layer: str
    source: str
    channel: int
    geometry: WindowGeometry
    input: np.ndarray = field(repr=False)  # (H, W)
    output: np.ndarray = field(repr=False)  # (out_h, out_w), the engine's

    @property
    def positions(self) -> np.ndarray:
        """Top-left input (row, col) of the window for every output cell, row-major."""
        return self.geometry.positions

    @property
    def range(self) -> tuple[float, float]:
        return symmetric(self.input, self.output)

    def window(self, i: int, j: int) -> PoolWindow:
        values, padded = self.geometry.window(self.input, i, j, fill=-np.inf)
        a, b = np.unravel_index(int(np.argmax(values)), values.shape)
        r0, c0 = self.geometry.origin(i, j)
        return PoolWindow(self.layer, self.channel, (int(i), int(j)), (r0, c0), values, padded, (int(a), int(b)),
                          (r0 + int(a), c0 + int(b)), float(values[a, b]), float(self.output[i, j]))


def pool_channel(trace, layer: str, channel: int) -> PoolChannel:
    """The max-pooling detail view of one channel of `layer`."""
    single(trace)
    model = trace.model
    pool = layer_of(model, layer, MaxPool2D, "max-pooling")
    source = model.previous(layer)
    x = trace[source]
    c = check_channel(channel, x.shape[2])
    return PoolChannel(layer, source, c, WindowGeometry.of(pool, x.shape), x[:, :, c], trace[layer][:, :, c])


def pool_window(trace, layer: str, channel: int, i: int, j: int) -> PoolWindow:
    """Shortcut: pool_channel(trace, layer, channel).window(i, j)."""
    return pool_channel(trace, layer, channel).window(i, j)
