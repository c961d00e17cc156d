"""The input neuron's view: one colour channel of the image the network reads, how preprocessing made it,
and how it feeds every kernel of the first convolutional layer.

    ch = input_channel(trace, 0)          # red (or the only channel of a one-channel model)
    ch.values, ch.levels                  # (H, W) in [0, 1], and the 0–255 levels they came from (/255)
    ch.results[:, :, f]                   # this channel ⋆ filter f's kernel for it (one term of neuron f)
    preprocessing((480, 640), (64, 64))   # original → resized → centre crop → /255, as cnn101.load_image
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine.layers import Conv2D
from ._common import check_channel, single
from .conv import single_channel_results
from .geometry import WindowGeometry
from .ranges import IMAGE_RANGE, symmetric


def channel_names(channels: int) -> tuple[str, ...]:
    """What the input's channels are called: red, green, blue; grey for one channel."""
    return {3: ("red", "green", "blue"), 1: ("grey",)}.get(channels, tuple(f"channel {i}" for i in range(channels)))


@dataclass(frozen=True)
class Preprocessing:
    """What cnn101.load_image did to an image of `original_hw` for a model that reads `input_hw`."""

    original_hw: tuple[int, int]
    resized_hw: tuple[int, int]  # after scaling so that the image covers the input (bilinear)
    crop: tuple[int, int]  # (top, left) of the centre crop in the resized image
    input_hw: tuple[int, int]

    @property
    def scale(self) -> float:
        return self.resized_hw[0] / self.original_hw[0]

    @property
    def steps(self) -> list[str]:
        """The steps in words, first to last."""
        (h, w), (rh, rw), (top, left), (ih, iw) = self.original_hw, self.resized_hw, self.crop, self.input_hw
        resize = ("already the input's size: no resizing" if (rh, rw) == (h, w)
                  else f"resized ×{self.scale:.3g} so the shorter side fits: {rw}×{rh} pixels")
        crop = ("no crop needed" if (rh, rw) == (ih, iw)
                else f"centre crop of {iw}×{ih} from row {top}, column {left}")
        return [f"original: {w}×{h} pixels", resize, crop, "each 0–255 level divided by 255 → values 0–1"]


def preprocessing(original_hw, input_hw) -> Preprocessing:
    """The resize and centre crop of cnn101.image.fit for an image of `original_hw` (height, width)."""
    h, w = (int(v) for v in original_hw)
    th, tw = (int(v) for v in input_hw)
    if h < 1 or w < 1:
        raise ValueError(f"An image has at least one pixel, not {w}×{h}.")
    if (h, w) == (th, tw):
        return Preprocessing((h, w), (h, w), (0, 0), (th, tw))
    scale = max(th / h, tw / w)
    nw, nh = max(tw, round(w * scale)), max(th, round(h * scale))
    return Preprocessing((h, w), (nh, nw), ((nh - th) // 2, (nw - tw) // 2), (th, tw))


@dataclass(frozen=True)
class InputChannel:
    """Channel `channel` of the input, and its part in the first conv layer (if the model starts with one)."""

    channel: int
    label: str  # 'red', 'green', 'blue', 'grey' …
    values: np.ndarray = field(repr=False)  # (H, W) float32 in [0, 1]: what the network reads
    levels: np.ndarray = field(repr=False)  # (H, W) uint8: values · 255 (the pixel levels before /255)
    layer: str | None  # the conv layer reading the input, or None
    geometry: WindowGeometry | None
    kernels: np.ndarray | None = field(repr=False)  # (kh, kw, F): every filter's kernel for this channel
    results: np.ndarray | None = field(repr=False)  # (out_h, out_w, F): this channel ⋆ each of those kernels

    value_range = IMAGE_RANGE

    @property
    def filters(self) -> int:
        return 0 if self.kernels is None else int(self.kernels.shape[2])

    @property
    def kernel_range(self) -> tuple[float, float]:
        return symmetric(self.kernels) if self.kernels is not None else (0.0, 0.0)

    @property
    def result_range(self) -> tuple[float, float]:
        return symmetric(self.results) if self.results is not None else (0.0, 0.0)

    def kernel_stats(self, f: int) -> tuple[float, float, float]:
        """(min, max, sum) of filter f's kernel for this channel."""
        k = np.asarray(self.kernels[:, :, check_channel(f, self.filters, "filter")], np.float64)
        return float(k.min()), float(k.max()), float(k.sum())


def input_channel(trace, channel: int) -> InputChannel:
    """The input neuron `channel` of a single image's trace."""
    single(trace)
    model = trace.model
    x = np.asarray(trace["input"])
    c = check_channel(channel, x.shape[2])
    values = x[:, :, c]
    levels = np.clip(np.rint(values * 255), 0, 255).astype(np.uint8)
    first = model.layers[0]
    layer = geometry = kernels = results = None
    if isinstance(first, Conv2D):
        layer = first.name
        geometry = WindowGeometry.of(first, x.shape)
        kernels = np.asarray(first.kernel[:, :, c, :])
        f = kernels.shape[2]
        results = single_channel_results(np.repeat(values[:, :, None], f, axis=2), kernels, geometry)
    return InputChannel(c, channel_names(x.shape[2])[c], values, levels, layer, geometry, kernels, results)
