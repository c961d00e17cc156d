"""The controller: holds the model, the current image's Overview and the State; wires the parts."""
from __future__ import annotations

import base64
import json

import cnn101
import numpy as np
from cnn101.explain.overview import layout, overview
from cnn101.kernels import Edits
from cnn101.kernels import preset as preset_kernel
from cnn101.page import input_caption, prediction_text
from pyscript import document, window

from . import decode, dom, export, keyboard, views  # noqa: F401  (keyboard: listens once, at import)
from .hover import HINT, Hover
from .inputs import InputPanel
from .lab import Lab
from .model_panel import ModelPanel
from .overview_view import OverviewView
from .state import MAX_WEIGHTS, SCOPES, Edit, State, link_query
from .state_files import StateFiles, take_pending
from .train_panel import TrainPanel
from .why_mode import WhyMode


class App:
    def __init__(self, model, examples):
        self.model = model
        self.layout = layout(model)
        self.examples = examples
        views.register_all()
        self.files = StateFiles(self)  # a state too big for a link: download / open it as a file
        self.state = take_pending() or State.from_query(str(window.location.search))
        self._depth = 0  # history entries this page pushed below the one it was opened with
        self._expected_pops = 0  # popstate events of our own history.back() still to come
        self._popping = False  # applying a Back / Forward: no new history entries
        self.url_held = False  # a drag is on: the address waits for its end (hold_url)
        self._url_stale = False
        self.view = OverviewView(dom.el("stage-frame"), self.layout)
        self.hover = Hover(self)
        self.inputs = InputPanel(model, examples, self.set_image)
        self.models = ModelPanel(self)
        self.inputs.on_model_files = self.models.take  # model files dropped on the image panel
        self.edits = Edits(model)  # kernels and biases the learner changed (put back on reset)
        self._apply_url_edits()
        self.ov = None
        self.x = None
        self.base_x = None  # the chosen image, before the lab's changes (self.x is what the network sees)
        self.lab = Lab(self)  # 'Change the image': perturb steps applied to every image (state.steps)
        self.image_label = ""
        self.switch_ms = None  # image chosen → every heatmap repainted (the last switch)
        self.edit_count = 0  # edits applied (lets tests wait for one)
        self.why = WhyMode(self)  # 'Why this class?' (gradients, attribution)
        self.training = TrainPanel(self)  # 'How it learned' (training in a worker; a model trained here)

    # --- start -----------------------------------------------------------------------------------
    async def start(self) -> None:
        self.inputs.mount()
        self.lab.mount()
        self.models.mount()
        self.files.mount()
        if self.state.edits:  # a shared link's edits: the model line says so, with 'Reset all edits'
            self.models.show_edits()
        self.hover.mount(dom.el("stage-frame"))
        self._wire_controls()
        self.why.mount()
        export.mount_overview(self)
        ids = [e.id for e in self.examples]
        first = self.state.image if self.state.image in ids else (ids[0] if ids else "")
        if first:
            await self.inputs.show_example(first)
        else:
            await self.set_image(np.full(self.model.input_shape, 0.5, np.float32), "grey", "")
            self.inputs.error("No example images in this build: upload an image to begin.")
        if self.state.selected and self.state.level >= 2:
            self._reopen(self.state)
        await self.training.mount()  # brings back a model trained here before a reload

    def _reopen(self, want: State) -> None:
        """Open the views `want` describes (from the URL, or again after the image changed)."""
        try:
            col = self.layout.column(want.column)
        except KeyError:
            self._set_state(self.state.with_(column="", neuron=-1, level=1, part="", at=()))
            return
        if want.neuron < col.neurons:
            self.open(col.index, want.neuron)
            views.restore(want)

    def _wire_controls(self) -> None:
        for radio in document.querySelectorAll('input[name="scope"]'):
            radio.checked = radio.value == self.state.scope
            dom.on(radio, "change", self._scope_changed)
        dom.el("scope").disabled = False
        detail = dom.el("detail")
        detail.checked = self.state.detail
        detail.disabled = False
        dom.on(detail, "change", self._detail_changed)
        dom.on(window, "resize", lambda e: self.view.fit())
        dom.on(window, "popstate", self._popped)
        dom.on(dom.el("stage-frame"), "click", self._label_clicked)
        self._apply_detail()

    # --- state ---------------------------------------------------------------------------------
    def _set_state(self, state: State) -> None:
        """The state and the URL. Going a level deeper adds a history entry (so that the browser's Back goes
        up one level and Forward down again); everything else replaces the current one."""
        deeper = state.level > self.state.level and not self._popping
        self.state = state
        query, left_out = link_query(state, self.files.limit)  # a state too big for a link: what fits
        url = str(window.location.pathname) + query
        if deeper:
            self._depth += 1
            window.history.pushState(window.JSON.parse(f'{{"cnn101": {self._depth}}}'), "", url)
        elif url != str(window.location.pathname) + str(window.location.search):  # (live frames: no churn)
            if self.url_held:
                self._url_stale = True  # written when the drag ends (hold_url(False))
            else:
                window.history.replaceState(window.history.state, "", url)
        self.files.linked(state.to_query() if left_out else query, left_out)

    def hold_url(self, hold: bool) -> None:
        """While a drag changes the state on every pointer move (drawing, the grey patch), the address is
        written once at its end: a replaceState took ≈ 8 ms of each move in Chromium."""
        self.url_held = hold
        if not hold and self._url_stale:
            self._url_stale = False
            self._set_state(self.state)

    def set_url_limit(self, limit: int) -> None:
        """How many characters of query a link may hold (tests lower it to reach a too-big state)."""
        self.files.limit = max(0, int(limit))
        self._set_state(self.state)

    def _popped(self, _event) -> None:
        """Browser Back / Forward: show the level the entry's URL names (up: close views; down: reopen)."""
        st = window.history.state
        self._depth = int(st.cnn101) if st is not None and hasattr(st, "cnn101") else 0
        if self._expected_pops > 0:  # our own history.back() after Esc: the views are already closed
            self._expected_pops -= 1
            self._set_state(self.state)
            return
        want = State.from_query(str(window.location.search))
        self._popping = True
        try:
            while self.state.level > max(1, want.level) and views.STACK:
                self.state = self.state.back()
                views.close_view()
            if want.level > self.state.level and want.selected:
                if self.state.level == 1:
                    self._reopen(want)
                else:
                    views.restore(want)
            self._set_state(self.state)
            if self.state.level == 1:
                dom.el("info").textContent = HINT
        finally:
            self._popping = False

    def _scope_changed(self, event) -> None:
        scope = str(event.target.value)
        if scope in SCOPES and scope != self.state.scope:
            self._set_state(self.state.with_(scope=scope))
            if self.ov is not None:
                self.why.paint()  # the activations, or the gradients in why mode

    def _detail_changed(self, event) -> None:
        self._set_state(self.state.with_(detail=bool(event.target.checked)))
        self._apply_detail()

    def _apply_detail(self) -> None:
        dom.el("overview").classList.toggle("detail", self.state.detail)

    def _label_clicked(self, event) -> None:
        link = event.target.closest("a.ov-label")
        if link is None:
            return
        event.preventDefault()  # keep the state in the URL; scroll to the tutorial section instead
        target = document.getElementById(str(link.getAttribute("href"))[1:])
        if target is not None:
            target.scrollIntoView()

    # --- images --------------------------------------------------------------------------------
    async def set_image(self, x, label: str, image_id: str, trace=None, fade: bool = True) -> None:
        """Trace a preprocessed image and repaint everything (with a short fade, unless `fade` is False: the
        webcam's live frames follow each other too fast for one)."""
        self.show_image(x, label, image_id, trace, fade)

    def show_image(self, x, label: str, image_id: str, trace=None, fade: bool = True) -> None:
        """set_image without the coroutine: the lab calls it inside the pointer event or animation frame
        that changed the image, so the new Overview is on screen in that very frame."""
        if tuple(x.shape) != tuple(self.model.input_shape):  # prepared for another model: never shown
            raise cnn101.ImageError(f"This image was prepared for a {'×'.join(map(str, x.shape))} input, "
                                    f"but the model takes {'×'.join(map(str, self.model.input_shape))}; choose it again.")
        t0 = dom.now()
        base, x = x, self.lab.apply(x)  # the network sees the chosen image with the lab's changes
        trace = trace if x is base else None
        first = self.ov is None
        if first:
            dom.mark("first-image")
        trace = self.model.trace(x) if trace is None else trace  # (given when the caller has traced x)
        self.ov = overview(self.model, trace, self.layout)
        if first:
            dom.mark("first-trace")
        self.x = x
        self.base_x = base
        self.image_label = label
        maps = self.lab.compare.a is None  # an image pinned as A: the lab paints B − A over every map next
        if first:
            self.view.mount(self.ov, self.state.scope)  # replaces the build's snapshot, if any
            for snap in document.querySelectorAll(".input-snapshot"):
                snap.remove()
        elif fade:
            self.view.fade()
            self.view.paint(self.ov, self.state.scope, maps)
            self.view.unfade()
        else:
            self.view.paint(self.ov, self.state.scope, maps)
        canvas = dom.el("input-canvas")
        pixels = dom.rgb_to_rgba(x)
        dom.paint(canvas, pixels)
        h, w = int(x.shape[0]), int(x.shape[1])  # a non-square input keeps its shape in the 96 px frame
        size = (f"{96 * w / max(h, w):.1f}px", f"{96 * h / max(h, w):.1f}px")
        if (str(canvas.style.width), str(canvas.style.height)) != size:
            canvas.style.width, canvas.style.height = size
        self.lab.shown(x, pixels)
        dom.el("input-caption").textContent = input_caption(label, self.model)
        dom.el("prediction").textContent = prediction_text(self.ov)
        self.inputs.mark(image_id)
        self._set_state(self.state.with_(image=image_id))
        self.hover.current = None
        self.view.highlight(None, None)
        dom.el("info").textContent = HINT
        self.why.refresh(painted=True)  # why mode: the gradients of this image
        self.switch_ms = dom.now() - t0
        if views.STACK:  # the open views show the new image's numbers
            self._reopen(self.state)
            self.lab.compare.in_view()

    # --- models --------------------------------------------------------------------------------
    async def set_model(self, model) -> None:
        """Show another model: the Overview laid out from it, the current image preprocessed for it. If the
        image cannot go through it (ImageError, ModelError), nothing changes and the error propagates."""
        x, label, image_id = await self.inputs.current_for(model)
        trace = model.trace(x)  # fails here, before anything changed, if the model cannot take it
        views.close_all()
        before = (self.model, self.x, self.image_label, self.state.image)
        try:
            await self._show_model(model, x, label, image_id, trace)
        except Exception:  # put the previous model back on screen, then report
            old_model, old_x, old_label, old_image = before
            await self._show_model(old_model, old_x, old_label, old_image)
            raise

    async def _show_model(self, model, x, label: str, image_id: str, trace=None) -> None:
        if model is not self.model:  # edits belong to the model they were made on: put its weights back
            self.edits.reset_all()
            self.edits = Edits(model)
            self._set_state(self.state.with_(edits=()))
        self.model = model
        self.layout = layout(model)
        self.view = OverviewView(dom.el("stage-frame"), self.layout)
        self.inputs.set_model(model)
        self.ov = None  # set_image mounts the new layout
        self._set_state(self.state.with_(column="", neuron=-1, level=1, part="", at=()))
        await self.set_image(x, label, image_id, trace)

    # --- edits -----------------------------------------------------------------------------------
    def _apply_url_edits(self) -> None:
        """The edits a shared link carries (state.edits), made on the model before the first trace; one that
        does not fit this model (no such conv layer or neuron) is dropped."""
        for e in self.state.edits:
            try:
                if e.preset:
                    self.edits.preset(e.layer, e.neuron, e.preset)
                if e.bias is not None:
                    self.edits.set_bias(e.layer, e.neuron, e.bias)
                if e.weights:  # single weights typed by hand, over the preset or the trained kernel
                    kernel = self.model.layer(e.layer).kernel[:, :, :, e.neuron].copy()
                    kh, kw, cin = kernel.shape
                    if not all(c < cin and i < kh and j < kw for c, i, j, _ in e.weights):
                        raise ValueError("a weight outside the kernel")
                    for c, i, j, v in e.weights:
                        kernel[i, j, c] = v
                    self.edits.set_kernel(e.layer, e.neuron, kernel)
            except (cnn101.ModelError, KeyError, ValueError):
                self.edits.reset(e.layer, e.neuron)  # an edit that does not fit is dropped whole
                continue
        self._remember_edits()

    def _remember_edits(self) -> None:
        """state.edits from what the model holds now: the preset (if the kernel still is one), the bias, and
        every weight that differs from the preset's or the trained kernel."""
        out = []
        for layer, neuron in self.edits.edited():
            preset = self.edits.presets.get((layer, neuron), "")
            conv = self.model.layer(layer)
            bias = float(conv.bias[neuron])
            bias = None if bias == self.edits.trained_bias(layer, neuron) else bias
            kernel = conv.kernel[:, :, :, neuron]
            base = ((preset_kernel(preset, *kernel.shape[:2]) / np.float32(kernel.shape[2]))[:, :, None]  # as Edits.preset
                    if preset else self.edits.trained_kernel(layer, neuron))
            weights = tuple(sorted((int(c), int(i), int(j), float(kernel[i, j, c]))
                                   for i, j, c in zip(*np.nonzero(kernel != base))))
            if preset or bias is not None or weights:
                out.append(Edit(layer, neuron, preset, bias, weights))
        if sum(len(e.weights) for e in out) > MAX_WEIGHTS:  # too long for a link: keep presets and biases only
            out = [Edit(e.layer, e.neuron, e.preset, e.bias) for e in out if e.preset or e.bias is not None]
        self._set_state(self.state.with_(edits=tuple(out)))

    async def edit_neuron(self, layer: str, neuron: int, preset: str | None = None, bias: float | None = None,
                          reset: bool = False, kernel=None) -> None:
        """Change (or reset) one conv neuron's kernel / bias, then recompute everything for the image."""
        try:
            if reset:
                self.edits.reset(layer, neuron)
            if preset is not None:
                self.edits.preset(layer, neuron, preset)
            if bias is not None:
                self.edits.set_bias(layer, neuron, bias)
            if kernel is not None:  # a weight typed by hand (web/app/kernel_edit.py)
                self.edits.set_kernel(layer, neuron, kernel)
        except cnn101.ModelError as exc:
            self.models.error(str(exc))
            return
        await self._edited()

    async def reset_edits(self) -> None:
        """Every edited neuron's trained kernel and bias again."""
        self.edits.reset_all()
        await self._edited()

    async def _edited(self) -> None:
        """After an edit: the URL, the model line, then the image traced again (the Overview and open views
        redraw)."""
        self._remember_edits()
        self.models.show_edits()
        await self.set_image(self.base_x, self.image_label, self.state.image)
        self.edit_count += 1

    # --- levels ----------------------------------------------------------------------------------
    def open(self, col: int, neuron: int) -> None:
        """Open the view route() names for a neuron of column `col` (nothing for a layer without one)."""
        column = self.layout.column(col)
        if views.opener_of(self, column) is None:
            views.close_all()
            return
        self._set_state(self.state.open(column.name, neuron))
        views.open_view(self, column, neuron)
        self.lab.compare.in_view()
        # the info line spoke of a hover position on the Overview; now the open view shows the numbers
        dom.el("info").textContent = f"{column.name} · neuron {neuron} is open: Esc or Back returns to the Overview."

    def deeper(self, part: str) -> None:
        """A level-2 view opens its `part` (level 3); that view pushes itself on views.STACK."""
        self._set_state(self.state.deeper(part))

    def update(self, **changes) -> None:
        """Change the state (e.g. at=, speed=) and the URL."""
        self._set_state(self.state.with_(**changes))
        if "at" in changes and self.lab.compare.a is not None:
            self.lab.compare.in_view()  # compare mode: the open view's A and B values at the new position

    def back(self) -> None:
        if self.state.level > 1:
            if self._depth > 0:  # the level came with a history entry: go back from it (kept for Forward);
                self.state = self.state.back()  # the URL follows when that popstate arrives (_popped)
                self._depth -= 1
                self._expected_pops += 1
                views.close_view()
                window.history.back()
            else:
                self._set_state(self.state.back())
                views.close_view()
            if self.state.level == 1:
                dom.el("info").textContent = HINT

    # --- for tests and benchmarks --------------------------------------------------------------
    def snapshot(self) -> str:
        """JSON of what the page shows: every column's values (base64 float32), ranges, probabilities."""
        ov, scope = self.ov, self.state.scope
        if ov is None:
            return json.dumps({"ready": False})
        cols = []
        for col in self.layout.columns:
            v = np.ascontiguousarray(ov.values(col.index), dtype="<f4")
            cols.append({"index": col.index, "name": col.name, "kind": col.kind, "shape": list(col.shape),
                         "neurons": col.neurons, "values_shape": list(v.shape), "range": list(ov.range(col.index, scope)),
                         "values": base64.b64encode(v.tobytes()).decode("ascii")})
        return json.dumps({
            "ready": True, "query": self.state.to_query(), "image": self.state.image, "label": self.image_label,
            "scope": scope, "detail": self.state.detail, "level": self.state.level,
            "selected": list(self.state.selected) if self.state.selected else None,
            "model": {"name": self.model.name, "input_shape": list(self.model.input_shape),
                      "class_names": self.model.class_names},
            "input": base64.b64encode(np.ascontiguousarray(self.x, "<f4").tobytes()).decode("ascii"),
            "probs": [float(p) for p in ov.values(self.layout.columns[-1].index)],
            "logits": [float(v) for v in ov.logits()],
            "top": [[n, p] for n, p in ov.top(len(self.model.class_names))],
            "columns": cols, "paints": self.view.paints, "paint_ms": self.view.last_paint_ms,
            "paint_end": self.view.last_paint_end,
            "switch_ms": self.switch_ms, "attempts": self.inputs.attempts,
            "examples_prepared": len(self.inputs.prepared), "examples": len(self.examples),
            "pillow": decode.pillow_state(),
            "model_attempts": self.models.attempts, "model_kept": self.models.kept,
            "model_restored": self.models.restored,
            "left_out": list(self.files.left_out), "states_opened": self.files.opened,
            "state_error": str(dom.el("state-error").textContent) if not dom.el("state-error").hidden else None,
            "why": self.why.snapshot(), "lab": self.lab.snapshot(), "saved": [list(s) for s in export.saved],
            "edits": self.edit_count, "edited": [list(k) for k in self.edits.edited()],
            "model_error": str(dom.el("model-error").textContent) if not dom.el("model-error").hidden else None,
            "error": str(dom.el("input-error").textContent) if not dom.el("input-error").hidden else None,
        })
