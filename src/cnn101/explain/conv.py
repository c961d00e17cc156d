"""The arithmetic of one convolutional neuron, for any kernel size, stride and padding.

A conv neuron (layer, filter f) reads every channel c of the layer before it. Each channel is
cross-correlated with its own kernel K[:, :, c, f] (at the layer's stride, over the zero-padded input),
giving one single-channel result per input channel; the neuron's value is the sum of those results plus
the bias b[f] (then the ReLU after it, if the model has one):

    z[i, j] = Σ_c Σ_{di, dj} x_pad[i·sh + di, j·sw + dj, c] · K[di, dj, c, f]  +  b[f]

Numbers are recomputed in float64 from the trace's inputs, so a displayed sum equals the sum of the
displayed terms; the engine's float32 value is kept next to it (`output`, `trace_value`) and agrees to
about 1e-5.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine.layers import Conv2D, ReLU
from ._common import check_channel, layer_of, next_layer, single
from .ranges import IMAGE_RANGE, symmetric
from .geometry import WindowGeometry


@dataclass(frozen=True)
class ConvWindow:
    """One input channel at output (i, j): the patch under the kernel, the kernel, products and their sum."""

    layer: str
    filter: int
    channel: int
    position: tuple[int, int]  # (i, j) in the output
    origin: tuple[int, int]  # top-left (row, col) of the window in input coordinates (negative in padding)
    patch: np.ndarray  # (kh, kw) input values under the kernel, 0 where the window covers padding
    padded: np.ndarray  # (kh, kw) bool, True for padding cells
    kernel: np.ndarray  # (kh, kw) K[:, :, channel, filter]
    products: np.ndarray  # (kh, kw) patch · kernel
    sum: float  # Σ products = the single-channel result at (i, j)
    input: np.ndarray = field(repr=False)  # (H, W) the whole input channel (the detail view's input matrix)
    result: np.ndarray = field(repr=False)  # (out_h, out_w) the whole single-channel result (output matrix)

    @property
    def product_range(self) -> tuple[float, float]:
        return symmetric(self.products)


@dataclass(frozen=True)
class ConvWhole:
    """The whole neuron at output (i, j): every channel's window, Σ over channels + bias, then ReLU."""

    layer: str
    filter: int
    position: tuple[int, int]
    origin: tuple[int, int]
    patches: np.ndarray  # (kh, kw, C)
    padded: np.ndarray  # (kh, kw) bool
    kernels: np.ndarray  # (kh, kw, C)
    products: np.ndarray  # (kh, kw, C)
    channel_sums: np.ndarray  # (C,) one single-channel result per input channel
    bias: float
    total: float  # Σ channel_sums + bias: the pre-activation z[i, j]
    relu: str | None  # name of the ReLU layer applied next, if any
    value: float  # max(0, total) after a ReLU, else total: what the overview shows for this neuron
    trace_value: float  # the engine's value of the same cell (float32), for checking

    @property
    def product_range(self) -> tuple[float, float]:
        return symmetric(self.products)


