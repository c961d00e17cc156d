"""The Overview (level 1) as plain data, derived from the model and one image's trace.

Columns, left to right: the input (one neuron per channel), every layer with an H×W×C output (one
neuron per channel), any hidden dense layers (one neuron per unit), and the output (one neuron per
class, showing its probability). Flatten and Softmax are not columns: the output column stands for the
logits layer and the softmax after it.

Edges: a conv or dense neuron takes every neuron of the previous column; a ReLU or pooling neuron takes
the one neuron of the same channel.

Colour ranges, per scope, are symmetric around zero (so white means 0):
  unit    one range per conv block (the conv and the ReLU/pool layers after it: `model.units`)
  module  one range per module (units up to and including a pool: `model.modules`)
  global  one range for every hidden layer
The input keeps its own range 0–1 (greys) and the output its own 0–1 (probabilities).

    ov = overview(model, model.trace(x))
    for col in ov.columns: col.label, ov.values(col.name).shape, ov.range(col.name, "unit")
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.layers import Flatten, MaxPool2D, ReLU, Softmax
from ..errors import InputError, NameNotFound, OutOfRange
from ._common import symmetric
from .input_channel import channel_names

SCOPES = ("unit", "module", "global")
CONNECTIONS = ("all", "one-to-one")
#: Tutorial section for each column kind; a label links to `#tutorial-<section>`.
TUTORIAL = {"input": "input", "conv2d": "convolution", "relu": "relu", "maxpool2d": "pooling",
            "dense": "dense", "output": "softmax"}


@dataclass(frozen=True)
class Column:
    """One column of the Overview: what it shows and where it belongs in the colour scopes."""

    index: int  # position, left to right
    name: str  # 'input', or the layer's name (the output column: the logits layer's name)
    kind: str  # 'input', 'output', or the layer's kind ('conv2d', 'relu', 'maxpool2d', 'dense', ...)
    shape: tuple  # the shown array's shape: (H, W, C) or (n,)
    layers: tuple  # model layers this column stands for (output: the logits layer and a softmax)
    neuron_labels: tuple  # one short label per neuron (input: colour names; output: class names)
    unit: int | None  # colour group for the unit scope (None for input and output)
    module: int | None  # colour group for the module scope (None for input and output)

    @property
    def neurons(self) -> int:
        return len(self.neuron_labels)

    @property
    def is_grid(self) -> bool:
        """True if every neuron is a 2-D heatmap (H×W×C arrays)."""
        return len(self.shape) == 3

    @property
    def label(self) -> str:
        """The detailed label, e.g. 'conv_1_1 (62, 62, 10)'."""
        return f"{self.name} {tuple(self.shape)}"

    @property
    def tutorial(self) -> str:
        """Anchor of this column's tutorial section, e.g. 'tutorial-convolution'."""
        return "tutorial-" + TUTORIAL.get(self.kind, self.kind)


@dataclass(frozen=True)
class Edges:
    """The edges into column `target` from column `source`: 'all' pairs or 'one-to-one'."""

    source: int
    target: int
    connection: str  # one of CONNECTIONS
    n_source: int
    n_target: int

    def incoming(self, j: int) -> tuple[int, ...]:
        """Source neurons feeding target neuron j."""
        if not 0 <= j < self.n_target:
            raise OutOfRange(f"Neuron {j} does not exist; the column has {self.n_target}.")
        return tuple(range(self.n_source)) if self.connection == "all" else (j,)

    def pairs(self) -> list[tuple[int, int]]:
        """Every edge as (source neuron, target neuron)."""
        return [(i, j) for j in range(self.n_target) for i in self.incoming(j)]


@dataclass(frozen=True)
class Legend:
    """One colour legend: a range shared by a group of columns under one scope."""

    scope: str  # 'unit', 'module', 'global', or 'input' / 'output' for their own ranges
    columns: tuple  # column indices sharing the range
    lo: float
    hi: float
    colormap: str  # 'input' (greys), 'activation' (red–white–blue) or 'output' (probability bars)


