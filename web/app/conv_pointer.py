"""The convolutional view's pointer and keys: hover a position (the window moves there), hover a kernel (its
weights in a tooltip), click a channel or the + (the level-3 view), arrow keys. A part of ConvView."""
from __future__ import annotations

from cnn101.render import WEIGHT
from cnn101.render import conv_view as R
from cnn101.render.svg import esc, fmt, grid_cell, number_grid

from . import dom
from .detail_panel import scroll_to_tutorial

ARROWS = {"ArrowLeft": (0, -1), "ArrowRight": (0, 1), "ArrowUp": (-1, 0), "ArrowDown": (1, 0)}


class ConvPointer:
    """Pointer, focus and keys of a ConvView (needs self.g, self.n, self.captions, self.tip, self.hover)."""

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
        cell = grid_cell((kh, kw))
        self.tip.innerHTML = (f'<div class="cv-tip-title">kernel of {esc(self.captions[c])} ({kh}×{kw})</div>'
                              + number_grid(n.kernels[:, :, c], lo, hi, WEIGHT, 3, cell=cell, name=f"kernel-{c}"))
        self.tip.dataset.channel = str(c)
        r = self.g.kernels[c]
        s = self.scale
        frame = self._q(".cv-frame")
        self.tip.style.left = f"{float(frame.offsetLeft) + r.x * s:.0f}px"
        self.tip.style.top = f"{float(frame.offsetTop) + (r.bottom + 6) * s:.0f}px"
        self.tip.hidden = False
        k_min, k_max, k_sum = n.kernel_stats(c)
        dom.el("info").textContent = (f"kernel of {self.captions[c]} ({kh}×{kw}): weights from {fmt(k_min)} "
                                      f"to {fmt(k_max)}, sum {fmt(k_sum)}")

    def _hide_tip(self) -> None:
        if not self.tip.hidden:
            self.tip.hidden = True
