"""The hyperparameter playground on real data, and a per-layer table of any model.

    ch = channel_of(trace, "input", 0)              # a real 2-D channel: an input channel or any activation map
    p = playground(ch, kernel_size=3, stride=2, padding="same", kernel="edges (vertical)")
    p.valid, p.problems                             # invalid settings come back explained, never raised
    p.formula                                       # '⌊(64 − 3 + 1 + 1) / 2⌋ + 1 = 32' (rows; .rows / .cols per axis)
    p.output                                        # the convolution of the channel, (out_h, out_w)
    p.positions                                     # the sweep: the kernel's top-left input cell per output cell
    p.window(i, j)                                  # values under the kernel, × kernel = products, their sum

    layer_table(model)                              # per layer: shape, parameters, multiply–adds, receptive field

Output size along an axis of n cells, kernel k, stride s, padding p₁ before and p₂ after:
⌊(n − k + p₁ + p₂) / s⌋ + 1, which is ⌊(n − k + 2p) / s⌋ + 1 when both sides get p. 'valid' means p = 0;
'same' pads as TensorFlow does (⌈n / s⌉ outputs, the odd cell of padding after); a number p pads p zeros
on every side. The convolution is a cross-correlation, as in the network: out[i, j] =
Σ_{a,b} padded[i·s + a, j·s + b] · kernel[a, b].
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.layers import Conv2D, MaxPool2D, pad_amounts
from ..kernels import PRESETS, preset
from ._common import check_channel, single
from .geometry import WindowGeometry

KERNEL_SIZES = tuple(range(1, 8))
STRIDES = tuple(range(1, 5))
PADDINGS = ("valid", "same")


# --- choosing the data ----------------------------------------------------------------------------------

def channel_of(trace, name: str, channel: int) -> np.ndarray:
    """One 2-D channel of a single image's trace: an input channel ('input') or any H×W×C layer output."""
    single(trace)
    a = np.asarray(trace[name])
    if a.ndim != 3:
        raise ValueError(f"{name!r} has shape {a.shape}: it is not a grid of channels; choose the input, a conv, "
                         "ReLU or pooling layer.")
    return a[:, :, check_channel(channel, a.shape[2])].astype(np.float32)


def trained_kernel(model, layer: str, neuron: int, channel: int) -> np.ndarray:
    """The trained (kh, kw) kernel that neuron `neuron` of conv `layer` applies to input channel `channel`."""
    conv = model.layer(layer)
    if not isinstance(conv, Conv2D):
        raise ValueError(f"Layer {layer!r} is a {conv.kind} layer; only conv layers have kernels.")
    neuron = check_channel(neuron, conv.filters, "neuron")
    channel = check_channel(channel, conv.kernel.shape[2])
    return np.array(conv.kernel[:, :, channel, neuron], dtype=np.float32)


# --- the playground ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Axis:
    """The output-size arithmetic along one axis, with the numbers filled in."""

    name: str  # 'rows' or 'columns'
    n: int  # input cells
    k: int  # kernel cells
    s: int  # stride
    before: int  # padding before
    after: int  # padding after
    out: int  # output cells (0 or less: the kernel does not fit)

    @property
    def padded(self) -> int:
        return self.n + self.before + self.after

    @property
    def text(self) -> str:
        """The rule with this axis's numbers, e.g. '⌊(64 − 3 + 2·1) / 1⌋ + 1 = 64'."""
        pad = f" + 2·{self.before}" if self.before == self.after else f" + {self.before} + {self.after}"
        return f"⌊({self.n} − {self.k}{pad}) / {self.s}⌋ + 1 = {self.out}"

    @property
    def unreached(self) -> int:
        """Cells at the far end of the padded input that no window covers (stride does not divide evenly)."""
        return (self.padded - self.k) % self.s if self.out > 0 else 0


