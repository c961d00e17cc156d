"""ReLU, cell by cell: y = max(0, x). Negative values become zero; everything else passes unchanged."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.layers import ReLU
from ..errors import InputError
from ._common import check_channel, layer_of, single, symmetric


@dataclass(frozen=True)
class ReluCell:
    """One step of the detail view: max(0, x) = y at one position."""

    position: tuple[int, ...]
    x: float
    y: float


@dataclass(frozen=True)
class ReluDetail:
    """One channel (or the whole vector, for a flat layer) before and after the ReLU."""

    layer: str
    source: str
    channel: int | None  # None when the layer is a flat vector
    x: np.ndarray  # input values (H, W) or (N,)
    y: np.ndarray  # output values, same shape: the engine's

    @property
    def positions(self) -> np.ndarray:
        """Every cell index in row-major order (the order the detail view steps through)."""
        return np.argwhere(np.ones(self.x.shape, dtype=bool))

    @property
    def range(self) -> tuple[float, float]:
        """Symmetric colour range shared by input and output."""
        return symmetric(self.x, self.y)

    def at(self, *index: int) -> ReluCell:
        idx = tuple(int(v) for v in index)
        x = float(self.x[idx])
        return ReluCell(idx, x, max(0.0, x))


def relu_detail(trace, layer: str, channel: int | None = None) -> ReluDetail:
    """The ReLU detail view of `layer` for one channel (required for an H×W×C layer)."""
    single(trace)
    model = trace.model
    layer_of(model, layer, ReLU, "ReLU")
    source = model.previous(layer)
    x, y = trace[source], trace[layer]
    if x.ndim == 3:
        if channel is None:
            raise InputError(f"Layer {layer!r} has {x.shape[2]} channels; choose one with channel=...")
        c = check_channel(channel, x.shape[2])
        return ReluDetail(layer, source, c, x[:, :, c], y[:, :, c])
    return ReluDetail(layer, source, None, x, y)
