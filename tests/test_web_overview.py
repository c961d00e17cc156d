"""The web page in headless Chromium: the Overview, its numbers, hover, scopes, inputs, and offline use.

Every test runs with outside requests aborted and recorded; any attempt fails the test. Screenshots go
to test-artifacts/. The page is compared with the CPython engine on the same image: every heatmap's
values (≤ 1e-5), the pixels painted on every canvas, and the displayed probabilities.
"""
from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest

import browser as _b
import cnn101
from cnn101.explain.overview import overview
from cnn101.render import ACTIVATION, INPUT, heatmap

from web_page import (READY, assert_matches_engine, check_offline, columns, examples, make_image, open_app,
                      page_input, state, wait_paints)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_loads_and_paints_every_heatmap(live):
    page, site, model, _ = live
    st = state(page)
    assert "Ready" in page.text_content("#status")
    n = sum(c["neurons"] for c in st["columns"] if c["kind"] != "output")
    assert page.locator("canvas.ov-neuron").count() == n
    assert page.locator(".snapshot").count() == 0  # the live Overview replaced the build's snapshot
    painted = page.evaluate("""() => [...document.querySelectorAll('canvas.ov-neuron')].map(c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let opaque = 0; for (let i = 3; i < d.length; i += 4) opaque += d[i] === 255; return opaque / (d.length / 4); })""")
    assert min(painted) == 1.0  # every cell of every heatmap painted
    assert page.locator(".ov-class").count() == len(model.class_names)
    _b.screenshot(page, "overview-loaded", full_page=False)
    # started without Pillow (examples are decoded by the browser); Pillow follows in the background
    assert page.evaluate("document.documentElement.dataset.pillowAtReady") == "no"
    page.wait_for_function("JSON.parse(cnn101_state()).pillow === 'loaded'", timeout=60_000)


def test_values_and_pixels_match_the_cpython_engine(live):
    page, site, model, _ = live
    st = state(page)
    ex = {e["id"]: e for e in examples(site)}[st["image"]]
    x = cnn101.load_image(site / "examples" / ex["file"], model)
    assert_matches_engine(st, model, x)
    # the pixels on every canvas are exactly the render of the page's values with the shown range
    shots = page.evaluate("""() => [...document.querySelectorAll('canvas.ov-neuron')].map(c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let s = ''; for (let i = 0; i < d.length; i++) s += String.fromCharCode(d[i]);
        return [+c.dataset.col, +c.dataset.neuron, c.height, c.width, btoa(s)]; })""")
    vals, meta = columns(st), {c["index"]: c for c in st["columns"]}
    assert len(shots) == sum(c["neurons"] for c in st["columns"] if c["kind"] != "output")
    for col, k, h, w, data in shots:
        got = np.frombuffer(base64.b64decode(data), np.uint8).reshape(h, w, 4)
        c = meta[col]
        v = vals[c["name"]][k].reshape(h, w)
        want = heatmap(v, *c["range"], INPUT if c["kind"] == "input" else ACTIVATION)
        assert np.array_equal(got, want), (c["name"], k)


def test_displayed_top_class_and_probabilities(live):
    page, site, model, _ = live
    st = state(page)
    probs = model.trace(page_input(st)).probs
    top = int(np.argmax(probs))
    assert page.text_content(".ov-class.top .ov-name") == model.class_names[top]
    shown = page.locator(".ov-class .ov-pct").all_text_contents()
    assert shown == [f"{p:.1%}" for p in probs]
    assert page.text_content("#prediction") == f"Prediction: {model.class_names[top]} ({probs[top]:.1%})"
    widths = page.evaluate("[...document.querySelectorAll('.ov-fill')].map(e => parseFloat(e.style.width))")
    np.testing.assert_allclose(widths, probs * 100, atol=0.006)


def _hover(page, col: int, neuron: int, fx: float = 0.5, fy: float = 0.5):
    sel = f'[data-col="{col}"][data-neuron="{neuron}"].ov-neuron, [data-col="{col}"][data-neuron="{neuron}"].ov-class'
    box = page.locator(sel).first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    return box


