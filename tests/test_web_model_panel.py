"""'Use your own model' on the page (web/app/model_panel.py), in headless Chromium.

A learner chooses model files; the whole page switches to that model — the Overview laid out from it, the
current image preprocessed for its input (size and channels), the views opening on it — and every number
equals the CPython engine's. Bad choices get plain messages and the current model stays. 'Back to …'
returns to the site's model. No request leaves localhost.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

import browser as _b
import cnn101
from cnn101.engine import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Softmax
from cnn101.formats import tfjs
from models import synthetic_model
from web_page import READY, assert_matches_engine, choose, examples, make_image, shown_example, state

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.real_start]  # pages reload ≥ 2× per context: cheaper with SW + snapshot


def grey_model() -> Sequential:
    """An MNIST-like model: 28×28×1 input, a 3×3 conv, a pool, 4 classes."""
    rng = np.random.default_rng(5)
    return Sequential([
        Conv2D("c1", rng.normal(0, 0.4, (3, 3, 1, 3)).astype(np.float32), rng.normal(0, 0.1, 3).astype(np.float32)),
        ReLU("r1"), MaxPool2D("p1", 2, 2, "valid"), Flatten("f"),
        Dense("digits", rng.normal(0, 0.2, (13 * 13 * 3, 4)).astype(np.float32), np.zeros(4, np.float32)),
        Softmax("digits_softmax")], (28, 28, 1), ["zero", "one", "two", "three"], name="greyscale")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("user-models")
    tf_dir = root / "tfjs"
    tfjs.save(synthetic_model(), tf_dir, shard_bytes=1024)
    (tf_dir / "labels.txt").write_text("disc\nlines\nboard\n")
    grey = root / "grey"
    grey.mkdir()
    grey_model().save(grey / "greyscale")
    wide = root / "wide"
    wide.mkdir()
    rng = np.random.default_rng(2)
    Sequential([Conv2D("many", rng.normal(0, 0.1, (3, 3, 3, 129)).astype(np.float32), np.zeros(129, np.float32)),
                Flatten("f"), Dense("d", rng.normal(0, 0.1, (6 * 6 * 129, 2)).astype(np.float32), np.zeros(2, np.float32))],
               (8, 8, 3), ["a", "b"], name="wide").save(wide / "wide")
    (root / "net.keras").write_bytes(b"PK\x03\x04 not really")
    (root / "notes.txt").write_text("hello")
    return {"tfjs": sorted(tf_dir.iterdir()), "grey": sorted(grey.iterdir()), "keras": [root / "net.keras"],
            "text": [root / "notes.txt"], "no-shards": [tf_dir / "model.json"], "wide": sorted(wide.iterdir())}


def test_a_tfjs_model_with_labels_replaces_the_network(app, files):
    page, _, site, default, _ = app
    st = choose(page, files["tfjs"])
    assert st["model_error"] is None, st["model_error"]
    model = cnn101.load_model(files["tfjs"][0].parent / "model.json", class_names=["disc", "lines", "board"])
    assert st["model"] == {"name": model.name, "input_shape": [32, 32, 3], "class_names": ["disc", "lines", "board"]}
    _, path = shown_example(site, st)
    assert_matches_engine(st, model, cnn101.load_image(path, model))  # the same example, now 32×32
    assert [c["name"] for c in st["columns"]][1:3] == ["edges", "edges_relu"]
    assert "32×32×3 input" in page.text_content("#model-name") and "3 classes" in page.text_content("#model-name")
    assert page.is_visible("#model-reset") and default.name in page.text_content("#model-reset")
    assert page.locator(".ov-class").count() == 3
    _b.screenshot(page, "model-panel-tfjs", full_page=False)
    # another example, and a neuron's view, on the new model
    other = next(e for e in examples(site) if e["id"] != st["image"])
    before = st["paints"]
    page.click(f'button.example[data-id="{other["id"]}"]')
    page.wait_for_function(f"JSON.parse(cnn101_state()).paints > {before}", timeout=30_000)
    assert_matches_engine(state(page), model, cnn101.load_image(site / "examples" / other["file"], model))
    col = next(c for c in state(page)["columns"] if c["name"] == "mix")
    page.click(f'[data-col="{col["index"]}"][data-neuron="4"]')
    page.wait_for_function("JSON.parse(cnn101_state()).level === 2", timeout=30_000)
    assert json.loads(page.evaluate("cnn101_views()"))[-1]["kind"] == "conv"
    page.keyboard.press("Escape")
    page.wait_for_function("JSON.parse(cnn101_state()).level === 1", timeout=30_000)
    assert not _b.console_problems(page)


@pytest.mark.parametrize("which, words", [
    ("keras", ["h5py", "model.npz"]),
    ("no-shards", ["was not chosen", "model.json", ".bin"]),
    ("text", ["None of the chosen files", "notes.txt"]),
    ("wide", ["129 channels", "at most 128", "notebook"]),
])
def test_bad_choices_get_plain_messages_and_the_model_stays(app, files, which, words):
    page = app[0]
    before = state(page)
    st = choose(page, files[which])
    assert st["model_error"] and all(w in st["model_error"] for w in words), st["model_error"]
    assert st["model"] == before["model"] and st["paints"] == before["paints"]  # nothing changed
    assert page.is_visible("#model-error")


def test_a_one_channel_model_sees_the_luma_of_the_image(app, files):
    page, _, site, _, _ = app
    st = choose(page, files["grey"])
    assert st["model_error"] is None and page.is_hidden("#model-error"), st["model_error"]
    model = cnn101.load_model(files["grey"][0].parent / "greyscale.json")
    assert st["model"]["input_shape"] == [28, 28, 1]
    _, path = shown_example(site, st)
    x = cnn101.load_image(path, model)
    assert x.shape == (28, 28, 1)
    assert_matches_engine(st, model, x)
    assert [c["neurons"] for c in st["columns"]][0] == 1  # one input channel: grey
    _b.screenshot(page, "model-panel-grey", full_page=False)


def test_back_to_the_site_s_model(app, files):
    page, _, site, default, _ = app
    if state(page)["model"]["name"] == default.name:  # run alone: show another model first
        assert choose(page, files["grey"])["model_error"] is None
    before = state(page)["model_attempts"]
    page.click("#model-reset")
    page.wait_for_function(f"JSON.parse(cnn101_state()).model_attempts > {before}", timeout=READY)
    st = state(page)
    assert st["model"]["name"] == default.name and st["model"]["input_shape"] == list(default.input_shape)
    _, path = shown_example(site, st)
    assert_matches_engine(st, default, cnn101.load_image(path, default))
    assert page.is_hidden("#model-reset")
    assert "Ready: " + default.name in page.text_content("#status")


DROP = """async ([selector, files]) => {
    const dt = new DataTransfer();
    for (const [name, b64] of files) {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        dt.items.add(new File([bytes], name));
    }
    document.querySelector(selector).dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
}"""


def drop(page, selector: str, paths) -> None:
    import base64

    page.evaluate(DROP, [selector, [[p.name, base64.b64encode(p.read_bytes()).decode()] for p in paths]])


def test_dropping_model_files_or_an_image_on_the_page(app, files, tmp_path):
    page, _, site, default, _ = app
    before = state(page)
    drop(page, "#input-panel", files["grey"])  # model files on the image panel: a model
    page.wait_for_function(f"JSON.parse(cnn101_state()).model_attempts > {before['model_attempts']}", timeout=READY)
    st = state(page)
    assert st["model_error"] is None and st["model"]["input_shape"] == [28, 28, 1]

    photo = make_image(tmp_path, "dropped.png", (50, 40), "PNG")
    drop(page, "#input-panel", [photo])  # an image: the network's new input
    page.wait_for_function(f"JSON.parse(cnn101_state()).attempts > {st['attempts']}", timeout=READY)
    st = state(page)
    assert st["label"] == "dropped.png" and st["error"] is None
    model = cnn101.load_model(files["grey"][0].parent / "greyscale.json")
    assert_matches_engine(st, model, cnn101.load_image(photo, model))
    drop(page, "#model-panel", files["tfjs"])  # on the model panel too
    page.wait_for_function(f"JSON.parse(cnn101_state()).model_attempts > {st['model_attempts']}", timeout=READY)
    assert state(page)["model"]["input_shape"] == [32, 32, 3]


def test_a_chosen_model_survives_a_reload_and_back_forgets_it(app, files):
    """'Use your own model' keeps the chosen model in IndexedDB (issue 14): after a reload the page shows it again,
    with every number = CPython's; 'Back to …' forgets it, so the next reload shows the site's model."""
    page, _, site, default, _ = app
    kept = state(page)["model_kept"]
    assert choose(page, files["grey"])["model_error"] is None
    page.wait_for_function(f"JSON.parse(cnn101_state()).model_kept > {kept}", timeout=30_000)
    page.reload()
    page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
    page.wait_for_function("window.cnn101_state && JSON.parse(cnn101_state()).model_restored >= 1", timeout=READY)
    st = state(page)
    model = cnn101.load_model(files["grey"][0].parent / "greyscale.json")
    assert st["model"] == {"name": model.name, "input_shape": [28, 28, 1], "class_names": model.class_names}
    _, path = shown_example(site, st)
    assert_matches_engine(st, model, cnn101.load_image(path, model))
    assert "chose before" in page.text_content("#status") and page.is_visible("#model-reset")
    assert page.evaluate("JSON.parse(cnn101_training()).state") != "restored"  # not called "trained here"

    forgotten = page.evaluate("JSON.parse(cnn101_training()).forgotten")
    page.click("#model-reset")
    page.wait_for_function(f"JSON.parse(cnn101_state()).model.name === {json.dumps(default.name)}", timeout=READY)
    page.wait_for_function(f"JSON.parse(cnn101_training()).forgotten > {forgotten}", timeout=30_000)  # then reload
    page.reload()
    page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
    page.wait_for_function("window.cnn101_training", timeout=READY)
    st = state(page)
    assert st["model"]["name"] == default.name and st["model_restored"] == 0
    assert page.is_hidden("#model-reset")
    assert not _b.console_problems(page)
