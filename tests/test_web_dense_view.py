"""The dense view (web/app/dense_detail.py) in headless Chromium: a unit of a dense layer that reads a plain
vector — a hidden dense layer, or an output layer after one — shows inputs × weights, the running sum and
Σ + bias = the unit's value, equal to the CPython engine's. Uses 'Use your own model' to load a model with
a hidden dense layer (Tiny VGG has none)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import browser as _b
import cnn101
from cnn101.engine import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Softmax
from web_page import choose, shown_example, state

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TOL = 1e-5


def mlp_head_model() -> Sequential:
    rng = np.random.default_rng(9)
    return Sequential([
        Conv2D("c1", rng.normal(0, 0.3, (3, 3, 3, 4)).astype(np.float32), rng.normal(0, 0.1, 4).astype(np.float32)),
        ReLU("c1_relu"), MaxPool2D("p1", 2, 2, "valid"), Flatten("flat"),
        Dense("hidden", rng.normal(0, 0.1, (11 * 11 * 4, 20)).astype(np.float32), rng.normal(0, 0.1, 20).astype(np.float32)),
        ReLU("hidden_relu"),
        Dense("scores", rng.normal(0, 0.4, (20, 3)).astype(np.float32), rng.normal(0, 0.1, 3).astype(np.float32)),
        Softmax("scores_softmax")], (24, 24, 3), ["up", "down", "flat"], name="mlp-head")


@pytest.fixture(scope="module")
def loaded(app, tmp_path_factory):
    page, _, site, _, _ = app
    d = tmp_path_factory.mktemp("mlp")
    mlp_head_model().save(d / "mlp-head")
    st = choose(page, sorted(d.iterdir()))
    assert st["model_error"] is None, st["model_error"]
    model = cnn101.load_model(d / "mlp-head.json")
    _, path = shown_example(site, st)
    return page, model, model.trace(cnn101.load_image(path, model)), st


def top_view(page) -> dict:
    return json.loads(page.evaluate("cnn101_views()"))[-1]


def cell_value(page, name: str) -> float:
    return float(page.get_attribute(f'#dp-dense [data-name="{name}"]', "data-value"))


def open_unit(page, st, column: str, unit: int) -> dict:
    col = next(c for c in st["columns"] if c["name"] == column or (column == "output" and c["kind"] == "output"))
    page.click(f'[data-col="{col["index"]}"][data-neuron="{unit}"]')
    page.wait_for_selector("#dp-dense", state="visible", timeout=30_000)
    return top_view(page)


@pytest.mark.parametrize("column, layer, unit", [("output", "scores", 1), ("hidden", "hidden", 13)])
def test_a_dense_unit_shows_its_sum_and_value(loaded, column, layer, unit):
    page, model, trace, st = loaded
    v = open_unit(page, st, column, unit)
    assert v["kind"] == "dense" and v["layer"] == layer and v["unit"] == unit
    x = np.asarray(trace[model.previous(layer)], np.float64)
    w = model.layer(layer).kernel[:, unit].astype(np.float64)
    assert v["n"] == x.size
    assert v["total"] == pytest.approx(float(x @ w), abs=TOL)
    assert v["value"] == pytest.approx(float(trace[layer][unit]), abs=TOL)  # = the engine's output
    assert cell_value(page, "value") == pytest.approx(float(trace[layer][unit]), abs=TOL)
    assert cell_value(page, "bias") == pytest.approx(float(model.layer(layer).bias[unit]), abs=TOL)
    assert "coming next" not in page.text_content("body")  # no placeholder any more
    # step through the inputs: product and running sum at each
    page.click("#dp-dense .dp-play")  # pause the autoplay
    page.wait_for_function("!JSON.parse(cnn101_views()).slice(-1)[0].playing", timeout=10_000)
    seen = set()
    for _ in range(3):
        page.evaluate("document.querySelector('#dp-dense').focus()")
        k_now = top_view(page)["index"]
        seen.add(k_now)
        assert cell_value(page, "product") == pytest.approx(x[k_now] * w[k_now], abs=TOL)
        running = float(page.get_attribute("#dp-dense .dp-eq-note", "data-running"))
        assert running == pytest.approx(float(np.cumsum(x * w)[k_now]), abs=TOL)
        page.keyboard.press("ArrowRight")
    assert len(seen) == 3  # the arrow key moved through the inputs
    _b.screenshot(page, f"dense-view-{column}", full_page=False)
    page.keyboard.press("Escape")
    page.wait_for_selector("#dp-dense", state="detached", timeout=10_000)


def test_the_dense_view_saves_png_and_svg(loaded):
    """Save PNG / Save SVG (issue 13) work on the dense view too (the same checks as test_web_export)."""
    from types import SimpleNamespace

    from test_web_export import check_view

    page, model, trace, st = loaded
    open_unit(page, st, "hidden", 3)
    check_view(SimpleNamespace(page=page, state=lambda: state(page), which="mlp-head"), "#dp-dense", "dense")
    page.keyboard.press("Escape")
