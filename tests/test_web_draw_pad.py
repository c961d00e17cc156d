"""The drawing pad (web/app/draw_pad.py) in headless Chromium, driven by mouse events (and touch pointer
events): each stroke / fill is a step whose points follow the pointer, the page's input equals CPython
`cnn101.draw` through `perturb.apply` on the same steps and every column equals the CPython trace (≤ 1e-5);
the network re-traces while the button is still down; one-channel painting changes that channel only; a
copied URL reproduces a drawing (probabilities to 1e-6); a drawing too long for the address says so, and
the page's 'Download this state' / 'Open a state file' carry it as a file."""
from __future__ import annotations

import base64
import json
import zlib

import numpy as np
import pytest

import browser as _b
import cnn101
from cnn101 import perturb
from web_page import assert_matches_engine, open_app, page_input, shown_example, state

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def changes(page) -> int:
    return state(page)["lab"]["changes"]


def settled(page) -> dict:
    page.wait_for_function("(() => { const l = JSON.parse(cnn101_state()).lab; return l.traced === l.changes; })()",
                           timeout=30_000)
    return state(page)


def wait_lab(page, before: int) -> dict:
    page.wait_for_function(
        f"(() => {{ const l = JSON.parse(cnn101_state()).lab; return l.changes > {before} && l.traced === l.changes; }})()",
        timeout=30_000)
    return state(page)


@pytest.fixture(scope="module")
def pad(app):
    page, _, site, model, _ = app
    _, path = shown_example(site, state(page))
    page.click("#lab-toggle")
    box = page.locator("#lab-canvas").bounding_box()
    h, w = model.input_shape[:2]

    def at(r, c):  # the screen point of pixel (r, c)'s centre
        return box["x"] + (c + 0.5) * box["width"] / w, box["y"] + (r + 0.5) * box["height"] / h

    return page, model, cnn101.load_image(path, model), at


def same_steps(st, model, base) -> np.ndarray:
    steps = st["lab"]["steps"]
    assert_matches_engine(st, model, perturb.apply(base, steps))
    return perturb.apply(base, steps)


def test_the_pad_is_pixel_exact(pad):
    page, model, _, _ = pad
    box = page.locator("#lab-canvas").bounding_box()
    h, w = model.input_shape[:2]
    # an integer number of screen pixels per input pixel (the border excluded)
    inner = page.eval_on_selector("#lab-canvas", "e => [e.clientWidth, e.clientHeight]")
    assert inner[0] % w == 0 and inner[1] % h == 0 and inner[0] // w >= 2, (inner, box)


def test_a_mouse_stroke_retraces_while_drawing_and_equals_cpython_draw(pad):
    page, model, base, at = pad
    page.check('input[name="lab-tool"][value="brush"]')
    page.select_option("#lab-radius", "2")
    page.fill("#lab-colour", "#ff0000")
    n = changes(page)
    page.mouse.move(*at(10, 10))
    page.mouse.down()
    page.mouse.move(*at(10, 40), steps=8)
    st = wait_lab(page, n)  # traced while the button is still down
    mid = st["lab"]["steps"][-1]
    assert mid["op"] == "stroke" and len(mid["points"]) > 1
    same_steps(st, model, base)
    page.mouse.move(*at(30, 40), steps=8)
    page.mouse.up()
    st = settled(page)
    step = st["lab"]["steps"][-1]
    assert step["radius"] == 2 and step["colour"] == [1, 0, 0] and "channel" not in step
    np.testing.assert_allclose(step["points"][0], [10, 10], atol=0.11)
    np.testing.assert_allclose(step["points"][-1], [30, 40], atol=0.11)
    assert len(step["points"]) > len(mid["points"])
    y = same_steps(st, model, base)
    np.testing.assert_array_equal(page_input(st)[10, 25], [1, 0, 0])  # on the line: red
    assert "steps=" in st["query"]
    _b.screenshot(page, "draw-stroke", full_page=False)


def test_one_channel_eraser_fill_and_touch(pad):
    page, model, base, at = pad
    before = page_input(settled(page))
    page.select_option("#lab-paint-ch", "green")
    page.fill("#lab-colour", "#ffffff")
    n = changes(page)
    page.mouse.move(*at(50, 5))
    page.mouse.down()
    page.mouse.move(*at(50, 30), steps=5)
    page.mouse.up()
    st = wait_lab(page, n)
    assert st["lab"]["steps"][-1]["channel"] == "green"
    after = same_steps(st, model, base)
    changed = np.any(after != before, axis=(0, 1))
    assert list(changed) == [False, True, False]  # only green was painted

    page.select_option("#lab-paint-ch", "")
    page.check('input[name="lab-tool"][value="eraser"]')
    n = changes(page)
    page.mouse.move(*at(10, 20))
    page.mouse.down()
    page.mouse.up()
    st = wait_lab(page, n)
    assert st["lab"]["steps"][-1]["colour"] == 1
    same_steps(st, model, base)
    np.testing.assert_array_equal(page_input(st)[10, 20], [1, 1, 1])

    page.check('input[name="lab-tool"][value="fill"]')
    page.fill("#lab-colour", "#0000ff")
    n = changes(page)
    page.mouse.click(*at(20, 20))
    st = wait_lab(page, n)
    assert st["lab"]["steps"][-1] == {"op": "fill", "row": 20, "col": 20, "colour": [0, 0, 1]}
    same_steps(st, model, base)

    # touch: the same pointer events, pointerType 'touch'
    page.check('input[name="lab-tool"][value="brush"]')
    n = changes(page)
    pts = [at(40, 10), at(40, 20), at(45, 30)]
    page.eval_on_selector("#lab-canvas", """(c, pts) => {
        const ev = (type, [x, y]) => c.dispatchEvent(new PointerEvent(type, {clientX: x, clientY: y, pointerId: 7,
            pointerType: 'touch', isPrimary: true, bubbles: true, cancelable: true}));
        ev('pointerdown', pts[0]); pts.slice(1).forEach(p => ev('pointermove', p)); ev('pointerup', pts[2]); }""", pts)
    st = wait_lab(page, n)
    np.testing.assert_allclose(st["lab"]["steps"][-1]["points"], [[40, 10], [40, 20], [45, 30]], atol=0.11)
    same_steps(st, model, base)


