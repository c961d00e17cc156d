"""Compare mode (web/app/compare.py) in headless Chromium: pin the image as A, change it (the lab's 'Only red')
or pick another example as B; the page's per-neuron B − A and every class probability's change equal CPython
`cnn101.explain.compare` on the same pixels (≤ 1e-5), and the Overview's canvases hold exactly those
differences on the diverging map; 'Stop comparing' paints the plain Overview again."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

import browser as _b
import cnn101
from cnn101 import perturb
from cnn101.explain import compare
from cnn101.render import ACTIVATION, heatmap
from web_page import examples, open_app, page_input, shown_example, state

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def cmp_state(page) -> dict:
    return json.loads(page.evaluate("cnn101_compare()"))


def wait_shown(page, before: int) -> dict:
    page.wait_for_function(f"JSON.parse(cnn101_compare()).shown > {before} && (() => {{ const l = "
                           "JSON.parse(cnn101_state()).lab; return l.traced === l.changes; })()", timeout=30_000)
    return cmp_state(page)


def check(page, model, xa, xb, c: dict) -> None:
    want = compare(model.trace(xa), model.trace(xb))
    assert c["active"]
    for col in want.columns:
        got = np.frombuffer(base64.b64decode(c["columns"][col.name]["values"]), "<f4").reshape(c["columns"][col.name]["shape"])
        np.testing.assert_allclose(got, want.values(col.index), rtol=0, atol=1e-5, err_msg=col.name)
    assert sorted(n for n, _, _ in c["changes"]) == sorted(model.class_names)  # every class once
    byname = {ch.name: ch for ch in want.changes}
    for name, a, b in c["changes"]:
        assert abs(a - byname[name].a) <= 1e-5 and abs(b - byname[name].b) <= 1e-5
    # the canvases of the input column and of the first hidden column show those differences
    for col in want.columns[:2]:
        v = want.values(col.index)[0]
        lo, hi = c["columns"][col.name]["range"]
        rgba = heatmap(v, lo, hi, ACTIVATION)
        drawn = page.evaluate("""i => { const cv = document.querySelector(`canvas.ov-neuron[data-col="${i}"][data-neuron="0"]`);
            return Array.from(cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data); }""", col.index)
        got = np.array(drawn, np.uint8).reshape(rgba.shape)
        assert np.abs(got.astype(int) - rgba.astype(int)).max() <= 1, col.name


def test_pin_a_then_change_or_pick_b(app):
    page, _, site, model, url = app
    st = state(page)
    _, path = shown_example(site, st)
    xa = cnn101.load_image(path, model)
    assert not cmp_state(page)["active"]
    n = cmp_state(page)["shown"]
    page.click("#compare-pin")
    c = wait_shown(page, n)
    check(page, model, xa, xa, c)  # B = A: every difference 0

    page.click("#lab-toggle")
    n = c["shown"]
    page.click('#lab button[data-lab="only"][data-ch="red"]')
    c = wait_shown(page, n)
    check(page, model, xa, perturb.keep_channel(xa, "red"), c)
    assert page.locator("#compare-changes li").count() == len(model.class_names)
    assert "B − A" in page.text_content("#compare-status")
    _b.screenshot(page, "compare-red", full_page=False)

    n = c["shown"]
    page.click('#lab button[data-lab="clear"]')
    c = wait_shown(page, n)
    other = examples(site)[5]
    n = c["shown"]
    page.click(f'#examples button[data-id="{other["id"]}"]')
    c = wait_shown(page, n)
    xb = cnn101.load_image(site / "examples" / other["file"], model)
    np.testing.assert_allclose(page_input(state(page)), xb, atol=1e-6)
    check(page, model, xa, xb, c)

    for width in (390,):
        before = page.viewport_size
        page.set_viewport_size({"width": width, "height": 844})
        right = page.eval_on_selector_all("#lab > *", "els => Math.max(...els.filter(e => e.offsetParent)"
                                          ".map(e => e.getBoundingClientRect().right))")
        assert right <= width + 1
        _b.screenshot(page, f"compare-{width}x844", full_page=False)
        page.set_viewport_size(before)

    page.click("#compare-stop")
    assert not cmp_state(page)["active"] and page.is_hidden("#compare-changes")
    assert page.evaluate("document.querySelector('.ov-stage').classList.contains('comparing')") is False
    assert _b.console_problems(page) == []


def test_views_opened_in_compare_mode_show_both_values(app):
    """With an image pinned as A and another example as B, a conv, relu, pool and the output (softmax) view
    each show A's and B's value of their neuron at the current position, equal to CPython's compare."""
    page, _, site, model, url = app
    st = state(page)
    _, path = shown_example(site, st)
    xa = cnn101.load_image(path, model)
    n = cmp_state(page)["shown"]
    page.click("#compare-pin")
    c = wait_shown(page, n)
    other = examples(site)[3]
    n = c["shown"]
    page.click(f'#examples button[data-id="{other["id"]}"]')
    wait_shown(page, n)
    xb = cnn101.load_image(site / "examples" / other["file"], model)
    want = compare(model.trace(xa), model.trace(xb))
    cols = state(page)["columns"]
    kinds = {}
    for col in cols:
        kinds.setdefault(col["kind"], col)
    picked = [kinds[k] for k in kinds if k not in ("input", "flatten", "dense")] + [cols[-1]]
    seen = set()
    for col in picked:
        if col["index"] in seen:
            continue
        seen.add(col["index"])
        neuron = 1
        page.click(f'[data-col="{col["index"]}"][data-neuron="{neuron}"]')
        page.wait_for_selector(".cmp-line", state="attached", timeout=30_000)
        if col["kind"] != "output":  # the arrow keys move the window; the line follows the position
            for key in ("ArrowRight", "ArrowRight", "ArrowDown"):
                page.keyboard.press(key)
            page.wait_for_function("""() => { const ls = document.querySelectorAll('.cmp-line');
                const at = JSON.parse(ls[ls.length - 1].dataset.at); return at.length === 2 && at[0] + at[1] > 0; }""",
                                   timeout=30_000)
        at, values, text = page.evaluate("""() => { const ls = document.querySelectorAll('.cmp-line'); const l = ls[ls.length - 1];
            return [JSON.parse(l.dataset.at), JSON.parse(l.dataset.values), l.textContent]; }""")
        row, cell = (at[0], at[1]) if at else (None, None)
        a, b, d = want.value_at(col["index"], neuron, row, cell)
        np.testing.assert_allclose(values, [a, b, d], rtol=0, atol=1e-5, err_msg=col["name"])
        assert "A " in text and "B " in text and "B − A" in text, text
        _b.screenshot(page, f"compare-view-{col['kind']}", full_page=False)
        page.keyboard.press("Escape")
        page.wait_for_function("JSON.parse(cnn101_views()).length === 0", timeout=10_000)
    kinds_seen = {c["kind"] for c in cols if c["index"] in seen}
    assert {"conv2d", "relu", "maxpool2d", "output"} <= kinds_seen, kinds_seen
    page.click("#compare-stop")
    assert _b.console_problems(page) == []


