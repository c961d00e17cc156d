"""The model trained in this browser, or the one chosen with 'Use your own model', kept across reloads (IndexedDB through web/model-store.js, which
writes atomically: a new record, then the pointer switched, in one transaction)."""
from __future__ import annotations

import numpy as np
from cnn101.formats.native import model_bytes, model_from_bytes
from pyscript import window
from pyscript.ffi import to_js


def u8(data: bytes):
    """A JS Uint8Array copy of bytes."""
    return to_js(np.frombuffer(bytes(data), np.uint8))


def _store():
    return getattr(window, "cnn101Store", None)


TRAINED, CHOSEN = "trained", "chosen"  # the two kinds of kept model


async def save(model, kind: str = TRAINED) -> bool:
    """Keep `model` in place of the one kept before (one model at a time: the learner's latest)."""
    store = _store()
    if store is None:
        return False
    card, npz = model_bytes(model)
    try:
        await store.save(u8(card), u8(npz), model.name, kind)
    except Exception:  # private mode, quota: the page goes on, the model is just not kept
        return False
    return True


async def load():
    """(the stored model, its kind), or None (nothing stored, or a record that no longer reads)."""
    store = _store()
    if store is None:
        return None
    try:
        record = await store.load()
        if record is None:
            return None
        kind = str(getattr(record, "kind", None) or TRAINED)  # records of the first version were all trained
        return model_from_bytes(record.card.to_bytes(), record.npz.to_bytes()), kind
    except Exception:
        return None


async def forget() -> None:
    store = _store()
    if store is not None:
        try:
            await store.forget()
        except Exception:
            pass
