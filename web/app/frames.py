"""The requestAnimationFrame loop of the animated views (the detail panels and the convolutional view's
sweep): it runs while the view is playing, with its proxy owned by the view (view.Owner)."""
from __future__ import annotations

from pyscript import window


class FrameLoop:
    """Calls `step(t)` (t: the frame's timestamp, ms) once per animation frame while `running()` is true.
    `start()` may be called any number of times: at most one frame is ever requested. `owner(fn)` makes
    the frame callback's proxy (a view.Owner, which frees it when the view closes)."""

    def __init__(self, owner, step, running):
        self._step, self._running = step, running
        self._pending = None  # the id of the frame requested, if one is
        self._proxy = owner(self._frame)

    def start(self) -> None:
        if self._pending is None and self._running():
            self._pending = window.requestAnimationFrame(self._proxy)

    def stop(self) -> None:
        """Cancel the frame requested, if any (a view closing: its proxy is about to be destroyed, and a
        frame delayed on a busy machine must not call it afterwards)."""
        if self._pending is not None:
            window.cancelAnimationFrame(self._pending)
            self._pending = None

    def _frame(self, t) -> None:
        self._pending = None
        if not self._running():
            return
        self._step(float(t))
        self.start()
