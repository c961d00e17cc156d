"""The model trained in this browser, kept across reloads (IndexedDB through web/model-store.js, which
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


async def save(model) -> bool:
    store = _store()
    if store is None:
        return False
    card, npz = model_bytes(model)
    try:
        await store.save(u8(card), u8(npz), model.name)
    except Exception:  # private mode, quota: the page goes on, the model is just not kept
        return False
    return True


async def load():
    """The stored model, or None (nothing stored, or a record that no longer reads)."""
    store = _store()
    if store is None:
        return None
    try:
        record = await store.load()
        if record is None:
            return None
        return model_from_bytes(record.card.to_bytes(), record.npz.to_bytes())
    except Exception:
        return None


async def forget() -> None:
    store = _store()
    if store is not None:
        try:
            await store.forget()
        except Exception:
            pass
