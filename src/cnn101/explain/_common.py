"""Small helpers shared by the explanation modules: find layers and read one image's arrays."""
from __future__ import annotations

import numpy as np

from .ranges import symmetric  # noqa: F401  (the explanation modules import it from here)
from ..errors import InputError, OutOfRange


def _whole(v) -> bool:
    """An int, a NumPy integer or an integral float (2.0), never a bool or text."""
    return not isinstance(v, bool) and (isinstance(v, (int, np.integer)) or
                                        (isinstance(v, (float, np.floating)) and float(v).is_integer()))


def single(trace) -> None:
    """Refuse a batched trace: every explanation is about one image."""
    if getattr(trace, "batched", False):
        raise InputError("Explanations need the trace of a single image; trace one image (H×W×C), not a batch.")


def layer_of(model, name: str, kind: type, what: str):
    """The layer called `name`, checked to be of type `kind` (its message names the layer and its kind)."""
    layer = model.layer(name)
    if not isinstance(layer, kind):
        raise InputError(f"Layer {name!r} is a {layer.kind} layer, not a {what} layer.")
    return layer


def next_layer(model, name: str):
    """The layer right after `name`, or None."""
    names = [lay.name for lay in model.layers]
    i = names.index(name)
    return model.layers[i + 1] if i + 1 < len(names) else None


def check_channel(c: int, n: int, what: str = "channel") -> int:
    if not _whole(c):
        raise InputError(f"A {what} is chosen by a whole number from 0 to {n - 1}, not {c!r}.")
    c = int(c)
    if not 0 <= c < n:
        raise OutOfRange(f"{what.capitalize()} {c} does not exist; there are {n} (0 to {n - 1}).")
    return c
