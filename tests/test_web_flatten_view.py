"""The flatten view (level 2, from an output neuron) in headless Chromium, on the Tiny VGG site and on the
synthetic model's site: every channel unrolled (all edges drawn), Σ x·w + bias = the logit equal to
cnn101.explain.flatten_class, hover a pixel or a flatten element → its path, value, weight and product;
arrow keys; the softmax expansion; Esc / empty click close it."""
from __future__ import annotations

import numpy as np
import pytest

import browser as _b

from cnn101.explain import flatten_class
from cnn101.render.flatten_view import FlattenLayout
from views_sites import open_session

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module", params=["tiny", "synthetic"])
def s(request, browser):
    yield from open_session(request, browser)


def open_flatten(s, k: int):
    out = s.column("output")
    s.click_neuron(out["index"], k)
    s.page.wait_for_selector("#lv-flatten", state="visible", timeout=10_000)
    return flatten_class(s.trace(), k)


def svg_point(s, lay: FlattenLayout, x: float, y: float) -> tuple[float, float]:
    box = s.page.eval_on_selector("#lv-flatten svg.fv-svg", "e => { const b = e.getBoundingClientRect(); "
                                  "return [b.left, b.top, b.width]; }")
    k = box[2] / lay.width
    return box[0] + x * k, box[1] + y * k


def shown_element(s, d, n: int) -> None:
    """The view highlights flatten element n and prints its numbers (= explain)."""
    assert s.top()["current"] == n
    assert s.value('#lv-flatten .fv-info [data-name="x"]') == pytest.approx(float(d.inputs[n]), abs=1e-6)
    assert s.value('#lv-flatten .fv-info [data-name="w"]') == pytest.approx(float(d.weights[n]), abs=1e-7)
    assert s.value('#lv-flatten .fv-info [data-name="xw"]') == pytest.approx(float(d.contributions[n]), abs=1e-6)
    r, c, ch = d.flatten.position(n)
    assert f"channel {ch}, row {r}, column {c} → flatten[{n}]" in s.page.inner_text("#lv-flatten .fv-info")
    assert f"at={n}" in s.query()


def test_opens_shows_the_sum_and_closes(s):
    out = s.column("output")
    k = out["neurons"] - 1
    d = open_flatten(s, k)
    assert f"neuron={out['name']}.{k}" in s.query() and "level=2" in s.query()
    assert s.top()["kind"] == "flatten" and s.top()["shape"] == list(d.flatten.shape)
    assert s.value('#lv-flatten .fv-sum [data-name="sum"]') == pytest.approx(d.sum, abs=1e-5)
    assert s.value('#lv-flatten .fv-sum [data-name="bias"]') == pytest.approx(d.bias, abs=1e-7)
    logit = s.value('#lv-flatten .fv-sum [data-name="logit"]')
    assert logit == pytest.approx(d.value, abs=1e-5) and logit == pytest.approx(d.trace_value, abs=1e-4)
    assert logit == pytest.approx(s.state()["logits"][k], abs=1e-4)  # the page's own logit
    top = [int(i) for i in s.page.eval_on_selector_all("#lv-flatten .fv-top li", "e => e.map(l => l.dataset.index)")]
    assert top == [int(i) for i in d.top(5)]
    np.testing.assert_allclose(s.values('#lv-flatten .fv-top [data-name="top-xw"]'), d.contributions[top],
                               rtol=0, atol=1e-6)
    s.shot(f"views-flatten-{s.which}")
    s.page.keyboard.press("Escape")
    s.page.wait_for_selector("#lv-flatten", state="detached")
    assert s.views() == [] and "level" not in s.query()
    open_flatten(s, 0)
    s.page.click("#tutorial-title")  # empty space
    s.page.wait_for_selector("#lv-flatten", state="detached")
    assert s.views() == []


def test_every_channel_and_every_edge_is_drawn(s):
    d = open_flatten(s, 0)
    h, w, c = d.flatten.shape
    n = h * w * c
    assert s.page.eval_on_selector_all("#lv-flatten .fv-map", "e => e.length") == c
    segments = "e => e.map(p => (p.getAttribute('d').match(/M/g) || []).length).reduce((a, b) => a + b, 0)"
    assert s.page.eval_on_selector_all("#lv-flatten .fv-unroll path", segments) == n
    assert s.page.eval_on_selector_all("#lv-flatten .fv-weights path", segments) == n
    assert s.page.eval_on_selector_all("#lv-flatten .fv-weights path", "e => e.length") <= 15
    s.escape_all()


def test_hover_pixels_and_flatten_elements_and_arrow_keys(s):
    out = s.column("output")
    k = min(1, out["neurons"] - 1)
    d = open_flatten(s, k)
    lay = FlattenLayout(d.flatten.shape)
    rng = np.random.default_rng(3)
    picks = sorted({0, lay.n - 1, int(np.argmax(np.abs(d.contributions)))} | set(rng.integers(0, lay.n, 3).tolist()))
    for n in picks:
        px, py = lay.pixel_xy(n)
        s.page.mouse.move(*svg_point(s, lay, float(px), float(py)))
        shown_element(s, d, n)
        assert s.page.get_attribute("#lv-flatten .fv-hi", "d") == lay.path(n)
    # the flatten column: an element under the pointer
    y = float(lay.element_y(lay.n // 2))
    s.page.mouse.move(*svg_point(s, lay, lay.flatten_x + lay.flatten_w / 2, y))
    n = s.top()["current"]
    assert abs(n - lay.n // 2) <= max(1, lay.n // int(lay.height))
    shown_element(s, d, n)
    # keys
    s.page.keyboard.press("Home")
    shown_element(s, d, 0)
    s.page.keyboard.press("ArrowRight")
    s.page.keyboard.press("ArrowDown")
    shown_element(s, d, 2)
    s.page.keyboard.press("ArrowLeft")
    shown_element(s, d, 1)
    s.page.keyboard.press("End")
    shown_element(s, d, lay.n - 1)
    s.shot(f"views-flatten-hover-{s.which}")
    s.escape_all()


def test_softmax_expansion(s):
    out = s.column("output")
    d = open_flatten(s, 0)
    assert not s.top()["expanded"]
    assert s.page.is_hidden("#lv-flatten .fv-logits") or s.page.eval_on_selector(
        "#lv-flatten .fv-logits", "e => e.getBoundingClientRect().height") < 1
    s.page.click("#lv-flatten .fv-softmax")
    s.page.wait_for_selector("#dp-softmax", state="visible")
    assert [v["kind"] for v in s.views()] == ["flatten", "softmax"] and s.views()[0]["expanded"]
    logits = s.values('#lv-flatten .fv-logits [data-name="logit"]')
    assert len(logits) == out["neurons"] and logits[0] == pytest.approx(d.value, abs=1e-5)
    _b.wait_settled(s.page, "#lv-flatten")  # the expansion's transition finished, for the picture
    s.shot(f"views-flatten-softmax-{s.which}")
    s.escape_all()
