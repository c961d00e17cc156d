"""Why it decided, in a notebook: attribution maps over the image, the gradient Overview, and FGSM.

Each view keeps the explain object it draws as `.data` (so `.map`, `.range`, `.values(name)`, `.steps` …
are the very numbers shown).
"""
from __future__ import annotations

import numpy as np

from ..explain.attribution import Attribution
from ..explain.fgsm import Fgsm
from ..explain.gradient_overview import GradientOverview
from ..explain.overview import SCOPES
from ..render.colormap import ACTIVATION, ATTRIBUTION
from ..render.overlay import overlay
from ..render.svg import block, esc, fmt, heatmap_img, img, legend
from .base import View, row, table

NAMES = {"gradient": "vanilla gradient |dS/dx|", "gradient_x_input": "gradient × input",
         "smoothgrad": "SmoothGrad", "gradcam": "Grad-CAM"}


def _rgb(x) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.shape[2] == 1:
        x = np.repeat(x, 3, axis=2)
    out = np.empty(x.shape[:2] + (4,), np.uint8)
    out[..., :3] = np.clip(np.rint(x * 255), 0, 255)
    out[..., 3] = 255
    return out


class AttributionView(View):
    """`attribution(model, x, method)`: the image, the map with its legend, and the map over the image.

    `.overlay` is the RGBA picture shown (opacity `.opacity`); `.map`, `.range`, `.data` come from the explain object.
    """

    def __init__(self, attr: Attribution, image, opacity: float = 0.6, box: int = 192):
        super().__init__(attr)
        self.image = np.asarray(image, np.float32)
        self.opacity = float(opacity)
        self.box = box
        self.cmap = ACTIVATION if attr.signed else ATTRIBUTION
        self.overlay = overlay(self.image, attr.map, *attr.range, opacity=self.opacity, cmap=self.cmap)
        self.title = f"Why {attr.class_name}? {NAMES.get(attr.method, attr.method)}"

    def note(self) -> str:
        a = self.data
        what = "its logit" if a.score == "logit" else "its log-probability"
        extra = f" at layer {a.data['layer']}" if a.method == "gradcam" else ""
        sign = ("red where the pixel pushes the class up, blue where it pulls it down" if a.signed
                else "darker red where the class's score depends most on the pixel")
        return f"How the score of {a.class_name} ({what}){extra} depends on each pixel: {sign}."

    def body(self) -> str:
        a = self.data
        lo, hi = a.range
        parts = [block(img(_rgb(self.image), self.box, alt="input image"), caption="the image"),
                 block(heatmap_img(a.map, lo, hi, self.cmap, self.box, alt="attribution map"),
                       legend(lo, hi, self.cmap, "attribution"), caption="the map"),
                 block(img(self.overlay, self.box, alt="map over the image"),
                       caption=f"over the image (opacity {self.opacity:.0%})")]
        if a.method == "gradcam":
            c = a.data["coarse"]
            parts.append(block(heatmap_img(c, 0.0, float(c.max()) or 1.0, ATTRIBUTION, self.box // 2,
                                           alt="coarse map"), caption=f"{c.shape[0]}×{c.shape[1]} at {a.data['layer']}"))
        return row(*parts)


class GradientOverviewView(View):
    """`gradient_overview(trace, target, scope)`: d loss / d every neuron, one heatmap per neuron, diverging
    colours with one symmetric range per scope; the output column lists p − y per class."""

    def __init__(self, gov: GradientOverview, scope: str = "unit", box: int = 56):
        if scope not in SCOPES:
            raise ValueError(f"Unknown colour scope {scope!r}; choose one of {', '.join(SCOPES)}.")
        super().__init__(gov)
        self.scope = scope
        self.box = box
        self.title = (f"Why {gov.model.class_names[gov.target]}? Gradients of the loss "
                      f"(−log p = {gov.grads.loss:.4f})")

    def note(self) -> str:
        return ("Each square is d loss / d activation for one neuron: blue where a larger value would lower the loss "
                "(raise the class's probability), red where it would raise it; white is no effect. "
                f"Colour scope: {self.scope}.")

    def body(self) -> str:
        gov = self.data
        rows = []
        for col in gov.columns:
            lo, hi = gov.range(col.index, self.scope)
            if col.kind == "output":
                p = gov.trace.probs
                cells = [[esc(name), fmt(float(p[k]), 4), "1" if k == gov.target else "0", fmt(float(v), 4)]
                         for k, (name, v) in enumerate(zip(col.neuron_labels, gov.values(col.index)))]
                rows.append(block(table(["class", "p", "y", "p − y"], cells, "lrrr", name="output-gradient"),
                                  caption=f"{col.name}: d loss / d logit"))
                continue
            vals = gov.values(col.index)
            if vals.ndim == 1:
                vals = vals.reshape(1, -1)  # a dense column: one strip of neurons
                maps = [heatmap_img(vals, lo, hi, ACTIVATION, self.box * 2, alt=col.name)]
            else:
                maps = [heatmap_img(v, lo, hi, ACTIVATION, self.box, title=f"{col.name}, {lab}", alt=lab)
                        for v, lab in zip(vals, col.neuron_labels)]
            rows.append(block(*maps, legend(lo, hi, ACTIVATION, f"{col.name} {tuple(col.shape)}", 120),
                              caption=col.name))
        return "".join(f'<div data-column="{i}">{r}</div>' for i, r in enumerate(rows))


class FgsmView(View):
    """`fgsm(model, x)`: for each ε, the perturbed image, the amplified difference and the new prediction."""

    def __init__(self, f: Fgsm, box: int = 96):
        super().__init__(f)
        self.box = box
        flip = f"flips at ε = {f.flip_epsilon:g}" if f.flip_epsilon is not None else "never flips in this list"
        self.title = f"How fragile is {f.class_name}? The prediction {flip}"

    def note(self) -> str:
        return ("Each value moves by ε along the sign of the loss gradient of the class; the difference is "
                "amplified (grey = unchanged) so that it can be seen.")

    def body(self) -> str:
        f = self.data
        names = f.model.class_names
        parts = [block(img(_rgb(f.input), self.box, alt="original"),
                       caption=f"original: {names[f.original_prediction]} {float(f.original_probs[f.original_prediction]):.1%}")]
        for s in f.steps:
            parts.append(block(img(_rgb(s.image), self.box, alt=f"ε = {s.epsilon:g}"),
                               img(_rgb(s.amplified), self.box, alt="difference"),
                               caption=f"ε = {s.epsilon:g}: {names[s.predicted]} {float(s.probs[s.predicted]):.1%}"))
        return row(*parts)


__all__ = ["AttributionView", "GradientOverviewView", "FgsmView"]
