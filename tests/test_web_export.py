"""Save PNG / Save SVG (issue 13) in headless Chromium, on the Tiny VGG site and the synthetic model's
site: the Overview's files come from cnn101.render.overview_svg (its PNG's neuron maps equal CPython's
rendering of the same trace, pixel for pixel); every view (conv, its channel detail, ReLU, pool,
flatten, softmax, input) saves a PNG that decodes to the expected size and a self-contained SVG holding
the numbers the view shows. The buttons are reached with the keyboard; no request leaves localhost
(the guarded context fails the test otherwise: downloads are Blobs). Artifacts: test-artifacts/export-*.
"""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import browser as _b
from cnn101.explain.overview import overview
from cnn101.render.overview import geometry
from cnn101.render.overview_svg import map_rasters, png_scale, png_size
from views_sites import open_session
from web_page import page_input

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NUMBER = re.compile(r"−?-?\d+\.\d+%?")


@pytest.fixture(scope="module", params=["tiny", "synthetic"])
def s(request, browser):
    yield from open_session(request, browser)


def download(s, press, name: str):
    """Run `press` (which starts a download) and return the file's bytes (kept as an artifact)."""
    with s.page.expect_download(timeout=30_000) as info:
        press()
    d = info.value
    data = open(d.path(), "rb").read()
    _b.ARTIFACTS.mkdir(exist_ok=True)
    (_b.ARTIFACTS / f"export-{s.which}-{name}").write_bytes(data)
    return d.suggested_filename, data


def by_keyboard(s, selector: str):
    """Focus a button and press Enter, as a keyboard user would."""
    def press():
        s.page.focus(selector)
        assert s.page.evaluate("document.activeElement.textContent.trim()") in ("Save PNG", "Save SVG")
        s.page.keyboard.press("Enter")
    return press


def self_contained(text: str) -> ET.Element:
    root = ET.fromstring(text)  # parses as XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    for attr in re.findall(r'\s(?:href|src|xlink:href)="([^"]*)"', text):
        assert attr.startswith(("data:", "#")), attr[:80]
    for ref in re.findall(r"url\(\s*['\"]?([^)'\"]*)", text):
        assert ref.startswith(("#", "data:")), ref[:80]
    assert "http://" not in text.replace("http://www.w3.org/", "") and "https://" not in text
    return root


def all_text(root: ET.Element) -> str:
    return " ".join(t.strip() for t in root.itertext())


def png(data: bytes):
    from PIL import Image

    im = Image.open(io.BytesIO(data))
    im.load()
    assert im.format == "PNG"
    return np.asarray(im.convert("RGBA"))


# --- the Overview -----------------------------------------------------------------------------------
def test_overview_png_maps_equal_cpythons_rendering(s):
    name, data = download(s, by_keyboard(s, "#save-overview-png"), "overview.png")
    assert name.endswith(".png") and "overview" in name
    st = s.state()
    model = s.model
    ov = overview(model, model.trace(page_input(st)))
    geo = geometry(ov.layout)
    scale = png_scale(geo, ov)
    img = png(data)
    assert (img.shape[1], img.shape[0]) == png_size(geo, scale)
    rasters = map_rasters(ov, geo, st["scope"], scale)
    assert len(rasters) == sum(c.neurons for c in ov.columns if c.kind != "output")
    for x, y, px in rasters:
        h, w = px.shape[:2]
        np.testing.assert_array_equal(img[y:y + h, x:x + w], px)
    covered = np.zeros(img.shape[:2], bool)
    for x, y, px in rasters:
        covered[y:y + px.shape[0], x:x + px.shape[1]] = True
    rest = img[~covered][:, :3]
    assert (rest.min(axis=1) < 120).sum() > 200  # text, bars and legends were drawn, not a blank sheet
    assert st["saved"][-1] == [name, "png"]


def test_overview_svg_is_self_contained_and_shows_the_probabilities(s):
    name, data = download(s, by_keyboard(s, "#save-overview-svg"), "overview.svg")
    assert name.endswith(".svg")
    root = self_contained(data.decode("utf-8"))
    text = all_text(root)
    for p in s.state()["probs"]:
        assert f"{p:.1%}" in text
    for pct in s.page.eval_on_selector_all(".ov-pct", "els => els.map(e => e.textContent)"):
        assert pct in text
    assert s.page.text_content("#prediction").strip() in text


