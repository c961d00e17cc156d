"""The page's side of the training worker (web/training-worker.mjs): start it with a model and images,
pause / one step / resume / stop, and hand each progress message to `on_progress(report, npz)`.
A worker that fails to start or dies calls `on_failed(message)`; the page keeps working."""
from __future__ import annotations

import json

import numpy as np
from pyscript import document, window
from pyscript.ffi import create_proxy, to_js

from .model_store import u8

WORKER = "./training-worker.mjs"
EVERY = 2  # steps between progress messages (each brings the weights and the held-out figures)


def _obj(**items):
    return to_js(items, dict_converter=window.Object.fromEntries)


def _runtime_files() -> dict:
    """The page's own Pyodide lock and stdlib (<meta name="cnn101-pyodide">, buildsite/stored.py), as
    absolute URLs for the worker's loadPyodide; none in a build without them."""
    meta = document.querySelector('meta[name="cnn101-pyodide"]')
    out = {}
    for key, attr in (("lockFileURL", "lock"), ("stdLibURL", "stdlib")):
        value = getattr(meta.dataset, attr, None) if meta else None
        if value:
            out[key] = str(window.URL.new(str(value), document.baseURI).href)
    return out


class TrainingWorker:
    def __init__(self, on_ready, on_progress, on_failed, on_paused):
        self.on_ready, self.on_progress, self.on_failed, self.on_paused = on_ready, on_progress, on_failed, on_paused
        self.worker = None
        self._proxies = []

    def _make(self):
        opts = _obj(type="module")
        self.worker = window.Worker.new(WORKER, opts)
        for name, fn in (("onmessage", self._message), ("onerror", self._error)):
            proxy = create_proxy(fn)
            self._proxies.append(proxy)
            setattr(self.worker, name, proxy)

    def start(self, card: bytes, npz: bytes, xs: np.ndarray, ys, xv: np.ndarray, yv, settings: dict) -> None:
        if self.worker is None:
            self._make()
        meta = document.querySelector('meta[name="cnn101-app-wheel"]')
        wheel = str(window.URL.new(meta.content, document.baseURI).href) if meta else ""
        msg = _obj(type="start", indexURL=str(window.URL.new("./pyodide/", document.baseURI).href), wheel=wheel,
                   integrity=str(meta.dataset.integrity) if meta else "", every=EVERY, settings=json.dumps(settings),
                   **_runtime_files())
        msg.card, msg.npz = u8(card), u8(npz)
        msg.xs, msg.xv = u8(np.ascontiguousarray(xs, "<f4").tobytes()), u8(np.ascontiguousarray(xv, "<f4").tobytes())
        msg.xsShape, msg.xvShape = to_js([int(d) for d in xs.shape]), to_js([int(d) for d in xv.shape])
        msg.ys, msg.yv = to_js([int(y) for y in ys]), to_js([int(y) for y in yv])
        self.worker.postMessage(msg)

    def send(self, kind: str) -> None:
        if self.worker is not None:
            self.worker.postMessage(_obj(type=kind))

    def terminate(self) -> None:
        if self.worker is not None:
            self.worker.terminate()
            self.worker = None
        for p in self._proxies:
            p.destroy()
        self._proxies = []

    def _message(self, event) -> None:
        data = event.data
        kind = str(data.type)
        if kind == "ready":
            self.on_ready()
        elif kind == "progress":
            self.on_progress(json.loads(str(data.report)), data.npz.to_bytes())
        elif kind == "paused":
            self.on_paused()
        elif kind == "failed":
            self.on_failed(str(data.message))

    def _error(self, event) -> None:
        event.preventDefault()
        message = str(getattr(event, "message", "") or "it stopped")
        self.terminate()
        self.on_failed(message)