def test_hover_shows_incoming_edges_sources_and_the_value(live):
    page, site, model, _ = live
    st = state(page)
    ov = overview(model, model.trace(page_input(st)))
    conv = next(c for c in ov.columns if c.kind == "conv2d" and c.index > 1) if any(
        c.kind == "conv2d" and c.index > 1 for c in ov.columns) else ov.columns[1]
    h, w = conv.shape[:2]
    _hover(page, conv.index, 2, fx=(3 + 0.5) / w, fy=(1 + 0.5) / h)  # the cell at row 1, column 3
    value = ov.value_at(conv.index, 2, 1, 3)
    info = page.text_content("#info")
    assert f"{value:.4f}" in info and "row 1, column 3" in info and conv.name in info
    incoming = ov.layout.edges_into(conv.index).incoming(2)
    assert page.locator(".ov-neuron.source").count() == len(incoming)
    assert page.locator(".ov-neuron.hover").count() == 1
    assert page.get_attribute(".ov-edge-hi", "d").count("M") == len(incoming)
    _b.screenshot(page, "overview-hover", full_page=False)
    relu = next((c for c in ov.columns if c.kind == "relu"), None)
    if relu is not None:
        _hover(page, relu.index, 4)
        assert page.locator(".ov-neuron.source").count() == 1
        assert page.get_attribute(".ov-edge-hi", "d").count("M") == 1
    out = ov.columns[-1]
    _hover(page, out.index, 1)
    assert f"{float(ov.values(out.index)[1]):.4f}" in page.text_content("#info")
    assert page.locator(".ov-neuron.source").count() == ov.columns[-2].neurons
    _hover(page, 0, 0, fx=0.5 / model.input_shape[1], fy=0.5 / model.input_shape[0])
    assert f"pixel value {float(page_input(st)[0, 0, 0]):.4f}" in page.text_content("#info")
    page.mouse.move(2, 2)
    assert page.locator(".ov-neuron.source").count() == 0


def test_scopes_detail_and_the_url(live):
    page, site, model, _ = live
    st = state(page)
    ov = overview(model, model.trace(page_input(st)))
    for scope in ("global", "module", "unit"):
        before = state(page)["paints"]
        page.check(f'input[name="scope"][value="{scope}"]')
        wait_paints(page, before)
        st = state(page)
        for c in st["columns"]:
            assert tuple(c["range"]) == pytest.approx(ov.range(c["index"], scope), abs=1e-6)
        assert page.locator(".ov-legend").count() == len(ov.legends(scope))
        if scope == "global":
            page.check("#detail")
            assert page.locator(".ov-legend").first.is_visible()
            conv = ov.columns[1]
            assert f"{conv.name}" in page.text_content(f'.ov-label[data-col="{conv.index}"] .full')
            assert page.text_content(f'.ov-label[data-col="{conv.index}"] .shape') == str(tuple(conv.shape))
            assert "scope=global" in page.url and "detail=1" in page.url
            _b.screenshot(page, "overview-detail-global", full_page=False)
    page.uncheck("#detail")
    assert page.locator(".ov-legend").first.is_visible()  # the colour key shows without 'show detail' too
    assert "scope=" not in page.url and "detail" not in page.url


NEXT_OPEN = "() => window.cnn101_views && JSON.parse(cnn101_views()).length > 0"


def next_open(page) -> bool:
    """A next-level view is open."""
    return bool(page.evaluate(NEXT_OPEN))


def test_click_opens_the_next_level_and_escape_closes_it(live):
    page, site, model, _ = live
    box = _hover(page, 1, 0)
    page.mouse.click(box["x"] + 3, box["y"] + 3)
    page.wait_for_function(NEXT_OPEN, timeout=10_000)
    assert "level=2" in page.url and f"neuron={state(page)['columns'][1]['name']}.0" in page.url
    _b.screenshot(page, "overview-next-level", full_page=False)
    page.keyboard.press("Escape")
    assert not next_open(page) and "level=2" not in page.url
    out = page.locator(".ov-class").nth(2)
    out.click()
    page.wait_for_function(NEXT_OPEN, timeout=10_000)
    assert page.is_visible("#lv-flatten")
    assert "coming next" not in page.text_content("body")  # no placeholder anywhere
    page.mouse.click(5, page.locator("#stage-frame").bounding_box()["y"] + 5)  # empty space
    assert not next_open(page)
    label = page.locator(".ov-label").nth(1)
    assert label.get_attribute("href").startswith("#tutorial-")
    assert page.locator(label.get_attribute("href")).count() == 1


