"""'Use your own model': files chosen on the page → `cnn101.formats.model_from_files` → the whole page
(Overview, views, inputs) switches to that model, laid out from it. Anything that is not a usable model —
or a model the current image cannot go through — gets a plain message, and the current model stays.
'Back to …' returns to the site's own model."""
from __future__ import annotations

import asyncio

import cnn101
from cnn101.formats import model_from_files
from cnn101.formats.from_files import MAX_TOTAL_BYTES

from . import dom, model_store

#: What this page can show and recompute at interactive speed in the browser (Tiny VGG: 5.6 M
#: multiply-adds, 10 channels per layer). Larger models work in Python (cnn101.show, cnn101.notebook).
MAX_MACS = 200_000_000
MAX_CHANNELS = 128
#: Activations of one image (all layers, float32) the page keeps and draws; Tiny VGG's: 0.6 MB.
MAX_ACTIVATION_BYTES = 64 * 1024 * 1024
#: Files that make a drop on the image panel a model, not an image.
MODEL_SUFFIXES = (".json", ".npz", ".bin", ".keras", ".h5", ".hdf5")


def activation_bytes(model) -> int:
    """Bytes of every activation of one image (the input and each layer's output, float32)."""
    total = 0
    for shape in model.shapes.values():
        n = 1
        for d in shape:
            n *= int(d)
        total += 4 * n
    return total


def too_large(model) -> str | None:
    """Why the page would not show `model` well, or None."""
    memory = activation_bytes(model)
    if memory > MAX_ACTIVATION_BYTES:
        shape = "×".join(str(d) for d in model.input_shape)
        return (f"{model.name} takes a {shape} input, and its activations for one image need {memory / 2**20:,.0f} MB, "
                f"more than the {MAX_ACTIVATION_BYTES // 2**20} MB this page keeps in the browser; explore it in a "
                "notebook with cnn101 instead, or choose a model with a smaller input.")
    if model.mac_count > MAX_MACS:
        return (f"{model.name} needs {model.mac_count / 1e6:,.0f} million multiply-adds per image, more than the "
                f"{MAX_MACS / 1e6:,.0f} million this page recomputes at interactive speed; explore it in a notebook "
                "with cnn101 instead, or choose a smaller model.")
    wide = [(n, s[-1]) for n, s in model.shapes.items() if len(s) == 3 and s[-1] > MAX_CHANNELS]
    if wide:
        name, c = wide[0]
        return (f"{model.name}'s layer {name} has {c} channels; the page draws every channel and takes at most "
                f"{MAX_CHANNELS} per layer. Explore it in a notebook with cnn101 instead, or choose a smaller model.")
    return None


def describe(model) -> str:
    shape = "×".join(str(d) for d in model.input_shape)
    return (f"Model: {model.name} — {len(model.layers)} layers, {model.param_count:,} parameters, "
            f"{shape} input, {model.num_classes} classes")


def ready_text(model) -> str:
    return (f"Ready: {model.name}, {len(model.layers)} layers, {model.param_count:,} parameters "
            "— every number computed by NumPy in your browser.")