@dataclass(frozen=True)
class Layout:
    """What the Overview of a model looks like, independent of the image."""

    model_name: str
    columns: tuple  # of Column
    edges: tuple  # of Edges; edges[k] leads into columns[k + 1]
    groups: dict  # scope -> tuple of tuples of column indices (the hidden columns sharing a range)

    def column(self, key) -> Column:
        """A column by index or name."""
        if isinstance(key, (int, np.integer)):
            return self.columns[int(key)]
        for col in self.columns:
            if col.name == key:
                return col
        raise NameNotFound(f"No column named {key!r}; columns are {[c.name for c in self.columns]}.")

    def edges_into(self, key) -> Edges | None:
        """The edges arriving at a column (None for the input)."""
        i = self.column(key).index
        return self.edges[i - 1] if i > 0 else None


def _output_layers(model) -> tuple[str, ...]:
    """The logits layer (`Sequential.logits_layer`) and a Softmax after it, if any."""
    return tuple(lay.name for lay in model.layers[[lay.name for lay in model.layers].index(model.logits_layer):])


def _connection(layer, n_source: int, n_target: int) -> str:
    if isinstance(layer, (ReLU, MaxPool2D)) and n_source == n_target:
        return "one-to-one"
    return "all"


def layout(model) -> Layout:
    """The Overview's columns, edges and colour groups, derived from the model's layers."""
    h, w, c = model.input_shape
    names = channel_names(c)
    cols = [Column(0, "input", "input", (h, w, c), (), names, None, None)]
    out_layers = _output_layers(model)
    n_units, n_modules = len(model.units), len(model.modules)
    extra = -1  # hidden dense layers form their own groups after the model's units/modules
    edge_kinds = []
    for layer in model.layers:
        if layer.name in out_layers or isinstance(layer, (Flatten, Softmax)):
            continue
        shape = tuple(model.shapes[layer.name])
        info = model.info(layer.name)
        if len(shape) == 3:
            unit, module, labels = info.unit, info.module, tuple(f"channel {i}" for i in range(shape[2]))
        else:
            if not isinstance(layer, ReLU) or extra < 0:
                extra += 1
            unit, module, labels = n_units + extra, n_modules + extra, tuple(f"neuron {i}" for i in range(shape[0]))
        cols.append(Column(len(cols), layer.name, layer.kind, shape, (layer.name,), labels, unit, module))
        edge_kinds.append(layer)
    logits = model.layer(out_layers[0])
    cols.append(Column(len(cols), logits.name, "output", (model.num_classes,), out_layers,
                       tuple(model.class_names), None, None))
    edge_kinds.append(logits)
    edges = tuple(Edges(i, i + 1, _connection(layer, cols[i].neurons, cols[i + 1].neurons),
                        cols[i].neurons, cols[i + 1].neurons) for i, layer in enumerate(edge_kinds))
    hidden = [col for col in cols[1:-1]]
    groups = {
        "unit": _group_by(hidden, "unit"),
        "module": _group_by(hidden, "module"),
        "global": (tuple(col.index for col in hidden),) if hidden else (),
    }
    return Layout(model.name, tuple(cols), edges, groups)


def _group_by(columns, attr: str) -> tuple:
    groups: dict = {}
    for col in columns:
        groups.setdefault(getattr(col, attr), []).append(col.index)
    return tuple(tuple(v) for _, v in sorted(groups.items()))


def _abs_max(arrays) -> float:
    return symmetric(*arrays)[1]