def test_switching_images_repaints_everything(live):
    page, site, model, _ = live
    exs = examples(site)
    if len(exs) < 2:
        pytest.skip("the build has fewer than two examples")
    current = state(page)["image"]
    for ex in [e for e in exs if e["id"] != current][:: max(1, len(exs) // 3)][:3]:
        before = state(page)["paints"]
        page.click(f'button.example[data-id="{ex["id"]}"]')
        wait_paints(page, before)
        st = state(page)
        assert st["image"] == ex["id"] and f"image={ex['id']}" in page.url
        assert_matches_engine(st, model, cnn101.load_image(site / "examples" / ex["file"], model))
        assert page.locator(f'button.example[data-id="{ex["id"]}"].selected').count() == 1
    _b.wait_settled(page, "#stage-frame")  # the fade finished
    _b.screenshot(page, "overview-switched", full_page=False)


def _upload(page, path) -> None:
    """Choose a file and wait until the page has shown it or refused it."""
    before = state(page)["attempts"]
    page.set_input_files("#upload", str(path))
    page.wait_for_function(f"JSON.parse(cnn101_state()).attempts > {before}", timeout=30_000)


@pytest.mark.parametrize("name,size,fmt,save", [
    ("photo.png", None, "PNG", {}),
    ("rotated.jpg", (120, 80), "JPEG", {"quality": 92, "orientation": 6}),  # EXIF: shown turned upright
    ("upside-down.jpg", (100, 90), "JPEG", {"quality": 92, "orientation": 3}),
    ("grey.jpg", (90, 90), "JPEG", {"mode": "L"}),
    ("alpha.png", (64, 64), "PNG", {"mode": "RGBA"}),
    ("cmyk.jpg", (70, 70), "JPEG", {"mode": "CMYK"}),
    ("photo.jpg", None, "JPEG", {"quality": 90}),
    ("wide.jpg", (150, 96), "JPEG", {"quality": 85}),   # non-square: resized, then centre-cropped
    ("tall.png", (70, 123), "PNG", {}),
    ("tiny.png", (16, 16), "PNG", {}),                   # smaller than the input: upscaled
    ("anim.gif", (80, 80), "GIF", {}),
    ("photo.webp", (90, 90), "WEBP", {"quality": 90}),
    ("photo.bmp", None, "BMP", {}),
    ("photo.tiff", (64, 72), "TIFF", {}),
])
def test_upload_images_are_processed_like_cpython(live, tmp_path, name, size, fmt, save):
    page, site, model, _ = live
    exs = examples(site)
    src = site / "examples" / exs[-1]["file"] if exs else None
    path = make_image(tmp_path, name, size, fmt, src, **save)
    _upload(page, path)
    assert page.is_hidden("#input-error"), page.text_content("#input-error")
    st = state(page)
    assert st["label"] == name and st["image"] == ""
    assert_matches_engine(st, model, cnn101.load_image(path, model))
    if name == "wide.jpg":
        _b.wait_settled(page, "#stage-frame")
        _b.screenshot(page, "overview-upload-wide-jpeg", full_page=False)


def test_bad_files_give_plain_errors_and_the_page_keeps_working(live, tmp_path):
    page, site, model, _ = live
    good = state(page)
    text = tmp_path / "notes.txt"
    text.write_text("this is not an image\n" * 20)
    _upload(page, text)
    assert "not an image" in page.text_content("#input-error")
    src = make_image(tmp_path, "whole.jpg", (120, 120), "JPEG", None, quality=95)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    _upload(page, cut)
    assert "truncated" in page.text_content("#input-error")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    _upload(page, empty)
    assert "empty" in page.text_content("#input-error")
    _b.screenshot(page, "overview-upload-error", full_page=False)
    after = state(page)
    assert after["paints"] == good["paints"] and after["input"] == good["input"]  # nothing changed
    _upload(page, src)  # and the page still works
    assert page.is_hidden("#input-error")
    assert_matches_engine(state(page), model, cnn101.load_image(src, model))


def test_load_by_address(live, tmp_path, serve_site):
    page, site, model, url = live
    exs = examples(site)
    if not exs:
        pytest.skip("no examples to load by address")
    page.fill("#url-input", url + "examples/" + exs[0]["file"])
    before = state(page)["paints"]
    page.click("#url-load")
    wait_paints(page, before)
    assert page.is_hidden("#input-error")
    assert_matches_engine(state(page), model, cnn101.load_image(site / "examples" / exs[0]["file"], model))
    page.fill("#url-input", url + "examples/no-such-picture.jpg")
    page.click("#url-load")
    page.wait_for_selector("#input-error:not([hidden])")
    assert "Nothing found" in page.text_content("#input-error")
    # another origin that does not allow it (no CORS header): a plain message, not a crash
    make_image(tmp_path, "elsewhere.png", None, "PNG")
    _, other = serve_site(tmp_path)
    page.fill("#url-input", other + "elsewhere.png")
    page.click("#url-load")
    page.wait_for_function("document.getElementById('input-error').textContent.includes('does not allow')")
    page.fill("#url-input", "")
    page.click("#url-load")
    page.wait_for_function("document.getElementById('input-error').textContent.includes('Paste the address')")


def test_narrow_window_scales_the_overview_to_fit(live):
    page, site, model, _ = live
    size = page.viewport_size
    try:
        page.set_viewport_size({"width": 800, "height": 1000})
        page.wait_for_function("document.querySelector('.ov-stage').style.transform.startsWith('scale(')")
        frame = page.locator("#stage-frame").bounding_box()
        stage = page.locator(".ov-stage").bounding_box()  # the transformed box
        # it fits, or (neurons are never drawn below 24 px, issue 17) the frame scrolls sideways to the rest
        scroll = page.eval_on_selector("#stage-frame", "f => f.scrollWidth - f.clientWidth")
        assert stage["x"] + stage["width"] <= frame["x"] + frame["width"] + 1 + scroll
        assert page.eval_on_selector(".ov-neuron", "e => e.getBoundingClientRect().width") >= 24
        # hovering still finds the right cell in the scaled stage
        st = state(page)
        ov = overview(model, model.trace(page_input(st)))
        col = ov.columns[1]
        h, w = col.shape[:2]
        _hover(page, col.index, 0, fx=(w - 0.5) / w, fy=0.5 / h)
        assert f"row 0, column {w - 1}:" in page.text_content("#info")
        _b.screenshot(page, "overview-narrow", full_page=False)
    finally:
        page.set_viewport_size(size)
    page.wait_for_function("document.querySelector('.ov-stage').style.transform === ''")


def test_state_in_the_url_is_restored(page, app_url, app_site):
    exs = examples(app_site)
    image = exs[min(5, len(exs) - 1)]["id"] if exs else ""
    q = f"?image={image}&scope=module&detail=1&neuron=max_pool_1.3&level=2"
    open_app(page, app_url + q)
    st = state(page)
    assert st["scope"] == "module" and st["detail"] and st["image"] == image
    assert page.is_checked('input[name="scope"][value="module"]') and page.is_checked("#detail")
    names = [c["name"] for c in st["columns"]]
    if "max_pool_1" in names:
        assert st["level"] == 2 and next_open(page)
    _b.screenshot(page, "overview-from-url", full_page=False)


def test_snapshot_shows_before_python_is_up(page, app_url, app_site):
    if "cnn101:prerender" in (app_site / "index.html").read_text():
        pytest.skip("this build has no prerendered snapshot (no model or no examples at build time)")
    page.goto(app_url, wait_until="domcontentloaded")
    assert page.locator(".snapshot img.ov-neuron").count() > 0
    assert page.evaluate("document.documentElement.dataset.ready") is None  # Python is not up yet
    _b.screenshot(page, "overview-snapshot", full_page=False)
    page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
    assert page.locator(".snapshot").count() == 0 and page.locator("canvas.ov-neuron").count() > 0


SNAPSHOT_MADE = "['made', 'failed'].includes(document.documentElement.dataset.pyodideSnapshot)"


@pytest.mark.real_start
def test_works_offline_after_one_visit(context, app_site, app_model, serve_site, tmp_path):
    """Reload with the server gone: the service worker serves everything, Pyodide starts from the memory
    snapshot made after the first visit, and the Overview and an upload (Pillow loaded on demand, from the
    cache) still equal the CPython engine."""
    server, url = serve_site(app_site)
    page = context.new_page()
    _b.track_console(page)
    open_app(page, url)
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")  # installed: everything precached
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=60_000)
    page.wait_for_function(SNAPSHOT_MADE, timeout=READY)
    assert page.evaluate("document.documentElement.dataset.pyodideSnapshot") == "made"
    _b.stop(server)  # the server is gone: only the service worker's cache is left
    page.reload()
    page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
    assert page.evaluate("document.documentElement.dataset.pyodideSnapshot") == "used"
    # once idle, the page checks the snapshot holds every standard module it imported: it must, or every
    # visit would make a new one
    page.wait_for_function("document.documentElement.dataset.pyodideSnapshotCheck", timeout=60_000)
    assert page.evaluate("document.documentElement.dataset.pyodideSnapshotCheck") == "up to date"
    st = state(page)
    ex = {e["id"]: e for e in examples(app_site)}.get(st["image"])
    if ex:
        assert_matches_engine(st, app_model, cnn101.load_image(app_site / "examples" / ex["file"], app_model))
    assert page.locator("canvas.ov-neuron").count() > 0
    _b.screenshot(page, "overview-offline", full_page=False)
    path = make_image(tmp_path, "offline.png", (80, 70), "PNG")
    _upload(page, path)
    assert page.is_hidden("#input-error"), page.text_content("#input-error")
    assert_matches_engine(state(page), app_model, cnn101.load_image(path, app_model))
    assert not _b.console_problems(page)


#: A stored snapshot damaged two ways: cut short (its recorded length no longer matches: the page does not
#: even try it), and whole-looking but not a snapshot (Pyodide restores it and refuses it: magic number).
DAMAGE = {
    "truncated": "(bytes) => bytes.slice(0, bytes.length - 65536)",
    "wrong magic": "(bytes) => { const b = bytes.slice(); b.fill(7, 0, 4); return b; }",
}


@pytest.mark.real_start
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_broken_pyodide_snapshot_is_dropped_and_remade(context, app_site, app_model, serve_site, damage):
    _, url = serve_site(app_site)
    page = context.new_page()
    _b.track_console(page)
    open_app(page, url)
    page.wait_for_function(SNAPSHOT_MADE, timeout=READY)
    page.evaluate("""async (damage) => { const cache = await caches.open('cnn101-pyodide-snapshot');
        const keys = await cache.keys(); if (keys.length !== 1) throw new Error('no snapshot stored');
        const stored = await cache.match(keys[0]);
        const bytes = (eval(damage))(new Uint8Array(await stored.arrayBuffer()));
        const length = damage.includes('slice(0') ? stored.headers.get('X-Snapshot-Length') : String(bytes.length);
        await cache.put(keys[0], new Response(bytes, { headers: { 'X-Snapshot-Length': length } })); }""",
                  DAMAGE[damage])
    warnings = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page.reload()
    page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
    assert page.evaluate("document.documentElement.dataset.ready") == "1"
    page.wait_for_function(SNAPSHOT_MADE, timeout=READY)  # started as usual, and made a new one
    assert page.evaluate("document.documentElement.dataset.pyodideSnapshot") == "made"
    said = "is damaged" if damage == "truncated" else "could not be used"  # refused by us / by Pyodide
    assert any(said in w for w in warnings), warnings
    st = state(page)
    ex = {e["id"]: e for e in examples(app_site)}.get(st["image"])
    if ex:
        assert_matches_engine(st, app_model, cnn101.load_image(app_site / "examples" / ex["file"], app_model))
    page.reload()
    page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
    assert page.evaluate("document.documentElement.dataset.pyodideSnapshot") == "used"
    assert not [p for p in _b.console_problems(page) if "pageerror" in p]


def test_a_damaged_model_gets_a_plain_message(page, serve_site, tmp_path):
    """A site built with a broken model file (truncated weights): a plain message, not a broken page."""
    import shutil

    from buildsite.site import BuildOptions, build

    broken = tmp_path / "broken-weights"
    broken.mkdir()
    shutil.copy(_b.REPO / "weights" / "tiny-vgg.json", broken / "tiny-vgg.json")
    npz = (_b.REPO / "weights" / "tiny-vgg.npz").read_bytes()
    (broken / "tiny-vgg.npz").write_bytes(npz[: len(npz) // 2])
    out = tmp_path / "dist"
    build(BuildOptions(repo=_b.REPO, out=out, cache=_b.REPO / ".cache", data=None, weights=broken),
          log=lambda *a, **k: None)
    _, url = serve_site(out)
    page.goto(url)
    page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
    assert page.evaluate("document.documentElement.dataset.ready") == "error"
    status = page.text_content("#status")
    assert "damaged or truncated" in status and ".npz" in status
    _b.screenshot(page, "overview-damaged-model", full_page=False)