def test_a_copied_url_shows_the_same_drawing(pad, app):
    page, model, base, at = pad
    st = settled(page)
    _, ctx, _, _, url = app
    other = ctx.new_page()
    _b.track_console(other)
    try:
        open_app(other, url + st["query"])
        st2 = state(other)
        assert st2["lab"]["steps"] == st["lab"]["steps"]
        np.testing.assert_allclose(st2["probs"], st["probs"], rtol=0, atol=1e-6)
        assert st2["input"] == st["input"]
        assert _b.console_problems(other) == []
    finally:
        other.close()


def test_blank_canvas_and_start_from_the_image(pad):
    page, model, base, at = pad
    n = changes(page)
    page.click('#lab button[data-lab="blank"]')
    st = wait_lab(page, n)
    assert st["lab"]["steps"] == [{"op": "fill", "row": 0, "col": 0, "colour": 1, "tolerance": 1}]
    assert page_input(st).min() == 1  # a white canvas
    page.fill("#lab-colour", "#000000")
    n = changes(page)
    page.mouse.move(*at(32, 10))
    page.mouse.down()
    page.mouse.move(*at(32, 50), steps=6)
    page.mouse.up()
    st = wait_lab(page, n)
    same_steps(st, model, base)
    _b.screenshot(page, "draw-blank", full_page=False)
    n = changes(page)
    page.click('#lab button[data-lab="from-image"]')
    st = wait_lab(page, n)
    assert st["lab"]["steps"] == []
    assert_matches_engine(st, model, base)


def deflated(steps) -> str:
    """`steps` as a URL or state file writes them (compact JSON, deflated, base64url without padding)."""
    text = json.dumps(steps, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(zlib.compress(text, 9)).decode("ascii").rstrip("=")


def test_a_drawing_too_long_for_the_url_goes_to_a_state_file_and_back(pad, tmp_path):
    """A drawing too long for a link: the address leaves `steps` out and the lab says so; 'Download this
    state' keeps it (the whole state, steps included), and 'Open a state file' brings it back exactly."""
    page, model, base, at = pad
    rng = np.random.default_rng(0)
    points = np.round(rng.uniform(0, 63, (1500, 2)), 1).tolist()
    steps = [{"op": "stroke", "points": points, "radius": 0.5, "colour": [0.2, 0.4, 0.6]}]
    image = state(page)["image"]
    f = tmp_path / "big.json"
    f.write_text(json.dumps({"format": "cnn101-state", "version": 1,
                             "fields": {"image": image, "steps": deflated(steps)}}))
    page.set_input_files("#state-file", str(f))  # the page starts again from the file
    page.wait_for_function("() => { try { const s = JSON.parse(cnn101_state()); return s.ready && s.lab.steps.length === 1 "
                           "&& s.lab.traced === s.lab.changes; } catch (e) { return false; } }", timeout=90_000)
    st = state(page)
    assert st["lab"]["steps"] == steps and st["lab"]["too_long"] and st["image"] == image
    assert "steps=" not in page.url and "too long for the page's address" in page.text_content("#lab-message")
    assert "steps" in page.text_content("#state-notice")
    same_steps(st, model, base)
    with page.expect_download() as d:
        page.click("#state-download")
    saved = json.loads(open(d.value.path()).read())
    v = saved["fields"]["steps"]
    assert json.loads(zlib.decompress(base64.urlsafe_b64decode(v + "=" * (-len(v) % 4)))) == steps
    assert saved["fields"]["image"] == image
    n = changes(page)
    page.click('#lab button[data-lab="clear"]')
    st = wait_lab(page, n)
    assert not st["lab"]["too_long"] and page.is_hidden("#state-notice")
    assert _b.console_problems(page) == []


def test_fits_a_phone(pad):
    page, *_ = pad
    before = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        right = page.eval_on_selector_all("#lab *", "els => Math.max(...els.filter(e => e.offsetParent)"
                                          ".map(e => e.getBoundingClientRect().right))")
        assert right <= 391
        inner = page.eval_on_selector("#lab-canvas", "e => e.clientWidth")
        assert inner % pad[1].input_shape[1] == 0
        page.locator(".lab-draw").scroll_into_view_if_needed()
        _b.screenshot(page, "draw-390x844", full_page=False)
    finally:
        page.set_viewport_size(before)
