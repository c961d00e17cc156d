"""'Change the image' (web/app/lab.py) in headless Chromium: channel buttons, brightness / contrast, the grey
patch dragged with the mouse and moved with the keys, blur, seeded noise, rotate, flip, shift. After each
change the page's input equals CPython `cnn101.perturb.apply(x, steps)` on the same pixels, and every column
equals the CPython trace of it (≤ 1e-5); a copied URL reproduces the changed network (probabilities to 1e-6);
the tutorial's link keeps only the red channel in one click. Screenshots at 1366×900 and 390×844."""
from __future__ import annotations

import json

import numpy as np
import pytest

import browser as _b
import cnn101
from cnn101 import perturb
from web_page import assert_matches_engine, open_app, shown_example, state

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def wait_lab(page, before: int) -> dict:
    page.wait_for_function(
        f"(() => {{ const l = JSON.parse(cnn101_state()).lab; return l.changes > {before} && l.traced === l.changes; }})()",
        timeout=30_000)
    return state(page)


def changes(page) -> int:
    return state(page)["lab"]["changes"]


def slide(page, selector: str, value: str) -> None:
    """Move a range input as a learner's drag does: a new value, then its 'input' event."""
    page.eval_on_selector(selector, "(e, v) => { e.value = v; e.dispatchEvent(new Event('input', {bubbles: true})); }", value)


def check(page, model, x, want: list) -> dict:
    st = state(page)
    assert st["lab"]["steps"] == want
    assert_matches_engine(st, model, perturb.apply(x, want))  # the page's pixels and every column
    q = st["query"]
    assert ("steps=" in q) == bool(want)
    return st


@pytest.fixture(scope="module")
def base(app):
    page, _, site, model, _ = app
    _, path = shown_example(site, state(page))
    return cnn101.load_image(path, model)


def test_channel_buttons_and_tone(live, base):
    page, _, model, _ = live
    assert page.is_hidden("#lab-body")
    page.click("#lab-toggle")
    assert page.get_attribute("#lab-toggle", "aria-expanded") == "true"
    want = []
    n = changes(page)
    page.click('#lab button[data-lab="only"][data-ch="red"]')
    wait_lab(page, n)
    want.append({"op": "keep_channel", "channel": "red"})
    st = check(page, model, base, want)
    got = np.frombuffer(__import__("base64").b64decode(st["input"]), "<f4").reshape(model.input_shape)
    assert got[..., 1:].max() == 0 and got[..., 0].max() > 0  # only red is left
    _b.screenshot(page, "lab-only-red", full_page=False)

    n = changes(page)
    page.click('#lab button[data-lab="only"][data-ch="green"]')  # 'Only …' replaces its step
    wait_lab(page, n)
    want[0] = {"op": "keep_channel", "channel": "green"}
    check(page, model, base, want)

    page.select_option("#lab-ch", "green")
    n = changes(page)
    page.click('#lab button[data-lab="invert"]')
    wait_lab(page, n)
    want.append({"op": "invert", "channel": "green"})
    check(page, model, base, want)

    page.select_option("#lab-ch", "red")
    page.select_option("#lab-ch2", "green")
    n = changes(page)
    page.click('#lab button[data-lab="swap"]')
    wait_lab(page, n)
    want.append({"op": "swap_channels", "a": "red", "b": "green"})
    check(page, model, base, want)

    page.select_option("#lab-ch", "blue")
    n = changes(page)
    page.click('#lab button[data-lab="zero"]')
    wait_lab(page, n)
    want.append({"op": "zero_channel", "channel": "blue"})
    check(page, model, base, want)

    n = changes(page)
    slide(page, "#lab-brightness", "0.2")
    wait_lab(page, n)
    want.append({"op": "brightness", "amount": 0.2})
    check(page, model, base, want)
    assert "clipped" in page.text_content("#lab-message")

    n = changes(page)
    slide(page, "#lab-contrast", "1.5")
    slide(page, "#lab-brightness", "0.25")  # the same step, changed in place; one trace may cover both
    wait_lab(page, n + 1)
    want[-1] = {"op": "brightness", "amount": 0.25}
    want.append({"op": "contrast", "factor": 1.5})
    check(page, model, base, want)

    n = changes(page)
    page.click('#lab-steps li:nth-child(1) button')  # remove 'only green'
    wait_lab(page, n)
    del want[0]
    check(page, model, base, want)

    n = changes(page)
    page.click('#lab button[data-lab="clear"]')
    wait_lab(page, n)
    check(page, model, base, [])
    assert page.input_value("#lab-brightness") == "0" and page.input_value("#lab-contrast") == "1"
    assert _b.console_problems(page) == []


