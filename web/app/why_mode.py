"""'Why this class?': the Overview's heatmaps switch to the gradients of the loss, the attribution over the input.

Glue only: the numbers come from cnn101.explain (`gradient_overview` for d loss / d every activation with
its own symmetric ranges and legends, `attribution` / `occlusion` for the map over the input) and the
colours from cnn101.render (`heatmaps` through the OverviewView, `overlay` for the map over the image).
The state (why, class, method, opacity) lives in the URL (state.py). One click ('Back to activations')
paints the activations again.
"""
from __future__ import annotations

import base64
import json

import numpy as np
from cnn101.explain import attribution, gradient_overview, occlusion
from cnn101.explain.attribution import TUTORIALS
from cnn101.explain.backward import TUTORIAL as BACKPROP
from cnn101.render.colormap import ACTIVATION, ATTRIBUTION
from cnn101.render.overlay import overlay
from pyscript import document

from . import dom, views
from .detail_panel import scroll_to_tutorial
from .fragile_panel import FragilePanel
from .state import ATTRIBUTIONS

LABELS = {"gradient": "gradient", "gradient_x_input": "gradient × input", "smoothgrad": "SmoothGrad (n=16)",
          "gradcam": "Grad-CAM", "occlusion": "occlusion"}


def occlusion_patch(input_hw) -> tuple[int, int]:
    """(size, stride) of the occlusion patch: an eighth of the input's shorter side, half of that as stride."""
    size = max(1, min(input_hw) // 8)
    return size, max(1, size // 2)


def attribution_map(model, x, method: str, target: int):
    """(map H×W, lo, hi, colormap) of an attribution method for class `target` (all from cnn101.explain)."""
    if method == "occlusion":
        size, stride = occlusion_patch(model.input_shape[:2])
        m = occlusion(model, x, target, size, stride).pixels
        top = float(np.max(np.abs(m))) or 1.0
        return m, -top, top, ACTIVATION
    kw = {"n": 16, "seed": 0} if method == "smoothgrad" else {}
    a = attribution(model, x, method, target, **kw)
    lo, hi = a.range
    return a.map, lo, hi, ACTIVATION if a.signed else ATTRIBUTION


class WhyMode:
    def __init__(self, app):
        self.app = app
        self.gov = None  # the GradientOverview on show (None when the activations are)
        self.map = None  # (map, lo, hi, cmap) of the attribution on show
        self.rgba = None  # the overlay painted (H, W, 4) uint8
        self.paint_ms = None  # why on / class / image → gradient Overview painted
        self.attr_ms = None  # the attribution's compute + paint time
        self.count = 0  # times the why Overview was painted (lets tests wait)
        self.panel = None
        self.fragile = FragilePanel(self)  # 'How fragile is it?' (FGSM)

    # --- markup ------------------------------------------------------------------------------------
    def mount(self) -> None:
        info = dom.el("info")
        self.panel = document.createElement("section")
        self.panel.id = "why"
        self.panel.className = "why"
        self.panel.setAttribute("aria-label", "Why this class")
        methods = "".join(f'<option value="{m}">{LABELS[m]}</option>' for m in ATTRIBUTIONS)
        self.panel.innerHTML = (
            '<button id="why-toggle" type="button" aria-pressed="false">Why this class?</button>'
            '<div id="why-controls" class="why-controls" hidden>'
            '<label>class <select id="why-class"></select></label>'
            f'<label>attribution <select id="why-method">{methods}</select></label>'
            '<label>opacity <input id="why-opacity" type="range" min="0" max="1" step="0.05"></label>'
            f'<a class="why-help" id="why-help" href="#{TUTORIALS["gradient"]}">how this map is computed</a>'
            f'<a class="why-help" href="#{BACKPROP}">how the gradients flow back</a>'
            '<figure class="why-figure"><canvas id="why-overlay" width="1" height="1" '
            'aria-label="The attribution over the input image"></canvas>'
            '<figcaption id="why-caption"></figcaption>'
            '<span class="export-bar" role="group" aria-label="Save this attribution for slides">'
            '<button type="button" id="why-save-png" title="Save the attribution over the image as a PNG picture">'
            'Save PNG</button><button type="button" id="why-save-svg" '
            'title="Save the attribution over the image as an SVG drawing">Save SVG</button></span></figure></div>')
        info.parentNode.insertBefore(self.panel, info)
        self.fragile.mount(dom.el("why-controls"))
        dom.on(self.panel, "click", self._tutorial_link)
        dom.on(dom.el("why-toggle"), "click", lambda e: self.set(why=not self.app.state.why))
        dom.on(dom.el("why-class"), "change", lambda e: self.set(target=int(e.target.value)))
        dom.on(dom.el("why-method"), "change", lambda e: self.set(method=str(e.target.value)))
        dom.on(dom.el("why-opacity"), "input", lambda e: self.set(opacity=float(e.target.value)))
        dom.on(dom.el("why-save-png"), "click", lambda e: self.save("png"))
        dom.on(dom.el("why-save-svg"), "click", lambda e: self.save("svg"))
        self.fill_classes()

    def _tutorial_link(self, event) -> None:
        """A tutorial link of the panel scrolls to its text; the URL keeps the state (no #fragment)."""
        link = event.target.closest("a.why-help") if hasattr(event.target, "closest") else None
        if link is not None:
            event.preventDefault()
            scroll_to_tutorial(str(link.getAttribute("href"))[1:])

    def fill_classes(self) -> None:
        names = self.app.model.class_names
        opts = ['<option value="-1">the prediction</option>']
        opts += [f'<option value="{k}">{n}</option>' for k, n in enumerate(names)]
        dom.el("why-class").innerHTML = "".join(opts)

    def _sync_controls(self) -> None:
        st = self.app.state
        button = dom.el("why-toggle")
        button.setAttribute("aria-pressed", "true" if st.why else "false")
        button.textContent = "Back to activations" if st.why else "Why this class?"
        dom.el("why-controls").hidden = not st.why
        dom.el("why-class").value = str(st.target if st.target < len(self.app.model.class_names) else -1)
        dom.el("why-method").value = st.method
        dom.el("why-help").setAttribute("href", f"#{TUTORIALS.get(st.method, TUTORIALS['gradient'])}")
        dom.el("why-opacity").value = str(st.opacity)

    # --- state → page ----------------------------------------------------------------------------------
    def set(self, **changes) -> None:
        before = self.app.state
        self.app.update(**changes)
        if set(changes) == {"opacity"}:
            self._sync_controls()
            self.paint_overlay()
        elif changes.get("method") is not None and before.why and set(changes) == {"method"}:
            self._sync_controls()
            self.compute_map()
            self.paint_overlay()
        else:
            self.refresh()
            st = self.app.state
            if views.STACK and st.level >= 2 and ({"why", "target"} & set(changes)):
                # the open view shows the other pass (forward ↔ backward) or the other class's gradients
                self.app._reopen(st.with_(level=2, part="", at=()))

    def target(self) -> int:
        t = self.app.state.target
        return t if 0 <= t < len(self.app.model.class_names) else int(self.app.ov.trace.predicted)

    def refresh(self, painted: bool = False) -> None:
        """After the state, image or model changed: compute what why mode shows (or drop it) and paint.
        `painted`: the Overview already shows this image's activations (App.set_image, which has also let
        compare mode paint B − A over them): out of why mode there is nothing to repaint then."""
        if self.panel is None or self.app.ov is None:
            return
        if dom.el("why-class").options.length != len(self.app.model.class_names) + 1:
            self.fill_classes()  # another model
        self._sync_controls()
        t0 = dom.now()
        if self.app.state.why:
            self.gov = gradient_overview(self.app.model, self.app.ov.trace, self.target(), self.app.layout)
        else:
            self.gov = None
        if self.gov is not None or not painted:
            self.paint()
        self.paint_ms = dom.now() - t0
        if self.gov is not None:
            self.compute_map()
            self.paint_overlay()
            self.fragile.refresh()
        else:
            self.map = self.rgba = None
            self.panel.dataset.on = ""

    def shown(self):
        """The Overview whose values the page shows: the gradients in why mode, else the activations."""
        return self.gov if self.gov is not None else self.app.ov

    def paint(self) -> None:
        """Paint the Overview on show; in why mode the output rows show p − y (bars: |p − y|)."""
        view, ov = self.app.view, self.shown()
        view.paint(ov, self.app.state.scope)
        view.stage.classList.toggle("why-on", self.gov is not None)
        lab = getattr(self.app, "lab", None)
        if self.gov is None:
            if lab is not None:
                lab.compare.paint()  # an image pinned as A: the Overview shows B − A, not the activations
            return
        if lab is not None:
            lab.compare.paused()  # gradients, not B − A: compare waits until the activations come back
        out = self.app.layout.columns[-1]
        g = self.gov.values(out.index)
        view.forget_shown()  # the bars below are p − y, not probabilities
        for k, row in view.rows.items():
            v = float(g[k])
            row.querySelector(".ov-fill").style.width = f"{abs(v) * 100:.2f}%"
            row.querySelector(".ov-pct").textContent = f"{v:+.3f}"
            row.dataset.value = repr(v)
            row.classList.toggle("top", k == self.gov.target)
            row.setAttribute("aria-label", f"{out.neuron_labels[k]}: d loss / d logit = p − y = {v:+.4f}")

    def compute_map(self) -> None:
        t0 = dom.now()
        self.map = attribution_map(self.app.model, self.app.x, self.app.state.method, self.target())
        self.attr_ms = dom.now() - t0

    def paint_overlay(self) -> None:
        if self.map is None:
            return
        m, lo, hi, cmap = self.map
        self.rgba = overlay(self.app.x, m, lo, hi, self.app.state.opacity, cmap)
        dom.paint(dom.el("why-overlay"), self.rgba)
        self.count += 1  # a why-mode paint finished: tests and the bench wait on these attributes
        self.panel.dataset.on = "1"
        self.panel.dataset.count = str(self.count)
        self.panel.dataset.method = self.app.state.method
        dom.el("why-caption").textContent = self.caption()

    def save(self, kind: str) -> None:
        from . import export  # imported on first use

        export.save_attribution(self.app, kind)

    def caption(self) -> str:
        m, lo, hi, _ = self.map
        name = self.app.model.class_names[self.target()]
        return f"{LABELS[self.app.state.method]} for {name} (colour range {lo:.3g} … {hi:.3g})"

    # --- for tests and benchmarks ------------------------------------------------------------------------
    def snapshot(self) -> dict:
        if self.gov is None:
            return {"on": False, "count": self.count, "fragile": self.fragile.snapshot()}
        cols = []
        for col in self.app.layout.columns:
            v = np.ascontiguousarray(self.gov.values(col.index), dtype="<f4")
            cols.append({"index": col.index, "name": col.name, "range": list(self.gov.range(col.index, self.app.state.scope)),
                         "values": base64.b64encode(v.tobytes()).decode("ascii")})
        m = np.ascontiguousarray(self.map[0], "<f4") if self.map is not None else np.zeros(0, "<f4")
        return {"on": True, "count": self.count, "target": self.gov.target, "loss": float(self.gov.grads.loss),
                "method": self.app.state.method, "opacity": self.app.state.opacity, "columns": cols,
                "legends": [[lg.scope, list(lg.columns), lg.lo, lg.hi] for lg in self.gov.legends(self.app.state.scope)],
                "map": base64.b64encode(m.tobytes()).decode("ascii"), "map_shape": list(m.shape),
                "map_range": [self.map[1], self.map[2]] if self.map else None,
                "paint_ms": self.paint_ms, "attr_ms": self.attr_ms, "fragile": self.fragile.snapshot()}

    def json(self) -> str:
        return json.dumps(self.snapshot())
