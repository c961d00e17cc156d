"""The one JSON reader for every file a user can hand in (model card, model.json, metadata.json, the
config.json and metadata.json inside a .keras), and typed access to what it holds.

Limits come before parsing: the size, then the nesting depth, found by a scan of the bytes that skips
strings. `json.loads` recurses once per level, and the browser's Python has a far smaller stack than
CPython's: 10,000 nested brackets there is a fatal error of the whole interpreter, not an exception.
"""
from __future__ import annotations

import json
import math
import re

import numpy as np

from ..errors import ModelError

MAX_JSON_BYTES = 32 * 1024 * 1024
#: Keras and TF.js configs nest about ten levels deep.
MAX_DEPTH = 64

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_OPEN = np.zeros(256, np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1


def nesting_depth(data: bytes) -> int:
    """The deepest bracket nesting of JSON text, not counting brackets inside strings (in blocks of 1 MB,
    so a 32 MB file needs a few MB of working memory, also in the browser)."""
    bare = _STRING.sub(b'""', data)
    depth = deepest = 0
    for start in range(0, len(bare), 1 << 20):
        steps = _OPEN[np.frombuffer(bare, np.uint8, count=min(1 << 20, len(bare) - start), offset=start)]
        steps = steps[steps != 0]
        if steps.size:
            run = depth + np.cumsum(steps, dtype=np.int32)
            deepest = max(deepest, int(run.max()))
            depth = int(run[-1])
    return deepest


def read_json(data, what: str, max_bytes: int = MAX_JSON_BYTES):
    """Parse `data` (bytes or str) as JSON; any problem is a ModelError naming `what` (e.g. 'model.json')."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ModelError(f"{what} must be given as bytes or text, not {type(data).__name__}.")
    data = bytes(data)
    if len(data) > max_bytes:
        raise ModelError(f"{what} is {len(data) / 2**20:.1f} MB, more than the {max_bytes / 2**20:g} MB cnn101 reads "
                         "for a JSON file; a model description is usually well under 1 MB. Choose the right file.")
    depth = nesting_depth(data)
    if depth > MAX_DEPTH:
        raise ModelError(f"{what} nests {depth} levels deep, more than the {MAX_DEPTH} cnn101 reads; it is not a "
                         "model description. Choose the file your converter or Keras wrote.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ModelError(f"{what} is not valid JSON (not UTF-8 text); choose the .json file your converter wrote.") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except _Constant as e:
        raise ModelError(f"{what} holds {e}, which is not a number a model can use; re-export the model.") from None
    except json.JSONDecodeError as e:
        raise ModelError(f"{what} is not valid JSON ({e}); choose the file your converter wrote, unedited.") from None
    except RecursionError:  # pragma: no cover - the depth scan comes first
        raise ModelError(f"{what} nests too deeply to read; it is not a model description.") from None


class _Constant(Exception):
    pass


def _no_constant(name: str):
    raise _Constant(name)


# --- typed access: every wrong type is a ModelError that names the field -------------------------

def _kind(v) -> str:
    return "null" if v is None else {bool: "true/false", int: "a number", float: "a number", str: "a string",
                                     list: "a list", dict: "an object"}.get(type(v), type(v).__name__)


def obj(v, what: str) -> dict:
    if not isinstance(v, dict):
        raise ModelError(f"{what} must be a JSON object, but it is {_kind(v)}; the file is not one cnn101 can read.")
    return v


def arr(v, what: str) -> list:
    if not isinstance(v, list):
        raise ModelError(f"{what} must be a JSON list, but it is {_kind(v)}; the file is not one cnn101 can read.")
    return v


def string(v, what: str) -> str:
    if not isinstance(v, str):
        raise ModelError(f"{what} must be a string, but it is {_kind(v)}; the file is not one cnn101 can read.")
    return v


def integer(v, what: str, minimum: int | None = None) -> int:
    """A whole number (2 or 2.0, never 2.5, true or "2"), at least `minimum`."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
        raise ModelError(f"{what} must be a whole number, but it is {v!r}; the file is not one cnn101 can read.")
    n = int(v)
    if minimum is not None and n < minimum:
        raise ModelError(f"{what} must be at least {minimum}, but it is {n}; the file is not one cnn101 can read.")
    return n


def int_pair(v, what: str) -> tuple[int, int]:
    """A positive whole number or a list of one or two of them (Keras: kernel_size, strides, pool_size)."""
    items = v if isinstance(v, list) else [v]
    if len(items) not in (1, 2):
        raise ModelError(f"{what} must be one or two whole numbers, but it is {v!r}.")
    pair = [integer(x, what, 1) for x in items]
    return (pair[0], pair[-1])


def shape(v, what: str, allow_batch: bool = False) -> tuple:
    """A list of non-negative whole numbers (the first may be null when `allow_batch`)."""
    items = arr(v, what)
    out = []
    for i, d in enumerate(items):
        if d is None and allow_batch and i == 0:
            out.append(None)
            continue
        if d is None:
            raise ModelError(f"{what} {items!r} has an unknown size (null); cnn101 needs fixed sizes.")
        out.append(integer(d, f"{what} {items!r}: each size", 0))
    return tuple(out)


def names(v, what: str) -> list[str]:
    """Class names: a list of strings or numbers (never one string, which would be split into letters)."""
    if isinstance(v, (str, bytes)):
        raise ModelError(f"{what} must be a list of names, one per class, but it is one string ({v[:40]!r}…); "
                         "write it as a JSON list, e.g. [\"cat\", \"dog\"].")
    items = arr(v, what) if not isinstance(v, tuple) else list(v)
    for x in items:
        if isinstance(x, bool) or not isinstance(x, (str, int, float)) or (isinstance(x, float) and not math.isfinite(x)):
            raise ModelError(f"{what} must hold one name (text) per class, but it holds {x!r}.")
    return [str(x) for x in items]
