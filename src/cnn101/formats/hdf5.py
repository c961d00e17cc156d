"""The one HDF5 reader (the `model.weights.h5` inside a Keras 3 `.keras` file), with h5py.

Read only what Keras writes there — `layers/<key>/vars/<i>` datasets of real numbers — and only after
checking each: no links of any kind (soft links point elsewhere in the file, external links to other
files), no external or virtual storage (those read other files on the machine), a number type, and a
size (shape × item size, whatever fill value or compression it declares) within the budget.
"""
from __future__ import annotations

import io

import numpy as np

from ..errors import ModelError

#: All weights of one model at most, as float32.
MAX_WEIGHT_BYTES = 256 * 1024 * 1024
_WHAT = "The weights inside this .keras file (model.weights.h5)"


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ModelError("Reading .keras files needs h5py (pip install h5py). "
                         "Or export the model to TF.js layers format, which needs nothing extra.") from None
    return h5py


def _child(h5py, group, key: str, kind):
    """group[key] when it is a plain (hard-linked) member of the expected kind, else None or a ModelError."""
    link = group.get(key, getlink=True)
    if link is None:
        return None
    if not isinstance(link, h5py.HardLink):
        raise ModelError(f"{_WHAT} holds a link ({key!r} → {getattr(link, 'path', '?')}"
                         f"{' in ' + link.filename if isinstance(link, h5py.ExternalLink) else ''}); cnn101 reads only "
                         "weights stored in the file itself. Save the model again with Keras.")
    item = group[key]
    return item if isinstance(item, kind) else None


def _array(h5py, ds, key: str, budget: int) -> np.ndarray:
    if ds.external:
        raise ModelError(f"{_WHAT}: {key} keeps its data in another file ({ds.external[0][0]!r}); cnn101 never reads "
                         "files a model points to. Save the model again with Keras.")
    if ds.is_virtual:
        raise ModelError(f"{_WHAT}: {key} is a virtual dataset made of other files; cnn101 never reads those. "
                         "Save the model again with Keras.")
    if ds.dtype.kind not in "fiu":
        raise ModelError(f"{_WHAT}: {key} holds {ds.dtype} values; weights must be real numbers (float32).")
    nbytes = int(ds.size) * 4
    if nbytes > budget:
        raise ModelError(f"{_WHAT} declare more than {MAX_WEIGHT_BYTES / 2**20:g} MB of weights (at {key}, shape "
                         f"{ds.shape}); cnn101 explains small models. Choose a smaller model.")
    return np.asarray(ds[()], dtype=np.float32)


def keras_weights(h5_bytes: bytes) -> dict[str, list[np.ndarray]]:
    """{layer key: [its variables in order]} from a Keras 3 weights file held in memory."""
    h5py = _h5py()
    out: dict[str, list[np.ndarray]] = {}
    budget = MAX_WEIGHT_BYTES
    try:
        with h5py.File(io.BytesIO(h5_bytes), "r") as f:
            root = _child(h5py, f, "layers", h5py.Group) if "layers" in f else f
            if root is None:
                raise ModelError(f"{_WHAT} has no 'layers' group; save the model with Keras 3's model.save('x.keras').")
            for key in list(root):
                layer = _child(h5py, root, key, h5py.Group)
                vars_ = _child(h5py, layer, "vars", h5py.Group) if layer is not None else None
                if vars_ is None:
                    continue
                arrays = []
                for i in range(len(vars_)):
                    ds = _child(h5py, vars_, str(i), h5py.Dataset)
                    if ds is None:
                        raise ModelError(f"{_WHAT}: layer {key} has no variable {i}; the file is damaged.")
                    arrays.append(_array(h5py, ds, f"layers/{key}/vars/{i}", budget))
                    budget -= arrays[-1].nbytes
                out[key] = arrays
    except ModelError:
        raise
    except (OSError, KeyError, TypeError, ValueError, AttributeError, RuntimeError, IndexError) as e:
        raise ModelError(f"{_WHAT} are damaged ({e}); save the model again with Keras.") from None
    return out
