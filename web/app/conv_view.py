"""The convolutional intermediate view (level 2) on the page: opened by a click on a conv neuron.

Numbers come from `cnn101.explain.conv_neuron` (kernels, single-channel results, bias, `whole(i, j)`);
the drawing from `cnn101.render.conv_view` (geometry, markup, the CSS variables of each frame). This
module only mounts the markup, paints the heatmaps (one buffer per group of canvases), runs the
sliding-kernel clock on requestAnimationFrame (one style write per frame) and handles the pointer,
keys and buttons.

    views.OPENERS["conv2d"] = open_conv      # registered at import
"""
from __future__ import annotations

import numpy as np
from cnn101.explain import conv_neuron
from cnn101.explain._common import symmetric
from cnn101.render import ACTIVATION, INPUT, WEIGHT, heatmap
from cnn101.render import conv_view as R
from cnn101.render.svg import esc, fmt, legend, number_grid
from pyscript import document, window
from pyscript.ffi import to_js

from . import dom, kernel_edit, keyboard, transitions, views
from .frames import FrameLoop, Proxies
from .detail_panel import scroll_to_tutorial

ARROWS = {"ArrowLeft": (0, -1), "ArrowRight": (0, 1), "ArrowUp": (-1, 0), "ArrowDown": (1, 0)}


def _stack(arrays_hw_last: np.ndarray) -> np.ndarray:
    """(H, W, C) → (C, H, W), contiguous (one heatmap per channel)."""
    return np.ascontiguousarray(np.moveaxis(np.asarray(arrays_hw_last), -1, 0))


def _heatmaps(values_chw: np.ndarray, lo: float, hi: float, cmap) -> np.ndarray:
    c, h, w = values_chw.shape
    return heatmap(values_chw.reshape(c * h, w), lo, hi, cmap).reshape(c, h, w, 4)


