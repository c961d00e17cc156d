"""The backward pass, layer by layer, as plain data: what each backward view shows, with its numbers.

Every function takes one image's trace and its gradients (`g = model.backward(trace, target)`) and shows
how the gradient of a layer's output becomes the gradient of its input (and of its weights). The views
compute their numbers the way they explain them (a flipped-kernel convolution, window by window
routing, products and sums), independently of the engine's vectorised backward; tests check that both
give the same values.

    softmax_backward(trace, g)                    # p − y per class
    dense_backward(trace, g, "output")             # gy · Wᵀ per input, x · gy per weight
    flatten_backward(trace, g, "flatten")           # the vector folded back into maps
    pool_backward(trace, g, "max_pool_1", c)        # which input cell of each window gets the gradient
    relu_backward(trace, g, "relu_1_1", c)          # passes where the input was positive
    conv_backward(trace, g, "conv_1_2", f)          # upstream ⊛ flipped kernel per input channel; kernel grads
    conv_input_gradient(trace, g, "conv_1_2", c)    # one input channel's gradient, a share from every filter
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..engine.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from ._common import check_channel, layer_of, single, symmetric
from .flatten import FlattenMap
from .geometry import WindowGeometry

TUTORIAL = "tutorial-backpropagation"  # the tutorial section about the backward pass
TUTORIALS = {  # its subsection for each backward view (route(model, layer).view → anchor)
    "softmax": "tutorial-backprop-softmax", "dense": "tutorial-backprop-dense",
    "flatten": "tutorial-backprop-flatten", "pool": "tutorial-backprop-pooling",
    "relu": "tutorial-backprop-relu", "conv": "tutorial-backprop-convolution",
}


def _single(trace, grads):
    single(trace)
    if getattr(grads, "batched", False):
        raise ValueError("Backward views show one image; compute the gradients of a single image's trace.")


# --- softmax + cross-entropy ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SoftmaxBackward:
    """d loss / d logit_i = p_i − y_i: the probability minus 1 for the target class, the probability otherwise."""

    target: int
    class_names: tuple
    probs: np.ndarray  # p (classes,)
    onehot: np.ndarray  # y (classes,)
    logit_gradient: np.ndarray  # p − y, computed here
    engine: np.ndarray  # the engine's g['logits']
    loss: float  # −log p[target]

    @property
    def range(self) -> tuple[float, float]:
        return symmetric(self.logit_gradient)


def softmax_backward(trace, grads) -> SoftmaxBackward:
    _single(trace, grads)
    model = trace.model
    p = np.asarray(trace.probs, np.float64)
    y = np.zeros_like(p)
    t = int(grads.target)
    y[t] = 1.0
    return SoftmaxBackward(t, tuple(model.class_names), p, y, p - y, grads["logits"], float(-np.log(p[t])))


# --- dense -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DenseBackward:
    """A dense layer y = x·W + b backwards: dx_i = Σ_k W[i, k]·gy_k, dW[i, k] = x_i·gy_k, db = gy."""

    layer: str
    source: str
    input: np.ndarray = field(repr=False)  # x (n_in,)
    weights: np.ndarray = field(repr=False)  # W (n_in, units)
    upstream: np.ndarray = field(repr=False)  # gy (units,)

    @property
    def input_products(self) -> np.ndarray:
        """(n_in, units): W[i, k]·gy_k — what input i receives from each unit k."""
        return self.weights.astype(np.float64) * self.upstream.astype(np.float64)

    @property
    def input_gradient(self) -> np.ndarray:
        """(n_in,): Σ_k W[i, k]·gy_k, each input's gradient."""
        return self.input_products.sum(axis=1)

    @property
    def weight_gradient(self) -> np.ndarray:
        """(n_in, units): x_i·gy_k, each weight's gradient."""
        return np.outer(self.input.astype(np.float64), self.upstream.astype(np.float64))

    @property
    def bias_gradient(self) -> np.ndarray:
        return self.upstream.astype(np.float64)

    def input_terms(self, i: int) -> tuple[np.ndarray, float]:
        """(the products W[i, k]·gy_k over units k, their sum) for input i."""
        terms = self.input_products[int(i)]
        return terms, float(terms.sum())

    def weight_term(self, i: int, k: int) -> tuple[float, float, float]:
        """(x_i, gy_k, their product) for the weight from input i to unit k."""
        return float(self.input[i]), float(self.upstream[k]), float(self.input[i]) * float(self.upstream[k])


def dense_backward(trace, grads, layer: str) -> DenseBackward:
    _single(trace, grads)
    model = trace.model
    dense = layer_of(model, layer, Dense, "dense")
    source = model.previous(layer)
    return DenseBackward(layer, source, trace[source], dense.kernel, grads[layer])


