"""The training panel ('How it learned'): own classes, settings, start / pause / one step / resume / reset,
loss and accuracy curves, and keeping the result (IndexedDB, downloads).

Training runs in a Web Worker (train_worker.py); every few steps it sends the weights, which are copied
into the model on show and the image traced again — the edit path, so the Overview, the probability bars
and any open view recompute. The numbers all come from cnn101.learn, in the worker and here."""
from __future__ import annotations

import asyncio
import base64
import json

import cnn101
import numpy as np
from cnn101 import learn
from cnn101.formats import tfjs
from cnn101.formats.native import model_bytes, model_from_bytes
from cnn101.learn.exchange import check_settings
from cnn101.render.curves import curves_svg
from pyscript import window
from pyscript.ffi import to_js

from . import decode, dom, model_store
from .train_classes import ClassList
from .train_worker import TrainingWorker

TRAINED = "trained here"
SCRATCH = "./train-set/"  # the build's training set for 'Watch it learn from scratch' (fetched on demand)

HELP = {
    "learning_rate": "How big a step each weight takes against its gradient: too small learns slowly, too large "
                     "overshoots (the loss can even stop being a number).",
    "batch_size": "How many images are averaged for each step: larger batches give steadier but fewer steps.",
    "epochs": "How many times training goes through all your images.",
    "optimizer": "SGD with momentum keeps moving the way recent steps went; Adam gives every weight its own step "
                 "size from the history of its gradients.",
    "train": "The output layer only keeps the features the network learned and trains a new last layer for your "
             "classes (fast, few images needed); the whole network also changes every kernel.",
}

MARKUP = f"""
<summary>How it learned: teach it your own classes</summary>
<p class="tr-lead">Make two or more classes, add a few images to each (files, or the image on show: an example, a
webcam frame, or the image as you changed or drew it under “Change the image”), and train:
the network keeps its layers, gets a new output layer with one neuron per class, and learns — you can watch the
Overview and the probabilities change as it does. Every fifth image of a class is held out to check it on
images it did not train on.</p>
<div id="tr-classes" class="tr-classes"></div>
<button type="button" id="tr-add-class">Add a class</button>
<div class="tr-settings">
 <label>Learning rate <input id="tr-lr" type="number" min="0" step="any" value="0.01"></label>
 <p class="tr-help">{HELP['learning_rate']}</p>
 <label>Batch size <input id="tr-batch" type="number" min="1" max="256" step="1" value="8"></label>
 <p class="tr-help">{HELP['batch_size']}</p>
 <label>Epochs <input id="tr-epochs" type="number" min="1" max="500" step="1" value="10"></label>
 <p class="tr-help">{HELP['epochs']}</p>
 <label>Optimizer <select id="tr-optimizer"><option value="adam">Adam</option>
   <option value="sgd">SGD with momentum 0.9</option></select></label>
 <p class="tr-help">{HELP['optimizer']}</p>
 <label>Train <select id="tr-train"><option value="head">the output layer only</option>
   <option value="all">the whole network</option></select></label>
 <p class="tr-help">{HELP['train']}</p>
</div>
<div class="tr-buttons">
 <button type="button" id="tr-start">Start training</button>
 <button type="button" id="tr-pause" disabled>Pause</button>
 <button type="button" id="tr-step" disabled>One step</button>
 <button type="button" id="tr-resume" disabled>Resume</button>
 <button type="button" id="tr-reset" disabled>Reset</button>
 <button type="button" id="tr-scratch">Watch it learn from scratch</button>
</div>
<p class="tr-help">From scratch: the same network with random weights learns all of its kernels from a few
hundred images of the ten classes (fetched now, not on your first visit); watch the Overview's kernels turn
from noise into patterns. Takes minutes.</p>
<p id="tr-status" class="tr-status" role="status" aria-live="polite"></p>
<p id="tr-figures" class="tr-figures"></p>
<div id="tr-curves" class="tr-curves"></div>
<p class="tr-legend">Red: loss (lower is better); blue: accuracy (0–100 %); solid: training batches; dashed:
held-out images.</p>
<p id="tr-keep" class="tr-keep" hidden>Download the model: <a id="tr-dl-card" download>card (.json)</a> +
 <a id="tr-dl-npz" download>weights (.npz)</a> · TF.js: <a id="tr-dl-tfjs" download="model.json">model.json</a> +
 <a id="tr-dl-shard" download>weights (.bin)</a>. Open them again with “Use your own model…”.</p>
"""


