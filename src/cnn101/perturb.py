"""Change an input image to test a hypothesis: occlude, blur, add noise, rotate, flip, shift, and edit its
colour channels. Pure NumPy on the model's input array (H×W×C float32, values in [0, 1]).

    from cnn101 import perturb
    y = perturb.keep_channel(x, "red")            # the paper's experiment: only the red channel is left
    y = perturb.occlude(x, top=20, left=30, size=8)
    y = perturb.apply(x, [{"op": "blur", "size": 3}, {"op": "noise", "amount": 0.05, "seed": 1}])

Every function returns a new float32 array of the input's shape with values in [0, 1] and leaves its
input alone. Most stay in range by construction (they move, average or replace values); those that can
leave it — `noise`, `brightness`, `contrast` — clip to [0, 1] and say so. Each one is the identity at
zero strength (blur size 1 or sigma 0, noise 0, rotation 0°, shift 0, brightness 0, contrast 1).
Settings that cannot work raise `PerturbError` with a plain message.

`fill` (rotate, shift) and `value` (occlude) are the colour put where the image has no pixels: one number
for every channel or one per channel; 0.5 (mid grey) by default, as the occlusion map uses.
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Sequence

import numpy as np

from .errors import PerturbError

CHANNEL_NAMES = {"red": 0, "r": 0, "green": 1, "g": 1, "blue": 2, "b": 2}
GREY = 0.5
#: The operations whose results are clipped to [0, 1] (values pushed past 0 or 1 are lost); the page names
#: them when a learner uses one. Every other operation stays in range without clipping.
CLIPS = ("noise", "brightness", "contrast")


# --- checks -------------------------------------------------------------------------------------------

def image(x) -> np.ndarray:
    """The input as a float32 H×W×C copy, checked: three axes, at least one pixel, finite values in [0, 1]."""
    a = np.array(x, dtype=np.float32)  # a copy: no function changes its argument
    if a.ndim != 3 or min(a.shape) < 1:
        raise PerturbError(f"An input image must be an H×W×C array with at least one pixel, got shape {a.shape}. "
                           "Use cnn101.load_image(source, model) to make one.")
    if not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > 1:
        raise PerturbError("An input image must hold finite values between 0 and 1; "
                           "use cnn101.load_image(source, model) to make one.")
    return a


def channel_index(channel, channels: int) -> int:
    """A channel given as an index (0 … C−1) or, for 3-channel images, a colour name ('red', 'g', …)."""
    if isinstance(channel, str):
        key = channel.strip().lower()
        if channels == 3 and key in CHANNEL_NAMES:
            return CHANNEL_NAMES[key]
        names = "red, green, blue or " if channels == 3 else ""
        raise PerturbError(f"Unknown channel {channel!r}; choose {names}an index from 0 to {channels - 1}.")
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) or not 0 <= int(channel) < channels:
        raise PerturbError(f"Channel {channel!r} does not exist; the image has {channels} "
                           f"(0 to {channels - 1}{', or red, green, blue' if channels == 3 else ''}).")
    return int(channel)


def colour(value, channels: int, what: str = "fill") -> np.ndarray:
    """One number per channel in [0, 1], from one number or a sequence of C numbers."""
    v = np.asarray(value, dtype=np.float64).reshape(-1)
    if v.size == 1:
        v = np.repeat(v, channels)
    if v.size != channels or not np.all(np.isfinite(v)) or v.min() < 0 or v.max() > 1:
        raise PerturbError(f"The {what} colour must be one number or {channels} numbers between 0 and 1, got {value!r}.")
    return v.astype(np.float32)


def _int(v, what: str, low: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) and not (isinstance(v, float) and v.is_integer()):
        raise PerturbError(f"The {what} must be a whole number, got {v!r}.")
    v = int(v)
    if low is not None and v < low:
        raise PerturbError(f"The {what} must be at least {low}, got {v}.")
    return v


def _number(v, what: str, low: float | None = None, high: float | None = None) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise PerturbError(f"The {what} must be a number, got {v!r}.") from None
    if not math.isfinite(f) or (low is not None and f < low) or (high is not None and f > high):
        span = f"from {low} to {high}" if low is not None and high is not None else (
            f"at least {low}" if low is not None else f"at most {high}")
        raise PerturbError(f"The {what} must be a finite number {span}, got {v!r}.")
    return f


def _pair(v, what: str, low: int) -> tuple[int, int]:
    if isinstance(v, (Sequence, np.ndarray)) and not isinstance(v, str):
        if len(v) != 2:
            raise PerturbError(f"The {what} must be one whole number or two (rows, columns), got {v!r}.")
        return _int(v[0], what, low), _int(v[1], what, low)
    n = _int(v, what, low)
    return n, n


# --- occlude, blur, noise -----------------------------------------------------------------------------

def occlude(x, top: int, left: int, size=8, value=GREY) -> np.ndarray:
    """Cover a size×size patch (or (rows, cols)) whose top-left pixel is (top, left) with `value`.

    The patch may hang over the edges (top/left may be negative or near the far side): only the part
    inside the image is painted; a patch wholly outside changes nothing."""
    a = image(x)
    h, w, c = a.shape
    sh, sw = _pair(size, "patch size", 1)
    top, left = _int(top, "patch row"), _int(left, "patch column")
    fill = colour(value, c, "patch")
    r0, r1 = max(top, 0), min(top + sh, h)
    c0, c1 = max(left, 0), min(left + sw, w)
    if r0 < r1 and c0 < c1:
        a[r0:r1, c0:c1] = fill
    return a


def _edge_filter(a: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Correlate rows then columns with a 1-D kernel (odd or even length; extra tap after the centre), the
    image's edge pixels repeated beyond it. Weights summing to 1 keep values in [0, 1]."""
    k = len(weights)
    before, after = (k - 1) // 2, k // 2
    out = a.astype(np.float64)
    for axis in (0, 1):
        pad = [(0, 0)] * 3
        pad[axis] = (before, after)
        p = np.pad(out, pad, mode="edge")
        n = out.shape[axis]
        acc = np.zeros_like(out)
        for t, wt in enumerate(weights):
            acc += wt * np.take(p, np.arange(t, t + n), axis=axis)
        out = acc
    return np.clip(out, 0.0, 1.0).astype(np.float32)  # the clip only removes rounding beyond the ends


