"""The layers of a linear CNN in NumPy, float32, channels last (N, H, W, C).

Each layer knows its output shape, its parameters and a JSON-able config, and runs on a batch.
Each layer's `backward` sits right after its `forward`: given the layer's input `x`, its output `y` and
the gradient `gy` of a loss with respect to `y`, it returns the gradient with respect to `x` (None when
`need_input` is False) and a dict of gradients with the same keys and shapes as `params`.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError
from . import conv_backward
from .conv_methods import METHODS, NO_BLAS, choose

PADDINGS = ("valid", "same")


def _pair(v, what: str, layer: str) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        v = (v, v)
    try:
        items = tuple(v)
    except TypeError:
        items = ()
    if not items or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in items):
        raise ModelError(f"Layer '{layer}': {what} must be one or two positive whole numbers, got {v!r}.")
    v = tuple(int(a) for a in items)
    if len(v) != 2 or min(v) < 1:
        raise ModelError(f"Layer '{layer}': {what} must be one or two positive integers, got {v}.")
    return v


def _padding(p: str, layer: str) -> str:
    p = str(p).lower()
    if p not in PADDINGS:
        raise ModelError(f"Layer '{layer}': padding '{p}' is not supported (use 'valid' or 'same').")
    return p


def window_geometry(size: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """Output length and padding before, as TensorFlow computes them: valid ⌊(n−k)/s⌋+1, same ⌈n/s⌉."""
    if padding == "valid":
        return (size - k) // s + 1, 0
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return out, total // 2


def pad_amounts(size: int, k: int, s: int, padding: str) -> tuple[int, int, int]:
    """(output length, pad before, pad after) along one axis."""
    out, before = window_geometry(size, k, s, padding)
    after = max((out - 1) * s + k - size - before, 0) if padding == "same" else 0
    return out, before, after


class Layer:
    """A layer: `forward` maps a batch to a batch; `output_shape` maps a shape without batch."""

    kind = "layer"

    def __init__(self, name: str):
        if not name or not isinstance(name, str):
            raise ModelError("Every layer needs a non-empty name.")
        self.name = name

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {}

    @property
    def param_count(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def config(self) -> dict:
        return {"kind": self.kind, "name": self.name}

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(shape)

    def forward(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, x: np.ndarray, y: np.ndarray, gy: np.ndarray, need_input: bool = True):
        """(d loss / d x, {param: d loss / d param}) from x, y = forward(x) and gy = d loss / d y."""
        raise NotImplementedError  # pragma: no cover - abstract

    def __repr__(self) -> str:
        extra = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k not in ("kind", "name"))
        return f"{type(self).__name__}({self.name!r}{', ' + extra if extra else ''})"


def _real(name: str, what: str, a) -> np.ndarray:
    """`a` as float32, refusing what float32 cannot hold faithfully (complex numbers, text, objects)."""
    a = np.asarray(a)
    if a.dtype.kind not in "fiub":
        raise ModelError(f"Layer '{name}': the {what} holds {a.dtype} values; weights must be real numbers (float32).")
    return a.astype(np.float32)


def _check_finite(name: str, what: str, a: np.ndarray) -> None:
    if not np.all(np.isfinite(a)):
        raise ModelError(f"Layer '{name}': the {what} contains NaN or infinite values; the model file is damaged.")


class Conv2D(Layer):
    """y[i,j,f] = b[f] + Σ_{di,dj,c} x[i·s+di, j·s+dj, c] · K[di,dj,c,f]  (cross-correlation, as Keras)."""

    kind = "conv2d"

    def __init__(self, name, kernel, bias=None, strides=1, padding="valid"):
        super().__init__(name)
        kernel = _real(name, "kernel", kernel)
        if kernel.ndim != 4:
            raise ModelError(f"Layer '{name}': a conv kernel must have 4 axes (kh, kw, in, out), got shape {kernel.shape}.")
        self.use_bias = bias is not None  # without one, bias stays zeros but is not a parameter (as Keras)
        if bias is None:
            bias = np.zeros(kernel.shape[3], np.float32)
        bias = _real(name, "bias", bias)
        if bias.shape != (kernel.shape[3],):
            raise ModelError(f"Layer '{name}': bias shape {bias.shape} does not match {kernel.shape[3]} filters.")
        _check_finite(name, "kernel", kernel)
        _check_finite(name, "bias", bias)
        self.kernel, self.bias = kernel, bias
        self.strides = _pair(strides, "strides", name)
        self.padding = _padding(padding, name)

    @property
    def kernel_size(self) -> tuple[int, int]:
        return self.kernel.shape[:2]

    @property
    def filters(self) -> int:
        return self.kernel.shape[3]

    @property
    def params(self):
        return {"kernel": self.kernel, "bias": self.bias} if self.use_bias else {"kernel": self.kernel}

    def config(self):
        cfg = {**super().config(), "kernel_size": list(self.kernel_size), "filters": int(self.filters),
               "strides": list(self.strides), "padding": self.padding}
        return cfg if self.use_bias else {**cfg, "use_bias": False}

    def geometry(self, shape):
        """((out_h, pad_top, pad_bottom), (out_w, pad_left, pad_right)) for an H×W×C input."""
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        return pad_amounts(shape[0], kh, sh, self.padding), pad_amounts(shape[1], kw, sw, self.padding)

    def output_shape(self, shape):
        if len(shape) != 3:
            raise ModelError(f"Layer '{self.name}': a convolution needs an H×W×C input, got shape {tuple(shape)}.")
        if shape[2] != self.kernel.shape[2]:
            raise ModelError(f"Layer '{self.name}': kernel expects {self.kernel.shape[2]} input channels, "
                             f"but the previous layer gives {shape[2]}.")
        (oh, _, _), (ow, _, _) = self.geometry(shape)
        if oh < 1 or ow < 1:
            raise ModelError(f"Layer '{self.name}': a {self.kernel_size[0]}×{self.kernel_size[1]} kernel does not "
                             f"fit a {shape[0]}×{shape[1]} input with 'valid' padding.")
        return (oh, ow, self.filters)

    def pad(self, x: np.ndarray) -> np.ndarray:
        """Zero-pad a batch as TensorFlow does for 'same' (more at the bottom/right when odd)."""
        (_, pt, pb), (_, pl, pr) = self.geometry(x.shape[1:])
        if pt or pb or pl or pr:
            x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
        return x

    def forward(self, x):
        """The method fastest for this shape on this platform (engine/conv_methods.py: channels-first long
        products by BLAS on CPython; by einsum, Winograd F(2×2, 3×3) from 32 channels, or strided row windows
        without BLAS); all agree to float32 rounding.

        Reads `kernel` at every call, so an edited kernel takes effect at once.
        """
        (oh, _, _), (ow, _, _) = self.geometry(x.shape[1:])
        xp = self.pad(x)
        method = choose(xp.shape, self.kernel.shape, self.strides, oh, ow)
        return METHODS[method](xp, self.kernel, self.bias, self.strides, oh, ow)

    def backward(self, x, y, gy, need_input=True):
        """dK[di, dj] = (the input under tap (di, dj) at every output)ᵀ · gy; the input under the tap receives
        gy · K[di, dj]ᵀ (summed over the taps, gy convolved with the flipped kernel); db = Σ gy over positions.
        By the method fastest for this shape on this platform (engine/conv_backward.py: two long BLAS products
        over one stack of shifted copies on CPython, einsum per tap without BLAS); all agree to float32 rounding.
        Uses only x, gy and the kernel (never the forward's internals)."""
        (_, pt, _), (_, pl, _) = self.geometry(x.shape[1:])
        xp = self.pad(x)
        gy = np.asarray(gy, np.float32)
        method = conv_backward.choose(self.kernel.shape, self.strides)
        gxp, gk, gb = conv_backward.METHODS[method](xp, self.kernel, gy, self.strides, need_input)
        grads = {"kernel": gk, "bias": gb} if self.use_bias else {"kernel": gk}
        gx = None
        if need_input:
            gx = gxp[:, pt:pt + x.shape[1], pl:pl + x.shape[2]]
            gx = gx if gx.shape == gxp.shape else np.ascontiguousarray(gx)
        return gx, grads


class ReLU(Layer):
    """y = max(0, x), element by element."""

    kind = "relu"

    def __init__(self, name):
        super().__init__(name)

    def forward(self, x):
        # In Pyodide, np.maximum (NaN-aware, no SIMD) took 2.6× as long as a comparison and a select
        # (bench/bench_conv_methods.py); on CPython np.maximum is 15× faster than np.where. The select is
        # written so that a NaN passes through as np.maximum lets it (NaN < 0 is False): training that
        # diverges must see its NaN on every platform, not a 0 on Pyodide only.
        if NO_BLAS:
            return np.where(x < 0, np.float32(0), x)
        return np.maximum(x, np.float32(0))

    def backward(self, x, y, gy, need_input=True):
        """The gradient passes where the input was positive and is 0 elsewhere (at 0 too, as TensorFlow)."""
        return (np.multiply(gy, x > 0, dtype=np.float32) if need_input else None), {}


class MaxPool2D(Layer):
    """y[i,j,c] = max over the pool window at (i·s, j·s) of x[·,·,c]; 'same' pads with −∞."""

    kind = "maxpool2d"

    def __init__(self, name, pool_size=2, strides=None, padding="valid"):
        super().__init__(name)
        self.pool_size = _pair(pool_size, "pool_size", name)
        self.strides = _pair(self.pool_size if strides is None else strides, "strides", name)
        self.padding = _padding(padding, name)

    def config(self):
        return {**super().config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding}

    def geometry(self, shape):
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        return pad_amounts(shape[0], ph, sh, self.padding), pad_amounts(shape[1], pw, sw, self.padding)

    def output_shape(self, shape):
        if len(shape) != 3:
            raise ModelError(f"Layer '{self.name}': max pooling needs an H×W×C input, got shape {tuple(shape)}.")
        (oh, _, _), (ow, _, _) = self.geometry(shape)
        if oh < 1 or ow < 1:
            raise ModelError(f"Layer '{self.name}': a {self.pool_size[0]}×{self.pool_size[1]} pool does not fit "
                             f"a {shape[0]}×{shape[1]} input.")
        return (oh, ow, shape[2])

    def forward(self, x):
        (oh, pt, pb), (ow, pl, pr) = self.geometry(x.shape[1:])
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        n, _, _, c = x.shape
        if pt or pb or pl or pr:
            x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=-np.inf)
        if (ph, pw) == (sh, sw):  # non-overlapping windows: reshape, then pairwise maxima (10× a .max(axis=(2, 4)))
            v = x[:, :oh * ph, :ow * pw].reshape(n, oh, ph, ow, pw, c)
            rows = v[:, :, 0]
            for di in range(1, ph):
                rows = np.maximum(rows, v[:, :, di])
            out = rows[:, :, :, 0]
            for dj in range(1, pw):
                out = np.maximum(out, rows[:, :, :, dj])
            return np.ascontiguousarray(out)
        out = None
        for di in range(ph):
            for dj in range(pw):
                v = x[:, di:di + (oh - 1) * sh + 1:sh, dj:dj + (ow - 1) * sw + 1:sw]
                out = v.copy() if out is None else np.maximum(out, v, out=out)
        return out

    def winners(self, x, y):
        """Yield (di, dj, rows, cols, mask) per window tap in row-major order: mask[n, i, j, c] is True where
        the tap is the one window (i, j) routes its gradient to — the FIRST position, scanning the window row
        by row, whose value equals the window's max. TensorFlow's MaxPoolGrad does the same (its CPU kernel
        keeps the first max it meets in that order), so tied maxima never share the gradient.
        rows/cols slice the input padded as `pad_amounts` says (padding never wins: it is −∞)."""
        (oh, pt, pb), (ow, pl, pr) = self.geometry(x.shape[1:])
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        if pt or pb or pl or pr:
            x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=-np.inf)
        free = np.ones(y.shape, bool)
        for di in range(ph):
            for dj in range(pw):
                rows = slice(di, di + (oh - 1) * sh + 1, sh)
                cols = slice(dj, dj + (ow - 1) * sw + 1, sw)
                mask = (x[:, rows, cols] == y) & free
                free &= ~mask
                yield di, dj, rows, cols, mask

    def backward(self, x, y, gy, need_input=True):
        """Each window's gradient goes to its max only (the first one, row by row, if several tie)."""
        if not need_input:
            return None, {}
        (oh, pt, pb), (ow, pl, pr) = self.geometry(x.shape[1:])
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        if (ph, pw) == (sh, sw) and not (pt or pb or pl or pr):  # windows side by side: assign, nothing to add up
            n, h, w, c = x.shape
            v = x[:, :oh * ph, :ow * pw].reshape(n, oh, ph, ow, pw, c)
            g6 = np.empty((n, oh, ph, ow, pw, c), np.float32)  # every tap's slice is written below
            free = None  # windows whose max no earlier tap holds
            for di in range(ph):  # row by row: the first max of each window takes the gradient
                for dj in range(pw):
                    mask = v[:, :, di, :, dj] == y
                    if free is None:
                        free = ~mask
                    else:
                        mask &= free
                        if (di, dj) != (ph - 1, pw - 1):
                            np.greater(free, mask, out=free)  # free and not mask
                    np.multiply(gy, mask, out=g6[:, :, di, :, dj])
            if (oh * ph, ow * pw) == (h, w):
                return g6.reshape(x.shape), {}
            gx = np.zeros(x.shape, np.float32)
            gx[:, :oh * ph, :ow * pw] = g6.reshape(n, oh * ph, ow * pw, c)
            return gx, {}
        gxp = np.zeros((x.shape[0], x.shape[1] + pt + pb, x.shape[2] + pl + pr, x.shape[3]), np.float32)
        for _, _, rows, cols, mask in self.winners(x, y):
            gxp[:, rows, cols] += np.multiply(gy, mask, dtype=np.float32)
        gx = gxp[:, pt:pt + x.shape[1], pl:pl + x.shape[2]]
        return (gx if gx.shape == gxp.shape else np.ascontiguousarray(gx)), {}