@dataclass(frozen=True)
class ConvNeuron:
    """A conv neuron's intermediate view: per input channel its kernel and single-channel result."""

    layer: str
    filter: int
    source: str  # name of the array the layer reads ('input' or a layer name)
    relu: str | None  # the ReLU layer right after, if any
    geometry: WindowGeometry
    inputs: np.ndarray  # (H, W, C) the source's channels
    kernels: np.ndarray  # (kh, kw, C) one kernel per input channel
    results: np.ndarray  # (out_h, out_w, C) float64 single-channel cross-correlations
    bias: float
    pre_activation: np.ndarray  # (out_h, out_w) Σ_c results + bias, float64
    output: np.ndarray  # (out_h, out_w) the engine's conv output for this filter (float32)
    activated: np.ndarray | None  # (out_h, out_w) the engine's ReLU output for this filter, if any

    @property
    def channels(self) -> int:
        return self.inputs.shape[2]

    @property
    def positions(self) -> np.ndarray:
        """Top-left input (row, col) of the kernel for every output cell, row-major (the sweep's path)."""
        return self.geometry.positions

    @property
    def value(self) -> np.ndarray:
        """What the overview shows for this neuron: the ReLU output if there is one, else the conv output."""
        return self.output if self.activated is None else self.activated

    @property
    def input_colours(self) -> tuple[str, tuple[float, float]]:
        """Colour map name (render.COLORMAPS) and range of the input channels: the image's greys 0–1 when
        the layer reads the input, else red–white–blue around zero."""
        if self.source == "input":
            return "input", IMAGE_RANGE
        return "activation", symmetric(self.inputs)

    def kernel_stats(self, channel: int) -> tuple[float, float, float]:
        """(min, max, sum) of the kernel of input channel `channel`."""
        k = np.asarray(self.kernels[:, :, check_channel(channel, self.channels)], np.float64)
        return float(k.min()), float(k.max()), float(k.sum())

    @property
    def kernel_range(self) -> tuple[float, float]:
        """Symmetric colour range shared by the neuron's kernels (zero in the middle)."""
        return symmetric(self.kernels)

    @property
    def result_range(self) -> tuple[float, float]:
        """Symmetric colour range shared by the single-channel results."""
        return symmetric(self.results)

    @property
    def value_range(self) -> tuple[float, float]:
        """Symmetric colour range of the neuron itself: its pre-activation and its ReLU output."""
        return symmetric(self.pre_activation, self.output, *(() if self.activated is None else (self.activated,)))

    def window(self, i: int, j: int, channel: int) -> ConvWindow:
        """The detail view for one input channel at output (i, j)."""
        c = check_channel(channel, self.channels)
        g = self.geometry
        patch, padded = g.window(self.inputs[:, :, c], i, j, fill=0.0)
        kernel = self.kernels[:, :, c].astype(np.float64)
        products = patch * kernel
        return ConvWindow(self.layer, self.filter, c, (int(i), int(j)), g.origin(i, j), patch, padded,
                          kernel, products, float(products.sum()), self.inputs[:, :, c], self.results[:, :, c])

    def whole(self, i: int, j: int) -> ConvWhole:
        """The whole-neuron mode at output (i, j): all channels, the bias and the ReLU."""
        g = self.geometry
        pads = [g.window(self.inputs[:, :, c], i, j, fill=0.0) for c in range(self.channels)]
        patches = np.stack([p for p, _ in pads], axis=-1)
        kernels = self.kernels.astype(np.float64)
        products = patches * kernels
        sums = products.sum(axis=(0, 1))
        total = float(sums.sum() + self.bias)
        value = max(0.0, total) if self.relu else total
        return ConvWhole(self.layer, self.filter, (int(i), int(j)), g.origin(i, j), patches, pads[0][1], kernels,
                         products, sums, self.bias, total, self.relu, value, float(self.value[i, j]))


def single_channel_results(inputs: np.ndarray, kernels: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """(out_h, out_w, C): channel c of the zero-padded input cross-correlated with kernels[:, :, c]."""
    xp = geometry.padded(np.asarray(inputs, dtype=np.float64), 0.0)
    (oh, ow), (kh, kw), (sh, sw) = geometry.output_hw, geometry.size, geometry.strides
    k = np.asarray(kernels, dtype=np.float64)
    out = np.zeros((oh, ow, xp.shape[2]))
    for di in range(kh):
        for dj in range(kw):
            out += xp[di:di + (oh - 1) * sh + 1:sh, dj:dj + (ow - 1) * sw + 1:sw, :] * k[di, dj, :]
    return out


def conv_neuron(trace, layer: str, filter: int) -> ConvNeuron:
    """Everything the convolutional intermediate view shows for neuron `filter` of conv layer `layer`."""
    single(trace)
    model = trace.model
    conv = layer_of(model, layer, Conv2D, "convolutional")
    f = check_channel(filter, conv.filters, "filter")
    source = model.previous(layer)
    inputs = trace[source]
    geometry = WindowGeometry.of(conv, inputs.shape)
    kernels = conv.kernel[:, :, :, f]
    results = single_channel_results(inputs, kernels, geometry)
    bias = float(conv.bias[f])
    after = next_layer(model, layer)
    relu = after.name if isinstance(after, ReLU) else None
    return ConvNeuron(layer, f, source, relu, geometry, inputs, kernels, results, bias,
                      results.sum(axis=2) + bias, trace[layer][:, :, f],
                      trace[relu][:, :, f] if relu else None)


def conv_window(trace, layer: str, filter: int, i: int, j: int, channel: int) -> ConvWindow:
    """Shortcut: conv_neuron(trace, layer, filter).window(i, j, channel)."""
    return conv_neuron(trace, layer, filter).window(i, j, channel)


def conv_whole(trace, layer: str, filter: int, i: int, j: int) -> ConvWhole:
    """Shortcut: conv_neuron(trace, layer, filter).whole(i, j)."""
    return conv_neuron(trace, layer, filter).whole(i, j)
