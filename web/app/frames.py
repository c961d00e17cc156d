"""What the animated views share: the JS proxies of one view (freed a little after it closes, since a
queued frame or transition may still call them) and a requestAnimationFrame loop that runs while the
view is playing."""
from __future__ import annotations

from pyscript import window
from pyscript.ffi import create_proxy

from . import dom


class Proxies:
    """`proxies(fn)` → a JS-callable proxy of fn, kept until `free_later()`."""

    def __init__(self):
        self._kept = []

    def __call__(self, fn):
        p = create_proxy(fn)
        self._kept.append(p)
        return p

    def free_later(self, ms: int) -> None:
        kept, self._kept = self._kept, []
        window.setTimeout(dom.once(lambda *_: [p.destroy() for p in kept]), ms)


class FrameLoop:
    """Calls `step(t)` (t: the frame's timestamp, ms) once per animation frame while `running()` is true.
    `start()` may be called any number of times: at most one frame is ever requested."""

    def __init__(self, proxies: Proxies, step, running):
        self._step, self._running = step, running
        self._pending = False
        self._proxy = proxies(self._frame)

    def start(self) -> None:
        if not self._pending and self._running():
            self._pending = True
            window.requestAnimationFrame(self._proxy)

    def _frame(self, t) -> None:
        self._pending = False
        if not self._running():
            return
        self._step(float(t))
        self.start()