class Flatten(Layer):
    """Unroll H×W×C into one vector in channels-last order: index = (row·W + col)·C + channel."""

    kind = "flatten"

    def __init__(self, name):
        super().__init__(name)

    def output_shape(self, shape):
        return (int(math.prod(shape)),)

    def forward(self, x):
        return x.reshape(x.shape[0], -1)

    def backward(self, x, y, gy, need_input=True):
        """The gradient vector folds back into the input's H×W×C maps (the same order as the forward)."""
        return (np.reshape(gy, x.shape) if need_input else None), {}


class Dense(Layer):
    """y = x · W + b."""

    kind = "dense"

    def __init__(self, name, kernel, bias=None):
        super().__init__(name)
        kernel = _real(name, "kernel", kernel)
        if kernel.ndim != 2:
            raise ModelError(f"Layer '{name}': a dense kernel must have 2 axes (in, out), got shape {kernel.shape}.")
        self.use_bias = bias is not None  # without one, bias stays zeros but is not a parameter (as Keras)
        if bias is None:
            bias = np.zeros(kernel.shape[1], np.float32)
        bias = _real(name, "bias", bias)
        if bias.shape != (kernel.shape[1],):
            raise ModelError(f"Layer '{name}': bias shape {bias.shape} does not match {kernel.shape[1]} units.")
        _check_finite(name, "kernel", kernel)
        _check_finite(name, "bias", bias)
        self.kernel, self.bias = kernel, bias

    @property
    def units(self) -> int:
        return self.kernel.shape[1]

    @property
    def params(self):
        return {"kernel": self.kernel, "bias": self.bias} if self.use_bias else {"kernel": self.kernel}

    def config(self):
        cfg = {**super().config(), "units": int(self.units)}
        return cfg if self.use_bias else {**cfg, "use_bias": False}

    def output_shape(self, shape):
        if len(shape) != 1:
            raise ModelError(f"Layer '{self.name}': a dense layer needs a flat input (add a Flatten layer before it), "
                             f"got shape {tuple(shape)}.")
        if shape[0] != self.kernel.shape[0]:
            raise ModelError(f"Layer '{self.name}': kernel expects {self.kernel.shape[0]} inputs, "
                             f"but the previous layer gives {shape[0]}.")
        return (self.units,)

    def forward(self, x):
        # Accumulated in float64 and rounded to float32 once: the correctly rounded x·W + b (to float64's
        # 1e-16), whatever the platform. A float32 dot product's result depends on its summation order
        # (OpenBLAS on CPython, a plain loop in Pyodide's BLAS-less NumPy: 2e-5 apart on 1690-term logits);
        # this one is the same on both. The float64 copy of the kernel is made in slices of ≈ 8 MB, so a
        # large Dense does not need a float64 copy of its whole kernel at once.
        x = np.asarray(x, dtype=np.float64)
        n_in, units = self.kernel.shape
        rows = max(1, (1 << 20) // max(1, units))
        y = x[..., :rows] @ self.kernel[:rows].astype(np.float64)  # the whole kernel at once below 8 MB
        for i in range(rows, n_in, rows):
            y += x[..., i:i + rows] @ self.kernel[i:i + rows].astype(np.float64)
        y += self.bias  # float32 bias into the float64 sum: exact
        return y.astype(np.float32)

    def backward(self, x, y, gy, need_input=True):
        """dx = gy · Wᵀ, dW = xᵀ · gy (each weight: its input times the upstream gradient), db = Σ gy over the batch.
        In float64 rounded once, like the forward, so CPython and Pyodide agree."""
        x, gy = np.asarray(x), np.asarray(gy)
        if x.shape[0] == 1 and x.dtype == gy.dtype == np.float32:
            # one image: each dW is one product of two float32 numbers, exact in float64, so float32's correctly
            # rounded product is the same number, without a float64 outer product to round (0.03 ms on Tiny VGG)
            grads = {"kernel": np.multiply.outer(x[0], gy[0])}
        else:
            grads = {"kernel": (np.asarray(x, np.float64).T @ np.asarray(gy, np.float64)).astype(np.float32)}
        g = np.asarray(gy, np.float64)
        if self.use_bias:
            grads["bias"] = g.sum(axis=0).astype(np.float32)
        gx = None
        if need_input:
            n_in, units = self.kernel.shape
            rows = max(1, (1 << 20) // max(1, units))
            gx = np.empty((g.shape[0], n_in), np.float32)
            for i in range(0, n_in, rows):
                gx[:, i:i + rows] = g @ self.kernel[i:i + rows].astype(np.float64).T
        return gx, grads


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """p_i = exp(z_i − max z) / Σ_j exp(z_j − max z)  (the shift changes nothing but avoids overflow)."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class Softmax(Layer):
    """p_i = exp(l_i) / Σ_j exp(l_j)."""

    kind = "softmax"

    def __init__(self, name):
        super().__init__(name)

    def forward(self, x):
        return softmax(x).astype(np.float32, copy=False)

    def backward(self, x, y, gy, need_input=True):
        """dx_i = p_i · (gy_i − Σ_j gy_j p_j). (A final softmax under cross-entropy is skipped: the model
        gives the logits p − y directly, see engine/gradients.py.)"""
        if not need_input:
            return None, {}
        p = np.asarray(y, np.float64)
        g = np.asarray(gy, np.float64)
        return (p * (g - (g * p).sum(axis=-1, keepdims=True))).astype(np.float32), {}


LAYER_TYPES = {cls.kind: cls for cls in (Conv2D, ReLU, MaxPool2D, Flatten, Dense, Softmax)}
