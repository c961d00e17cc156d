"""The convolutional view's markup: the panel from cnn101.render.conv_view, fitted to the window, and its
heatmaps painted (one buffer per group of canvases). A part of ConvView (conv_view.py)."""
from __future__ import annotations

import numpy as np
from cnn101.render import ACTIVATION, COLORMAPS, WEIGHT, heatmap
from cnn101.render import conv_view as R
from cnn101.render.svg import legend

from . import dom, kernel_edit, transitions


def _stack(arrays_hw_last: np.ndarray) -> np.ndarray:
    """(H, W, C) → (C, H, W), contiguous (one heatmap per channel)."""
    return np.ascontiguousarray(np.moveaxis(np.asarray(arrays_hw_last), -1, 0))


def _heatmaps(values_chw: np.ndarray, lo: float, hi: float, cmap) -> np.ndarray:
    c, h, w = values_chw.shape
    return heatmap(values_chw.reshape(c * h, w), lo, hi, cmap).reshape(c, h, w, 4)


READABLE_PX = 11.0  # the smallest text the view shows on screen (issue 17: a phone must not need zooming)
STAGE_MIN_FONT_PX = 12.0  # the smallest font-size in the stage (conv.css)
MIN_SCALE = READABLE_PX / STAGE_MIN_FONT_PX


class ConvMarkup:
    """Mounts, fits and paints a ConvView (needs self.app, self.n, self.g, self.column, self.filter)."""

    def _captions(self):
        src = self.app.layout.column(self.n.source) if self.n.source else None
        labels = tuple(src.neuron_labels) if src is not None else ()
        return [labels[c] if c < len(labels) else f"channel {c}" for c in range(self.n.channels)]

    def _input_colours(self):
        """(colour map, range) of the input channels (explain's ConvNeuron.input_colours)."""
        name, lo_hi = self.n.input_colours
        return COLORMAPS[name], lo_hi

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
        """Scale the stage down when the window is narrower than it (never up), but never so far that its
        smallest text (STAGE_MIN_FONT_PX) drops under READABLE_PX on screen: below that (a phone) the stage
        keeps MIN_SCALE and its frame scrolls sideways."""
        frame = self._q(".cv-frame")
        room = float(dom.el("overview").clientWidth) or self.g.width + 30
        s = min(1.0, (room - 30) / self.g.width) if room > 30 else 1.0
        s = max(s, MIN_SCALE)
        self.scale = s
        self.root.style.width = f"{min(room, max(780.0, self.g.width * s + 30)):.0f}px"
        self.stage.style.transform = f"scale({s:.4f})" if s < 1 else ""  # kept by every later style write
        scrolls = self.g.width * s > room - 30 + 0.5
        frame.style.overflowX = "auto" if scrolls else ""
        frame.style.overflowY = "hidden" if scrolls else ""
        frame.style.width = f"{min(self.g.width * s, max(room - 30, 1.0)):.0f}px" if scrolls else f"{self.g.width * s:.0f}px"
        frame.style.height = f"{self.g.height * s:.0f}px"
        if scrolls:  # room for the scroll bar under the stage (0 with overlay scroll bars)
            bar = float(frame.offsetHeight) - float(frame.clientHeight)
            frame.style.height = f"{self.g.height * s + max(0.0, bar):.0f}px"

    def _scale_style(self) -> str:
        """The stage's scale as a style declaration (the sweep rewrites the whole style attribute)."""
        return f"transform: scale({self.scale:.4f})" if getattr(self, "scale", 1.0) < 1 else ""

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
