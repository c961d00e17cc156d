"""A sequential model: an input shape, class names and a list of layers; `trace` keeps every output."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, ModelError, NameNotFound
from .layers import Conv2D, Dense, Layer, MaxPool2D, ReLU, Softmax, softmax

RESERVED = ("input", "logits", "probs")
#: The activations of one image (everything a trace keeps) at most: bounds memory by the model's
#: declared input size, which a tiny file can set to anything (Tiny VGG: 0.6 MB).
MAX_TRACE_BYTES = 256 * 1024 * 1024


class Trace(Mapping):
    """Every activation of one forward pass, in order: 'input', each layer by name, 'logits', 'probs'.

    Arrays keep the batch axis only if the input had one. `trace.probs`, `trace.logits`,
    `trace.top(k)` and `trace.predicted` are shortcuts.
    """

    def __init__(self, model: "Sequential", outputs: dict[str, np.ndarray], batched: bool):
        self.model = model
        self._out = outputs
        self.batched = batched

    def __getitem__(self, key):
        try:
            return self._out[key]
        except (KeyError, TypeError):
            raise NameNotFound(f"The trace has no {key!r}; it holds {', '.join(map(str, self._out))}.") from None

    def __iter__(self):
        return iter(self._out)

    def __len__(self):
        return len(self._out)

    @property
    def input(self) -> np.ndarray:
        return self._out["input"]

    @property
    def logits(self) -> np.ndarray:
        return self._out["logits"]

    @property
    def probs(self) -> np.ndarray:
        return self._out["probs"]

    @property
    def predicted(self):
        """Index of the most probable class (an array of them for a batch)."""
        return np.argmax(self.probs, axis=-1)

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The k most probable classes as (name, probability), for an unbatched trace."""
        if self.batched:
            raise InputError("top() needs a single image; index the batch first.")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InputError(f"top(k) takes a whole number of classes k ≥ 1, not {k!r}.")
        order = np.argsort(-self.probs, kind="stable")[:k]
        return [(self.model.class_names[i], float(self.probs[i])) for i in order]

    def __repr__(self):
        label, p = self.top(1)[0] if not self.batched else ("batch", float("nan"))
        return f"<Trace of {self.model.name}: {label} ({p:.1%}), {len(self)} arrays>"


@dataclass(frozen=True)
class LayerInfo:
    """Where a layer sits: its index, input and output shapes, parameter count, unit and module."""

    index: int
    name: str
    kind: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    param_count: int
    unit: int | None  # index into model.units, for H×W×C layers
    module: int | None  # index into model.modules


