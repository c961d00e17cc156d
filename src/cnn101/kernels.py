"""Editing a trained network: put a classic image filter (or any kernel and bias) into one neuron of a conv
layer, see what every later layer and the prediction make of it, and put the trained values back.

    from cnn101.kernels import Edits
    edits = Edits(model)
    edits.preset("conv_1_1", 0, "edges (vertical)")   # every input channel of neuron 0 gets the filter
    edits.set_bias("conv_1_1", 0, 0.0)
    model.trace(x)                                     # computed with the edited weights
    edits.reset_all()                                  # the trained weights again, bit for bit

The engine reads its kernels at every forward pass, so an edit takes effect at once (the page re-traces).
A preset is given to every input channel divided by their number, so the neuron's values keep the
scale of one channel: 'identity' makes the neuron the mean of its input channels.
"""
from __future__ import annotations

import numpy as np

from .engine.layers import Conv2D
from .errors import ModelError

PRESETS = ("identity", "edges (vertical)", "edges (horizontal)", "blur", "sharpen", "zero")


def preset(name: str, kh: int, kw: int) -> np.ndarray:
    """A (kh, kw) float32 kernel: the classic 3×3 filters, generalised to any size (odd sizes centre on
    a pixel; even sizes on the pixel up and left of the centre, as 'same' padding does)."""
    ci, cj = (kh - 1) // 2, (kw - 1) // 2
    identity = np.zeros((kh, kw), np.float64)
    identity[ci, cj] = 1.0
    if name == "identity":
        k = identity
    elif name == "blur":
        k = np.full((kh, kw), 1.0 / (kh * kw))
    elif name in ("edges (vertical)", "edges (horizontal)"):
        rows, cols = (kh, kw) if name == "edges (vertical)" else (kw, kh)
        weight = 1.0 + (np.abs(np.arange(rows) - (rows - 1) / 2) < 1)  # Sobel: the middle row(s) count twice
        side = np.sign(np.arange(cols) - (cols - 1) / 2)  # −1 left of the centre, +1 right, 0 on it
        k = weight[:, None] * side[None, :]
        k = k / max(np.abs(k[k > 0]).sum(), 1.0) if np.any(k > 0) else k
        k = k if name == "edges (vertical)" else k.T
    elif name == "sharpen":
        k = 2 * identity - np.full((kh, kw), 1.0 / (kh * kw))
        if (kh, kw) == (3, 3):
            k = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float64)
    elif name == "zero":
        k = np.zeros((kh, kw))
    else:
        raise ModelError(f"Unknown kernel preset {name!r}; choose one of: {', '.join(PRESETS)}.")
    return k.astype(np.float32)


class Edits:
    """The edits made to one model's conv neurons, with their trained values kept to put back."""

    def __init__(self, model):
        self.model = model
        self._trained: dict[tuple[str, int], tuple[np.ndarray, np.float32]] = {}
        self.presets: dict[tuple[str, int], str] = {}  # the preset a neuron shows, if any

    def _conv(self, layer: str, neuron: int) -> Conv2D:
        conv = self.model.layer(layer)
        if not isinstance(conv, Conv2D):
            raise ModelError(f"Layer '{layer}' is a {conv.kind} layer; only conv kernels can be edited.")
        if not 0 <= int(neuron) < conv.kernel.shape[3]:
            raise ModelError(f"Layer '{layer}' has neurons 0–{conv.kernel.shape[3] - 1}, not {neuron}.")
        if not conv.kernel.flags.writeable:  # e.g. read straight from a file's buffer
            conv.kernel = conv.kernel.copy()
        if not conv.bias.flags.writeable:
            conv.bias = conv.bias.copy()
        key = (layer, int(neuron))
        if key not in self._trained:
            self._trained[key] = (conv.kernel[:, :, :, int(neuron)].copy(), np.float32(conv.bias[int(neuron)]))
        return conv

    def set_kernel(self, layer: str, neuron: int, kernel) -> None:
        """Neuron `neuron` of conv `layer` gets `kernel` ((kh, kw, cin), or (kh, kw) for every channel)."""
        conv = self._conv(layer, neuron)
        kh, kw, cin = conv.kernel.shape[:3]
        k = np.asarray(kernel, np.float32)
        if k.shape == (kh, kw):
            k = np.repeat(k[:, :, None], cin, axis=2)
        if k.shape != (kh, kw, cin) or not np.all(np.isfinite(k)):
            raise ModelError(f"A kernel for {layer} must be {kh}×{kw}×{cin} finite numbers, got shape {k.shape}.")
        conv.kernel[:, :, :, int(neuron)] = k
        self.presets.pop((layer, int(neuron)), None)

    def preset(self, layer: str, neuron: int, name: str) -> None:
        """Give every input channel of the neuron the preset, divided by the number of channels."""
        conv = self._conv(layer, neuron)
        kh, kw, cin = conv.kernel.shape[:3]
        self.set_kernel(layer, neuron, preset(name, kh, kw) / np.float32(cin))
        self.presets[(layer, int(neuron))] = name

    def set_bias(self, layer: str, neuron: int, value: float) -> None:
        conv = self._conv(layer, neuron)
        if not np.isfinite(value):
            raise ModelError("The bias must be a finite number.")
        conv.bias[int(neuron)] = np.float32(value)

    def reset(self, layer: str, neuron: int) -> None:
        """The neuron's trained kernel and bias again."""
        key = (layer, int(neuron))
        if key in self._trained:
            kernel, bias = self._trained.pop(key)
            conv = self.model.layer(layer)
            conv.kernel[:, :, :, int(neuron)] = kernel
            conv.bias[int(neuron)] = bias
        self.presets.pop(key, None)

    def reset_all(self) -> None:
        for layer, neuron in list(self._trained):
            self.reset(layer, neuron)

    def trained_kernel(self, layer: str, neuron: int) -> np.ndarray:
        """A copy of the neuron's kernel (kh, kw, cin) before any edit."""
        kept = self._trained.get((layer, int(neuron)))
        return (kept[0] if kept is not None else self.model.layer(layer).kernel[:, :, :, int(neuron)]).copy()

    def trained_bias(self, layer: str, neuron: int) -> float:
        """The neuron's bias before any edit."""
        kept = self._trained.get((layer, int(neuron)))
        return float(kept[1]) if kept is not None else float(self.model.layer(layer).bias[int(neuron)])

    def edited(self) -> list[tuple[str, int]]:
        """The neurons whose kernel or bias differ from the trained ones."""
        out = []
        for (layer, neuron), (kernel, bias) in self._trained.items():
            conv = self.model.layer(layer)
            if not (np.array_equal(conv.kernel[:, :, :, neuron], kernel) and conv.bias[neuron] == bias):
                out.append((layer, neuron))
        return out