@dataclass(frozen=True)
class Playground:
    """One set of hyperparameters on one channel: the arithmetic, any problems in words, and the result."""

    channel: np.ndarray  # (H, W) float32, or whatever was given when it is unusable
    kernel: np.ndarray | None  # (K, K) float32
    kernel_size: object
    stride: object
    padding: object  # as given: 'valid', 'same' or a number
    problems: tuple  # plain sentences; empty when the settings work
    notes: tuple  # plain remarks about settings that work but deserve a word
    rows: Axis | None
    cols: Axis | None
    geometry: WindowGeometry | None
    output: np.ndarray | None  # (out_h, out_w) float64, None when invalid

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def formula(self) -> str:
        """The output-size rule with the numbers filled in (one line per axis when they differ)."""
        if self.rows is None:
            return "⌊(W − K + 2P) / S⌋ + 1"
        if (self.rows.n, self.rows.before, self.rows.after) == (self.cols.n, self.cols.before, self.cols.after):
            return self.rows.text
        return f"rows: {self.rows.text}; columns: {self.cols.text}"

    @property
    def message(self) -> str:
        """Everything to tell the learner, in one paragraph."""
        return " ".join(self.problems + self.notes)

    @property
    def output_hw(self) -> tuple[int, int] | None:
        return None if self.rows is None else (self.rows.out, self.cols.out)

    @property
    def pad(self) -> tuple[int, int, int, int] | None:
        """(top, bottom, left, right) zeros added around the channel."""
        return None if self.rows is None else (self.rows.before, self.rows.after, self.cols.before, self.cols.after)

    @property
    def positions(self) -> np.ndarray:
        """(out_h·out_w, 2): the kernel's top-left (row, col) in input coordinates (negative: in the padding)
        for every output cell in row-major order — the path the page animates. Empty when invalid."""
        return np.zeros((0, 2), int) if self.geometry is None else self.geometry.positions

    @property
    def padded(self) -> np.ndarray | None:
        """The channel with its zero padding, as the kernel sees it."""
        return None if self.geometry is None else self.geometry.padded(self.channel)

    def window(self, i: int, j: int) -> dict:
        """Output (i, j): the K×K values under the kernel (0 in the padding), `padding` mask, products, sum."""
        if self.geometry is None:
            raise ValueError("These settings do not work: " + self.message)
        values, padding = self.geometry.window(self.channel, i, j)
        products = values * self.kernel.astype(np.float64)
        return {"origin": self.geometry.origin(i, j), "values": values, "padding": padding, "products": products,
                "sum": float(products.sum())}


def _whole(v) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