# --- flatten -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FlattenBackward:
    """The gradient vector of a Flatten layer folded back into its input's H×W×C maps (same index rule)."""

    mapping: FlattenMap
    vector: np.ndarray = field(repr=False)  # (N,)

    @property
    def maps(self) -> np.ndarray:
        """(H, W, C): element index (row·W + col)·C + channel goes back to (row, col, channel)."""
        return self.mapping.grid(self.vector)

    @property
    def range(self) -> tuple[float, float]:
        return symmetric(self.vector)


def flatten_backward(trace, grads, layer: str) -> FlattenBackward:
    _single(trace, grads)
    model = trace.model
    layer_of(model, layer, Flatten, "Flatten")
    source = model.previous(layer)
    return FlattenBackward(FlattenMap(layer, source, tuple(model.shapes[source])), grads[layer])


# --- max pooling ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PoolBackwardWindow:
    """Output (i, j): its upstream gradient goes to one input cell, the first maximum row by row."""

    position: tuple[int, int]
    origin: tuple[int, int]
    values: np.ndarray  # (ph, pw), −∞ in padding cells
    tied: np.ndarray  # (ph, pw) bool: the cells holding the maximum
    winner: tuple[int, int]  # (row, col) inside the window
    target_cell: tuple[int, int]  # the same cell in input coordinates
    upstream: float

    @property
    def ties(self) -> int:
        return int(self.tied.sum())


@dataclass(frozen=True)
class PoolBackward:
    """One channel of a max-pool layer backwards: each window routes its gradient to its max only."""

    layer: str
    source: str
    channel: int
    geometry: WindowGeometry
    input: np.ndarray = field(repr=False)  # (H, W)
    upstream: np.ndarray = field(repr=False)  # (oh, ow)
    winners: np.ndarray = field(repr=False)  # (oh, ow, 2) input (row, col) that receives each window's gradient
    ties: np.ndarray = field(repr=False)  # (oh, ow) how many cells of the window hold its max

    @property
    def input_gradient(self) -> np.ndarray:
        """(H, W): the sum of the upstream gradients routed to each input cell (overlapping windows add up)."""
        out = np.zeros(self.geometry.input_hw, np.float64)
        np.add.at(out, (self.winners[..., 0], self.winners[..., 1]), self.upstream.astype(np.float64))
        return out

    @property
    def range(self) -> tuple[float, float]:
        return symmetric(self.upstream)

    def window(self, i: int, j: int) -> PoolBackwardWindow:
        values, padded = self.geometry.window(self.input, i, j, fill=-np.inf)
        r0, c0 = self.geometry.origin(i, j)
        r, c = (int(v) for v in self.winners[i, j])
        return PoolBackwardWindow((int(i), int(j)), (r0, c0), values, (values == values.max()) & ~padded,
                                  (r - r0, c - c0), (r, c), float(self.upstream[i, j]))


def pool_backward(trace, grads, layer: str, channel: int) -> PoolBackward:
    _single(trace, grads)
    model = trace.model
    pool = layer_of(model, layer, MaxPool2D, "max-pooling")
    source = model.previous(layer)
    x = trace[source]
    c = check_channel(channel, x.shape[2])
    geo = WindowGeometry.of(pool, x.shape)
    (ph, pw), (sh, sw), (oh, ow) = geo.size, geo.strides, geo.output_hw
    windows = sliding_window_view(geo.padded(x[:, :, c].astype(np.float64), -np.inf), (ph, pw))
    windows = windows[:(oh - 1) * sh + 1:sh, :(ow - 1) * sw + 1:sw].reshape(oh, ow, ph * pw)
    best = windows.max(axis=-1)
    first = np.argmax(windows == best[..., None], axis=-1)  # argmax of booleans: the first True, row by row
    rows = np.arange(oh)[:, None] * sh - geo.pad[0] + first // pw
    cols = np.arange(ow)[None, :] * sw - geo.pad[2] + first % pw
    return PoolBackward(layer, source, c, geo, x[:, :, c], grads[layer][:, :, c], np.stack([rows, cols], -1),
                        (windows == best[..., None]).sum(axis=-1))


# --- ReLU --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReluBackward:
    """dx = gy where the input was positive, 0 elsewhere (the ReLU was flat there)."""

    layer: str
    source: str
    channel: int | None
    input: np.ndarray = field(repr=False)
    upstream: np.ndarray = field(repr=False)

    @property
    def mask(self) -> np.ndarray:
        return self.input > 0

    @property
    def input_gradient(self) -> np.ndarray:
        return np.where(self.mask, self.upstream.astype(np.float64), 0.0)

    @property
    def range(self) -> tuple[float, float]:
        return symmetric(self.upstream)


