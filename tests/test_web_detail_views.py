"""The ReLU, max-pooling and softmax detail views in headless Chromium, on the Tiny VGG site and on the
synthetic model's site (5×5 kernels, stride 2, 'same' padding, 3 classes, 32×32): each opens from the right
click and closes with Esc / an empty click; the numbers shown equal cnn101.explain's at chosen positions;
hover and arrow keys move the window; play / step / speed change what is shown. Outside requests fail
the test. Screenshots: test-artifacts/views-*.png.
"""
from __future__ import annotations

import numpy as np
import pytest

from cnn101.explain import pool_channel, relu_detail, softmax_detail
from cnn101.render.detail import window_covering
from views_sites import open_session

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.real_start]  # pages reload ≥ 2× per context: cheaper with SW + snapshot


@pytest.fixture(scope="module", params=["tiny", "synthetic"])
def s(request, browser):
    yield from open_session(request, browser)


def wait_panel(s, panel: str) -> None:
    s.page.wait_for_selector(f"#{panel}", state="visible", timeout=10_000)


def set_slider(s, selector: str, value: int) -> None:
    """Move a range input as a user would (its value, then an 'input' event)."""
    s.page.eval_on_selector(selector, "(e, v) => { e.value = String(v); e.dispatchEvent(new Event('input', "
                                      "{bubbles: true})); }", value)


