"""'How fragile is it?' inside why mode: an FGSM step of size ε (slider over explain.fgsm's list of ε).

Glue over `cnn101.explain.fgsm`: the perturbed image, the amplified difference (grey = unchanged), how
the prediction changes, and the smallest ε of the list that flips it. Computed when the panel is opened
(and again for a new image or class while it is open), so the why Overview does not wait for it.
"""
from __future__ import annotations

import base64

import numpy as np
from cnn101.explain import fgsm
from cnn101.explain.attribution import FRAGILE_TUTORIAL
from cnn101.explain.fgsm import EPSILONS
from pyscript import document

from . import dom


class FragilePanel:
    def __init__(self, why):
        self.why = why  # the WhyMode it belongs to (its app, its target class)
        self.result = None  # the explain.fgsm result on show
        self.index = 0  # which ε of EPSILONS the slider is at
        self.count = 0
        self.root = None

    def mount(self, parent) -> None:
        self.root = document.createElement("details")
        self.root.id = "fragile"
        self.root.className = "fragile"
        last = len(EPSILONS) - 1
        self.root.innerHTML = (
            '<summary>How fragile is it?</summary>'
            '<p class="fragile-help">One step of size ε along the sign of d loss / d input (FGSM): every pixel '
            f'value moves by at most ε. <a class="why-help" href="#{FRAGILE_TUTORIAL}">Why a tiny step can '
            'change the answer</a></p>'
            f'<label>ε <input id="fragile-eps" type="range" min="0" max="{last}" step="1" value="0" '
            'aria-describedby="fragile-eps-value"></label> <output id="fragile-eps-value"></output>'
            '<div class="fragile-images"><figure><canvas id="fragile-image" width="1" height="1" '
            'aria-label="The perturbed image"></canvas><figcaption>perturbed image</figcaption></figure>'
            '<figure><canvas id="fragile-diff" width="1" height="1" aria-label="The difference, amplified">'
            '</canvas><figcaption>difference × 1/(2ε) (grey: unchanged)</figcaption></figure></div>'
            '<p id="fragile-prediction" aria-live="polite"></p><p id="fragile-flip"></p>')
        parent.appendChild(self.root)
        dom.on(self.root, "toggle", lambda e: self.refresh())
        dom.on(dom.el("fragile-eps"), "input", self._slid)

    def _slid(self, event) -> None:
        self.index = min(max(int(event.target.value), 0), len(EPSILONS) - 1)
        self.paint()

    def refresh(self) -> None:
        """Compute the steps for the image and class on show (only while the panel is open)."""
        app = self.why.app
        if self.root is None or not self.root.open or app.x is None or not app.state.why:
            self.result = None
            return
        self.result = fgsm(app.model, app.ov.trace, self.why.target())
        self.paint()

    def paint(self) -> None:
        f = self.result
        if f is None:
            return
        names = self.why.app.model.class_names
        step = f.steps[self.index]
        dom.el("fragile-eps").value = str(self.index)
        dom.el("fragile-eps-value").textContent = f"{step.epsilon:g}"
        dom.paint(dom.el("fragile-image"), dom.rgb_to_rgba(step.image))
        dom.paint(dom.el("fragile-diff"), dom.rgb_to_rgba(step.amplified))
        before = f.original_prediction
        p0, p1 = float(f.original_probs[before]), float(step.probs[step.predicted])
        change = "unchanged" if step.predicted == before else "flipped"
        dom.el("fragile-prediction").textContent = (
            f"Prediction {change}: {names[before]} ({p0:.1%}) → {names[step.predicted]} ({p1:.1%}); "
            f"{f.class_name} now {step.target_prob:.1%}.")
        flip = f.flip_epsilon
        listed = ", ".join(f"{e:g}" for e in f.epsilons)
        dom.el("fragile-flip").textContent = (f"The smallest ε of {listed} that changes the prediction: {flip:g}."
                                              if flip is not None else f"None of ε = {listed} changes the prediction.")
        self.count += 1
        self.root.dataset.count = str(self.count)

    def snapshot(self) -> dict:
        f = self.result
        if f is None:
            return {"open": False, "count": self.count}
        step = f.steps[self.index]
        return {"open": True, "count": self.count, "target": f.target, "epsilon": step.epsilon,
                "epsilons": list(f.epsilons), "predicted": step.predicted, "probs": [float(p) for p in step.probs],
                "flip_epsilon": f.flip_epsilon,
                "image": base64.b64encode(np.ascontiguousarray(step.image, "<f4").tobytes()).decode("ascii")}