def relu_backward(trace, grads, layer: str, channel: int | None = None) -> ReluBackward:
    """One channel of a ReLU on H×W×C maps, or the whole vector of a ReLU after a dense layer (channel=None)."""
    _single(trace, grads)
    model = trace.model
    layer_of(model, layer, ReLU, "ReLU")
    source = model.previous(layer)
    x, gy = trace[source], grads[layer]
    if x.ndim == 3:
        c = check_channel(0 if channel is None else channel, x.shape[2])
        return ReluBackward(layer, source, c, x[:, :, c], gy[:, :, c])
    return ReluBackward(layer, source, None, x, gy)


# --- convolution ---------------------------------------------------------------------------------------------

def _dilate(g: np.ndarray, strides) -> np.ndarray:
    """Put the upstream gradient on the stride's grid: a stride-s output cell sits every s input cells."""
    sh, sw = strides
    d = np.zeros(((g.shape[0] - 1) * sh + 1, (g.shape[1] - 1) * sw + 1))
    d[::sh, ::sw] = g
    return d


def _full_conv(dilated: np.ndarray, kernel2d: np.ndarray, geo: WindowGeometry) -> np.ndarray:
    """The dilated upstream gradient convolved with the kernel (= correlated with the flipped kernel), 'full',
    in the padded input's coordinates, then cropped to the input: each input cell collects gy·K from every
    output position whose window covered it."""
    kh, kw = kernel2d.shape
    dp = np.pad(dilated, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    full = np.einsum("ijab,ab->ij", sliding_window_view(dp, (kh, kw)), kernel2d[::-1, ::-1].astype(np.float64))
    h, w = geo.input_hw
    pt, pb, pl, pr = geo.pad
    padded = np.zeros((h + pt + pb, w + pl + pr))
    rows, cols = min(full.shape[0], padded.shape[0]), min(full.shape[1], padded.shape[1])
    padded[:rows, :cols] = full[:rows, :cols]
    return padded[pt:pt + h, pl:pl + w]


def _kernel_grad(x2d: np.ndarray, dilated: np.ndarray, geo: WindowGeometry) -> np.ndarray:
    """dK[di, dj] = Σ_{i,j} (padded input)[i·s + di, j·s + dj] · gy[i, j]: the input correlated with the dilated gy."""
    kh, kw = geo.size
    xp = geo.padded(x2d.astype(np.float64))
    win = sliding_window_view(xp, dilated.shape)[:kh, :kw]
    return np.einsum("abij,ij->ab", win, dilated)


@dataclass(frozen=True)
class ConvBackward:
    """Filter f of a conv layer backwards.

    input_shares[c] = the upstream gradient map of f convolved with K[:, :, c, f] (flipped kernel, 'full',
    with the stride's gaps and the padding): f's share of the input channel's gradient.
    kernel_gradient[:, :, c] = input channel c correlated with the upstream gradient: dK[:, :, c, f].
    bias_gradient = Σ of the upstream gradient over positions.
    """

    layer: str
    source: str
    filter: int
    geometry: WindowGeometry
    input: np.ndarray = field(repr=False)  # (H, W, C)
    kernel: np.ndarray = field(repr=False)  # (kh, kw, C)
    upstream: np.ndarray = field(repr=False)  # (oh, ow)

    @property
    def dilated_upstream(self) -> np.ndarray:
        return _dilate(self.upstream.astype(np.float64), self.geometry.strides)

    @property
    def flipped_kernel(self) -> np.ndarray:
        """(kh, kw, C): the kernel turned by 180°, what the upstream gradient is correlated with."""
        return self.kernel[::-1, ::-1]

    def input_share(self, c: int) -> np.ndarray:
        c = check_channel(c, self.input.shape[2])
        return _full_conv(self.dilated_upstream, self.kernel[:, :, c], self.geometry)

    @property
    def input_shares(self) -> np.ndarray:
        """(C, H, W): this filter's share of every input channel's gradient."""
        return np.stack([self.input_share(c) for c in range(self.input.shape[2])])

    def input_window(self, c: int, row: int, col: int) -> tuple[np.ndarray, np.ndarray, float]:
        """(the upstream gradient (with the stride's gaps, zeros around it) under the flipped kernel when that
        sits on input cell (row, col) of channel c, the flipped kernel K[::-1, ::-1, c], Σ of their products =
        input_share(c)[row, col])."""
        c = check_channel(c, self.input.shape[2])
        kh, kw = self.kernel.shape[:2]
        h, w = self.geometry.input_hw
        if not (0 <= row < h and 0 <= col < w):
            raise ValueError(f"({row}, {col}) is outside the {h}×{w} input.")
        dp = np.pad(self.dilated_upstream, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
        r0, c0 = int(row) + self.geometry.pad[0], int(col) + self.geometry.pad[2]
        win = np.zeros((kh, kw))
        part = dp[r0:r0 + kh, c0:c0 + kw]  # past the end of the 'full' result the window is all zeros
        win[:part.shape[0], :part.shape[1]] = part
        flipped = self.kernel[::-1, ::-1, c].astype(np.float64)
        return win, flipped, float((win * flipped).sum())

    @property
    def kernel_gradient(self) -> np.ndarray:
        """(kh, kw, C)."""
        d = self.dilated_upstream
        return np.stack([_kernel_grad(self.input[:, :, c], d, self.geometry) for c in range(self.input.shape[2])], -1)

    @property
    def bias_gradient(self) -> float:
        return float(self.upstream.astype(np.float64).sum())

    def kernel_window(self, di: int, dj: int, c: int) -> tuple[np.ndarray, np.ndarray, float]:
        """(the input values the kernel weight (di, dj, c) met at every output position, the upstream gradient
        there, Σ of their products = dK[di, dj, c])."""
        geo = self.geometry
        xp = geo.padded(self.input[:, :, check_channel(c, self.input.shape[2])].astype(np.float64))
        (oh, ow), (sh, sw) = geo.output_hw, geo.strides
        met = xp[di:di + (oh - 1) * sh + 1:sh, dj:dj + (ow - 1) * sw + 1:sw]
        up = self.upstream.astype(np.float64)
        return met, up, float((met * up).sum())


def conv_backward(trace, grads, layer: str, filter: int) -> ConvBackward:
    _single(trace, grads)
    model = trace.model
    conv = layer_of(model, layer, Conv2D, "convolution")
    source = model.previous(layer)
    x = trace[source]
    f = check_channel(filter, conv.filters, "filter")
    return ConvBackward(layer, source, f, WindowGeometry.of(conv, x.shape), x, conv.kernel[:, :, :, f],
                        grads[layer][:, :, f])


@dataclass(frozen=True)
class ConvInputGradient:
    """Input channel c of a conv layer: its gradient is the sum of every filter's share."""

    layer: str
    source: str
    channel: int
    shares: np.ndarray = field(repr=False)  # (filters, H, W)

    @property
    def total(self) -> np.ndarray:
        return self.shares.sum(axis=0)

    @property
    def range(self) -> tuple[float, float]:
        return symmetric(self.shares, self.total)


def conv_input_gradient(trace, grads, layer: str, channel: int) -> ConvInputGradient:
    conv = layer_of(trace.model, layer, Conv2D, "convolution")
    views = [conv_backward(trace, grads, layer, f) for f in range(conv.filters)]
    c = check_channel(channel, views[0].input.shape[2])
    return ConvInputGradient(layer, views[0].source, c, np.stack([v.input_share(c) for v in views]))


def backward_view(trace, grads, layer: str, neuron: int | None = None):
    """The backward view a click on a neuron of `layer` opens, chosen by `explain.route` as the forward view:
    conv → `conv_backward` (filter = neuron), relu / pool → one channel, flatten or dense → `dense_backward`
    of that dense layer (flatten: with `flatten_backward` of its Flatten as `.flatten`), softmax → p − y."""
    from .routing import CONV, DENSE, FLATTEN, POOL, RELU, SOFTMAX, route

    r = route(trace.model, layer)
    if r.view == CONV:
        return conv_backward(trace, grads, layer, 0 if neuron is None else neuron)
    if r.view == RELU:
        return relu_backward(trace, grads, layer, neuron)
    if r.view == POOL:
        return pool_backward(trace, grads, layer, 0 if neuron is None else neuron)
    if r.view in (FLATTEN, DENSE):
        view = dense_backward(trace, grads, layer)
        return FlattenDense(view, flatten_backward(trace, grads, r.source)) if r.view == FLATTEN else view
    if r.view == SOFTMAX:
        return softmax_backward(trace, grads)
    raise ValueError(f"Layer {layer!r} ({r.kind}) has no backward view of its own; open the layer after it.")


@dataclass(frozen=True)
class FlattenDense:
    """A dense layer fed by a Flatten: the dense step backwards, then the vector folded back into maps."""

    dense: DenseBackward
    flatten: FlattenBackward


__all__ = ["TUTORIAL", "TUTORIALS", "backward_view", "FlattenDense", "SoftmaxBackward", "DenseBackward", "FlattenBackward", "PoolBackward", "PoolBackwardWindow",
           "ReluBackward", "ConvBackward", "ConvInputGradient", "softmax_backward", "dense_backward",
           "flatten_backward", "pool_backward", "relu_backward", "conv_backward", "conv_input_gradient"]
