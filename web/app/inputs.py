"""The input panel: example images, file upload and load-by-address; every image goes through
`cnn101.load_image` (the one preprocessing function), and every failure becomes a plain message."""
from __future__ import annotations

import asyncio
import html
import json

import cnn101
import numpy as np
from cnn101.image import MAX_BYTES
from pyscript import window

from . import decode, dom
from .model_panel import MODEL_SUFFIXES

EXAMPLES = "./examples/"


class Example:
    def __init__(self, item: dict):
        self.id = str(item["id"])
        self.file = str(item["file"])
        self.label = str(item.get("label", self.id))
        self.class_index = item.get("class_index")

    @property
    def url(self) -> str:
        return EXAMPLES + self.file


def example_names(examples) -> list[str]:
    """One accessible name per example: its label, numbered when a label is shared ('koala 2 of 4')."""
    count, seen, out = {}, {}, []
    for e in examples:
        count[e.label] = count.get(e.label, 0) + 1
    for e in examples:
        seen[e.label] = seen.get(e.label, 0) + 1
        out.append(e.label if count[e.label] == 1 else f"{e.label} {seen[e.label]} of {count[e.label]}")
    return out


async def load_examples() -> tuple[list[Example], list[str]]:
    """(examples, class labels in output order) from examples/index.json; empty when the site has none."""
    try:
        response = await window.fetch(EXAMPLES + "index.json")
        if not response.ok:
            return [], []
        index = json.loads(await response.text())
    except Exception:
        return [], []
    examples = [Example(item) for item in index.get("examples", []) if "id" in item and "file" in item]
    classes = [str(c.get("label")) for c in sorted(index.get("classes", []), key=lambda c: c.get("index", 0))]
    return examples, classes


def plain_error(exc: Exception) -> str:
    """The message a learner sees for a failed image."""
    if isinstance(exc, cnn101.ImageError):
        return str(exc)
    return f"This image could not be used ({type(exc).__name__}: {exc}). Try another one."