class Sequential:
    """A linear stack of layers with a known input shape and class names."""

    def __init__(self, layers: list[Layer], input_shape, class_names=None, name: str = "model",
                 card: dict | None = None):
        self.layers = list(layers)
        if not self.layers:
            raise ModelError("The model has no layers.")
        try:
            dims = [d for d in input_shape if isinstance(d, (int, np.integer)) and not isinstance(d, bool)]
        except TypeError:
            dims = []
        if len(dims) != 3 or len(dims) != len(input_shape) or min(dims) < 1:
            raise ModelError(f"The input shape must be three positive whole numbers (height, width, channels), "
                             f"got {input_shape!r}.")
        self.input_shape = tuple(int(d) for d in dims)
        if len(self.input_shape) != 3 or min(self.input_shape) < 1:
            raise ModelError(f"The input shape must be (height, width, channels), got {self.input_shape}.")
        self.name = name
        self.card = dict(card or {})
        names = [layer.name for layer in self.layers]
        for n in names:
            if n in RESERVED:
                raise ModelError(f"A layer may not be named '{n}' (reserved for the trace); rename it.")
            if names.count(n) > 1:
                raise ModelError(f"Two layers are named '{n}'; layer names must be unique.")
        self.shapes: dict[str, tuple[int, ...]] = {"input": self.input_shape}
        shape = self.input_shape
        for layer in self.layers:
            shape = layer.output_shape(shape)
            self.shapes[layer.name] = shape
        if len(shape) != 1:
            raise ModelError(f"The last layer '{self.layers[-1].name}' gives shape {shape}; a classifier must end "
                             "with a flat vector of class scores (Flatten then Dense).")
        self.num_classes = shape[0]
        trace_bytes = 4 * sum(int(np.prod(s)) for s in self.shapes.values())
        if trace_bytes > MAX_TRACE_BYTES:
            raise ModelError(f"The model's input {'×'.join(map(str, self.input_shape))} makes its activations for one "
                             f"image {trace_bytes / 2**20:,.0f} MB, more than the {MAX_TRACE_BYTES / 2**20:g} MB cnn101 "
                             "allows; cnn101 explains small CNNs. Use a model with a smaller input size.")
        if class_names is None:
            class_names = [f"class {i}" for i in range(self.num_classes)]
        if isinstance(class_names, (str, bytes)) or not hasattr(class_names, "__len__"):
            raise ModelError(f"class_names must be a list of names, one per class, not {type(class_names).__name__} "
                             f"{class_names!r:.40}.")
        self.class_names = [str(c) for c in class_names]
        if len(self.class_names) != self.num_classes:
            raise ModelError(f"The model has {self.num_classes} outputs but {len(self.class_names)} class names.")
        self.units, self.modules = _group(self.layers, self.shapes)
        self._info = self._layer_info()

    # --- running -------------------------------------------------------------------------------
    def _batch(self, x) -> tuple[np.ndarray, bool]:
        raw = np.asarray(x)
        if raw.dtype.kind not in "fiub":
            raise InputError(f"The input must be an array of real numbers, got {raw.dtype}. Use "
                             "cnn101.load_image(source, size) to prepare an image.")
        batched = raw.ndim == 4
        if raw.ndim not in (3, 4) or raw.shape[-3:] != self.input_shape:
            raise InputError(f"Expected an input of shape {self.input_shape} (or a batch of them), got "
                             f"{tuple(raw.shape)}. Use cnn101.load_image(source, size) to prepare an image.")
        with np.errstate(over="ignore"):  # too large for float32 becomes inf, refused just below
            x = raw.astype(np.float32, copy=False)
        if not batched:
            x = x[None]
        if not np.all(np.isfinite(x)):
            raise InputError("The input holds NaN or infinite values (or numbers too large for float32), so every "
                             "output would be NaN. Pass finite numbers, e.g. pixels scaled to 0–1 by cnn101.load_image.")
        return x, batched

    @property
    def logits_layer(self) -> str:
        """Name of the layer whose output is the logits: the last layer, or the one before a final Softmax."""
        last = self.layers[-1]
        return self.layers[-2].name if isinstance(last, Softmax) and len(self.layers) > 1 else last.name

    def trace(self, x) -> Trace:
        """Run the model and keep every output: 'input', each layer by name, then 'logits' and 'probs'."""
        x, batched = self._batch(x)
        outs = {"input": x}
        logits = None
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Softmax) and i == len(self.layers) - 1:
                logits = x
            x = layer.forward(x)
            outs[layer.name] = x
        if logits is None:
            logits, probs = x, softmax(x).astype(np.float32)
        else:
            probs = x
        outs["logits"], outs["probs"] = logits, probs
        if not batched:
            outs = {k: v[0] for k, v in outs.items()}
        return Trace(self, outs, batched)

    def predict(self, x) -> np.ndarray:
        """Class probabilities for one image (H×W×C) or a batch (N×H×W×C)."""
        return self.trace(x).probs

    # --- gradients (engine/gradients.py; each layer's backward sits next to its forward) --------
    def backward(self, trace: Trace, target, need_input: bool = True):
        """d (−log p[target]) / d every array of `trace` and every parameter: a `Gradients` mapping with
        the trace's keys, `.params[layer]` like `layer.params`, `.loss`. `target`: a class index or name,
        or one per image for a batched trace (the loss is then the mean over the batch)."""
        from .gradients import backward

        return backward(self, trace, target, need_input)

    def gradient(self, x, target, wrt: str = "input") -> np.ndarray:
        """d (−log p[target]) / d trace[wrt] for an image (or a batch: of the mean loss)."""
        return self.backward(self.trace(x), target)[wrt]

    # --- structure -----------------------------------------------------------------------------
    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise NameNotFound(f"No layer named {name!r}; layers are {[lay.name for lay in self.layers]}.")

    def info(self, name: str) -> LayerInfo:
        if name not in self._info:
            raise NameNotFound(f"No layer named {name!r}; layers are {[lay.name for lay in self.layers]}.")
        return self._info[name]

    @property
    def layer_infos(self) -> list[LayerInfo]:
        return [self._info[layer.name] for layer in self.layers]

    @property
    def param_count(self) -> int:
        return sum(layer.param_count for layer in self.layers)

    @property
    def mac_count(self) -> int:
        """Multiply-adds for one image: each output value of a conv or dense layer takes one per kernel
        weight that reaches it (kh·kw·cin for a conv, the inputs for a dense layer)."""
        total = 0
        for layer in self.layers:
            kernel = getattr(layer, "kernel", None)
            if kernel is not None:
                total += int(np.prod(self.shapes[layer.name])) * int(np.prod(kernel.shape[:-1]))
        return total

    def previous(self, name: str) -> str:
        """Name of the array feeding layer `name` ('input' for the first layer)."""
        names = [lay.name for lay in self.layers]
        if name not in names:
            raise NameNotFound(f"No layer named {name!r}; layers are {names}.")
        idx = names.index(name)
        return "input" if idx == 0 else self.layers[idx - 1].name

    def _layer_info(self) -> dict[str, LayerInfo]:
        unit_of = {n: u for u, unit in enumerate(self.units) for n in unit}
        module_of = {n: m for m, mod in enumerate(self.modules) for u in mod for n in self.units[u]}
        info, prev = {}, self.input_shape
        for i, layer in enumerate(self.layers):
            out = self.shapes[layer.name]
            info[layer.name] = LayerInfo(i, layer.name, layer.kind, prev, out, layer.param_count,
                                         unit_of.get(layer.name), module_of.get(layer.name))
            prev = out
        return info

    def summary(self) -> str:
        rows = [f"{self.name}: input {self.input_shape}, {self.num_classes} classes, {self.param_count:,} parameters"]
        for inf in self.layer_infos:
            rows.append(f"  {inf.name:<16} {inf.kind:<10} {str(inf.output_shape):<16} {inf.param_count:>8,}")
        return "\n".join(rows)

    def __repr__(self):
        return f"<Sequential {self.name!r}: {len(self.layers)} layers, input {self.input_shape}, {self.num_classes} classes>"

    def save(self, path) -> None:
        """Write our format: `<stem>.npz` (weights) and `<stem>.json` (model card)."""
        from ..formats.native import save_model  # formats depend on the engine, not the reverse at import

        save_model(self, path)


def _group(layers: list[Layer], shapes: dict) -> tuple[list[list[str]], list[list[int]]]:
    """Units: a conv and the ReLU/pool layers after it. Modules: runs of units closed by a pool.

    Only layers with H×W×C outputs take part; these are what the colour scopes group.
    """
    units: list[list[str]] = []
    for layer in layers:
        if len(shapes[layer.name]) != 3:
            continue
        if isinstance(layer, Conv2D) or not units:
            units.append([layer.name])
        elif isinstance(layer, (ReLU, MaxPool2D)):
            units[-1].append(layer.name)
        else:
            units.append([layer.name])
    modules: list[list[int]] = [[]]
    kinds = {layer.name: layer for layer in layers}
    for u, unit in enumerate(units):
        modules[-1].append(u)
        if any(isinstance(kinds[n], MaxPool2D) for n in unit):
            modules.append([])
    if not modules[-1]:
        modules.pop()
    return units, modules


__all__ = ["Sequential", "Trace", "LayerInfo", "Dense"]