def box_blur(x, size: int = 3) -> np.ndarray:
    """Each pixel becomes the mean of the size×size square around it (edge pixels repeated outside the
    image); size 1 is the identity."""
    a = image(x)
    k = _int(size, "blur size", 1)
    if k == 1:
        return a
    return _edge_filter(a, np.full(k, 1.0 / k))


def gaussian_blur(x, sigma: float = 1.0) -> np.ndarray:
    """A Gaussian blur of standard deviation `sigma` pixels (taps out to 3σ, normalised to sum 1; edge
    pixels repeated outside the image); sigma 0 is the identity."""
    a = image(x)
    s = _number(sigma, "blur sigma", 0.0, 50.0)
    if s == 0:
        return a
    r = max(1, math.ceil(3 * s))
    t = np.arange(-r, r + 1, dtype=np.float64)
    with np.errstate(over="ignore"):  # a tiny sigma: (t/s)² overflows to inf, and exp(−inf) is the 0 it should be
        wts = np.exp(-0.5 * (t / s) ** 2)
    return _edge_filter(a, wts / wts.sum())


def blur(x, size: int = 3, kind: str = "box", sigma: float | None = None) -> np.ndarray:
    """`box_blur(x, size)`, or `gaussian_blur(x, sigma)` with kind='gaussian' (sigma defaults to size / 3)."""
    if kind == "box":
        return box_blur(x, size)
    if kind == "gaussian":
        return gaussian_blur(x, _int(size, "blur size", 1) / 3.0 if sigma is None else sigma)
    raise PerturbError(f"Unknown blur {kind!r}; choose 'box' or 'gaussian'.")


def noise(x, amount: float = 0.1, seed: int = 0, kind: str = "gaussian") -> np.ndarray:
    """Add random noise: 'gaussian' (standard deviation `amount`) or 'uniform' (between −amount and +amount),
    the same for the same seed on every machine (NumPy's PCG64). The result is clipped to [0, 1]."""
    a = image(x)
    amt = _number(amount, "noise amount", 0.0, 1.0)
    seed = _int(seed, "noise seed", 0)
    if amt == 0:
        return a
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        n = rng.standard_normal(a.shape) * amt
    elif kind == "uniform":
        n = rng.uniform(-amt, amt, a.shape)
    else:
        raise PerturbError(f"Unknown noise {kind!r}; choose 'gaussian' or 'uniform'.")
    return np.clip(a + n, 0.0, 1.0).astype(np.float32)


