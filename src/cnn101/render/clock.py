"""The one clock of every animated view, and the one speed ladder (the `speed` in the URL).

A Clock says which step to show, driven by elapsed time (requestAnimationFrame timestamps in ms), never by
frame counts: at speed s one step every `step_ms / s` ms, so the pace does not depend on the frame rate,
and a tab that was hidden jumps to where the time says (no burst of catch-up steps).

Two ways to end, one class:
- `loop=True` (the detail panels): the first frame after play only starts the clock; after the last
  step it starts again from the first;
- `loop=False` (the convolutional view's sweep, which reveals its results): `index` is the last step
  shown (−1 before the start), play shows the next step at once, the clock stops at the last step, and
  play after the end starts over.
"""
from __future__ import annotations

import math

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # the speed ladder of every view (1 = each view's own pace)
BASE_MS = 250.0  # one step of a detail panel at speed 1


def speed_index(speed: float) -> int:
    """Index of the SPEEDS entry closest to `speed` (on a log scale)."""
    s = max(float(speed), 1e-6)
    return min(range(len(SPEEDS)), key=lambda k: abs(math.log(SPEEDS[k] / s)))


def closest_speed(speed: float) -> float:
    """The SPEEDS entry closest to `speed` (what any view makes of the URL's speed)."""
    return SPEEDS[speed_index(speed)]


def speed_label(speed: float, step_ms: float = BASE_MS) -> str:
    return f"{speed:g}× ({step_ms / speed:.0f} ms per step)"


class Clock:
    """Steps 0 … n−1 over time; see the module's docstring for `loop`."""

    def __init__(self, n: int, speed: float = 1.0, step_ms: float = BASE_MS, loop: bool = True,
                 playing: bool = False):
        self.n = max(1, int(n))
        self.step_ms = float(step_ms)  # ms per step at speed 1
        self.loop = bool(loop)
        self.index = 0 if loop else -1
        self.playing = bool(playing)
        self._speed = float(speed)
        self._t0 = None  # time of the anchor (set by the first advance after play, go or a speed change)
        self._p0 = 0  # position (in steps, not wrapped) at the anchor
        self._pos = self.index
        self._anchor()

    # --- speed -------------------------------------------------------------------------------------------
    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._speed = float(value)
        self._anchor()

    @property
    def ms_per_step(self) -> float:
        return self.step_ms / self._speed

    interval = ms_per_step

    # --- moving ------------------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return not self.loop and self.index >= self.n - 1

    def _anchor(self, now: float | None = None) -> None:
        self._t0 = now
        self._pos = self.index
        self._p0 = self.index if self.loop else self.index + 1

    def advance(self, now: float) -> bool:
        """Move to the step time `now` calls for; True if the step changed."""
        if not self.playing or (self.loop and self.n <= 1):
            return False
        if self._t0 is None:
            self._t0 = float(now)
        pos = self._p0 + int((float(now) - self._t0) // self.ms_per_step)
        if pos == self._pos:
            return False
        self._pos = pos
        if self.loop:
            self.index = pos % self.n
        else:
            self.index = min(self.n - 1, max(self.index, pos))
            if self.done:
                self.playing = False
        return True

    def play(self, now: float | None = None) -> None:
        """Go on from the step shown (a finished sweep starts over)."""
        if self.done:
            self.index = -1
        self.playing = True
        self._anchor(now)

    def pause(self) -> None:
        self.playing = False

    def go(self, index: int) -> None:
        """Show step `index` (a loop wraps it; a sweep clamps it)."""
        self.index = int(index) % self.n if self.loop else min(self.n - 1, max(-1, int(index)))
        self._anchor()

    def step(self, by: int = 1) -> None:
        self.go(self.index + by)

    def replay(self) -> None:
        self.index = 0 if self.loop else -1
        self.play()

    def finish(self) -> None:
        """The last step, stopped (a sweep: everything revealed)."""
        self.index = self.n - 1
        self.playing = False
        self._anchor()

    def set_speed(self, speed: float) -> None:
        self.speed = speed

    # --- the sweep's words ------------------------------------------------------------------------------
    @property
    def revealed(self) -> int:
        return self.index

    @revealed.setter
    def revealed(self, value: int) -> None:
        self.index = int(value)
        self._anchor()

    @property
    def steps(self) -> int:
        return self.n


__all__ = ["SPEEDS", "BASE_MS", "Clock", "closest_speed", "speed_index", "speed_label"]