class ModelPanel:
    def __init__(self, app):
        self.app = app
        self.default = app.model
        self.name_el = dom.el("model-name")
        self.error_el = dom.el("model-error")
        self.reset = dom.el("model-reset")
        self.attempts = 0  # models tried, used or refused (lets tests wait for an outcome)
        self.kept = 0  # chosen models written to the browser's store
        self.restored = 0  # chosen models put back from it after a reload
        self.note = ""  # said after the ready line while a model put back from the store is on show

    def mount(self) -> None:
        self.name_el.textContent = describe(self.app.model)
        self.reset.textContent = f"Back to {self.default.name}"
        chooser = dom.el("model-files")
        dom.on(chooser, "change", self._chosen)
        dom.on(self.reset, "click", self._reset)
        dom.on(dom.el("model-reset-edits"), "click", self._reset_edits)
        panel = dom.el("model-panel")
        dom.on(panel, "dragover", lambda e: e.preventDefault())
        dom.on(panel, "drop", self._dropped)
        chooser.disabled = False

    def show_edits(self) -> None:
        """The model line says how many neurons the learner has edited; 'Reset all edits' while any are."""
        n = len(self.app.edits.edited())
        self.name_el.textContent = describe(self.app.model) + (
            f" · {n} neuron{'s' if n != 1 else ''} edited by you" if n else "")
        dom.show(dom.el("model-reset-edits"), n > 0)

    async def _reset_edits(self, event) -> None:
        await self.app.reset_edits()

    def error(self, message: str | None) -> None:
        self.error_el.textContent = message or ""
        dom.show(self.error_el, bool(message))

    async def _chosen(self, event) -> None:
        await self.take(event.target.files)
        event.target.value = ""  # choosing the same files again fires 'change' again

    def _dropped(self, event) -> None:
        event.preventDefault()  # synchronously: an async handler would run after the browser opened the file
        files = event.dataTransfer.files if event.dataTransfer else None
        if files is not None and int(files.length):
            asyncio.ensure_future(self.take(files))

    async def take(self, files) -> None:
        """Use the model in a FileList (chosen, or dropped on the page)."""
        self._busy(True)
        try:
            await self._read(files)
        finally:
            self._busy(False)

    async def _read(self, files) -> None:
        chosen, total = {}, 0
        for i in range(int(files.length)):
            item = files.item(i)
            total += int(item.size)
            if total > MAX_TOTAL_BYTES:
                break
            chosen[str(item.name)] = (await item.arrayBuffer()).to_bytes()
        if total > MAX_TOTAL_BYTES:
            self._refused(f"The chosen files add up to more than {MAX_TOTAL_BYTES // 2**20} MB; a model for cnn101 "
                          "is usually well under 10 MB.")
            return
        try:
            model = model_from_files(chosen)
            reason = too_large(model)
            if reason:
                raise cnn101.ModelError(reason)
        except cnn101.ModelError as exc:
            self._refused(str(exc))
            return
        except Exception as exc:  # a loader bug must not take the page down
            self._refused(f"These files could not be read as a model ({type(exc).__name__}: {exc}).")
            return
        if await self._use(model) and await model_store.save(model, model_store.CHOSEN):
            self.kept += 1  # it comes back after a reload; 'Back to …' forgets it (train_panel listens there)

    def _refused(self, message: str) -> None:
        self.error(message)
        self.attempts += 1

    async def _reset(self, event) -> None:
        await self.use(self.default)

    def _busy(self, busy: bool) -> None:
        """One model change at a time: the controls wait while one is under way."""
        dom.el("model-files").disabled = busy
        self.reset.disabled = busy

    async def use(self, model, kept: bool = False) -> bool:
        """Show `model`; kept=True: the model chosen before a reload, back from the browser's store."""
        self._busy(True)
        try:
            ok = await self._use(model)
            if ok and kept:
                self.restored += 1
                self.note = f" (the model you chose before; “Back to {self.default.name}” returns to the shipped one)"
                dom.el("status").textContent = ready_text(model) + self.note
            return ok
        finally:
            self._busy(False)

    async def _use(self, model) -> bool:
        try:
            await self.app.set_model(model)
        except (cnn101.ModelError, cnn101.ImageError) as exc:
            self._refused(f"{model.name} cannot be shown: {exc}")
            return False
        except Exception as exc:  # e.g. a model too large for the browser's memory
            self._refused(f"{model.name} cannot be shown ({type(exc).__name__}: {exc}).")
            return False
        self.error(None)
        self.note = ""
        self.show_edits()
        dom.el("status").textContent = ready_text(model)
        dom.show(self.reset, model is not self.default)
        self.attempts += 1
        return True
