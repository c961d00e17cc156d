"""The kernel playground (web/app/playground_panel.py) in headless Chromium: a real channel of the page's
image, kernel size, stride, padding and kernel give the output of CPython `cnn101.explain.playground` on the
same channel (≤ 1e-5) and its formula with the numbers filled in; invalid settings (stride 0, a kernel larger
than the padded input) are explained in words, with no error; a trained kernel; the per-layer table; Esc
closes the dialog. Screenshot at 390×844."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

import browser as _b
from cnn101.explain import layer_table, playground
from cnn101.explain.playground import channel_of, trained_kernel
from web_page import page_input

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def pg(page) -> dict:
    return json.loads(page.evaluate("cnn101_playground()"))


def set_number(page, sel, v):
    page.fill(sel, str(v))  # fires 'input'


def wait(page, before):
    page.wait_for_function(f"JSON.parse(cnn101_playground()).updates > {before}", timeout=30_000)
    return pg(page)


def test_the_playground_equals_cpython_and_explains_invalid_settings(app):
    page, _, site, model, _ = app
    from web_page import state
    x = page_input(state(page))
    trace = model.trace(x)
    page.click("#pg-open")
    page.wait_for_selector("#playground", state="visible")
    assert page.get_attribute("#playground", "role") == "dialog"
    assert page.evaluate("document.activeElement.id") == "pg-channel"
    st = pg(page)
    assert st["rows"] == len(layer_table(model))

    n = st["updates"]
    page.select_option("#pg-channel", "input|0")
    st = wait(page, n)
    n = st["updates"]
    page.select_option("#pg-kernel", "p|blur")
    st = wait(page, n)
    n = st["updates"]
    set_number(page, "#pg-k", 5)
    st = wait(page, n)
    n = st["updates"]
    set_number(page, "#pg-s", 2)
    st = wait(page, n)
    n = st["updates"]
    page.select_option("#pg-pad", "same")
    st = wait(page, n)
    want = playground(channel_of(trace, "input", 0), 5, 2, "same", "blur")
    assert st["valid"] and want.formula in st["formula"]
    got = np.frombuffer(base64.b64decode(st["output"]), "<f8").reshape(st["shape"])
    np.testing.assert_allclose(got, want.output, rtol=0, atol=1e-5)

    n = st["updates"]
    set_number(page, "#pg-s", 0)  # invalid: explained in words
    st = wait(page, n)
    want = playground(channel_of(trace, "input", 0), 5, 0, "same", "blur")
    assert not st["valid"] and st["message"] == want.message and "stride" in st["message"].lower()
    assert page.text_content("#pg-message") == want.message and page.is_hidden("#pg-out")

    # a small activation map with a kernel larger than it
    grid = [l.name for l in model.layers if np.asarray(trace[l.name]).ndim == 3]
    small = min(grid, key=lambda name: np.asarray(trace[name]).shape[0])
    n = pg(page)["updates"]
    page.select_option("#pg-channel", f"{small}|1")
    st = wait(page, n)
    n = st["updates"]
    set_number(page, "#pg-s", 1)
    st = wait(page, n)
    n = st["updates"]
    page.select_option("#pg-pad", "valid")
    st = wait(page, n)
    n = st["updates"]
    page.select_option("#pg-kernel", "p|identity")
    st = wait(page, n)
    if np.asarray(trace[small]).shape[0] < 7:
        n = st["updates"]
        set_number(page, "#pg-k", 7)
        st = wait(page, n)
        want = playground(channel_of(trace, small, 1), 7, 1, "valid", "identity")
        assert not st["valid"] and st["message"] == want.message

    # a trained kernel of the first conv layer, on an input channel
    first = model.layers[0].name
    n = pg(page)["updates"]
    page.select_option("#pg-channel", "input|2")
    st = wait(page, n)
    n = st["updates"]
    page.select_option("#pg-kernel", f"t|{first}|3")
    st = wait(page, n)
    n = st["updates"]
    page.select_option("#pg-pad", "1")
    st = wait(page, n)
    want = playground(channel_of(trace, "input", 2), None, 1, 1, trained_kernel(model, first, 3, 2))
    got = np.frombuffer(base64.b64decode(st["output"]), "<f8").reshape(st["shape"])
    np.testing.assert_allclose(got, want.output, rtol=0, atol=1e-5)
    assert want.formula in st["formula"]

    before = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    right = page.eval_on_selector_all("#playground *", "els => Math.max(...els.filter(e => e.offsetParent && !e.closest('.pg-table table'))"
                                      ".map(e => e.getBoundingClientRect().right))")  # the table scrolls in its box
    wide = page.eval_on_selector_all("#playground *", "els => els.filter(e => e.offsetParent && !e.closest('.pg-table table') && "
                                     "e.getBoundingClientRect().right > 391).map(e => e.tagName + '#' + e.id + '.' + e.className)")
    assert right <= 391, wide
    page.locator("#playground").scroll_into_view_if_needed()
    _b.screenshot(page, "playground-390x844", full_page=False)
    page.click(".pg-table summary")
    _b.screenshot(page, "playground-390x844-table", full_page=False)
    page.set_viewport_size(before)
    page.focus("#pg-s")
    page.keyboard.press("Escape")
    page.wait_for_selector("#playground", state="hidden")
    assert page.evaluate("document.activeElement.id") == "pg-open"
    assert _b.console_problems(page) == []
