"""Helpers for the browser tests of the training panel (web/app/train_panel.py): its state, its classes, its
settings and a run to the end. Each test puts the panel in the state it needs with these (no test relies on
an earlier one having opened the panel or added images)."""
from __future__ import annotations

import json

from web_page import READY, examples, make_image

TRAIN = 180_000  # ms: a worker's Pyodide start plus the steps, on a busy 2-core machine


def training(page, weights=False) -> dict:
    """The panel's state (`cnn101_training()`); with the weights, the inputs and the .npz as base64."""
    return json.loads(page.evaluate(f"cnn101_training({'true' if weights else 'false'})"))


def params(model) -> dict:
    return {(la.name, k): v for la in model.layers for k, v in la.params.items()}


def class_files(site, root) -> dict:
    """Two classes × 5 PNGs (64×64, from the two first example classes with ≥ 3 images; a class with fewer
    than 5 examples gets mirrored copies, different images of the same class). PNG decodes the same in
    Pillow everywhere."""
    from PIL import Image

    by_label = {}
    for e in examples(site):
        by_label.setdefault(e["label"], []).append(site / "examples" / e["file"])
    labels = [k for k, v in by_label.items() if len(v) >= 3][:2]
    out = {}
    for label in labels:
        paths = []
        for i in range(5):
            p = make_image(root, f"{label.replace(' ', '_')}-{i}.png", size=(64, 64),
                           source=by_label[label][i % len(by_label[label])])
            if i >= len(by_label[label]):
                Image.open(p).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(p)
            paths.append(p)
        out[label] = paths
    return out


def open_panel(page) -> None:
    if not page.is_visible("#tr-start"):
        page.click("#training summary")
    page.wait_for_selector("#tr-start", state="visible")


def add_files(page, row: int, paths) -> None:
    before = training(page)["attempts"]
    page.set_input_files(f".tr-class:nth-child({row}) .tr-files", [str(p) for p in paths])
    page.wait_for_function(f"JSON.parse(cnn101_training()).attempts >= {before + len(paths)}", timeout=READY)


def empty_classes(page, n: int = 2) -> None:
    """The panel open with exactly n classes and no images (whatever an earlier test left)."""
    open_panel(page)
    while page.locator(".tr-class").count():
        page.click(".tr-class:nth-child(1) .tr-remove")
    for _ in range(n):
        page.click("#tr-add-class")
    assert training(page)["counts"] == [0] * n


def fill_classes(page, files: dict, per_class: int | None = None) -> None:
    """Exactly the classes of `files` (named after them), each with its first `per_class` images."""
    empty_classes(page, len(files))
    for row, (name, paths) in enumerate(files.items(), start=1):
        page.fill(f".tr-class:nth-child({row}) .tr-name", name)
        add_files(page, row, paths[:per_class])
    assert training(page)["names"] == list(files)


def set_settings(page, lr, batch, epochs, optimizer="adam", train="head") -> None:
    open_panel(page)
    page.fill("#tr-lr", str(lr))
    page.fill("#tr-batch", str(batch))
    page.fill("#tr-epochs", str(epochs))
    page.select_option("#tr-optimizer", optimizer)
    page.select_option("#tr-train", train)


def status_has(page, words: str) -> None:
    page.wait_for_function(f"document.getElementById('tr-status').textContent.includes({json.dumps(words)})",
                           timeout=30_000)


def train_to_the_end(page, button: str = "#tr-start", timeout: int = TRAIN) -> dict:
    """Click Start (or 'from scratch') and wait until this run is done, stopped on NaN or failed."""
    runs = training(page)["runs"]
    page.click(button)
    page.wait_for_function(f"(t => t.runs > {runs} && ['done', 'nan', 'failed'].includes(t.state))"
                           "(JSON.parse(cnn101_training()))", timeout=timeout)
    return training(page)