# --- every view -------------------------------------------------------------------------------------
def pause(s, root: str) -> None:
    for sel in (f"{root} .cv-play", f"{root} .dp-play"):
        if s.page.locator(sel).count() and s.page.get_attribute(sel, "aria-pressed") == "true":
            s.page.click(sel)


def numbers_shown(s, root: str) -> list[str]:
    text = s.page.inner_text(root)
    return sorted(set(NUMBER.findall(text)))


def check_view(s, root: str, label: str) -> None:
    s.page.wait_for_selector(root, state="visible", timeout=10_000)
    pause(s, root)
    shown = numbers_shown(s, root)
    name, data = download(s, by_keyboard(s, f"{root} .export-svg"), f"{label}.svg")
    assert name.endswith(".svg") and s.state()["saved"][-1] == [name, "svg"]
    text = data.decode("utf-8")
    tree = self_contained(text)
    inside = all_text(tree)
    missing = [n for n in shown if n not in inside]
    assert shown and not missing, (label, missing[:10])
    assert "Save PNG" not in inside  # the buttons are not part of the picture
    size = s.page.eval_on_selector(root, "r => { const o = cnn101Export.domSvg(r, ''); return [o.width, o.height]; }")
    name, data = download(s, by_keyboard(s, f"{root} .export-png"), f"{label}.png")
    img = png(data)
    assert (img.shape[1], img.shape[0]) == (2 * size[0], 2 * size[1]), (label, img.shape, size)
    rgb = img[..., :3].astype(int)
    assert (np.abs(rgb[..., 0] - rgb[..., 2]) > 60).sum() > 100, label  # coloured heatmaps are in it


def test_conv_view_and_its_channel_detail(s):
    col = [c for c in s.columns() if c["kind"] == "conv2d"][-1]
    s.click_neuron(col["index"], 0)
    check_view(s, "#conv-view", "conv")
    s.page.locator('#conv-view .cv-res[data-channel="0"]').click()
    check_view(s, "#dp-conv", "conv-detail")
    s.escape_all()


@pytest.mark.parametrize("kind,panel", [("relu", "#dp-relu"), ("maxpool2d", "#dp-pool"), ("input", "#dp-input")])
def test_detail_views(s, kind, panel):
    col = [c for c in s.columns() if c["kind"] == kind][0]
    s.click_neuron(col["index"], 0)
    s.page.wait_for_selector(panel, state="visible", timeout=10_000)
    check_view(s, panel, kind)
    s.escape_all()


def test_flatten_and_softmax_views(s):
    out = s.column("output")
    s.click_neuron(out["index"], 0)
    check_view(s, "#lv-flatten", "flatten")
    s.page.click("#lv-flatten .fv-softmax")
    check_view(s, "#dp-softmax", "softmax")
    s.escape_all()


def test_why_mode_overview_is_saved_with_its_gradients(s):
    """In 'Why this class?' the saved Overview is the gradient Overview the page paints (maps = CPython's
    gradient_overview rendered, rows p − y), then back to activations."""
    from cnn101.explain import gradient_overview

    s.page.click("#why-toggle")
    s.page.wait_for_function("document.querySelector('#why').dataset.on === '1'", timeout=60_000)
    st = s.state()
    model = s.model
    trace = model.trace(page_input(st))
    gov = gradient_overview(model, trace, int(trace.predicted))
    geo = geometry(gov.layout)
    scale = png_scale(geo, gov)
    _, data = download(s, by_keyboard(s, "#save-overview-png"), "why-overview.png")
    img = png(data)
    for x, y, px in map_rasters(gov, geo, st["scope"], scale):
        h, w = px.shape[:2]
        np.testing.assert_array_equal(img[y:y + h, x:x + w], px)
    _, data = download(s, by_keyboard(s, "#save-overview-svg"), "why-overview.svg")
    text = all_text(self_contained(data.decode("utf-8")))
    for pct in s.page.eval_on_selector_all(".ov-pct", "els => els.map(e => e.textContent)"):
        assert pct in text and pct.startswith(("+", "-"))
    s.page.click("#why-toggle")
    s.page.wait_for_function("document.querySelector('#why').dataset.on !== '1'", timeout=60_000)


