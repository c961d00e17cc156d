"""The convolutional view's sweep: the kernel slides over every output position on requestAnimationFrame
(render.clock.Clock, one style write per frame), with play / pause / replay / fast-forward / speed, and
the sum at the window written out (explain's whole(i, j)). A part of ConvView."""
from __future__ import annotations

from cnn101.render import conv_view as R
from cnn101.render.clock import closest_speed
from cnn101.render.svg import fmt

from . import dom


class ConvSweep:
    """The clock side of a ConvView (needs self.sweep: a Clock(loop=False), self.g, self.n, self.stage)."""

    def toggle(self) -> None:
        if self.sweep.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if self.closed:
            return
        self.sweep.play()
        self._playing_changed()
        self._loop()

    def pause(self) -> None:
        if self.sweep.playing:
            self.sweep.pause()
            self._playing_changed()
            self._values()

    def replay(self) -> None:
        self.sweep.replay()
        self._playing_changed()
        self._frame_style()
        self._loop()

    def finish(self) -> None:
        """Fast-forward: every result shown, the window on the last position."""
        self.sweep.finish()
        self.cursor = self.g.position(self.g.steps - 1)
        self._playing_changed()
        self._frame_style()
        self._values()

    def set_speed(self, speed: float) -> None:
        speed = closest_speed(speed)
        self.sweep.set_speed(speed)
        self.app.update(speed=speed)
        sel = self._q(".cv-speed")
        if sel is not None and str(sel.value) != f"{speed:g}":
            sel.value = f"{speed:g}"

    def hover(self, pos) -> None:
        """Move the window to output (i, j) and pause there; the sum at (i, j) is written out."""
        pos = (int(pos[0]), int(pos[1]))
        was = self.sweep.playing
        self.sweep.pause()
        if was:
            self._playing_changed()
        if pos == self.cursor and not was:
            return
        self.cursor = pos
        self.sweep.revealed = max(self.sweep.revealed, self.g.step(*pos))  # the hovered cell is shown
        self._frame_style()
        self._values()
        self.app.update(at=pos)

    def go_to(self, at) -> None:
        """Restore a window position (from the URL): everything revealed, the window at `at`."""
        if len(at) == 2 and 0 <= at[0] < self.g.output_hw[0] and 0 <= at[1] < self.g.output_hw[1]:
            self.sweep.finish()
            self._playing_changed()
            self.hover(at)

    def _playing_changed(self) -> None:
        self.root.classList.toggle("playing", self.sweep.playing)
        self._controls()

    def _controls(self) -> None:
        b = self._q(".cv-play")
        playing = self.sweep.playing
        b.textContent = "Pause" if playing else "Play"
        b.setAttribute("aria-pressed", "true" if playing else "false")

    def _loop(self) -> None:
        self._animation.start()

    def _step(self, t: float) -> None:
        """One animation frame of the sweep; at its end, everything is shown."""
        self.frames.append(t)
        if self.sweep.advance(t):
            c0 = dom.now()
            self.cursor = self.g.position(self.sweep.revealed)
            self._frame_style()
            self.frame_cost.append(dom.now() - c0)
        if not self.sweep.playing:
            self._playing_changed()
            self._values()

    def _frame_style(self) -> None:
        """One style write: the kernel windows, the cursors and the reveal of every result."""
        self.stage.setAttribute("style", ";".join((self.base_style, self._scale_style(),
                                                   R.frame_style(self.g, self.cursor, self.sweep.revealed))))
        if self.cursor is not None:
            i, j = self.cursor
            self.pos_el.textContent = f"position ({i}, {j}) · {self.g.step(i, j) + 1} of {self.g.steps}"

    def _values(self) -> None:
        """Each channel's result at the window, and the sum with the bias (explain's whole(i, j))."""
        if self.cursor is None:
            return
        w = self.n.whole(*self.cursor)
        self.whole = w
        for c, el in enumerate(self.values_el):
            el.innerHTML = R.value_label(w.channel_sums[c])
        self.sum_el.innerHTML = R.sum_html(w.position, w.channel_sums, w.bias, w.total, w.relu, w.value, self.captions)
        i, j = w.position
        dom.el("info").textContent = (f"{self.n.layer}, neuron {self.n.filter} at ({i}, {j}): "
                                      f"Σ of {self.n.channels} results + bias = {fmt(w.total)}")