def test_why_mode_pauses_compare_and_gives_it_back(app):
    """With an image pinned as A, why mode paints gradients: the Overview loses compare's faded look and the
    change list, the status says B − A comes back; switching why mode off paints B − A again (same numbers)."""
    page, _, site, model, url = app
    n = cmp_state(page)["shown"]
    page.click("#compare-pin")
    wait_shown(page, n)
    other = examples(site)[2]
    n = cmp_state(page)["shown"]
    page.click(f'#examples button[data-id="{other["id"]}"]')
    before = wait_shown(page, n)
    stage_has = "document.querySelector('.ov-stage').classList.contains('{}')"
    assert page.evaluate(stage_has.format("comparing"))
    page.click("#why-toggle")
    page.wait_for_function(stage_has.format("why-on"), timeout=30_000)
    assert not page.evaluate(stage_has.format("comparing"))
    assert page.is_hidden("#compare-changes")
    assert "comes back" in page.text_content("#compare-status")
    n = cmp_state(page)["shown"]
    page.click("#why-toggle")
    again = wait_shown(page, n)
    assert page.evaluate(stage_has.format("comparing")) and not page.evaluate(stage_has.format("why-on"))
    assert page.is_visible("#compare-changes") and "B − A" in page.text_content("#compare-status")
    for name, col in before["columns"].items():
        assert again["columns"][name]["values"] == col["values"], name
    page.click("#compare-stop")
    assert _b.console_problems(page) == []
