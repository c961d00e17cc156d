"""Flatten and the dense layer after it: how the last H×W×C layer becomes one class score.

Flatten unrolls H×W×C channels-last: index = (row·W + col)·C + channel. A dense neuron k then multiplies
each element by its weight W[:, k], adds the products and the bias: logit_k = Σ_n x_n · W[n, k] + b_k.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine.layers import Dense, Flatten
from ..errors import InputError, OutOfRange
from ._common import check_channel, layer_of, single
from .ranges import running_sum, symmetric


@dataclass(frozen=True)
class FlattenMap:
    """Index ↔ (row, col, channel) between a Flatten layer's output and the H×W×C array it reads."""

    layer: str  # the Flatten layer
    source: str  # the array it flattens
    shape: tuple[int, int, int]  # (H, W, C) of the source

    @property
    def size(self) -> int:
        h, w, c = self.shape
        return h * w * c

    def index(self, row: int, col: int, channel: int) -> int:
        h, w, c = self.shape
        if not (0 <= row < h and 0 <= col < w and 0 <= channel < c):
            raise OutOfRange(f"({row}, {col}, {channel}) is outside the {h}×{w}×{c} array {self.source!r}.")
        return (int(row) * w + int(col)) * c + int(channel)

    def position(self, index: int) -> tuple[int, int, int]:
        if not 0 <= index < self.size:
            raise OutOfRange(f"Flatten index {index} is outside 0..{self.size - 1}.")
        h, w, c = self.shape
        row, rest = divmod(int(index), w * c)
        col, ch = divmod(rest, c)
        return row, col, ch

    @property
    def positions(self) -> np.ndarray:
        """(N, 3) int array: (row, col, channel) of every flatten element, in flatten order."""
        return np.argwhere(np.ones(self.shape, dtype=bool))

    def grid(self, vector) -> np.ndarray:
        """A flatten-ordered vector (N,) back to (H, W, C): grid[:, :, c] is channel c's map."""
        return np.asarray(vector).reshape(self.shape)


def flatten_map(model, layer: str | None = None) -> FlattenMap:
    """The mapping of Flatten layer `layer` (default: the first Flatten of the model)."""
    if layer is None:
        flats = [lay.name for lay in model.layers if isinstance(lay, Flatten)]
        if not flats:
            raise InputError("The model has no Flatten layer.")
        layer = flats[0]
    layer_of(model, layer, Flatten, "Flatten")
    source = model.previous(layer)
    shape = model.shapes[source]
    if len(shape) != 3:
        shape = (1, 1, int(np.prod(shape)))
    return FlattenMap(layer, source, tuple(int(v) for v in shape))


def logits_layer(model) -> str:
    """Name of the layer whose output is the logits (`Sequential.logits_layer`)."""
    return model.logits_layer


@dataclass(frozen=True)
class DenseNeuron:
    """Unit k of a dense layer: inputs × weights, their sum, + bias = the unit's value (a logit)."""

    layer: str
    unit: int
    label: str  # the class name for the output layer, else 'unit k'
    source: str  # the array feeding the layer (e.g. the flatten output)
    inputs: np.ndarray = field(repr=False)  # (N,)
    weights: np.ndarray = field(repr=False)  # (N,) W[:, unit]
    contributions: np.ndarray = field(repr=False)  # (N,) inputs · weights, float64
    sum: float  # Σ contributions
    bias: float
    value: float  # sum + bias, float64
    trace_value: float  # the engine's output of this unit
    flatten: FlattenMap | None  # when the inputs are a flattened H×W×C layer

    @property
    def weight_range(self) -> tuple[float, float]:
        return symmetric(self.weights)

    @property
    def contribution_range(self) -> tuple[float, float]:
        return symmetric(self.contributions)

    @property
    def input_range(self) -> tuple[float, float]:
        """Colour range of the inputs (the flattened layer's values)."""
        return symmetric(self.inputs)

    @property
    def total_range(self) -> tuple[float, float]:
        """Colour range of the sum line: Σ x·w, the bias and the value."""
        return symmetric(np.array([self.sum, self.bias, self.value]))

    @property
    def running(self) -> np.ndarray:
        """(N,) float64: the sum of the products so far, input by input (the last one is `sum`)."""
        return running_sum(self.contributions)

    def grid(self, vector) -> np.ndarray:
        """A per-input vector (inputs, weights or contributions) as (H, W, C) of the flattened layer."""
        if self.flatten is None:
            raise InputError(f"The inputs of {self.layer!r} do not come from a Flatten layer.")
        return self.flatten.grid(vector)

    def top(self, k: int = 10) -> np.ndarray:
        """Indices of the k inputs with the largest |contribution| (the strongest edges)."""
        return np.argsort(-np.abs(self.contributions), kind="stable")[:k]


def dense_neuron(trace, unit: int, layer: str | None = None) -> DenseNeuron:
    """The flatten view of unit `unit` of dense layer `layer` (default: the layer that gives the logits)."""
    single(trace)
    model = trace.model
    layer = logits_layer(model) if layer is None else layer
    dense = layer_of(model, layer, Dense, "dense")
    k = check_channel(unit, dense.units, "unit")
    source = model.previous(layer)
    x = np.asarray(trace[source]).reshape(-1)
    w = dense.kernel[:, k]
    contributions = x.astype(np.float64) * w.astype(np.float64)
    total = float(contributions.sum())
    bias = float(dense.bias[k])
    is_output = layer == logits_layer(model)
    label = model.class_names[k] if is_output else f"unit {k}"
    src_layer = model.layer(source) if source != "input" else None
    fmap = flatten_map(model, source) if isinstance(src_layer, Flatten) else None
    return DenseNeuron(layer, k, label, source, x, w, contributions, total, bias, total + bias,
                       float(trace[layer][k]), fmap)


def flatten_class(trace, k: int) -> DenseNeuron:
    """The flatten view of class k: the output layer's unit k (its logit)."""
    return dense_neuron(trace, k)