# --- geometry -----------------------------------------------------------------------------------------

def rotate(x, degrees: float, fill=GREY) -> np.ndarray:
    """Turn the image anticlockwise (as seen on screen) by `degrees` about its centre, keeping its size.

    Multiples of 90° on a square image (and 180° on any) move pixels exactly (np.rot90). Other angles
    sample the image bilinearly; output pixels whose source lies outside the image take `fill`."""
    a = image(x)
    h, w, c = a.shape
    deg = _number(degrees, "rotation angle")
    fill_v = colour(fill, c)
    quarter = deg / 90.0
    if quarter.is_integer() and (int(quarter) % 2 == 0 or h == w):
        return np.ascontiguousarray(np.rot90(a, int(quarter) % 4))
    return _rotate_sampled(a, deg, fill_v)


def _rotate_sampled(a: np.ndarray, deg: float, fill_v: np.ndarray) -> np.ndarray:
    h, w, c = a.shape
    th = math.radians(deg)
    cos, sin = math.cos(th), math.sin(th)
    cr, cc = (h - 1) / 2, (w - 1) / 2
    u, v = np.meshgrid(np.arange(h) - cr, np.arange(w) - cc, indexing="ij")
    # Source of output (u, v) relative to the centre; np.rot90's direction for deg = 90.
    sr = cr + u * cos + v * sin
    sc = cc - u * sin + v * cos
    eps = 1e-9
    inside = (sr >= -eps) & (sr <= h - 1 + eps) & (sc >= -eps) & (sc <= w - 1 + eps)
    sr, sc = np.clip(sr, 0, h - 1), np.clip(sc, 0, w - 1)
    r0, c0 = np.floor(sr).astype(int), np.floor(sc).astype(int)
    r1, c1 = np.minimum(r0 + 1, h - 1), np.minimum(c0 + 1, w - 1)
    fr, fc = (sr - r0)[..., None], (sc - c0)[..., None]
    src = a.astype(np.float64)
    out = ((1 - fr) * ((1 - fc) * src[r0, c0] + fc * src[r0, c1])
           + fr * ((1 - fc) * src[r1, c0] + fc * src[r1, c1]))
    out[~inside] = fill_v
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def flip(x, direction: str = "horizontal") -> np.ndarray:
    """Mirror the image: 'horizontal' swaps left and right, 'vertical' swaps top and bottom."""
    a = image(x)
    if direction == "horizontal":
        return np.ascontiguousarray(a[:, ::-1])
    if direction == "vertical":
        return np.ascontiguousarray(a[::-1])
    raise PerturbError(f"Unknown flip {direction!r}; choose 'horizontal' or 'vertical'.")


def shift(x, down: int = 0, right: int = 0, fill=GREY) -> np.ndarray:
    """Move the image `down` rows and `right` columns (negative: up / left); pixels moved out are lost and
    the uncovered ones take `fill`."""
    a = image(x)
    h, w, c = a.shape
    dy, dx = _int(down, "shift down"), _int(right, "shift right")
    out = np.empty_like(a)
    out[...] = colour(fill, c)
    if abs(dy) < h and abs(dx) < w:
        out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = a[max(-dy, 0):h - max(dy, 0),
                                                                       max(-dx, 0):w - max(dx, 0)]
    return out


# --- channels -----------------------------------------------------------------------------------------

def keep_channel(x, channel) -> np.ndarray:
    """Only one channel keeps its values; every other channel becomes 0 (e.g. keep_channel(x, 'red'))."""
    a = image(x)
    k = channel_index(channel, a.shape[2])
    out = np.zeros_like(a)
    out[:, :, k] = a[:, :, k]
    return out


def zero_channel(x, channel) -> np.ndarray:
    """One channel becomes 0 everywhere; the others keep their values."""
    a = image(x)
    a[:, :, channel_index(channel, a.shape[2])] = 0
    return a


def set_channel(x, channel, value: float) -> np.ndarray:
    """One channel takes the same value everywhere (0 … 1)."""
    a = image(x)
    a[:, :, channel_index(channel, a.shape[2])] = _number(value, "channel value", 0.0, 1.0)
    return a


def invert(x, channel=None) -> np.ndarray:
    """v → 1 − v, for every channel or only one. Inverting twice gives the image back to float32 rounding
    (at most 6e-8 off, for values below 0.5)."""
    a = image(x)
    if channel is None:
        return np.float32(1) - a
    k = channel_index(channel, a.shape[2])
    a[:, :, k] = np.float32(1) - a[:, :, k]
    return a


