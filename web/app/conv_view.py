"""The convolutional intermediate view (level 2) on the page: opened by a click on a conv neuron.

Numbers come from `cnn101.explain.conv_neuron` (kernels, single-channel results, bias, `whole(i, j)`);
the drawing from `cnn101.render.conv_view`. The view is put together from three small pieces:

    conv_markup.ConvMarkup    mount the panel, fit it to the window, paint the heatmaps
    conv_pointer.ConvPointer  hover, tooltip of a kernel's weights, clicks, arrow keys
    conv_sweep.ConvSweep      the sliding kernel on the one clock (render.clock.Clock)

and this module: the View lifecycle (open, wire through self.owner, open_part for level 3, close).
The level-3 panel (conv_detail) reports its mode selector to this view by calling `open_part`.
"""
from __future__ import annotations

from cnn101.explain import conv_neuron
from cnn101.render import conv_view as R
from cnn101.render.clock import Clock, closest_speed
from pyscript import document, window
from pyscript.ffi import to_js

from . import conv_detail, dom, kernel_edit, keyboard, transitions, views
from .conv_markup import ConvMarkup
from .conv_pointer import ConvPointer
from .conv_sweep import ConvSweep
from .frames import FrameLoop
from .view import View


class ConvView(ConvMarkup, ConvPointer, ConvSweep, View):
    """One open convolutional intermediate view (pushed on views.STACK)."""

    kind = "conv"
    release_ms = 400  # the fade-out transition may still call a proxy

    def __init__(self, app, column, neuron: int):
        super().__init__(app)
        self.column = column
        self.filter = int(neuron)
        self.n = conv_neuron(app.ov.trace, column.name, self.filter)
        geo = self.n.geometry
        self.g = R.geometry(self.n.channels, geo.input_hw, geo.size, geo.strides, geo.pad, geo.output_hw)
        self.captions = tuple(self._captions())
        self.sweep = Clock(self.g.steps, closest_speed(app.state.speed), R.step_ms(self.g.steps), loop=False)
        self.cursor = None  # (i, j) the window is at; None before the sweep starts
        self.frames = []  # rAF timestamps while playing (benchmarks)
        self.frame_cost = []  # ms of Python per frame that moved the sweep
        self._animation = FrameLoop(self.owner, self._step, lambda: not self.closed and self.sweep.playing)
        self._opener = document.activeElement
        self.open()

    def open(self) -> None:
        t0 = dom.now()
        self._mount()
        self._paint()
        self._wire()
        self.shown_ms = dom.now() - t0  # click → view painted (before the slide finishes)
        if transitions.reduced_motion() or self.g.steps <= 1:
            self.sweep.finish()
            self.cursor = (self.g.output_hw[0] // 2, self.g.output_hw[1] // 2)
            self._frame_style()
            self._values()
        else:
            self.play()
        self._controls()

    def _on(self, target, event: str, fn) -> None:
        self.owner.on(target, event, fn)

    def _wire(self) -> None:
        self._on(self._q(".cv-close"), "click", lambda e: (e.stopPropagation(), self.app.back()))
        self._on(self._q(".cv-play"), "click", lambda e: self.toggle())
        self._on(self._q(".cv-replay"), "click", lambda e: self.replay())
        self._on(self._q(".cv-ff"), "click", lambda e: self.finish())
        self._on(self._q(".cv-speed"), "change", lambda e: self.set_speed(float(e.target.value)))
        self._on(self._q(".cv-tutorial"), "click", self._tutorial)
        self._on(self.stage, "pointermove", self._pointer)
        self._on(self.stage, "pointerdown", self._pointer)  # a tap does what a hover does
        self._on(self.stage, "pointerleave", lambda e: self._hide_tip())
        self._on(self.stage, "focusin", self._focus)
        self._on(self.root, "click", self._click)
        self._on(self.root, "keydown", self._keydown)
        self._on(window, "resize", self._resized)  # removed with every other listener in close()
        kernel_edit.wire(self)

    def at(self) -> tuple:
        return tuple(self.cursor) if self.cursor else ()

    # --- level 3 -------------------------------------------------------------------------------------------
    def open_part(self, part: str) -> None:
        """Open the convolution detail view of one input channel ('3') or of the whole neuron ('whole');
        an open one is replaced, at the same window position."""
        if self.closed or (part != "whole" and not (part.isdigit() and int(part) < self.n.channels)):
            return
        self.pause()
        start, replacing = self.cursor or (0, 0), False
        if views.top() is not self and views.top() is not None:  # a detail view is open: replace it
            old = views.STACK.pop()
            at = old.at()
            start, replacing = (tuple(at) if len(at) == 2 else start), True
            old.close()
        self.app.deeper(part)
        views.push(conv_detail.open_detail(self, part, start, autoplay=not replacing))

    # --- closing ---------------------------------------------------------------------------------------------
    def teardown(self) -> None:
        self.sweep.pause()
        self._animation.stop()
        had_focus = self.root.contains(document.activeElement)
        self.root.removeAttribute("id")
        transitions.together(self.app.view)
        dom.el("overview").style.minHeight = ""
        transitions.fade_out_and_remove(self.root)
        if had_focus and self._opener is not None and bool(self._opener.isConnected):
            self._opener.focus(to_js({"preventScroll": True}))

    # --- for tests and benchmarks -----------------------------------------------------------------------
    def state(self) -> dict:
        fr = self.frames
        gaps = [b - a for a, b in zip(fr, fr[1:])]
        return {"kind": "conv", "layer": self.n.layer, "filter": self.n.filter, "source": self.n.source,
                "channels": self.n.channels, "output_hw": list(self.g.output_hw), "steps": self.g.steps,
                "cursor": list(self.cursor) if self.cursor else None, "revealed": self.sweep.revealed,
                "playing": self.sweep.playing, "speed": self.sweep.speed, "ms_per_step": self.sweep.ms_per_step,
                "frames": len(fr), "frame_gaps": gaps[-400:], "frame_cost": self.frame_cost[-400:],
                "shown_ms": self.shown_ms, "scale": self.scale, "closed": self.closed}


def open(app, column, neuron: int) -> None:  # noqa: A001  (the registry's name for a view's opener)
    view = ConvView(app, column, neuron)
    views.push(view)
    view.root.focus(to_js({"preventScroll": True}))
    dom.reveal(view.root)  # in sight: opened by a link or by Forward, on a phone it starts below the window
    n = view.n
    keyboard.announce(f"Convolution view of {n.layer}, neuron {n.filter}: {n.channels} input channels, each with its "
                      "own kernel, added up with the bias. Arrow keys move the window; Enter on a channel opens its "
                      "arithmetic; Esc goes back.")