class ConvView:
    """One open convolutional intermediate view (pushed on views.STACK; `.close()` takes it away)."""

    kind = "conv"

    def __init__(self, app, column, neuron: int):
        t0 = dom.now()
        self.app = app
        self.column = column
        self.filter = int(neuron)
        self.closed = False
        self.n = conv_neuron(app.ov.trace, column.name, self.filter)
        n = self.n
        geo = n.geometry
        self.g = R.geometry(n.channels, geo.input_hw, geo.size, geo.strides, geo.pad, geo.output_hw)
        self.captions = tuple(self._captions())
        self.sweep = R.Sweep(self.g.steps, R.closest_speed(getattr(app.state, "speed", 1.0) or 1.0))
        self.cursor = None  # (i, j) the window is at; None before the sweep starts
        self.frames = []  # rAF timestamps while playing (benchmarks)
        self.frame_cost = []  # ms of Python per frame that moved the sweep
        self._proxy = Proxies()  # every JS callback of this view
        self._animation = FrameLoop(self._proxy, self._step, lambda: not self.closed and self.sweep.playing)
        self._opener = document.activeElement
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

    # --- markup ------------------------------------------------------------------------------------------
    def _captions(self):
        src = self.app.layout.column(self.n.source) if self.n.source else None
        labels = tuple(src.neuron_labels) if src is not None else ()
        return [labels[c] if c < len(labels) else f"channel {c}" for c in range(self.n.channels)]

    def _input_colours(self):
        if self.n.source == "input":
            return INPUT, (0.0, 1.0)
        return ACTIVATION, symmetric(self.n.inputs)

    def _mount(self) -> None:
        n, g = self.n, self.g
        geo = n.geometry
        (kh, kw), (sh, sw) = geo.size, geo.strides
        labels = R.Labels(n.layer, f"neuron {n.filter}", n.source, self.captions, n.bias, n.relu)
        title = f"{n.layer} · neuron {n.filter}: how its value is computed"
        pads = "no padding" if not any(geo.pad) else (
            f"padding top {geo.pad[0]}, bottom {geo.pad[1]}, left {geo.pad[2]}, right {geo.pad[3]}")
        (h, w), (oh, ow) = geo.input_hw, geo.output_hw
        subtitle = (f"{n.channels} channels of {n.source} ({h}×{w}) · {kh}×{kw} kernels · stride {sh}×{sw} · "
                    f"{geo.padding} ({pads}) → {oh}×{ow}")
        description = (f"Each of the {n.channels} input channels has its own {kh}×{kw} kernel. The kernel slides over "
                       f"its channel ({oh * ow} positions); at each position the channel's values under it are "
                       "multiplied by the weights and added up, giving that channel's result. Adding up all results "
                       "and the bias gives the neuron. Hover a position to see the sum, hover a kernel for its "
                       "weights, click a channel or its result for the arithmetic, or the + for the whole neuron.")
        in_cmap, (in_lo, in_hi) = self._input_colours()
        (k_lo, k_hi), (r_lo, r_hi), (v_lo, v_hi) = n.kernel_range, n.result_range, n.value_range
        legends = (legend(in_lo, in_hi, in_cmap, f"{n.source} values", 130)
                   + legend(k_lo, k_hi, WEIGHT, "kernel weights", 130)
                   + legend(r_lo, r_hi, ACTIVATION, "results", 130)
                   + legend(v_lo, v_hi, ACTIVATION, "neuron", 130))
        html = R.panel_html(title, subtitle, description, R.view_html(self.g, labels), "tutorial-convolution",
                            self.sweep.speed, not transitions.reduced_motion(), legends)
        old = dom.el("conv-view")
        if old is not None:
            old.remove()
        host = dom.el("overview")
        host.classList.add("cv-host")
        host.insertAdjacentHTML("beforeend", html)
        self.root = dom.el("conv-view")
        self.root.querySelector(".cv-controls").insertAdjacentHTML(
            "afterend", kernel_edit.bar_html(self.app, n.layer, n.filter, n.bias))
        self.stage = self.root.querySelector(".cv-stage")
        self.base_style = str(self.stage.getAttribute("style"))
        self._q = self.root.querySelector
        self.values_el = list(self.root.querySelectorAll(".cv-value"))
        self.sum_el = self._q(".cv-sum")
        self.pos_el = self._q(".cv-pos")
        self.tip = self._q(".cv-tip")
        self._fit()
        # the level-2 view is taller than the Overview when the layer reads many channels
        host.style.minHeight = f"{float(self.root.offsetHeight) + 12:.0f}px"
        transitions.spread(self.app.view, self.column.index, self.filter, self.root)

    def _fit(self) -> None:
        """Scale the stage down when the window is narrower than it (never up)."""
        frame = self._q(".cv-frame")
        room = float(dom.el("overview").clientWidth) or self.g.width + 30
        s = min(1.0, (room - 30) / self.g.width) if room > 30 else 1.0
        self.scale = s
        self.root.style.width = f"{min(room, max(780.0, self.g.width * s + 30)):.0f}px"
        self.stage.style.transform = f"scale({s:.4f})" if s < 1 else ""
        frame.style.height = f"{self.g.height * s:.0f}px"
        frame.style.width = f"{self.g.width * s:.0f}px"

    def _resized(self, _event=None) -> None:
        """The window changed size: refit the stage, and slide the Overview apart for the new widths."""
        if self.closed:
            return
        self._fit()
        transitions.spread(self.app.view, self.column.index, self.filter, self.root)

    def _paint(self) -> None:
        n = self.n
        in_cmap, (in_lo, in_hi) = self._input_colours()
        ins = [c.querySelector("canvas") for c in self.root.querySelectorAll(".cv-in")]
        dom.paint_many(ins, _heatmaps(_stack(n.inputs), in_lo, in_hi, in_cmap))
        ks = [c.querySelector("canvas") for c in self.root.querySelectorAll(".cv-kernel")]
        k_lo, k_hi = n.kernel_range
        dom.paint_many(ks, _heatmaps(_stack(n.kernels), k_lo, k_hi, WEIGHT))
        rs = [c.querySelector("canvas") for c in self.root.querySelectorAll(".cv-res")]
        r_lo, r_hi = n.result_range
        dom.paint_many(rs, _heatmaps(_stack(n.results), r_lo, r_hi, ACTIVATION))
        v_lo, v_hi = n.value_range
        dom.paint(self.root.querySelector(".cv-neuron canvas"), heatmap(n.output, v_lo, v_hi, ACTIVATION))

    # --- events ----------------------------------------------------------------------------------------
    def _on(self, target, event: str, fn) -> None:
        if target is not None:
            target.addEventListener(event, self._proxy(fn))

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
        self._resize = self._proxy(self._resized)
        window.addEventListener("resize", self._resize)
        self._mode = self._proxy(self._mode_changed)  # the detail panel's channel / whole-neuron selector
        document.addEventListener("change", self._mode)
        kernel_edit.wire(self)

    def _mode_changed(self, event) -> None:
        t = event.target
        if hasattr(t, "classList") and t.classList.contains("cvd-mode") and not self.closed:
            self.open_part(str(t.value))

    def _tutorial(self, event) -> None:
        event.preventDefault()
        event.stopPropagation()
        scroll_to_tutorial("tutorial-convolution")

    def _click(self, event) -> None:
        t = event.target
        pair = t.closest(".cv-pair, .cv-plus") if hasattr(t, "closest") else None
        if pair is not None:
            event.stopPropagation()
            part = str(pair.getAttribute("data-part") or "")
            if pair.classList.contains("cv-plus") or part == "neuron":
                self.open_part("whole")
            else:
                self.open_part(str(pair.getAttribute("data-channel")))
            return
        if t.closest(".cv-kernel"):
            event.stopPropagation()
            return
        if not t.closest(".cv-stage"):  # the panel's own header, controls and sum line are not empty space
            event.stopPropagation()
        # a click on the stage's empty space bubbles to the page: back to the Overview

    def _pointer(self, event) -> None:
        t = event.target
        if not hasattr(t, "closest"):
            return
        kernel = t.closest(".cv-kernel")
        if kernel is not None:
            self._show_tip(int(kernel.dataset.channel), kernel)
            return
        self._hide_tip()
        pos = self._position_at(event, t)
        if pos is not None:
            self.hover(pos)

    def _position_at(self, event, t):
        el = t.closest(".cv-in, .cv-res, .cv-neuron")
        if el is None:
            return None
        rect = el.getBoundingClientRect()
        if float(rect.width) <= 0 or float(rect.height) <= 0:
            return None
        fx = (float(event.clientX) - float(rect.left)) / float(rect.width)
        fy = (float(event.clientY) - float(rect.top)) / float(rect.height)
        if el.classList.contains("cv-in"):
            return R.output_for_input(self.g, *R.input_cell_at(self.g, fx, fy))
        return R.cell_at(fx, fy, self.g.output_hw)

    def _focus(self, event) -> None:
        kernel = event.target.closest(".cv-kernel") if hasattr(event.target, "closest") else None
        if kernel is not None:
            self._show_tip(int(kernel.dataset.channel), kernel)

    def _keydown(self, event) -> None:
        if str(getattr(event.target, "tagName", "")) in ("INPUT", "SELECT", "TEXTAREA"):
            return  # the edit row's own keys (arrows change the bias, open the list)
        if self.key(event):
            event.preventDefault()
            event.stopPropagation()

    def key(self, event) -> bool:
        """Arrow keys move the window (and pause); Enter on a channel opens it; Space plays/pauses."""
        k = str(event.key)
        if k in ARROWS:
            i, j = self.cursor or (0, 0)
            di, dj = ARROWS[k]
            oh, ow = self.g.output_hw
            self.hover((min(oh - 1, max(0, i + di)), min(ow - 1, max(0, j + dj))))
            return True
        if k in ("Enter", " ") and hasattr(event.target, "closest"):
            pair = event.target.closest(".cv-pair, .cv-plus")
            if pair is not None:
                self.open_part("whole" if (pair.classList.contains("cv-plus") or pair.getAttribute("data-part") == "neuron")
                               else str(pair.getAttribute("data-channel")))
                return True
            if k == " " and not event.target.closest("button, select, a"):
                self.toggle()
                return True
        return False

    # --- kernel weights ------------------------------------------------------------------------------------
    def _show_tip(self, c: int, kernel_el) -> None:
        n = self.n
        lo, hi = n.kernel_range
        kh, kw = n.geometry.size
        cell = 40 if max(kh, kw) <= 3 else 34 if max(kh, kw) <= 5 else 28
        self.tip.innerHTML = (f'<div class="cv-tip-title">kernel of {esc(self.captions[c])} ({kh}×{kw})</div>'
                              + number_grid(n.kernels[:, :, c], lo, hi, WEIGHT, 3, cell=cell, name=f"kernel-{c}"))
        self.tip.dataset.channel = str(c)
        r = self.g.kernels[c]
        s = self.scale
        frame = self._q(".cv-frame")
        self.tip.style.left = f"{float(frame.offsetLeft) + r.x * s:.0f}px"
        self.tip.style.top = f"{float(frame.offsetTop) + (r.bottom + 6) * s:.0f}px"
        self.tip.hidden = False
        k = n.kernels[:, :, c]
        dom.el("info").textContent = (f"kernel of {self.captions[c]} ({kh}×{kw}): weights from {fmt(k.min())} "
                                      f"to {fmt(k.max())}, sum {fmt(k.sum())}")

    def _hide_tip(self) -> None:
        if not self.tip.hidden:
            self.tip.hidden = True

    # --- the sweep ----------------------------------------------------------------------------------------
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
        speed = R.closest_speed(speed)
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
        self.stage.setAttribute("style", self.base_style + ";" + R.frame_style(self.g, self.cursor, self.sweep.revealed))
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

    # --- level 3 -------------------------------------------------------------------------------------------
    def open_part(self, part: str) -> None:
        """Open the convolution detail view of one input channel ('3') or of the whole neuron ('whole')."""
        from . import conv_detail

        if part != "whole" and not (part.isdigit() and int(part) < self.n.channels):
            return
        self.pause()
        start, replacing = self.cursor or (0, 0), False
        if views.STACK and views.STACK[-1] is not self:  # a detail view is open: replace it, same window
            old = views.STACK.pop()
            at = old.state().get("at") if hasattr(old, "state") else None
            start, replacing = (tuple(at) if at and len(at) == 2 else start), True
            old.close()
        self.app.deeper(part)
        views.push(conv_detail.open_detail(self, part, start, autoplay=not replacing))

    # --- closing ---------------------------------------------------------------------------------------------
    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.sweep.pause()
        window.removeEventListener("resize", self._resize)
        document.removeEventListener("change", self._mode)
        had_focus = self.root.contains(document.activeElement)
        self.root.removeAttribute("id")
        transitions.together(self.app.view)
        host = dom.el("overview")
        host.style.minHeight = ""
        transitions.fade_out_and_remove(self.root)
        if had_focus and self._opener is not None and bool(self._opener.isConnected):
            self._opener.focus(to_js({"preventScroll": True}))
        self._proxy.free_later(400)

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


def open_conv(app, column, neuron: int) -> None:
    view = ConvView(app, column, neuron)
    views.push(view)
    view.root.focus(to_js({"preventScroll": True}))
    n = view.n
    keyboard.announce(f"Convolution view of {n.layer}, neuron {n.filter}: {n.channels} input channels, each with its "
                      "own kernel, added up with the bias. Arrow keys move the window; Enter on a channel opens its "
                      "arithmetic; Esc goes back.")


views.OPENERS["conv2d"] = open_conv
