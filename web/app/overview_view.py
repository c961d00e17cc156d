"""The Overview on the page: its markup (from cnn101.render.overview, the same code that made the
prerendered snapshot), painting every heatmap from whole NumPy buffers, bars, legends and highlights."""
from __future__ import annotations

import numpy as np
from cnn101.render.overview import edge_path, format_value, geometry, heatmaps, legends_html, overview_html
from pyscript import window
from pyscript.ffi import to_js

from . import dom

MIN_NEURON_PX = 24  # the smallest side of a neuron on screen (a phone scrolls the Overview sideways instead)


class OverviewView:
    def __init__(self, frame, lay):
        self.frame = frame  # the element holding the stage
        self.layout = lay
        self.geo = geometry(lay)
        self.stage = None
        self.canvases = {}  # column index -> list of canvases
        self.rows = {}  # output neuron -> its row element
        self.bars = {}  # output neuron -> (its bar's fill, its percentage) elements
        self.shown_bars = {}
        self.legends = self.shown_legends = None
        self.maps = self.map_parts = self.map_dims = self.map_canvases = None  # _plan_maps
        self.hi_path = None
        self.marked = []  # elements with highlight classes
        self.paints = 0
        self.last_paint_ms = 0.0
        self.last_paint_end = 0.0  # performance.now() when the last repaint finished

    def mount(self, ov, scope: str) -> None:
        """Replace whatever the frame holds (the snapshot) with live canvases, then paint."""
        markup = overview_html(ov, self.geo, scope, images="canvas")
        dom.mark("markup")
        self.frame.innerHTML = markup
        self.stage = self.frame.querySelector(".ov-stage")
        self.canvases = {}
        for c in self.stage.querySelectorAll("canvas.ov-neuron"):
            self.canvases.setdefault(int(c.dataset.col), []).append(c)
        out = self.layout.columns[-1].index
        self.rows = {int(r.dataset.neuron): r for r in self.stage.querySelectorAll(f'.ov-class[data-col="{out}"]')}
        self.bars = {k: (r.querySelector(".ov-fill"), r.querySelector(".ov-pct")) for k, r in self.rows.items()}
        self.shown_bars = {}  # neuron -> (width, text, top, label) on screen: only changes are written
        self.legends = self.stage.querySelector(".ov-legends")
        self.shown_legends = None
        self._plan_maps()
        self.hi_path = self.stage.querySelector(".ov-edge-hi")
        self.fit()
        dom.mark("mounted")
        self.paint(ov, scope)

    def _plan_maps(self) -> None:
        """One buffer for every map of the Overview: each column's (neurons, H, W, 4) part, their canvases in
        one JS array and (neurons, W, H) per column, so a repaint crosses into JavaScript once."""
        cols, dims, canvases, at = [], [], [], 0
        for col in self.layout.columns:
            if col.kind == "output":
                continue
            n, (h, w) = col.neurons, (col.shape[:2] if col.is_grid else (1, 1))
            cols.append((col, at, (n, h, w, 4)))
            dims += [n, w, h]
            canvases += self.canvases[col.index][:n]
            at += n * h * w * 4
        self.maps = np.empty(at, np.uint8)
        self.map_parts = cols
        self.map_dims = to_js(np.array(dims, np.int32))
        self.map_canvases = to_js(canvases)

    def paint_maps(self, ov, scope: str) -> None:
        """Every heatmap of `ov` (activations, gradients or a comparison's B − A) under `scope`."""
        for col, at, shape in self.map_parts:
            heatmaps(ov, col, scope, out=self.maps[at:at + int(np.prod(shape))].reshape(shape))
        dom.paint_columns(self.map_canvases, self.maps, self.map_dims)

    def fit(self) -> None:
        """Scale the stage down to the window's width (it never grows beyond its natural size)."""
        if self.stage is None:
            return
        width = float(self.frame.clientWidth) or self.geo.width
        s = min(1.0, width / self.geo.width)
        s = max(s, min(1.0, MIN_NEURON_PX / self.geo.node))  # readable on a phone: scroll sideways instead
        self.stage.style.transform = f"scale({s:.4f})" if s < 1 else ""
        self.frame.style.height = f"{self.geo.height * s:.0f}px"
        fits = self.geo.width * s <= width + 0.5
        self.frame.style.overflowX = "hidden" if fits and s < 1 else ""  # the scaled stage fits; no scroll bar

    def paint(self, ov, scope: str, maps: bool = True) -> None:
        """Repaint every heatmap (unless `maps` is False: a comparison paints its own next), the probability
        bars and the legends for this Overview and scope. Only what changed is written to the page."""
        t0 = dom.now()
        if maps:
            self.paint_maps(ov, scope)
        probs = ov.values(self.layout.columns[-1].index)
        top = int(probs.argmax())
        labels = self.layout.columns[-1].neuron_labels
        for k, row in self.rows.items():
            p = float(probs[k])
            width, text = f"{p * 100:.2f}%", f"{p:.1%}"
            was = self.shown_bars.get(k)
            now = (width, text, k == top)
            if was == now:
                continue
            fill, pct = self.bars[k]
            if was is None or was[0] != width:
                fill.style.width = width
            if was is None or was[1] != text:
                pct.textContent = text
                row.setAttribute("aria-label", f"{labels[k]}: {text}")
            if was is None or was[2] != now[2]:
                row.classList.toggle("top", now[2])
            self.shown_bars[k] = now
        legends = legends_html(ov, self.geo, scope)
        if legends != self.shown_legends:
            self.legends.innerHTML = self.shown_legends = legends
        if str(self.stage.dataset.scope) != scope:
            self.stage.dataset.scope = scope
        self.paints += 1
        self.last_paint_end = dom.now()
        self.last_paint_ms = self.last_paint_end - t0

    def forget_shown(self) -> None:
        """Others (compare, why mode) wrote the bars' text or the legends: write them all on the next paint."""
        self.shown_bars = {}
        self.shown_legends = None

    def fade(self) -> None:
        """Dim now; `unfade` (after the repaint) brings the stage back with a short CSS transition."""
        self.stage.classList.add("dim")

    def unfade(self) -> None:
        stage = self.stage
        window.requestAnimationFrame(dom.once(lambda *_: stage.classList.remove("dim")))

    # --- hover highlight ---------------------------------------------------------------------
    def highlight(self, col: int | None, neuron: int | None) -> None:
        """Mark a neuron, its incoming edges and its source neurons (None clears)."""
        for e in self.marked:
            e.classList.remove("hover", "source")
        self.marked = []
        if col is None or self.stage is None:
            self.hi_path.setAttribute("d", "")
            self.stage and self.stage.classList.remove("hovering")
            return
        self.stage.classList.add("hovering")
        me = self._element(col, neuron)
        if me is not None:
            me.classList.add("hover")
            self.marked.append(me)
        edges = self.layout.edges_into(col)
        if edges is None:
            self.hi_path.setAttribute("d", "")
            return
        self.hi_path.setAttribute("d", edge_path(self.geo, edges, [neuron]))
        for i in edges.incoming(neuron):
            src = self._element(edges.source, i)
            if src is not None:
                src.classList.add("source")
                self.marked.append(src)

    def _element(self, col: int, neuron: int):
        if col in self.canvases:
            return self.canvases[col][neuron]
        return self.rows.get(neuron) if col == self.layout.columns[-1].index else None

    def element_of(self, col: int, neuron: int):
        return self._element(col, neuron)


__all__ = ["OverviewView", "format_value"]