class TrainPanel:
    def __init__(self, app):
        self.app = app
        self.base = app.model  # the shipped model: the layers every class set starts from
        self.state = "idle"  # idle, starting, running, paused, done, nan, failed
        self.model = None  # the model being taught (on show while training)
        self.start_card = self.start_npz = None  # its weights before the first step (Reset)
        self.series = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
        self.step = self.total = 0
        self.settings = {}
        self.data = None  # (names, xs, ys, train idx, held idx)
        self.pending = None  # the latest weights not yet shown
        self._painting = False
        self.updates = 0  # weights shown (tests wait on it)
        self.message = ""
        self.saved = 0
        self.runs = 0  # training runs started (tests wait on it)
        self.step_seconds = []  # the worker's time for each step of this run (benchmarks)
        self.started_at = 0.0  # performance.now() when the run started
        self.finished_ms = None  # its wall time, start → done
        self.scratch = False
        self.forgotten = 0  # times 'Back to …' emptied the store (tests wait on it before a reload)
        self._urls = []
        self.worker = TrainingWorker(self._ready, self._progress, self._failed, self._paused)

    # --- markup -------------------------------------------------------------------------------
    async def mount(self) -> None:
        root = dom.el("training")
        root.innerHTML = MARKUP
        self.classes = ClassList(dom.el("tr-classes"), self.base.input_shape, self._changed)
        self.classes.add_class("class 1")
        self.classes.add_class("class 2")
        dom.on(dom.el("tr-classes"), "click", self._class_clicked)
        dom.on(dom.el("tr-add-class"), "click", lambda e: self.classes.add_class())
        for name, fn in (("start", self._start), ("pause", self._pause), ("step", self._one), ("resume", self._resume),
                         ("reset", self._reset), ("scratch", self._scratch)):
            dom.on(dom.el(f"tr-{name}"), "click", fn)
        dom.on(dom.el("model-reset"), "click", self._back_to_shipped)  # the model panel puts the shipped one back
        window.cnn101_training = dom.keep(self.snapshot)
        await self._restore()

    def _class_clicked(self, event) -> None:
        button = event.target.closest(".tr-add-shown")
        if button is None:
            return
        key = int(button.closest(".tr-class").dataset.key)
        c = next(c for c in self.classes.classes if c.key == key)
        try:
            self.classes.add(c, self.app.x)
        except learn.TrainingError as exc:
            self._say(str(exc))

    def _changed(self) -> None:
        self._say(self.classes.message)

    def _say(self, text: str, state: str | None = None) -> None:
        self.message = text or ""
        dom.el("tr-status").textContent = self.message
        if state:
            self.state = state
            dom.el("training").dataset.state = state
        self._buttons()

    def _buttons(self) -> None:
        s = self.state
        dom.el("tr-start").disabled = dom.el("tr-scratch").disabled = s in ("starting", "running", "fetching")
        dom.el("tr-pause").disabled = s != "running"
        dom.el("tr-step").disabled = s not in ("paused",)
        dom.el("tr-resume").disabled = s not in ("paused",)
        dom.el("tr-reset").disabled = self.start_npz is None or s in ("starting",)

    def _read_settings(self) -> dict:
        def num(el_id, kind):
            raw = str(dom.el(el_id).value).strip()
            try:
                return kind(raw)
            except ValueError:
                return raw
        return check_settings({
            "learning_rate": num("tr-lr", float), "batch_size": num("tr-batch", int), "epochs": num("tr-epochs", int),
            "optimizer": str(dom.el("tr-optimizer").value), "train": str(dom.el("tr-train").value), "seed": 0})

    # --- training -----------------------------------------------------------------------------
    async def _start(self, event=None) -> None:
        try:
            settings = self._read_settings()
            names, xs, ys = self.classes.dataset()
            model = learn.replace_output(self.base, names, seed=0)
        except learn.TrainingError as exc:
            self._say(str(exc))
            return
        train, held = learn.holdout(ys)
        await self._launch(model, settings, xs, ys, train, held)

    async def _scratch(self, event=None) -> None:
        """'Watch it learn from scratch': the shipped architecture with fresh random weights (Glorot, seed 0),
        every layer trained on the site's training set, checked on its held-out images."""
        try:
            settings = {**self._read_settings(), "train": "all"}
        except learn.TrainingError as exc:
            self._say(str(exc))
            return
        dom.el("tr-train").value = "all"
        self._say("Fetching the training set…", "fetching")
        try:
            index = json.loads(await (await window.fetch(SCRATCH + "index.json")).text())
            items = index["train"] + index["held"]
            xs = []
            for k, (name, _) in enumerate(items):
                response = await window.fetch(SCRATCH + name)
                if not response.ok:
                    raise cnn101.ImageError(f"{name} is missing from the site (HTTP {response.status}).")
                xs.append(await decode.load_example((await response.arrayBuffer()).to_bytes(), self.base))
                if k % 50 == 0:
                    self._say(f"Fetching the training set… {k} of {len(items)} images")
            names = [str(c) for c in index["classes"]]
            model = learn.replace_output(self.base, names, seed=0)
            learn.reinitialize(model, seed=0)
        except Exception as exc:  # no training set in this build, offline without it, a damaged file
            self._say(f"The training set could not be loaded ({exc}); this site may have been built without "
                      "one.", "failed")
            return
        xs = np.stack(xs)
        ys = np.array([int(y) for _, y in items], np.int64)
        n = len(index["train"])
        self.scratch = True
        await self._launch(model, settings, xs, ys, np.arange(n), np.arange(n, len(items)), "from scratch")

    async def _launch(self, model, settings, xs, ys, train, held, how: str = "") -> None:
        """Show `model` (the page switches to its classes), then train it in the worker."""
        model.name = f"{self.base.name}, {TRAINED}" + (f" {how}" if how else "")
        model.card = {**model.card, "trained_here": True}
        self.data = (list(model.class_names), xs, ys, train, held)
        self.settings = settings
        self.series = {k: [] for k in self.series}
        self.step_seconds = []
        self.step, self.total = 0, 0
        self.model = model
        self.start_card, self.start_npz = model_bytes(model)
        if not await self.app.models.use(model):  # the page shows the new classes (an untrained output layer)
            self._say("The new model could not be shown; see the message under the model.", "failed")
            return
        self._draw()
        self._say("Starting Python in a worker to train…", "starting")
        self.runs += 1
        self.started_at = dom.now()
        try:
            self.worker.start(self.start_card, self.start_npz, xs[train], ys[train], xs[held], ys[held], settings)
        except Exception as exc:
            self._failed(f"{type(exc).__name__}: {exc}")

    def _ready(self) -> None:
        self._say("Training…", "running")
        self.worker.send("resume")

    def _pause(self, event=None) -> None:
        self.worker.send("pause")
        self._say("Pausing after the step under way…", "pausing")

    def _paused(self) -> None:
        """The worker has no step under way: One step and Resume are safe now."""
        if self.state == "pausing":
            self._say(f"Paused at step {self.step} of {self.total}.", "paused")
            asyncio.ensure_future(self._keep())

    def _one(self, event=None) -> None:
        self.worker.send("step")

    def _resume(self, event=None) -> None:
        self._say("Training…", "running")
        self.worker.send("resume")

    async def _reset(self, event=None) -> None:
        """Back to the weights before the first step; the curves start again."""
        self.worker.send("stop")
        self.state = "idle"  # from now on, messages of the stopped run are not shown
        self.pending = None
        if self.model is None or self.start_npz is None:
            return
        learn.copy_weights(model_from_bytes(self.start_card, self.start_npz), self.model)
        self.series = {k: [] for k in self.series}
        self.step = 0
        self._draw()
        await self._show()
        self._say("Reset to the weights before training: start again with Start training.", "idle")

    def _progress(self, report: dict, npz: bytes) -> None:
        if self.state == "idle":  # reset (or never started): a message still on its way is not shown
            return
        for info in report["steps"]:
            self.step_seconds.append(info["seconds"])
            self.series["loss"].append((info["step"], info["loss"]))
            self.series["accuracy"].append((info["step"], info["accuracy"]))
        self.step, self.total = int(report["step"]), int(report["total_steps"])
        if report["val_loss"] is not None:
            self.series["val_loss"].append((self.step, report["val_loss"]))
            self.series["val_accuracy"].append((self.step, report["val_accuracy"]))
        self.pending = npz
        self._draw()
        if report["error"]:
            self._say(f"Training stopped at step {self.step + 1}: {report['error']} The page shows the last good "
                      "weights.", "nan")
            asyncio.ensure_future(self._keep())
        elif report["done"]:
            self.finished_ms = dom.now() - self.started_at
            self._say(f"Done: {self.step} steps. Try it on new images: upload one above, or pick an example.", "done")
            asyncio.ensure_future(self._keep())
        elif self.state == "paused":
            self._say(f"Paused at step {self.step} of {self.total}.")
        asyncio.ensure_future(self._show_pending())

    def _failed(self, message: str) -> None:
        self.worker.terminate()
        self._say(f"The training worker stopped ({message}). The page still works and shows the last weights it "
                  "received; press Start training to try again.", "failed")

    async def _show_pending(self) -> None:
        """Copy the newest weights into the model on show and trace the image again (one repaint at a time)."""
        if self._painting:
            return
        self._painting = True
        try:
            while self.pending is not None:
                npz, self.pending = self.pending, None
                if self.state == "idle":  # reset meanwhile: the start weights stay
                    return
                if self.app.model is not self.model:  # the learner chose another model meanwhile: stop
                    self.worker.send("stop")
                    return
                learn.copy_weights(model_from_bytes(self.start_card, npz), self.model)
                await self._show()
        finally:
            self._painting = False

    async def _show(self) -> None:
        if self.app.model is self.model:
            await self.app.set_image(self.app.x, self.app.image_label, self.app.state.image)
            self.updates += 1

    def _draw(self) -> None:
        dom.el("tr-curves").innerHTML = curves_svg(self.series)  # to the steps that ran; "step N of M" says how far
        last = lambda k: self.series[k][-1][1] if self.series[k] else None  # noqa: E731
        parts = [f"step {self.step} of {self.total}"] if self.total else []
        if last("loss") is not None:
            parts.append(f"batch loss {last('loss'):.3f}, accuracy {100 * last('accuracy'):.0f} %")
        if last("val_loss") is not None:
            parts.append(f"held-out loss {last('val_loss'):.3f}, accuracy {100 * last('val_accuracy'):.0f} %")
        elif self.data is not None and not len(self.data[4]):
            parts.append("no held-out images (a class needs 5 images to hold one out)")
        dom.el("tr-figures").textContent = " · ".join(parts)

    # --- keeping it ---------------------------------------------------------------------------
    async def _keep(self) -> None:
        """Store the model on show (IndexedDB) and offer it for download."""
        while self._painting or self.pending is not None:
            await asyncio.sleep(0.02)
        if self.model is None or self.app.model is not self.model:
            return
        if await model_store.save(self.model):
            self.saved += 1
        self._downloads(self.model)

    def _downloads(self, model) -> None:
        for url in self._urls:
            window.URL.revokeObjectURL(url)
        card, npz = model_bytes(model)
        tf = tfjs.files(model)
        shard = next(k for k in tf if k != "model.json")
        stem = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in model.name).strip("-") or "model"
        files = {"tr-dl-card": (f"{stem}.json", card), "tr-dl-npz": (f"{stem}.npz", npz),
                 "tr-dl-tfjs": ("model.json", tf["model.json"]), "tr-dl-shard": (shard, tf[shard])}
        self._urls = []
        for el_id, (name, data) in files.items():
            blob = window.Blob.new(to_js([model_store.u8(data)]), dom_type("application/octet-stream"))
            url = str(window.URL.createObjectURL(blob))
            self._urls.append(url)
            link = dom.el(el_id)
            link.href, link.download = url, name
        dom.show(dom.el("tr-keep"), True)

    async def _restore(self) -> None:
        """A model trained here before this reload comes back, labelled as such."""
        kept = await model_store.load()
        if kept is None:
            return
        model, kind = kept
        if kind != model_store.TRAINED:  # chosen with 'Use your own model' before the reload
            await self.app.models.use(model, kept=True)
            return
        if await self.app.models.use(model):
            self.model = model
            self._downloads(model)
            self._say(f"This is the model you trained here before (classes: {', '.join(model.class_names)}). "
                      f"“Back to {self.base.name}” returns to the shipped model.", "restored")

    async def _back_to_shipped(self, event=None) -> None:
        self.worker.send("stop")
        if self.state in ("running", "starting"):
            self._say("Stopped: the shipped model is back.", "idle")
        await model_store.forget()
        self.model = None
        self.forgotten += 1  # the store is empty now (a reload before this would still find the model)

    # --- for tests ----------------------------------------------------------------------------
    def snapshot(self, weights=False) -> str:
        out = {"state": self.state, "step": self.step, "total": self.total, "message": self.message,
               "series": self.series, "updates": self.updates, "saved": self.saved, "runs": self.runs, "forgotten": self.forgotten, "step_seconds": self.step_seconds,
               "finished_ms": self.finished_ms, "model": self.model.name if self.model is not None else None, "settings": self.settings,
               "attempts": self.classes.attempts, "counts": [len(c.images) for c in self.classes.classes],
               "names": [c.name for c in self.classes.classes]}
        if weights and self.model is not None:
            out["npz"] = base64.b64encode(model_bytes(self.model)[1]).decode("ascii")
        if weights and self.data is not None:
            out["xs"] = base64.b64encode(np.ascontiguousarray(self.data[1], "<f4").tobytes()).decode("ascii")
            out["xs_shape"] = list(self.data[1].shape)
            out["ys"] = [int(y) for y in self.data[2]]
        return json.dumps(out)


def dom_type(mime: str):
    return window.Object.fromEntries(window.JSON.parse(json.dumps([["type", mime]])))


__all__ = ["TrainPanel", "TRAINED"]