def permute_channels(x, order) -> np.ndarray:
    """Reorder the channels: output channel i is input channel order[i] ((2, 1, 0) swaps red and blue)."""
    a = image(x)
    c = a.shape[2]
    try:
        idx = [channel_index(o, c) for o in order]
    except TypeError:
        raise PerturbError(f"The channel order must be a list of {c} channels, got {order!r}.") from None
    if sorted(idx) != list(range(c)):
        raise PerturbError(f"The channel order must name each of the {c} channels once, got {list(order)!r}.")
    return np.ascontiguousarray(a[:, :, idx])


def swap_channels(x, a, b) -> np.ndarray:
    """Exchange two channels (e.g. swap_channels(x, 'red', 'blue'))."""
    img = image(x)
    c = img.shape[2]
    order = list(range(c))
    i, j = channel_index(a, c), channel_index(b, c)
    order[i], order[j] = j, i
    return np.ascontiguousarray(img[:, :, order])


def brightness(x, amount: float, channel=None) -> np.ndarray:
    """Add `amount` (−1 … 1) to every value (or one channel's); the result is clipped to [0, 1]."""
    a = image(x)
    amt = np.float32(_number(amount, "brightness change", -1.0, 1.0))
    sel = slice(None) if channel is None else channel_index(channel, a.shape[2])
    a[:, :, sel] = np.clip(a[:, :, sel] + amt, 0.0, 1.0)
    return a


def contrast(x, factor: float, channel=None) -> np.ndarray:
    """Stretch values away from mid grey: v → 0.5 + factor·(v − 0.5), factor 0 … 10 (1 changes nothing,
    0 makes everything grey); the result is clipped to [0, 1]."""
    a = image(x)
    f = _number(factor, "contrast factor", 0.0, 10.0)
    if f == 1:
        return a
    sel = slice(None) if channel is None else channel_index(channel, a.shape[2])
    a[:, :, sel] = np.clip(0.5 + f * (a[:, :, sel].astype(np.float64) - 0.5), 0.0, 1.0)
    return a


# --- a list of operations (for page state and the URL) ------------------------------------------------

OPERATIONS = {
    "occlude": occlude, "blur": blur, "box_blur": box_blur, "gaussian_blur": gaussian_blur, "noise": noise,
    "rotate": rotate, "flip": flip, "shift": shift, "keep_channel": keep_channel, "zero_channel": zero_channel,
    "set_channel": set_channel, "invert": invert, "permute_channels": permute_channels,
    "swap_channels": swap_channels, "brightness": brightness, "contrast": contrast,
}


def operations() -> dict:
    """Every operation `apply` knows: OPERATIONS plus the drawing tools (cnn101.draw: 'stroke', 'fill')."""
    from . import draw  # draw builds on this module, so it is imported when first needed

    return {**OPERATIONS, "stroke": draw.stroke, "fill": draw.fill}


def apply(x, steps) -> np.ndarray:
    """Apply operations in order, each a dict {"op": name, **settings} (plain JSON, for the page's state and
    the URL), e.g. [{"op": "keep_channel", "channel": "red"}, {"op": "rotate", "degrees": 15},
    {"op": "stroke", "points": [[3, 4], [9, 12]], "radius": 2, "colour": 1}]. An empty list copies x."""
    out = image(x)
    ops = operations()
    for step in steps:
        if not isinstance(step, dict) or step.get("op") not in ops:
            name = step.get("op") if isinstance(step, dict) else step
            raise PerturbError(f"Unknown operation {name!r}; choose one of: {', '.join(ops)}.")
        fn = ops[step["op"]]
        settings = {k: v for k, v in step.items() if k != "op"}
        try:
            inspect.signature(fn).bind(out, **settings)
        except TypeError as e:
            raise PerturbError(f"Operation {step['op']!r} does not take these settings: {sorted(settings)} ({e}).") from None
        out = fn(out, **settings)
    return out


__all__ = ["CHANNEL_NAMES", "GREY", "CLIPS", "OPERATIONS", "image", "channel_index", "colour", "occlude", "box_blur",
           "gaussian_blur", "blur", "noise", "rotate", "flip", "shift", "keep_channel", "zero_channel", "set_channel",
           "invert", "permute_channels", "swap_channels", "brightness", "contrast", "operations", "apply"]