class InputPanel:
    """Wires the panel's controls; `on_image(x, label, image_id)` receives each preprocessed image."""

    def __init__(self, model, examples: list[Example], on_image):
        self.model = model
        self.examples = {e.id: e for e in examples}
        self.order = examples
        self.on_image = on_image
        self.error_el = dom.el("input-error")
        self.attempts = 0  # images tried (shown or refused): lets tests wait for an outcome
        self.prepared = {}  # example id -> its preprocessed input for self.model
        self.sizes = {}  # example id -> (height, width) of its file, before preprocessing
        self.original_hw = None  # (height, width) of the image on show before preprocessing (None: unknown)
        self.current = None  # what is shown: (example id, label) or (bytes, label) of an upload / address
        self.on_model_files = None  # async (FileList) -> None: model files dropped on the panel
        self.marked = None  # the image id the example strip shows as selected (mark)

    # --- panel ---------------------------------------------------------------------------------
    def mount(self) -> None:
        strip = dom.el("examples")
        if not self.order:
            strip.innerHTML = '<p class="no-examples">No example images in this build: upload one.</p>'
        else:
            strip.innerHTML = "".join(
                f'<button type="button" class="example" role="option" data-id="{html.escape(e.id)}" '
                f'tabindex="{0 if k == 0 else -1}" title="{html.escape(e.label)}" '
                f'aria-label="example: {html.escape(name)}">'
                f'<img src="{html.escape(e.url)}" alt="" width="40" height="40" loading="lazy"></button>'
                for k, (e, name) in enumerate(zip(self.order, example_names(self.order))))
        dom.on(strip, "click", self._example_clicked)
        dom.on(strip, "keydown", self._example_key)  # one Tab stop; arrow keys move between the examples
        dom.on(dom.el("upload"), "change", self._file_chosen)
        dom.on(dom.el("url-form"), "submit", self._url_submitted)
        panel = dom.el("input-panel")
        dom.on(panel, "dragover", lambda e: e.preventDefault())
        dom.on(panel, "drop", self._dropped)
        for name in ("upload", "url-input", "url-load"):
            dom.el(name).disabled = False

    def mark(self, image_id: str) -> None:
        if image_id == self.marked:  # (the lab re-traces the same example on every change)
            return
        self.marked = image_id
        buttons = list(dom.el("examples").querySelectorAll("button.example"))
        if not any(b.dataset.id == image_id for b in buttons):  # an upload: the Tab stop stays where it is
            image_id = None
        for b in buttons:
            selected = b.dataset.id == image_id
            b.classList.toggle("selected", selected)
            b.setAttribute("aria-selected", "true" if selected else "false")
            if image_id is not None:
                b.tabIndex = 0 if selected else -1

    def _example_key(self, event) -> None:
        """Arrow keys, Home and End move the focus (and the one Tab stop) between the example buttons."""
        buttons = list(dom.el("examples").querySelectorAll("button.example"))
        here = event.target.closest("button.example") if hasattr(event.target, "closest") else None
        if here is None or not buttons:
            return
        k = next((i for i, b in enumerate(buttons) if b.isSameNode(here)), 0)
        row = max(1, round(float(dom.el("examples").clientWidth) / max(1.0, float(here.offsetWidth) + 4)))
        moves = {"ArrowRight": k + 1, "ArrowLeft": k - 1, "ArrowDown": k + row, "ArrowUp": k - row,
                 "Home": 0, "End": len(buttons) - 1}
        if event.key not in moves:
            return
        event.preventDefault()
        to = min(len(buttons) - 1, max(0, moves[event.key]))
        for i, b in enumerate(buttons):
            b.tabIndex = 0 if i == to else -1
        buttons[to].focus()

    def error(self, message: str | None) -> None:
        self.error_el.textContent = message or ""
        dom.show(self.error_el, bool(message))
        if message:
            self.attempts += 1

    # --- sources -------------------------------------------------------------------------------
    async def _use(self, data: bytes, label: str, image_id: str) -> bool:
        model = self.model
        try:
            if image_id:  # one of the build's examples
                x = await decode.load_example(data, model)
            else:
                try:
                    await decode.ensure_pillow()
                except Exception:
                    self.error("The image decoder (Pillow) could not be loaded. Reload the page and try again.")
                    return False
                x = await decode.load(data, model)
            if self.model is not model:  # another model was chosen meanwhile: preprocess for that one
                return await self._use(data, label, image_id)
            hw = await decode.image_hw(data)
            if image_id:
                self.prepared[image_id] = x
                self.sizes[image_id] = hw
            self.original_hw = hw
            self.current = (image_id, label) if image_id else (data, label)
            self.error(None)
            await self.on_image(x, label, image_id)
        except Exception as exc:  # every failure leaves the current image and a message
            self.error(plain_error(exc))
            return False
        self.attempts += 1
        return True

    async def show_example(self, image_id: str) -> bool:
        ex = self.examples.get(image_id)
        if ex is None:
            self.error(f"There is no example called '{image_id}'.")
            return False
        if ex.id in self.prepared:  # decoded before: straight to the network
            self.current = (ex.id, ex.label)
            self.original_hw = self.sizes.get(ex.id)
            self.error(None)
            await self.on_image(self.prepared[ex.id], ex.label, ex.id)
            self.attempts += 1
            return True
        data = await self._fetch_bytes(ex.url)
        if data is None:
            return False
        dom.mark("example-bytes")
        return await self._use(data, ex.label, ex.id)

    async def prepare_examples(self) -> None:
        """Decode every example in the background (one at a time, yielding in between), so that a click
        on any of them only has to run the network and repaint. Stops when the model changes (set_model
        starts it again for the new one)."""
        model = self.model
        for ex in self.order:
            if self.model is not model:
                return
            if ex.id in self.prepared:
                continue
            try:
                response = await window.fetch(ex.url)
                if response.ok:
                    data = (await response.arrayBuffer()).to_bytes()
                    x = await decode.load_example(data, model)
                    if self.model is model:
                        self.prepared[ex.id] = x
                        self.sizes[ex.id] = await decode.image_hw(data)
            except Exception:
                pass  # a click on it will fetch it again and explain what is wrong
            await asyncio.sleep(0.02)

    # --- another model ----------------------------------------------------------------------------
    async def current_for(self, model) -> tuple:
        """(x, label, image id): the image on show, preprocessed for `model` (raises if it cannot be)."""
        if self.current is None:
            return np.full(model.input_shape, 0.5, np.float32), "grey", ""
        source, label = self.current
        if isinstance(source, str):  # an example: its file again (cached by the service worker)
            data = await self._fetch_bytes(self.examples[source].url)
            if data is None:
                raise cnn101.ImageError(f"The example '{label}' could not be loaded again.")
            return await decode.load_example(data, model), label, source
        await decode.ensure_pillow()
        return await decode.load(source, model), label, ""

    def set_model(self, model) -> None:
        """From now on, images are preprocessed for `model`; the examples are decoded again for it."""
        self.model = model
        self.prepared = {}
        asyncio.ensure_future(self.prepare_examples())

    async def _example_clicked(self, event) -> None:
        button = event.target.closest("button.example")
        if button:
            await self.show_example(str(button.dataset.id))

    async def _use_file(self, file) -> None:
        if file is None:
            return
        if int(file.size) > MAX_BYTES:
            self.error(f"{file.name} is larger than {MAX_BYTES // 2**20} MB; choose a smaller image.")
            return
        buf = await file.arrayBuffer()
        await self._use(buf.to_bytes(), str(file.name), "")

    async def _file_chosen(self, event) -> None:
        files = event.target.files
        await self._use_file(files.item(0) if files.length else None)
        event.target.value = ""  # choosing the same file again fires 'change' again

    def _dropped(self, event) -> None:
        event.preventDefault()  # synchronously: an async handler would run after the browser opened the file
        files = event.dataTransfer.files if event.dataTransfer else None
        n = int(files.length) if files is not None else 0
        names = [str(files.item(i).name).lower() for i in range(n)]
        if self.on_model_files is not None and any(name.endswith(MODEL_SUFFIXES) for name in names):
            asyncio.ensure_future(self.on_model_files(files))  # model files dropped here: the model panel's
            return
        asyncio.ensure_future(self._use_file(files.item(0) if n else None))

    def _url_submitted(self, event) -> None:
        event.preventDefault()  # synchronously, or the form would reload the page
        asyncio.ensure_future(self._load_url())

    async def _load_url(self) -> None:
        text = str(dom.el("url-input").value).strip()
        if not text:
            self.error("Paste the address of an image first.")
            return
        if any(ch.isspace() for ch in text):  # e.g. 'not a url at all': not an address, not a missing file
            self.error("That is not a web address; it should start with https:// and name an image file.")
            return
        try:
            url = str(window.URL.new(text, window.location.href).href)
        except Exception:
            self.error("That is not a web address; it should start with https:// and name an image file.")
            return
        # Only this site's own images and data:/blob: addresses: the page sends no request off this machine
        # (the Content-Security-Policy's connect-src says the same to the browser).
        if not (url.startswith(("data:", "blob:")) or url.startswith(str(window.location.origin) + "/")):
            self.error("This page does not allow loading images from other sites: it sends nothing off your "
                       "machine. Save the image, then use \u201cUpload an image\u2026\u201d or drop it on the page.")
            return
        data = await self._fetch_bytes(url)
        if data is not None:
            await self._use(data, url.rsplit("/", 1)[-1][:60] or "image", "")

    async def _fetch_bytes(self, url: str) -> bytes | None:
        try:
            response = await window.fetch(url)
        except Exception:
            self.error("The image could not be loaded: the site does not allow loading its images from another "
                       "page, or it cannot be reached. Save the image and upload the file instead.")
            return None
        if int(response.status) == 404:
            self.error("Nothing found at that address (HTTP 404): check the address.")
            return None
        if not response.ok:
            self.error(f"The server refused the image (HTTP {int(response.status)}).")
            return None
        size = response.headers.get("content-length")
        if size and str(size).isdigit() and int(str(size)) > MAX_BYTES:
            self.error(f"The image is larger than {MAX_BYTES // 2**20} MB; choose a smaller image.")
            return None
        buf = await response.arrayBuffer()
        return buf.to_bytes()