def test_compare_mode_overview_is_saved_as_b_minus_a(s):
    """With an image pinned as A and another example as B, the saved Overview is what the page shows: the
    PNG's maps are CPython's Comparison rendered (B − A, diverging colours, the input too), the SVG holds
    B's probabilities with their changes; 'Stop comparing' saves activations again."""
    import json

    from cnn101.explain import compare

    model = s.model
    xa = page_input(s.state())
    n = json.loads(s.page.evaluate("cnn101_compare()"))["shown"]
    s.page.click("#compare-pin")
    s.page.wait_for_function(f"JSON.parse(cnn101_compare()).shown > {n}", timeout=30_000)
    n = json.loads(s.page.evaluate("cnn101_compare()"))["shown"]
    s.page.locator("#examples button[data-id]").nth(2).click()
    s.page.wait_for_function(f"JSON.parse(cnn101_compare()).shown > {n}", timeout=30_000)
    st = s.state()
    cmp = compare(model.trace(xa), model.trace(page_input(st)))
    geo = geometry(cmp.layout)
    scale = png_scale(geo, cmp)
    _, data = download(s, by_keyboard(s, "#save-overview-png"), "compare-overview.png")
    img = png(data)
    assert (img.shape[1], img.shape[0]) == png_size(geo, scale, compare=True)
    for x, y, px in map_rasters(cmp, geo, st["scope"], scale):
        h, w = px.shape[:2]
        np.testing.assert_array_equal(img[y:y + h, x:x + w], px)
    _, data = download(s, by_keyboard(s, "#save-overview-svg"), "compare-overview.svg")
    text = all_text(self_contained(data.decode("utf-8")))
    assert "B − A" in text
    for ch in cmp.changes:
        assert f"{ch.b:.1%}" in text and f"({100 * ch.change:+.1f})" in text
    s.page.click("#compare-stop")
    _, data = download(s, by_keyboard(s, "#save-overview-svg"), "after-compare.svg")
    text = all_text(self_contained(data.decode("utf-8")))
    assert "B − A" not in text and "(+" not in text


def test_why_mode_attribution_is_saved_as_shown(s):
    """Why mode's attribution over the image has its own Save PNG / Save SVG: the SVG holds the panel's
    caption and the picture (every input pixel a square); the PNG's picture, where the SVG puts it, holds
    exactly the overlay the page painted."""
    from cnn101.render.overview_svg import sample

    s.page.click("#why-toggle")
    s.page.wait_for_function("document.querySelector('#why').dataset.on === '1'", timeout=60_000)
    shown = np.array(s.page.evaluate("""() => { const c = document.getElementById('why-overlay');
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }"""), np.uint8)
    h, w = s.model.input_shape[:2]
    shown = shown.reshape(h, w, 4)
    name, data = download(s, by_keyboard(s, "#why-save-svg"), "why-attribution.svg")
    assert name.endswith(".svg") and "why" in name
    root = self_contained(data.decode("utf-8"))
    assert s.page.text_content("#why-caption").strip() in all_text(root)
    image = next(root.iter("{http://www.w3.org/2000/svg}image"))
    x, y, pw, ph = (int(float(image.get(k))) for k in ("x", "y", "width", "height"))
    assert pw % w == 0 and ph % h == 0 and pw // w == ph // h  # square pixels
    _, data = download(s, by_keyboard(s, "#why-save-png"), "why-attribution.png")
    img = png(data)
    assert (img.shape[1], img.shape[0]) == (2 * float(root.get("width")), 2 * float(root.get("height")))
    np.testing.assert_array_equal(img[2 * y:2 * (y + ph), 2 * x:2 * (x + pw)], sample(shown, 2 * pw, 2 * ph))
    s.page.click("#why-toggle")
    s.page.wait_for_function("document.querySelector('#why').dataset.on !== '1'", timeout=60_000)
