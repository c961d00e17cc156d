"""The input neuron's view (web/app/input_view.py) in headless Chromium, on the Tiny VGG site and on the
synthetic model's site: a click on an input channel opens it; it shows the channel's values at the model's
input size (hover / arrow keys: level / 255 = value, as explain.input_channel says), the preprocessing
steps of the image on show (explain.preprocessing of its file's size), and the channel's term in every
neuron of the first conv layer at the window. The URL restores it. Screenshots at 1440×900 and 390×844.
"""
from __future__ import annotations

import json

import pytest

import browser as _b
from cnn101.explain import input_channel, preprocessing
from cnn101.render.detail import window_covering
from views_sites import Session, open_session, site_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PANEL = "#dp-input"


@pytest.fixture(scope="module", params=["tiny", "synthetic"])
def s(request, browser):
    yield from open_session(request, browser)


def original_hw(s):
    """(height, width) of the file of the example on show (None when the page shows no example)."""
    from PIL import Image

    image = s.state()["image"]
    if not image:
        return None
    index = json.loads(s.page.evaluate("fetch('examples/index.json').then(r => r.text())"))
    ex = {e["id"]: e for e in index["examples"]}[image]
    data = s.page.evaluate("f => fetch('examples/' + f).then(r => r.arrayBuffer()).then(b => [...new Uint8Array(b)])",
                           ex["file"])
    import io

    w, h = Image.open(io.BytesIO(bytes(data))).size
    return h, w


def open_channel(s, c: int) -> dict:
    s.escape_all()
    s.click_neuron(0, c)
    s.page.wait_for_selector(PANEL, state="visible", timeout=10_000)
    return s.top()


def test_a_click_on_an_input_channel_opens_its_view(s):
    shape = s.state()["model"]["input_shape"]
    for c in range(shape[2]):
        top = open_channel(s, c)
        ch = input_channel(s.trace(), c)
        assert top["kind"] == "input" and top["channel"] == c and top["label"] == ch.label
        assert top["grid"] == shape[:2] and top["layer"] == ch.layer and top["filters"] == ch.filters
        assert "neuron=input." + str(c) in s.query() and "level=2" in s.query()
        text = s.page.text_content(PANEL)
        assert f"{ch.label} channel" in text and "coming next" not in s.page.text_content("body")
        # one kernel and one result per neuron of the first conv layer
        assert s.page.locator(f"{PANEL} .iv-feed").count() == ch.filters
    s.escape_all()


def test_preprocessing_steps_are_those_of_the_image_on_show(s):
    top = open_channel(s, 0)
    hw = original_hw(s)
    if hw is not None:
        assert top["steps"] == preprocessing(hw, top["grid"]).steps
    for step in top["steps"] or []:
        assert step in s.page.text_content(f"{PANEL} .iv-steps")
    assert "divided by 255" in s.page.text_content(f"{PANEL} .iv-steps")


def test_hover_shows_the_value_and_each_kernels_term(s):
    c = s.state()["model"]["input_shape"][2] - 1
    open_channel(s, c)
    ch = input_channel(s.trace(), c)
    h, w = ch.values.shape
    for r, col in [(0, 0), (h - 1, w - 1), (h // 3, w // 2)]:
        s.hover_cell(f'{PANEL} svg[data-grid="input"]', r, col)
        top = s.top()
        assert top["at"] == [r, col] and not top["playing"]
        assert s.value(f'{PANEL} .dp-eq [data-name="value"]') == pytest.approx(float(ch.values[r, col]), abs=1e-6)
        assert s.value(f'{PANEL} .dp-eq [data-name="level"]') == int(ch.levels[r, col])
        g = ch.geometry
        i, j = window_covering(r, col, g.strides, g.pad, g.output_hw)
        terms = s.values(f'{PANEL} .iv-term [data-name="term"]')
        assert terms == pytest.approx([float(v) for v in ch.results[i, j, :]], abs=1e-5)
        assert f"at ({i}, {j})" in s.page.text_content(f"{PANEL} .iv-term")
    s.page.keyboard.press("ArrowRight")
    r, col = h // 3, w // 2
    assert s.top()["at"] == [r, min(w - 1, col + 1)]
    assert f"at={r}.{min(w - 1, col + 1)}" in s.query()
    s.escape_all()
    assert "level=" not in s.query()


def test_the_url_reopens_it_at_its_window(s):
    s.open("?neuron=input.1&level=2&at=3.4")
    s.page.wait_for_selector(PANEL, state="visible", timeout=10_000)
    top = s.top()
    assert top["kind"] == "input" and top["channel"] == 1 and top["at"] == [3, 4]
    s.escape_all()


@pytest.fixture(scope="module")
def tiny(request, browser):
    """One context on the Tiny VGG site for both window sizes (each test sizes the window, then loads its URL)."""
    url, model = site_for(request, "tiny")
    session = Session(browser, url, model, "tiny", pool=_b.warm_pool(request))
    yield session
    session.close()


@pytest.mark.parametrize("width, height", [(1440, 900), (390, 844)])
def test_screenshots(tiny, width, height):
    session = tiny  # one page: sized, then loaded at the URL
    session.page.set_viewport_size({"width": width, "height": height})
    session.open("?neuron=input.0&level=2&at=20.30")
    session.page.wait_for_selector(PANEL, state="visible", timeout=10_000)
    session.settle(PANEL)
    _b.wait_settled(session.page, PANEL)
    right = session.page.eval_on_selector(PANEL, "e => e.getBoundingClientRect().right")
    assert right <= width + 1  # the panel fits the window, and so does everything in it
    widest = session.page.eval_on_selector_all(f"{PANEL} .dp-eq, {PANEL} .dp-fig, {PANEL} .iv-feed",
                                               "els => Math.max(...els.map(e => e.getBoundingClientRect().right))")
    assert widest <= width + 1
    session.shot(f"views-input-{width}x{height}")
    _b.screenshot(session.page, f"views-input-{width}x{height}-full", full_page=True)
