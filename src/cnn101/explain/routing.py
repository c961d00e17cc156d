"""Which layer feeds which, and which view a click on a neuron opens — derived from layer kinds only.

- a conv neuron reads every channel of the layer before it → the convolutional view;
- a ReLU or max-pool neuron reads the same channel of the layer before it → its detail view;
- a dense neuron reads every element of its input → for the layer that gives the logits (an output
  class) the flatten view when that input is a Flatten of an H×W×C layer (it ends in the softmax step),
  else (a hidden dense layer, or an output after one) the plain dense view;
- the softmax reads every logit → the softmax view;
- an input channel ('input') → the input view (its pixels, the preprocessing, the first conv's kernels).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..engine.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Softmax

CONV, RELU, POOL, FLATTEN, DENSE, SOFTMAX, INPUT = "conv", "relu", "pool", "flatten", "dense", "softmax", "input"
ALL, ONE_TO_ONE, RESHAPE = "all", "one-to-one", "reshape"


@dataclass(frozen=True)
class Route:
    layer: str
    kind: str  # the layer's kind (conv2d, relu, …)
    view: str | None  # the view a click opens: conv, relu, pool, flatten, dense, softmax, or None
    source: str  # the array the layer reads ('input' or a layer name)
    shown_source: str  # the same, skipping Flatten layers (the column an overview draws edges to)
    connection: str  # 'all' (each neuron reads every source neuron), 'one-to-one' or 'reshape'

    def sources(self, index: int, source_size: int) -> list[int]:
        """Indices of the source neurons (channels, or vector elements) that neuron `index` reads."""
        return [int(index)] if self.connection == ONE_TO_ONE else list(range(source_size))


def _view(model, layer) -> tuple[str | None, str]:
    if isinstance(layer, Conv2D):
        return CONV, ALL
    if isinstance(layer, ReLU):
        return RELU, ONE_TO_ONE
    if isinstance(layer, MaxPool2D):
        return POOL, ONE_TO_ONE
    if isinstance(layer, Dense):
        src = model.previous(layer.name)
        flat = src != "input" and isinstance(model.layer(src), Flatten)
        return (FLATTEN if flat and layer.name == model.logits_layer else DENSE), ALL
    if isinstance(layer, Softmax):
        return SOFTMAX, ALL
    if isinstance(layer, Flatten):
        return None, RESHAPE
    return None, ALL


def route(model, name: str) -> Route:
    """How layer `name` is wired and which view a click on one of its neurons opens ('input': the image)."""
    if name == "input":
        return Route("input", "input", INPUT, "", "", ONE_TO_ONE)
    layer = model.layer(name)
    view, connection = _view(model, layer)
    source = shown = model.previous(name)
    while shown != "input" and isinstance(model.layer(shown), Flatten):
        shown = model.previous(shown)
    return Route(name, layer.kind, view, source, shown, connection)


def routes(model) -> list[Route]:
    """The route of every layer, in order."""
    return [route(model, layer.name) for layer in model.layers]