def relu_positions(shape, x):
    h, w = shape
    neg = np.argwhere(x < 0)
    picks = [(0, 0), (h - 1, w - 1), (h // 2, w // 3)]
    if len(neg):
        picks.append(tuple(int(v) for v in neg[len(neg) // 2]))
    return picks


# --- ReLU ----------------------------------------------------------------------------------------------
def test_relu_opens_shows_the_engines_numbers_and_closes(s):
    col = s.column("relu")
    neuron = min(1, col["neurons"] - 1)
    s.click_neuron(col["index"], neuron)
    wait_panel(s, "dp-relu")
    assert f"neuron={col['name']}.{neuron}" in s.query() and "level=2" in s.query()
    top = s.top()
    assert top["kind"] == "relu" and top["playing"] and top["channel"] == neuron
    d = relu_detail(s.trace(), col["name"], neuron)
    assert top["steps"] == d.x.size and top["grid"] == list(d.x.shape)
    for r, c in relu_positions(d.x.shape, d.x):
        s.hover_cell('#dp-relu svg[data-grid="input"]', r, c)
        top = s.top()
        assert not top["playing"] and top["at"] == [r, c], (r, c, top)
        cell = d.at(r, c)
        assert s.value('#dp-relu .dp-eq [data-name="x"]') == pytest.approx(cell.x, abs=1e-6)
        assert s.value('#dp-relu .dp-eq [data-name="y"]') == pytest.approx(cell.y, abs=1e-6)
        assert s.value('#dp-relu .dp-eq [data-name="y"]') == pytest.approx(float(d.y[r, c]), abs=1e-6)  # the engine's
        if s.page.query_selector("#dp-relu .dp-around"):  # small cells: the numbers around the window
            assert s.value('#dp-relu [data-cells="x-around"] .mark') == pytest.approx(cell.x, abs=1e-6)
            assert s.value('#dp-relu [data-cells="y-around"] .mark') == pytest.approx(cell.y, abs=1e-6)
        assert f"at={r}.{c}" in s.query()
    # hovering the output matrix moves the window too
    s.hover_cell('#dp-relu svg[data-grid="output"]', 0, 1)
    assert s.top()["at"] == [0, 1]
    s.shot(f"views-relu-{s.which}")
    s.page.keyboard.press("Escape")
    s.page.wait_for_selector("#dp-relu", state="detached")
    assert "level" not in s.query() and s.views() == []
    # again, closed by a click on empty space (the tutorial's title)
    s.click_neuron(col["index"], neuron)
    wait_panel(s, "dp-relu")
    s.page.click("#tutorial-title")
    s.page.wait_for_selector("#dp-relu", state="detached")
    assert s.views() == []


def test_relu_arrow_keys_play_step_and_speed(s):
    col = s.column("relu", -1)
    s.click_neuron(col["index"], 0)
    wait_panel(s, "dp-relu")
    d = relu_detail(s.trace(), col["name"], 0)
    h, w = d.x.shape
    s.hover_cell('#dp-relu svg[data-grid="input"]', 1, 1)
    s.page.keyboard.press("ArrowRight")
    assert s.top()["at"] == [1, 2]
    s.page.keyboard.press("ArrowDown")
    assert s.top()["at"] == [2, 2]
    assert s.value('#dp-relu .dp-eq [data-name="x"]') == pytest.approx(float(d.x[2, 2]), abs=1e-6)
    s.page.keyboard.press("ArrowLeft")
    s.page.keyboard.press("ArrowUp")
    assert s.top()["at"] == [1, 1]
    assert "Row 1, column 1" in s.page.inner_text("#dp-relu .dp-live")
    s.page.keyboard.press("End")
    assert s.top()["at"] == [h - 1, w - 1]
    s.page.keyboard.press("ArrowRight")  # clamped at the edge
    assert s.top()["at"] == [h - 1, w - 1]
    s.page.keyboard.press("Home")
    assert s.top()["index"] == 0
    # step ▶ / ◀: one position, paused
    s.page.click("#dp-relu .dp-next")
    s.page.click("#dp-relu .dp-next")
    assert s.top()["index"] == 2 and not s.top()["playing"]
    assert s.value('#dp-relu .dp-eq [data-name="x"]') == pytest.approx(float(d.x.reshape(-1)[2]), abs=1e-6)
    s.page.click("#dp-relu .dp-prev")
    assert s.top()["index"] == 1
    assert s.page.inner_text("#dp-relu .dp-pos") == f"step 2 of {h * w}"
    # play: the window moves on by itself (the drawn step changes), pause stops it
    before = s.top()["drawn"]
    s.page.click("#dp-relu .dp-play")
    assert s.top()["playing"] and s.page.inner_text("#dp-relu .dp-play") == "Pause"
    s.page.wait_for_function(f"JSON.parse(cnn101_views()).at(-1).drawn >= {before + 3}", timeout=10_000)
    s.page.click("#dp-relu .dp-play")
    top = s.top()
    assert not top["playing"] and top["index"] > 1
    shown = s.value('#dp-relu .dp-eq [data-name="x"]')
    assert shown == pytest.approx(float(d.x.reshape(-1)[top["index"]]), abs=1e-6)
    # speed: the slider changes the player's step time, its label and the URL
    set_slider(s, "#dp-relu .dp-speed", 5)  # SPEEDS[5] = 8×
    assert s.top()["speed"] == 8.0 and "speed=8" in s.query()
    assert s.page.inner_text("#dp-relu .dp-speed-out").startswith("8×")
    set_slider(s, "#dp-relu .dp-speed", 2)
    assert s.top()["speed"] == 1.0 and "speed" not in s.query()
    s.escape_all()


# --- max pooling --------------------------------------------------------------------------------------
def pool_columns(s):
    return [c for c in s.columns() if c["kind"] == "maxpool2d"]


def test_pool_numbers_equal_the_engine_for_every_pool_layer(s):
    trace = s.trace()
    for col in pool_columns(s):
        ch = col["neurons"] - 1
        s.click_neuron(col["index"], ch)
        wait_panel(s, "dp-pool")
        p = pool_channel(trace, col["name"], ch)
        g = p.geometry
        oh, ow = g.output_hw
        assert s.top()["grid"] == [oh, ow] and s.top()["steps"] == oh * ow
        for i, j in {(0, 0), (oh - 1, ow - 1), (oh // 2, ow - 1), (0, ow // 2)}:
            s.hover_cell('#dp-pool svg[data-grid="output"]', i, j)
            assert s.top()["at"] == [i, j]
            win = p.window(i, j)
            shown = np.array(s.values('#dp-pool .dp-eq [data-name="window"]')).reshape(g.size)
            np.testing.assert_array_equal(np.isinf(shown), win.padded)
            np.testing.assert_allclose(shown[~win.padded], win.values[~win.padded], rtol=0, atol=1e-6)
            y = s.value('#dp-pool .dp-eq [data-name="y"]')
            assert y == pytest.approx(win.value, abs=1e-6) and y == pytest.approx(win.trace_value, abs=1e-6)
            assert s.page.eval_on_selector_all('#dp-pool .dp-eq .dp-cell.mark', "e => e.length") == 1
            # the window rect sits on the window's origin, in the padding frame if it hangs over the edge
            box = s.page.eval_on_selector('#dp-pool svg[data-grid="input"] .dp-win',
                                          "r => ['x','y','width','height'].map(a => parseFloat(r.getAttribute(a)))")
            pitch = float(s.page.get_attribute('#dp-pool svg[data-grid="input"]', "data-pitch"))
            x0 = float(s.page.get_attribute('#dp-pool svg[data-grid="input"]', "data-x0"))
            y0 = float(s.page.get_attribute('#dp-pool svg[data-grid="input"]', "data-y0"))
            r0, c0 = win.origin
            assert box == pytest.approx([x0 + c0 * pitch, y0 + r0 * pitch, g.size[1] * pitch, g.size[0] * pitch])
        # hovering an input cell moves to the window covering it
        h, w = g.input_hw
        s.hover_cell('#dp-pool svg[data-grid="input"]', h - 1, w // 2)
        i, j = window_covering(h - 1, w // 2, g.strides, g.pad, g.output_hw)
        assert s.top()["at"] == [i, j]
        r0, c0 = p.window(i, j).origin
        assert r0 <= h - 1 < r0 + g.size[0] and c0 <= w // 2 < c0 + g.size[1]
        s.shot(f"views-pool-{col['name']}-{s.which}")
        s.page.keyboard.press("Escape")
        s.page.wait_for_selector("#dp-pool", state="detached")


def test_pool_arrow_keys_and_step(s):
    col = pool_columns(s)[0]
    s.click_neuron(col["index"], 0)
    wait_panel(s, "dp-pool")
    p = pool_channel(s.trace(), col["name"], 0)
    s.page.click("#dp-pool .dp-play")  # pause
    s.page.keyboard.press("Home")
    s.page.keyboard.press("ArrowDown")
    s.page.keyboard.press("ArrowRight")
    assert s.top()["at"] == [1, 1]
    assert s.value('#dp-pool .dp-eq [data-name="y"]') == pytest.approx(p.window(1, 1).value, abs=1e-6)
    s.page.click("#dp-pool .dp-next")
    assert s.top()["at"] == [1, 2] or p.geometry.output_hw[1] == 2
    assert "max of" in s.page.inner_text("#dp-pool .dp-live")
    s.escape_all()


# --- softmax (opened from the flatten view) --------------------------------------------------------------
def test_softmax_numbers_hover_and_keys(s):
    out = s.column("output")
    k = out["neurons"] - 1
    s.click_neuron(out["index"], k)
    s.page.wait_for_selector("#lv-flatten", state="visible")
    s.page.click("#lv-flatten .fv-softmax")
    wait_panel(s, "dp-softmax")
    assert "level=3" in s.query() and "part=softmax" in s.query()
    d = softmax_detail(s.trace())
    np.testing.assert_allclose(s.values('#dp-softmax tbody [data-name="logit"]'), d.logits, rtol=0, atol=1e-5)
    np.testing.assert_allclose(s.values('#dp-softmax tbody [data-name="prob"]'), d.probs, rtol=0, atol=1e-6)
    np.testing.assert_allclose(s.values('#dp-softmax tbody [data-name="prob"]'), d.trace_probs, rtol=0, atol=1e-5)
    np.testing.assert_allclose(s.values('#dp-softmax tbody [data-name="exp"]'), d.exp, rtol=1e-5)  # logits agree to float32 precision
    assert s.value('#dp-softmax tfoot [data-name="prob-sum"]') == pytest.approx(1.0, abs=1e-9)
    top = s.top()
    assert top["index"] == k and not top["playing"]  # opens on the chosen class
    # the logits column of the flatten view expanded
    assert s.views()[0]["expanded"]
    np.testing.assert_allclose(s.values('#lv-flatten .fv-logits [data-name="logit"]'), d.logits, rtol=0, atol=1e-5)
    # hovering any number of a class selects it: the formula shows its logit, exp, Σ and probability
    for i in range(len(d.logits)):
        s.page.hover(f'#dp-softmax tbody tr[data-class="{i}"] [data-name="prob"]')
        assert s.top()["index"] == i
        assert s.value('#dp-softmax .dp-eq [data-name="logit"]') == pytest.approx(d.logits[i], abs=1e-5)
        assert s.value('#dp-softmax .dp-eq [data-name="prob"]') == pytest.approx(d.probs[i], abs=1e-6)
        assert s.value('#dp-softmax .dp-eq [data-name="total"]') == pytest.approx(d.total, rel=1e-5)
        assert s.page.get_attribute(f'#dp-softmax tbody tr[data-class="{i}"]', "class").split().count("on") == 1
    s.page.keyboard.press("Home")
    s.page.keyboard.press("ArrowDown")
    assert s.top()["index"] == 1 and "at=1" in s.query()
    s.page.keyboard.press("ArrowUp")
    assert s.top()["index"] == 0
    s.page.click("#dp-softmax .dp-play")
    s.page.wait_for_function("JSON.parse(cnn101_views()).at(-1).index != 0", timeout=10_000)
    s.page.click("#dp-softmax .dp-play")
    s.shot(f"views-softmax-{s.which}")
    s.page.keyboard.press("Escape")  # back to the flatten view
    s.page.wait_for_selector("#dp-softmax", state="detached")
    assert [v["kind"] for v in s.views()] == ["flatten"] and "level=2" in s.query()
    assert not s.views()[0]["expanded"]
    s.page.keyboard.press("Escape")
    s.page.wait_for_selector("#lv-flatten", state="detached")
    assert s.views() == []


def test_state_restored_from_the_url(s):
    col = pool_columns(s)[-1]
    oh, ow = pool_channel(s.trace(), col["name"], 0).geometry.output_hw
    s.open(f"?neuron={col['name']}.0&level=2&at={oh - 1}.{ow - 1}&speed=2")
    s.page.wait_for_selector("#dp-pool", state="visible")
    top = s.top()
    assert top["at"] == [oh - 1, ow - 1] and top["speed"] == 2.0 and not top["playing"]
    out = s.column("output")
    s.open(f"?neuron={out['name']}.0&level=3&part=softmax&at=1")
    s.page.wait_for_selector("#dp-softmax", state="visible")
    assert [v["kind"] for v in s.views()] == ["flatten", "softmax"] and s.top()["index"] == 1
    s.escape_all()


def test_views_follow_an_image_change(s):
    col = s.column("relu")
    s.click_neuron(col["index"], 0)
    wait_panel(s, "dp-relu")
    s.hover_cell('#dp-relu svg[data-grid="input"]', 2, 3)
    examples = s.page.query_selector_all("#examples .example")
    if len(examples) < 2:
        pytest.skip("the site has fewer than two examples")
    before = s.state()["image"]
    examples[-1].click()
    s.page.wait_for_function(f"JSON.parse(cnn101_state()).image != {before!r}", timeout=30_000)
    s.page.wait_for_selector("#dp-relu", state="visible")
    d = relu_detail(s.trace(), col["name"], 0)
    assert s.top()["at"] == [2, 3]
    assert s.value('#dp-relu .dp-eq [data-name="x"]') == pytest.approx(float(d.x[2, 3]), abs=1e-6)
    s.escape_all()