class Overview:
    """The Overview of one image: the layout plus every column's values and colour ranges."""

    def __init__(self, model, trace, lay: Layout | None = None):
        if getattr(trace, "batched", False):
            raise InputError("The Overview shows one image; trace a single image (H×W×C), not a batch.")
        self.model = model
        self.trace = trace
        self.layout = lay or layout(model)
        self._values = {col.index: self._column_values(col) for col in self.layout.columns}
        self._ranges = {}
        col_max = {}  # each column's largest |finite value|, once for all scopes (a group's is their max)
        for scope, groups in self.layout.groups.items():
            for group in groups:
                m = max(col_max.setdefault(i, _abs_max([self._values[i]])) for i in group) if group else 0.0
                for i in group:
                    self._ranges[scope, i] = (-m, m)

    # --- structure shortcuts ------------------------------------------------------------------
    @property
    def columns(self) -> tuple:
        return self.layout.columns

    @property
    def edges(self) -> tuple:
        return self.layout.edges

    def column(self, key) -> Column:
        return self.layout.column(key)

    # --- values ----------------------------------------------------------------------------------
    def _column_values(self, col: Column) -> np.ndarray:
        if col.kind == "output":
            return np.asarray(self.trace.probs, dtype=np.float32)
        a = np.asarray(self.trace[col.name], dtype=np.float32)
        return np.moveaxis(a, -1, 0) if a.ndim == 3 else a  # (C, H, W): one heatmap per neuron

    def values(self, key) -> np.ndarray:
        """A column's values: (neurons, H, W) for grids, (neurons,) otherwise (output: probabilities)."""
        return self._values[self.column(key).index]

    def logits(self) -> np.ndarray:
        return np.asarray(self.trace.logits, dtype=np.float32)

    def range(self, key, scope: str = "unit") -> tuple[float, float]:
        """The colour range (lo, hi) of a column under a scope; input and output always (0, 1)."""
        if scope not in SCOPES:
            raise InputError(f"Unknown colour scope {scope!r}; choose one of {', '.join(SCOPES)}.")
        col = self.column(key)
        if col.kind in ("input", "output"):
            return 0.0, 1.0
        return self._ranges[scope, col.index]

    def legends(self, scope: str = "unit") -> list[Legend]:
        """The legends to draw for a scope: the input's, one per group of hidden columns, the output's."""
        first, last = self.columns[0], self.columns[-1]
        out = [Legend("input", (first.index,), 0.0, 1.0, "input")]
        for group in self.layout.groups[scope]:
            lo, hi = self.range(group[0], scope)
            out.append(Legend(scope, tuple(group), lo, hi, "activation"))
        out.append(Legend("output", (last.index,), 0.0, 1.0, "output"))
        return out

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        return self.trace.top(k)

    @property
    def predicted(self) -> int:
        return int(self.trace.predicted)

    # --- what is under the pointer -----------------------------------------------------------------
    def value_at(self, key, neuron: int, row: int | None = None, col: int | None = None) -> float:
        """The value of one neuron (vector columns) or one cell of a neuron's heatmap (grid columns)."""
        column = self.column(key)
        v = self.values(column.index)
        if not 0 <= neuron < column.neurons:
            raise OutOfRange(f"Neuron {neuron} does not exist; {column.name} has {column.neurons}.")
        if column.is_grid:
            h, w = column.shape[:2]
            if row is None or col is None or not (0 <= row < h and 0 <= col < w):
                raise OutOfRange(f"Cell ({row}, {col}) is outside {column.name}'s {h}×{w} grid.")
            return float(v[neuron, row, col])
        return float(v[neuron])

    def describe(self, key, neuron: int, row: int | None = None, col: int | None = None) -> str:
        """One plain line about the value under the pointer, for the info line and screen readers."""
        column = self.column(key)
        value = self.value_at(column.index, neuron, row, col)
        who = column.neuron_labels[neuron]
        if column.kind == "input":
            return (f"input, {who} channel, row {row}, column {col}: pixel value {value:.4f}"
                    f" ({round(value * 255)}/255)")
        if column.kind == "output":
            logit = float(self.logits()[neuron])
            return f"{column.name}, {who}: probability {value:.4f} ({value:.1%}), logit {logit:.4f}"
        if column.is_grid:
            return f"{column.name}, {who}, row {row}, column {col}: activation {value:.4f}"
        return f"{column.name}, {who}: activation {value:.4f}"


def overview(model, trace, lay: Layout | None = None) -> Overview:
    """The Overview of one image's trace (pass a precomputed `layout(model)` to save a little time)."""
    return Overview(model, trace, lay)


__all__ = ["SCOPES", "Column", "Edges", "Legend", "Layout", "Overview", "layout", "overview"]