def test_the_patch_follows_the_mouse_and_the_keys(live, base):
    page, _, model, _ = live
    h, w = model.input_shape[:2]
    box = page.locator("#lab-canvas").bounding_box()

    def at(r, c):
        return box["x"] + (c + 0.5) * box["width"] / w, box["y"] + (r + 0.5) * box["height"] / h

    size = int(page.input_value("#lab-patch-size"))
    n = changes(page)
    page.mouse.move(*at(10, 12))
    page.mouse.down()
    page.mouse.move(*at(20, 30), steps=6)
    page.mouse.move(*at(40, 50), steps=6)
    page.mouse.up()
    st = wait_lab(page, n)
    want = [{"op": "occlude", "top": 40 - size // 2, "left": 50 - size // 2, "size": size}]
    check(page, model, base, want)
    assert page.is_visible("#lab-patch")

    page.focus("#lab-canvas")
    n = changes(page)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Shift+ArrowDown")
    wait_lab(page, n + 1)
    want[0].update(top=want[0]["top"] + 4, left=want[0]["left"] - 1)
    check(page, model, base, want)

    n = changes(page)
    page.mouse.move(*at(h - 1, w - 1))  # partly outside the image: only the part inside is grey
    page.mouse.down()
    page.mouse.up()
    wait_lab(page, n)
    want[0].update(top=h - 1 - size // 2, left=w - 1 - size // 2)
    check(page, model, base, want)
    _b.screenshot(page, "lab-patch", full_page=False)

    n = changes(page)
    page.select_option("#lab-patch-size", "16")  # the patch grows where it is
    wait_lab(page, n)
    want[0]["size"] = 16
    check(page, model, base, want)
    page.focus("#lab-canvas")
    n = changes(page)
    page.keyboard.press("Delete")
    wait_lab(page, n)
    check(page, model, base, [])
    assert page.is_hidden("#lab-patch")


def test_blur_noise_rotate_flip_shift_and_the_url(live, base, app):
    page, _, model, url = live
    want = []
    n = changes(page)
    page.select_option("#lab-blur", "3")
    wait_lab(page, n)
    want.append({"op": "blur", "size": 3})
    check(page, model, base, want)

    n = changes(page)
    slide(page, "#lab-noise", "0.1")
    wait_lab(page, n)
    want.append({"op": "noise", "amount": 0.1, "seed": 0})
    check(page, model, base, want)
    n = changes(page)
    page.fill("#lab-seed", "7")
    page.dispatch_event("#lab-seed", "change")
    wait_lab(page, n)
    want[-1] = {"op": "noise", "amount": 0.1, "seed": 7}
    check(page, model, base, want)

    n = changes(page)
    slide(page, "#lab-rotate", "30")
    wait_lab(page, n)
    want.append({"op": "rotate", "degrees": 30.0})
    check(page, model, base, want)

    n = changes(page)
    page.click('#lab button[data-lab="flip"][data-dir="horizontal"]')
    wait_lab(page, n)
    want.append({"op": "flip", "direction": "horizontal"})
    check(page, model, base, want)

    n = changes(page)
    page.fill("#lab-down", "3")
    page.dispatch_event("#lab-down", "change")
    wait_lab(page, n)
    page.fill("#lab-right", "-500")  # clamped to the image's width
    page.dispatch_event("#lab-right", "change")
    wait_lab(page, n + 1)
    want.append({"op": "shift", "down": 3, "right": -model.input_shape[1]})
    st = check(page, model, base, want)
    assert page.input_value("#lab-right") == str(-model.input_shape[1])

    # a copied link: a fresh page shows the same changed network
    _, ctx, *_ = app
    other = ctx.new_page()
    _b.track_console(other)
    try:
        open_app(other, url + st["query"])
        st2 = state(other)
        assert st2["lab"]["steps"] == want
        np.testing.assert_allclose(st2["probs"], st["probs"], rtol=0, atol=1e-6)
        assert st2["input"] == st["input"]
        assert other.get_attribute("#lab-toggle", "aria-expanded") == "true"  # open, controls showing the steps
        assert other.input_value("#lab-rotate") == "30" and other.input_value("#lab-blur") == "3"
        assert _b.console_problems(other) == []
    finally:
        other.close()
    n = changes(page)
    page.click('#lab button[data-lab="clear"]')
    wait_lab(page, n)


def test_the_tutorial_link_keeps_only_red_in_one_click(live, base):
    page, _, model, _ = live
    n = changes(page)
    page.click('#tutorial a[href="#lab-only-red"]')
    wait_lab(page, n)
    check(page, model, base, [{"op": "keep_channel", "channel": "red"}])
    assert page.get_attribute("#lab-toggle", "aria-expanded") == "true"
    n = changes(page)
    page.click('#lab button[data-lab="clear"]')
    wait_lab(page, n)


@pytest.mark.parametrize("width, height", [(1366, 900), (390, 844)])
def test_fits_and_screenshots(live, width, height):
    page, *_ = live
    before = page.viewport_size
    page.set_viewport_size({"width": width, "height": height})
    try:
        page.click('#lab button[data-lab="only"][data-ch="red"]')
        page.wait_for_function("(() => { const l = JSON.parse(cnn101_state()).lab; return l.traced === l.changes; })()")
        right = page.eval_on_selector_all("#lab *", "els => Math.max(...els.filter(e => e.offsetParent)"
                                          ".map(e => e.getBoundingClientRect().right))")
        assert right <= width + 1
        page.locator("#lab").scroll_into_view_if_needed()
        _b.screenshot(page, f"lab-{width}x{height}", full_page=False)
        n = changes(page)
        page.click('#lab button[data-lab="clear"]')
        wait_lab(page, n)
    finally:
        page.set_viewport_size(before)