def playground(channel, kernel_size=3, stride=1, padding="valid", kernel="identity") -> Playground:
    """Slide a K×K kernel over a real 2-D channel (see the module's docstring). `kernel`: a preset name
    (cnn101.kernels.PRESETS) or a (K, K) array, e.g. `trained_kernel(model, layer, neuron, channel)`;
    kernel_size=None takes the array's size. Settings that cannot work come back in `problems`."""
    problems, notes = [], []
    ch = np.asarray(channel)
    if ch.ndim != 2 or ch.size == 0 or not np.issubdtype(ch.dtype, np.number) or not np.all(np.isfinite(ch)):
        problems.append(f"The channel must be a 2-D grid of finite numbers; got an array of shape {ch.shape}.")
    else:
        ch = ch.astype(np.float32)

    arr = None
    if not isinstance(kernel, str):
        arr = np.asarray(kernel, dtype=np.float64) if kernel is not None else None
        if arr is None or arr.ndim != 2 or arr.shape[0] != arr.shape[1] or not np.all(np.isfinite(arr)):
            problems.append("The kernel must be a square grid of finite numbers (or a preset name: "
                            f"{', '.join(PRESETS)}).")
            arr = None
        elif kernel_size is None:
            kernel_size = arr.shape[0]
    k = _whole(kernel_size)
    if k is None or k not in KERNEL_SIZES:
        problems.append(f"The kernel size must be a whole number from {KERNEL_SIZES[0]} to {KERNEL_SIZES[-1]}; "
                        f"got {kernel_size!r}.")
        k = None
    if isinstance(kernel, str):
        if kernel not in PRESETS:
            problems.append(f"Unknown kernel preset {kernel!r}; choose one of: {', '.join(PRESETS)}.")
        elif k is not None:
            arr = preset(kernel, k, k).astype(np.float64)
    elif arr is not None and k is not None and arr.shape[0] != k:
        problems.append(f"The kernel is {arr.shape[0]}×{arr.shape[1]} but the kernel size is {k}; "
                        "make them the same.")

    s = _whole(stride)
    if s == 0:
        problems.append("A stride of 0 would never move the kernel, so the sweep would never end; "
                        f"choose a stride from {STRIDES[0]} to {STRIDES[-1]}.")
    elif s is None or s not in STRIDES:
        problems.append(f"The stride is how many cells the kernel moves each step: a whole number from "
                        f"{STRIDES[0]} to {STRIDES[-1]}; got {stride!r}.")
    s = s if s in STRIDES else None

    pad = None
    if isinstance(padding, str):
        if padding.lower() in PADDINGS:
            pad = padding.lower()
        else:
            problems.append(f"Padding must be 'valid' (none), 'same' (keep the size) or a whole number of zeros "
                            f"around the input; got {padding!r}.")
    else:
        p = _whole(padding)
        if p is None:
            problems.append(f"Padding must be 'valid', 'same' or a whole number; got {padding!r}.")
        elif p < 0:
            problems.append(f"Padding cannot be negative ({p}): it adds rows and columns of zeros around the input.")
        else:
            pad = p

    rows = cols = geo = out = None
    if ch.ndim == 2 and ch.size and k is not None and s is not None and pad is not None:
        axes = []
        for name, n in (("rows", ch.shape[0]), ("columns", ch.shape[1])):
            if pad == "valid":
                before = after = 0
            elif pad == "same":
                _, before, after = pad_amounts(n, k, s, "same")
            else:
                before = after = pad
            axes.append(Axis(name, n, k, s, before, after, (n - k + before + after) // s + 1))
        rows, cols = axes
        for ax in axes:
            if ax.k > ax.padded:
                padded = f"{ax.n}" if ax.before == ax.after == 0 else f"{ax.n} + {ax.before} + {ax.after} = {ax.padded}"
                problems.append(f"The {k}×{k} kernel is larger than the padded input: it has {ax.padded} {ax.name} "
                                f"({padded}), fewer than {k}. Choose a smaller kernel or more padding.")
            elif ax.unreached:
                notes.append(f"({ax.padded} − {ax.k}) is not a multiple of the stride {ax.s}: the last "
                             f"{ax.unreached} {ax.name} of the padded input are never under the kernel.")
        if isinstance(pad, int) and pad >= k and not problems:
            notes.append(f"With padding {pad} and a {k}×{k} kernel, the outermost outputs see only padding "
                         "(zeros), so they are 0.")
    if not problems:
        geo = WindowGeometry((k, k), (s, s), pad if isinstance(pad, str) else f"explicit {pad}",
                             tuple(ch.shape), (rows.out, cols.out), (rows.before, rows.after, cols.before, cols.after))
        out = _correlate(geo.padded(ch.astype(np.float64)), arr, s, (rows.out, cols.out))
    return Playground(ch, None if arr is None else arr.astype(np.float32), kernel_size, stride, padding,
                      tuple(problems), tuple(notes), rows, cols, geo, out)


def _correlate(padded: np.ndarray, kernel: np.ndarray, s: int, out_hw) -> np.ndarray:
    """Σ over kernel taps of the kernel weight times the padded input shifted by the tap (float64)."""
    oh, ow = out_hw
    out = np.zeros((oh, ow))
    for a in range(kernel.shape[0]):
        for b in range(kernel.shape[1]):
            out += kernel[a, b] * padded[a:a + (oh - 1) * s + 1:s, b:b + (ow - 1) * s + 1:s]
    return out


# --- the per-layer table ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerRow:
    """One layer of `layer_table`: shapes, parameters, multiply–adds and receptive field.

    receptive_field: (rows, cols) input pixels that one output cell depends on (the window may reach into
    the padding, so it can exceed the image); jump: input pixels between neighbouring output cells;
    start: input (row, col) of the centre of output cell (0, 0)'s field. For flat layers (flatten, dense,
    softmax) every output depends on the whole input: the three are None and `whole_input` is True."""

    name: str
    kind: str
    input_shape: tuple
    output_shape: tuple
    params: int
    macs: int
    receptive_field: tuple | None
    jump: tuple | None
    start: tuple | None

    @property
    def whole_input(self) -> bool:
        return self.receptive_field is None


def layer_table(model) -> list[LayerRow]:
    """Every layer of a linear CNN with its output shape, parameter count, multiply–adds for one image
    (conv: out_h·out_w·filters·kh·kw·in_channels; dense: inputs·units) and receptive field."""
    rows = []
    rf, jump, start = (1, 1), (1, 1), (0.0, 0.0)
    grid = True
    for inf, layer in zip(model.layer_infos, model.layers):
        kernel = getattr(layer, "kernel", None)
        macs = int(np.prod(inf.output_shape)) * int(np.prod(kernel.shape[:-1])) if kernel is not None else 0
        if grid and len(inf.output_shape) == 3:
            if isinstance(layer, (Conv2D, MaxPool2D)):
                g = WindowGeometry.of(layer, inf.input_shape)
                pads = (g.pad[0], g.pad[2])
                start = tuple(start[a] + ((g.size[a] - 1) / 2 - pads[a]) * jump[a] for a in range(2))
                rf = tuple(rf[a] + (g.size[a] - 1) * jump[a] for a in range(2))
                jump = tuple(jump[a] * g.strides[a] for a in range(2))
            rows.append(LayerRow(inf.name, inf.kind, tuple(inf.input_shape), tuple(inf.output_shape),
                                 int(inf.param_count), macs, rf, jump, start))
        else:
            grid = False
            rows.append(LayerRow(inf.name, inf.kind, tuple(inf.input_shape), tuple(inf.output_shape),
                                 int(inf.param_count), macs, None, None, None))
    return rows


__all__ = ["KERNEL_SIZES", "STRIDES", "PADDINGS", "Axis", "Playground", "LayerRow", "channel_of", "trained_kernel",
           "playground", "layer_table"]
