"""'Teach it your own classes': two or more classes with editable names, each holding images the learner
added (files, or the image on show). Each upload is decoded and resized to the model's input at once
(`cnn101.load_image` through decode.load), so only small arrays are kept, whatever the file's size."""
from __future__ import annotations

import asyncio
import html

import cnn101
import numpy as np
from cnn101.image import MAX_BYTES
from cnn101.learn import TrainingError

from . import decode, dom

MAX_IMAGES = 500  # all classes together (Tiny VGG: 49 KB each as float32)
THUMBS = 8  # thumbnails drawn per class


class TrainClass:
    def __init__(self, key: int, name: str):
        self.key, self.name = key, name
        self.images: list[np.ndarray] = []


class ClassList:
    def __init__(self, root, input_shape, on_change):
        self.root = root  # the element holding one row per class
        self.input_shape = tuple(input_shape)
        self.on_change = on_change
        self.classes: list[TrainClass] = []
        self._next = 0
        self.attempts = 0  # files tried (kept or refused): lets tests wait
        self.message = ""

    @property
    def count(self) -> int:
        return sum(len(c.images) for c in self.classes)

    def add_class(self, name: str | None = None) -> TrainClass:
        c = TrainClass(self._next, name or f"class {self._next + 1}")
        self._next += 1
        self.classes.append(c)
        row = dom.document_root().createElement("div")
        row.className = "tr-class"
        row.dataset.key = str(c.key)
        row.innerHTML = (
            f'<input class="tr-name" type="text" value="{html.escape(c.name)}" aria-label="name of class {c.key + 1}" '
            'maxlength="40">'
            '<label class="button">Add images…<input class="tr-files" type="file" multiple accept="image/*"></label>'
            '<button type="button" class="tr-add-shown">Add the image on show</button>'
            '<button type="button" class="tr-remove" aria-label="remove this class">×</button>'
            '<span class="tr-count">0 images</span><span class="tr-thumbs"></span>')
        self.root.appendChild(row)
        dom.on(row.querySelector(".tr-name"), "input", lambda e, c=c: self._renamed(c, e))
        dom.on(row.querySelector(".tr-files"), "change", lambda e, c=c: asyncio.ensure_future(self._files(c, e)))
        dom.on(row.querySelector(".tr-remove"), "click", lambda e, c=c: self.remove(c))
        return c

    def row(self, c: TrainClass):
        return self.root.querySelector(f'.tr-class[data-key="{c.key}"]')

    def remove(self, c: TrainClass) -> None:
        self.classes.remove(c)
        self.row(c).remove()
        self.on_change()

    def _renamed(self, c: TrainClass, event) -> None:
        c.name = str(event.target.value).strip()
        self.on_change()

    def add(self, c: TrainClass, x: np.ndarray) -> None:
        if tuple(x.shape) != self.input_shape:
            raise TrainingError(f"This image was prepared for a {'×'.join(map(str, x.shape))} input; the network "
                                f"being taught takes {'×'.join(map(str, self.input_shape))}. Choose the image again.")
        if self.count >= MAX_IMAGES:
            raise TrainingError(f"The classes hold {MAX_IMAGES} images, as many as this page keeps; train with these.")
        c.images.append(np.array(x, np.float32))
        if len(c.images) <= THUMBS:
            canvas = dom.document_root().createElement("canvas")
            canvas.className = "tr-thumb"
            dom.paint(canvas, dom.rgb_to_rgba(x))
            self.row(c).querySelector(".tr-thumbs").appendChild(canvas)
        n = len(c.images)
        self.row(c).querySelector(".tr-count").textContent = f"{n} image{'s' if n != 1 else ''}"
        self.on_change()

    async def _files(self, c: TrainClass, event) -> None:
        files = event.target.files
        problems = []
        for i in range(int(files.length)):
            item = files.item(i)
            name = str(item.name)
            try:
                if int(item.size) > MAX_BYTES:
                    raise cnn101.ImageError(f"it is larger than {MAX_BYTES // 2**20} MB; choose a smaller image.")
                data = (await item.arrayBuffer()).to_bytes()
                await decode.ensure_pillow()
                x = await decode.load(data, _Shape(self.input_shape))  # decoded, resized, the file dropped
                del data
                self.add(c, x)
            except (cnn101.Cnn101Error, TrainingError) as exc:
                problems.append(f"{name}: {exc}")
            except Exception as exc:
                problems.append(f"{name} could not be used ({type(exc).__name__}: {exc}).")
            self.attempts += 1
        event.target.value = ""
        self.message = " ".join(problems)
        self.on_change()

    def dataset(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(class names, images, labels), or TrainingError saying what is missing."""
        if len(self.classes) < 2:
            raise TrainingError("Make at least two classes: a network learns to tell classes apart.")
        names = [c.name for c in self.classes]
        if any(not n for n in names):
            raise TrainingError("Give every class a name.")
        empty = [c.name for c in self.classes if not c.images]
        if empty:
            raise TrainingError(f"The class '{empty[0]}' has no images yet: add a few to every class.")
        xs = np.stack([x for c in self.classes for x in c.images])
        ys = np.array([k for k, c in enumerate(self.classes) for _ in c.images], np.int64)
        return names, xs, ys


class _Shape:
    """What `cnn101.load_image` needs of a model: its input shape."""

    def __init__(self, shape):
        self.input_shape = tuple(shape)
