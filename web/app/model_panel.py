"""'Use your own model': files chosen on the page → `cnn101.formats.model_from_files` → the whole page
(Overview, views, inputs) switches to that model, laid out from it. Anything that is not a usable model —
or a model the current image cannot go through — gets a plain message, and the current model stays.
'Back to …' returns to the site's own model."""
from __future__ import annotations

import cnn101
from cnn101.formats import model_from_files
from cnn101.formats.from_files import MAX_TOTAL_BYTES

from . import dom


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

    def mount(self) -> None:
        self.name_el.textContent = describe(self.app.model)
        self.reset.textContent = f"Back to {self.default.name}"
        chooser = dom.el("model-files")
        dom.on(chooser, "change", self._chosen)
        dom.on(self.reset, "click", self._reset)
        chooser.disabled = False

    def error(self, message: str | None) -> None:
        self.error_el.textContent = message or ""
        dom.show(self.error_el, bool(message))

    async def _chosen(self, event) -> None:
        files = event.target.files
        chosen, total = {}, 0
        for i in range(int(files.length)):
            item = files.item(i)
            total += int(item.size)
            if total > MAX_TOTAL_BYTES:
                break
            chosen[str(item.name)] = (await item.arrayBuffer()).to_bytes()
        event.target.value = ""  # choosing the same files again fires 'change' again
        if total > MAX_TOTAL_BYTES:
            self._refused(f"The chosen files add up to more than {MAX_TOTAL_BYTES // 2**20} MB; a model for cnn101 "
                          "is usually well under 10 MB.")
            return
        try:
            model = model_from_files(chosen)
        except cnn101.ModelError as exc:
            self._refused(str(exc))
            return
        except Exception as exc:  # a loader bug must not take the page down
            self._refused(f"These files could not be read as a model ({type(exc).__name__}: {exc}).")
            return
        await self.use(model)

    def _refused(self, message: str) -> None:
        self.error(message)
        self.attempts += 1

    async def _reset(self, event) -> None:
        await self.use(self.default)

    async def use(self, model) -> bool:
        try:
            await self.app.set_model(model)
        except (cnn101.ModelError, cnn101.ImageError) as exc:
            self._refused(f"{model.name} cannot be shown: {exc}")
            return False
        except Exception as exc:  # e.g. a model too large for the browser's memory
            self._refused(f"{model.name} cannot be shown ({type(exc).__name__}: {exc}).")
            return False
        self.error(None)
        self.name_el.textContent = describe(model)
        dom.el("status").textContent = ready_text(model)
        dom.show(self.reset, model is not self.default)
        self.attempts += 1
        return True
