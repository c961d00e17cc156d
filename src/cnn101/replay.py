"""`perturb.apply` again and again on the same image, reusing the last call's work.

    from cnn101.replay import Replay
    replay = Replay()
    y = replay.apply(x, steps)      # == perturb.apply(x, steps), bit for bit

The page's drawing pad re-applies every step on each pointer move while a stroke grows, and a slider re-applies
them on each change. A `Replay` keeps the image after the last call's steps (and before its last step): when
the new steps start with the same steps it continues from there, and when the only difference is that the last
step is a brush stroke with more points (same radius, colour and channel) it paints just the new segments over
the last result. A stroke paints the union of its segments' masks (cnn101.draw.stroke_mask), each segment
on its own, so painting points[n-1:] over the stroke of points[:n] gives the stroke of all the points.

Steps are compared by `repr`, so 1, 1.0 and True differ (perturb treats them differently in places); a
new image (compared by value) starts afresh. Errors are perturb.apply's, and a failed call keeps the cache
as it was. The cache holds at most two images of the input's size.
"""
from __future__ import annotations

import numpy as np

from . import draw, perturb


def _settings(step: dict) -> str:
    """A stroke's settings other than its points, as a comparable string."""
    return repr({k: v for k, v in step.items() if k != "points"})


def _pairs(points: list) -> bool:
    """Every point a (row, col) pair: then points[i:] is a stroke's tail (a flat list would pair up anew)."""
    return all(isinstance(p, (list, tuple)) and len(p) == 2 for p in points)


class Replay:
    def __init__(self):
        self._base = None  # a copy of the image the cache belongs to
        self._keys = []  # repr of each step of the last call
        self._points = None  # the last step's points (a copy) when it is a stroke
        self._stroke_settings = None  # ... and its other settings (_settings)
        self._before = None  # the image after every step but the last
        self._after = None  # the image after every step
        self.reused = 0  # steps the last call did not apply again (for tests); -1: a stroke's new segments only

    def apply(self, x, steps) -> np.ndarray:
        a = np.asarray(x)
        if self._base is None or self._base.shape != a.shape or not np.array_equal(self._base, a):
            self._forget()
        keys = [repr(s) for s in steps]  # (a list of non-dicts fails in perturb.apply, as there)
        n, old = len(keys), self._keys
        if n and n == len(old) and keys[:-1] == old[:-1] and self._grew(steps[-1]):
            s = steps[-1]
            tail = s["points"][len(self._points) - 1:]  # the last old point starts the first new segment
            out = draw.stroke(self._after, tail, **{k: v for k, v in s.items() if k not in ("op", "points")})
            self._keep(a, keys, s, self._before, out)
            self.reused = -1
            return out.copy()
        k = 0
        while k < min(n, len(old)) and keys[k] == old[k]:
            k += 1
        if k == n == len(old) and self._after is not None:  # the same steps
            self.reused = n
            return self._after.copy()
        if old and k == len(old):
            start, done = self._after, k  # the old steps, then more
        elif old and k == len(old) - 1 and self._before is not None:
            start, done = self._before, k  # the old steps but their last
        else:
            start, done = a, 0
        if n == 0:
            before, out = None, perturb.apply(a, [])
        elif done == n:  # the old steps without their last one: that image, and no 'before' kept
            before, out = None, perturb.apply(start, [])
        else:
            before = perturb.apply(start, steps[done:n - 1])
            out = perturb.apply(before, steps[n - 1:])
        self._keep(a, keys, steps[-1] if n else None, before, out)
        self.reused = done
        return out.copy()

    # --- the cache ---------------------------------------------------------------------------------
    def _grew(self, step) -> bool:
        """The new last step is the old last stroke with points added at its end (nothing else changed)."""
        if self._points is None or not isinstance(step, dict) or step.get("op") != "stroke":
            return False
        points = step.get("points")
        m = len(self._points)
        return (isinstance(points, list) and len(points) > m and _pairs(points[m:])
                and repr(points[:m]) == repr(self._points) and _settings(step) == self._stroke_settings)

    def _keep(self, base, keys, last, before, out) -> None:
        if self._base is None:  # (otherwise equal to it)
            self._base = np.array(base, copy=True)
        self._keys = keys
        stroke = (isinstance(last, dict) and last.get("op") == "stroke" and isinstance(last.get("points"), list)
                  and _pairs(last["points"]))
        self._points = [list(p) for p in last["points"]] if stroke else None  # a copy: the caller's list grows
        self._stroke_settings = _settings(last) if stroke else None
        self._before, self._after = before, out
        for img in (before, out):
            if img is not None:
                img.setflags(write=False)

    def _forget(self) -> None:
        self._base = None
        self._keys = []
        self._points = self._before = self._after = None


__all__ = ["Replay"]
