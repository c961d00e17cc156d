"""The convolutional intermediate view (level 2) and the convolution detail view (level 3, one channel and
the whole neuron) in headless Chromium, on the Tiny VGG site and on the synthetic model's site (5×5
kernels, stride 2, uneven 'same' padding, a conv without ReLU, 3 classes, 32×32): each opens from the
right click and closes with Esc / an empty click; the numbers shown equal cnn101.explain's at chosen
positions; the painted heatmaps equal cnn101.render's; the kernel sweeps over explain's true positions;
play / pause / fast-forward / replay / speed / step / arrow keys change what is shown. Outside requests
fail the test. Screenshots: test-artifacts/views-conv-*.png.
"""
from __future__ import annotations

import base64
import json
import re
import time

import numpy as np
import pytest

import browser as _b

from cnn101.explain import conv_neuron
from cnn101.explain import symmetric
from cnn101.render import ACTIVATION, INPUT, WEIGHT, heatmap
from cnn101.render import conv_view as R
from cnn101.render.svg import fmt
from views_sites import open_session

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.real_start]  # pages reload ≥ 2× per context: cheaper with SW + snapshot
VIEW = "#conv-view"
TOL = 1e-6  # the page's trace (Pyodide) and CPython's differ by float32 rounding in hidden layers (~1e-8 here)
DETAIL = "#dp-conv"


@pytest.fixture(scope="module", params=["tiny", "synthetic"])
def s(request, browser):
    yield from open_session(request, browser)


@pytest.fixture(autouse=True)
def _plain_page(request, s):
    """Each test starts on the plain page (no query) unless it opens the page at its own URL first."""
    if request.node.get_closest_marker("own_url") is None:
        s.clean()


# --- helpers ----------------------------------------------------------------------------------------
def convs(s) -> list[dict]:
    return [c for c in s.columns() if c["kind"] == "conv2d"]


def padded(s, name: str) -> bool:
    return any(conv_neuron(s.trace(), name, 0).geometry.pad)


def chosen(s) -> dict:
    """A conv column with padding if the model has one (synthetic: stride 2, uneven padding), else the second
    conv (Tiny VGG conv_1_2: 10 input channels)."""
    cs = convs(s)
    return next((c for c in cs if padded(s, c["name"])), cs[min(1, len(cs) - 1)])


def open_conv(s, col: dict, neuron: int):
    s.click_neuron(col["index"], neuron)
    s.page.wait_for_selector(VIEW, state="visible", timeout=10_000)
    top = s.top()
    assert top["kind"] == "conv" and top["layer"] == col["name"] and top["filter"] == neuron
    return conv_neuron(s.trace(), col["name"], neuron)


def close_all(s) -> None:
    s.escape_all()
    s.page.wait_for_selector(VIEW, state="detached", timeout=5_000)


def positions(n) -> list[tuple[int, int]]:
    oh, ow = n.geometry.output_hw
    return sorted({(0, 0), (oh - 1, ow - 1), (oh // 2, ow // 3), (1 % oh, (ow - 1) // 2)})


def point(s, selector: str, fx: float, fy: float) -> tuple[float, float]:
    """Client (x, y) at fractions of an element's box (scrolled into view first)."""
    s.page.locator(selector).scroll_into_view_if_needed()
    b = s.page.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect(); "
                                          "return [r.left, r.top, r.width, r.height]; }")
    return b[0] + fx * b[2], b[1] + fy * b[3]


def hover_result(s, n, i: int, j: int, channel: int = 0) -> None:
    oh, ow = n.geometry.output_hw
    s.page.mouse.move(*point(s, f'{VIEW} .cv-res[data-channel="{channel}"]', (j + .5) / ow, (i + .5) / oh))


def hover_input(s, n, i: int, j: int, channel: int = 0) -> None:
    """Hover the input cell at the centre of the kernel's window for output (i, j) (padding frame included)."""
    g = n.geometry
    (h, w), (kh, kw), (pt, pb, pl, pr) = g.input_hw, g.size, g.pad
    r0, c0 = g.origin(i, j)
    r, c = r0 + (kh - 1) // 2, c0 + (kw - 1) // 2
    s.page.mouse.move(*point(s, f'{VIEW} .cv-in[data-channel="{channel}"]',
                             (c + pl + .5) / (w + pl + pr), (r + pt + .5) / (h + pt + pb)))


def canvas_rgba(s, selector: str) -> np.ndarray:
    data = s.page.eval_on_selector(selector, """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
        return [c.height, c.width, Array.from(d.data)]; }""")
    return np.array(data[2], np.uint8).reshape(data[0], data[1], 4)


def style_vars(s) -> dict[str, str]:
    style = s.page.get_attribute(f"{VIEW} .cv-stage", "style")
    return dict(m.groups() for m in re.finditer(r"(--[\w-]+):\s*([^;]+)", style))


def pct(v: str) -> float:
    return float(v.rstrip("%")) / 100


def wait_for(s, fn, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while True:
        got = fn()
        if got or time.monotonic() > end:
            return got
        time.sleep(0.05)


def check_sum(s, n, i: int, j: int) -> None:
    """The sum line and each row's value at (i, j) are explain's whole(i, j)."""
    w = n.whole(i, j)
    terms = s.values(f"{VIEW} .cv-sum .cv-term[data-channel]")
    np.testing.assert_allclose(terms, w.channel_sums, rtol=0, atol=TOL)
    np.testing.assert_allclose(s.values(f"{VIEW} .cv-value [data-value]"), w.channel_sums, rtol=0, atol=TOL)
    np.testing.assert_allclose(w.channel_sums, n.results[i, j, :], rtol=0, atol=1e-12)
    assert s.value(f"{VIEW} .cv-sum .cv-b") == pytest.approx(w.bias, abs=TOL)
    assert s.value(f"{VIEW} .cv-sum .cv-total") == pytest.approx(w.total, abs=TOL)
    assert s.page.text_content(f"{VIEW} .cv-sum .cv-total") == fmt(w.total)
    assert f"at ({i}, {j})" in s.page.text_content(f"{VIEW} .cv-sum")
    if w.relu:
        assert s.value(f"{VIEW} .cv-sum .cv-activated") == pytest.approx(w.value, abs=TOL)
    assert w.total == pytest.approx(float(n.output[i, j]), abs=2e-5)  # the engine's float32 value


# --- level 2 ------------------------------------------------------------------------------------------
def test_conv_view_opens_slides_apart_and_closes(s):
    col = chosen(s)
    neuron = min(2, col["neurons"] - 1)
    n = open_conv(s, col, neuron)
    q = s.query()
    assert f"neuron={col['name']}.{neuron}" in q and "level=2" in q
    top = s.top()
    assert top["channels"] == n.channels and top["steps"] == n.positions.shape[0]
    assert top["output_hw"] == list(n.geometry.output_hw) and top["source"] == n.source
    # the Overview made room: columns slid apart and faded, the chosen neuron stays marked
    assert s.page.eval_on_selector(".ov-stage", "e => e.classList.contains('tr-apart')")
    chosen_el = f'.ov-neuron[data-col="{col["index"]}"][data-neuron="{neuron}"]'
    assert s.page.eval_on_selector(chosen_el, "e => e.classList.contains('tr-chosen')")
    moved = s.page.eval_on_selector(f'.ov-neuron[data-col="{col["index"]}"][data-neuron="0"]',
                                    "e => getComputedStyle(e).marginLeft")
    assert float(moved.rstrip("px")) > 0  # the chosen layer's column moved right
    # one row per input channel, with captions from the model
    assert s.page.locator(f"{VIEW} .cv-in").count() == n.channels
    assert s.page.locator(f"{VIEW} .cv-kernel").count() == n.channels
    text = s.page.text_content(VIEW)
    assert "each input channel has its own kernel" in text and "add up all results" in text
    kh, kw = n.geometry.size
    assert f"{kh}×{kw}" in text and n.source in text
    _b.wait_settled(s.page, VIEW)  # the slide-in finished (the sweep itself runs on)
    s.shot(f"views-conv-{s.which}")
    close_all(s)


def test_conv_view_fits_a_narrower_window(s):
    """The view scales down to fit; the Overview slides apart again for the new widths."""
    col = chosen(s)
    open_conv(s, col, min(2, col["neurons"] - 1))
    size = s.page.viewport_size
    s.page.set_viewport_size({"width": 700, "height": size["height"]})
    assert wait_for(s, lambda: s.top()["scale"] < 1)
    right = s.page.eval_on_selector(VIEW, "e => e.getBoundingClientRect().right")
    assert right <= 700 + 1
    s.page.set_viewport_size(size)
    assert wait_for(s, lambda: s.top()["scale"] == 1)
    close_all(s)


def test_esc_an_empty_click_and_the_close_button_go_back(s):
    col = chosen(s)
    neuron = min(2, col["neurons"] - 1)
    open_conv(s, col, neuron)
    # Esc: back to the Overview, the columns slide back
    s.page.keyboard.press("Escape")
    s.page.wait_for_selector(VIEW, state="detached", timeout=5_000)
    assert s.views() == [] and "level" not in s.query()
    assert not s.page.eval_on_selector(".ov-stage", "e => e.classList.contains('tr-apart')")
    # a click on the view's empty space goes back too; the close button as well
    open_conv(s, col, neuron)
    x, y = point(s, f"{VIEW} .cv-stage", 0.995, 0.01)
    s.page.mouse.click(x, y)
    s.page.wait_for_selector(VIEW, state="detached", timeout=5_000)
    assert s.views() == []
    open_conv(s, col, neuron)
    s.page.click(f"{VIEW} .cv-close")
    s.page.wait_for_selector(VIEW, state="detached", timeout=5_000)
    assert s.views() == [] and not s.page.problems


def test_conv_view_paints_explains_heatmaps(s):
    col = chosen(s)
    n = open_conv(s, col, 0)
    in_cmap, (lo, hi) = (INPUT, (0.0, 1.0)) if n.source == "input" else (ACTIVATION, symmetric(n.inputs))
    for c in sorted({0, n.channels - 1}):
        got = canvas_rgba(s, f'{VIEW} .cv-in[data-channel="{c}"] canvas')
        np.testing.assert_array_equal(got, heatmap(n.inputs[:, :, c], lo, hi, in_cmap))
        got = canvas_rgba(s, f'{VIEW} .cv-kernel[data-channel="{c}"] canvas')
        np.testing.assert_array_equal(got, heatmap(n.kernels[:, :, c], *n.kernel_range, WEIGHT))
        got = canvas_rgba(s, f'{VIEW} .cv-res[data-channel="{c}"] canvas')
        np.testing.assert_array_equal(got, heatmap(n.results[:, :, c], *n.result_range, ACTIVATION))
    got = canvas_rgba(s, f"{VIEW} .cv-neuron canvas")
    np.testing.assert_array_equal(got, heatmap(n.output, *n.value_range, ACTIVATION))
    assert s.value(f"{VIEW} .cv-bias b") == pytest.approx(n.bias, abs=0)
    close_all(s)


def test_hover_shows_the_sum_at_explains_positions(s):
    col = chosen(s)
    n = open_conv(s, col, 1 % col["neurons"])
    for i, j in positions(n):
        hover_result(s, n, i, j, channel=n.channels - 1)
        top = s.top()
        assert top["cursor"] == [i, j] and not top["playing"], (i, j, top)
        check_sum(s, n, i, j)
        assert f"at={i}.{j}" in s.query()
        # the window on every input channel sits on explain's sweep position (CSS variables → layout)
        r0, c0 = n.geometry.origin(i, j)
        v = style_vars(s)
        (h, w), (kh, kw) = n.geometry.input_hw, n.geometry.size
        assert pct(v["--wt"]) * h == pytest.approx(r0, abs=1e-3) and pct(v["--wl"]) * w == pytest.approx(c0, abs=1e-3)
        box = s.page.eval_on_selector(f'{VIEW} .cv-in[data-channel="0"] .cv-win', """e => {
            const a = e.getBoundingClientRect(), b = e.firstElementChild.getBoundingClientRect();
            return [(b.left - a.left) / a.width, (b.top - a.top) / a.height, b.width / a.width, b.height / a.height]; }""")
        assert box[0] * w == pytest.approx(c0, abs=0.05) and box[1] * h == pytest.approx(r0, abs=0.05)
        if kw / w * 100 > 5:  # (tiny windows have a minimum size in px, so they stay visible)
            assert box[2] * w == pytest.approx(kw, abs=0.05)
    # hovering the input channel puts the window over the hovered cells
    i, j = positions(n)[-1]
    hover_input(s, n, i, j, channel=0)
    assert s.top()["cursor"] == [i, j]
    check_sum(s, n, i, j)
    s.shot(f"views-conv-hover-{s.which}")
    close_all(s)


def test_kernel_hover_shows_its_weights(s):
    col = chosen(s)
    n = open_conv(s, col, 0)
    c = n.channels - 1
    s.page.hover(f'{VIEW} .cv-kernel[data-channel="{c}"]')
    s.page.wait_for_selector(f"{VIEW} .cv-tip", state="visible", timeout=3_000)
    titles = s.page.eval_on_selector_all(f"{VIEW} .cv-tip td", "els => els.map(e => [e.title, e.textContent])")
    k = n.kernels[:, :, c].ravel()
    assert len(titles) == k.size
    np.testing.assert_allclose([float(t) for t, _ in titles], k, rtol=0, atol=1e-6)
    assert [txt for _, txt in titles] == [fmt(v) for v in k]
    s.shot(f"views-conv-kernel-{s.which}")
    s.page.mouse.move(2, 2)
    s.page.wait_for_selector(f"{VIEW} .cv-tip", state="hidden", timeout=3_000)
    close_all(s)


def test_sweep_plays_and_pauses(s):
    col = chosen(s)
    n = open_conv(s, col, 0)
    top = s.top()
    assert top["playing"], top
    a = wait_for(s, lambda: s.top()["revealed"] >= 0 and s.top())
    b = wait_for(s, lambda: (t := s.top())["revealed"] > a["revealed"] and t)
    assert b, "the sweep does not move"
    # while playing: the edges flow (dashed, animated); the window is on explain's position of the step
    assert s.page.eval_on_selector(f"{VIEW} .cv-edge", "e => getComputedStyle(e).animationName") == "cv-flow"
    s.page.click(f"{VIEW} .cv-play")  # pause
    paused = s.top()
    assert not paused["playing"]
    assert s.page.eval_on_selector(f"{VIEW} .cv-edge", "e => getComputedStyle(e).animationName") == "none"
    i, j = paused["cursor"]
    assert s.page.text_content(f"{VIEW} .cv-play") == "Play"
    assert paused["revealed"] == i * n.geometry.output_hw[1] + j
    r0, c0 = n.positions[paused["revealed"]]
    v = style_vars(s)
    assert pct(v["--wt"]) * n.geometry.input_hw[0] == pytest.approx(r0, abs=1e-3)
    assert pct(v["--wl"]) * n.geometry.input_hw[1] == pytest.approx(c0, abs=1e-3)
    check_sum(s, n, i, j)  # pausing writes out the sum at the window
    frames = s.top()["frames"]
    _b.wait_frames(s.page, 5)  # paused: the frame loop stopped and nothing moves
    assert s.top()["revealed"] == paused["revealed"] and s.top()["frames"] == frames
    close_all(s)


def test_sweep_speed_changes_the_pace_and_the_url(s):
    """4× → a quarter of the time per step, kept in the URL; play goes on from where it was."""
    col = chosen(s)
    open_conv(s, col, 0)
    s.page.click(f"{VIEW} .cv-play")  # pause
    paused = s.top()
    base = paused["ms_per_step"]
    s.page.select_option(f"{VIEW} .cv-speed", "4")
    assert s.top()["ms_per_step"] == pytest.approx(base / 4) and "speed=4" in s.query()
    s.page.click(f"{VIEW} .cv-play")  # play on from where it was
    c = wait_for(s, lambda: (t := s.top())["revealed"] > paused["revealed"] and t)
    assert c and c["revealed"] > paused["revealed"]
    s.page.select_option(f"{VIEW} .cv-speed", "1")
    assert "speed" not in s.query()
    close_all(s)


def test_sweep_fast_forwards_and_replays(s):
    col = chosen(s)
    n = open_conv(s, col, 0)
    steps = n.positions.shape[0]
    # fast-forward: every result shown, the reveal clip open
    s.page.click(f"{VIEW} .cv-ff")
    top = s.top()
    assert top["revealed"] == steps - 1 and not top["playing"]
    v = style_vars(s)
    assert pct(v["--ry1"]) == pytest.approx(1) and pct(v["--rx1"]) == pytest.approx(1)
    # replay: from the start again
    s.page.click(f"{VIEW} .cv-replay")
    top = s.top()
    assert top["playing"] and top["revealed"] < steps - 1
    close_all(s)


def test_sweep_reaches_the_end_showing_all_results(s):
    col = chosen(s)
    n = open_conv(s, col, 0)
    s.page.select_option(f"{VIEW} .cv-speed", "8")
    done = wait_for(s, lambda: not (t := s.top())["playing"] and t, timeout=20)
    assert done and done["revealed"] == n.positions.shape[0] - 1
    oh, ow = n.geometry.output_hw
    assert done["cursor"] == [oh - 1, ow - 1]
    check_sum(s, n, oh - 1, ow - 1)
    s.page.select_option(f"{VIEW} .cv-speed", "1")
    close_all(s)


def test_arrow_keys_move_the_window(s):
    col = chosen(s)
    n = open_conv(s, col, 0)
    oh, ow = n.geometry.output_hw
    hover_result(s, n, 0, 0)
    s.page.mouse.move(2, 2)  # away, so that only the keys move it now
    s.page.focus(VIEW)
    s.page.keyboard.press("ArrowRight")
    assert s.top()["cursor"] == [0, min(1, ow - 1)]
    s.page.keyboard.press("ArrowDown")
    assert s.top()["cursor"] == [min(1, oh - 1), min(1, ow - 1)]
    check_sum(s, n, min(1, oh - 1), min(1, ow - 1))
    s.page.keyboard.press("ArrowLeft")
    s.page.keyboard.press("ArrowLeft")  # clamped at the edge
    assert s.top()["cursor"] == [min(1, oh - 1), 0]
    close_all(s)


# --- level 3 ------------------------------------------------------------------------------------------
def check_window(s, n, i: int, j: int, c: int) -> None:
    w = n.window(i, j, c)
    eq = f"{DETAIL} .cvd-eq"
    np.testing.assert_allclose(s.values(f'{eq} [data-name="patch"]'), w.patch.ravel(), rtol=0, atol=TOL)
    np.testing.assert_allclose(s.values(f'{eq} [data-name="kernel"]'), w.kernel.ravel(), rtol=0, atol=TOL)
    np.testing.assert_allclose(s.values(f'{eq} [data-name="product"]'), w.products.ravel(), rtol=0, atol=TOL)
    total = s.value(f'{eq} [data-name="sum"]')
    assert total == pytest.approx(w.sum, abs=TOL) and total == pytest.approx(float(n.results[i, j, c]), abs=TOL)
    assert s.page.text_content(f'{eq} [data-name="sum"]') == fmt(w.sum)
    pads = s.page.eval_on_selector_all(f'{eq} [data-name="patch"]', "els => els.map(e => e.classList.contains('pad'))")
    assert pads == w.padded.ravel().tolist()


def test_convolution_detail_view_of_one_channel(s):
    col = chosen(s)
    n = open_conv(s, col, 0)
    c = n.channels - 1
    i, j = positions(n)[1]
    hover_result(s, n, i, j, channel=c)
    s.page.mouse.click(*point(s, f'{VIEW} .cv-res[data-channel="{c}"]', (j + .5) / n.geometry.output_hw[1],
                              (i + .5) / n.geometry.output_hw[0]))
    s.page.wait_for_selector(DETAIL, state="visible", timeout=10_000)
    q = s.query()
    assert "level=3" in q and f"part={c}" in q
    top = s.top()
    assert top["kind"] == "conv" and top["mode"] == "channel" and top["channel"] == c
    assert top["grid"] == list(n.geometry.output_hw) and top["steps"] == n.positions.shape[0]
    ow = n.geometry.output_hw[1]
    assert 0 <= top["index"] - (i * ow + j) < 40  # opens where the level-2 window was (and may have played on)
    for i, j in positions(n):
        s.hover_cell(f'{DETAIL} svg[data-grid="result"]', i, j)
        top = s.top()
        assert top["at"] == [i, j] and not top["playing"]
        check_window(s, n, i, j, c)
    # hovering the input puts the window over the hovered cell
    g = n.geometry
    r0, c0 = g.origin(*positions(n)[0])
    s.hover_cell(f'{DETAIL} svg[data-grid="input"]', max(0, r0 + 1), max(0, c0 + 1))
    want = R.output_for_input(R.geometry(n.channels, g.input_hw, g.size, g.strides, g.pad, g.output_hw),
                              max(0, r0 + 1), max(0, c0 + 1))
    assert tuple(s.top()["at"]) == want
    # step, arrow keys, play, speed
    start = s.top()["index"]
    s.page.click(f"{DETAIL} .dp-next")
    assert s.top()["index"] == start + 1
    i, j = s.top()["at"]
    check_window(s, n, i, j, c)
    s.page.keyboard.press("ArrowDown")
    if g.output_hw[0] > 1:
        assert s.top()["at"] == [min(i + 1, g.output_hw[0] - 1), j]
    s.page.click(f"{DETAIL} .dp-play")
    before = s.top()["index"]
    assert wait_for(s, lambda: s.top()["index"] != before), "autoplay does not move the window"
    s.page.click(f"{DETAIL} .dp-play")
    i, j = s.top()["at"]
    check_window(s, n, i, j, c)
    s.shot(f"views-conv-detail-{s.which}")
    # the panel's selector switches to the whole neuron (and back), keeping the window
    s.page.select_option(f"{DETAIL} .cvd-mode", "whole")
    assert wait_for(s, lambda: s.top()["mode"] == "whole")
    assert s.top()["at"] == [i, j] and "part=whole" in s.query() and len(s.views()) == 2
    assert s.value(f'{DETAIL} [data-name="total"]') == pytest.approx(n.whole(i, j).total, abs=TOL)
    s.page.select_option(f"{DETAIL} .cvd-mode", str(c))
    assert wait_for(s, lambda: s.top()["mode"] == "channel")
    assert s.top()["at"] == [i, j] and f"part={c}" in s.query()
    check_window(s, n, i, j, c)
    # Esc: back to the intermediate view (still open), then to the Overview
    s.page.keyboard.press("Escape")
    s.page.wait_for_selector(DETAIL, state="detached", timeout=5_000)
    assert "level=2" in s.query() and s.top()["kind"] == "conv" and s.page.is_visible(VIEW)
    close_all(s)


@pytest.mark.parametrize("which", ["chosen", "last"])
def test_whole_neuron_mode_equals_the_overview(s, which):
    """Σ channels + bias (+ ReLU) in the whole-neuron mode equals the activation the Overview shows."""
    col = chosen(s) if which == "chosen" else convs(s)[-1]
    neuron = col["neurons"] - 1
    n = open_conv(s, col, neuron)
    s.page.click(f"{VIEW} .cv-plus")
    s.page.wait_for_selector(DETAIL, state="visible", timeout=10_000)
    assert "part=whole" in s.query()
    top = s.top()
    assert top["mode"] == "whole" and top["channel"] is None
    page_col = next(c for c in s.state()["columns"] if c["name"] == (n.relu or n.layer))
    shown = np.frombuffer(base64.b64decode(page_col["values"]), "<f4").reshape(page_col["values_shape"])
    # ^ what the Overview paints: (channels, H, W)
    for i, j in positions(n):
        s.hover_cell(f'{DETAIL} svg[data-grid="output"]', i, j)
        assert s.top()["at"] == [i, j]
        w = n.whole(i, j)
        np.testing.assert_allclose(s.values(f'{DETAIL} [data-name="channel-sum"]'), w.channel_sums, rtol=0, atol=TOL)
        np.testing.assert_allclose(s.values(f'{DETAIL} [data-name="term"]'), w.channel_sums, rtol=0, atol=TOL)
        assert s.value(f'{DETAIL} [data-name="bias"]') == pytest.approx(w.bias, abs=TOL)
        assert s.value(f'{DETAIL} [data-name="total"]') == pytest.approx(w.total, abs=TOL)
        for c in (0, n.channels - 1):
            np.testing.assert_allclose(s.values(f'{DETAIL} [data-name="patch-{c}"]'), w.patches[:, :, c].ravel(),
                                       rtol=0, atol=TOL)
            np.testing.assert_allclose(s.values(f'{DETAIL} [data-name="kernel-{c}"]'), w.kernels[:, :, c].ravel(),
                                       rtol=0, atol=TOL)
        value = s.value(f'{DETAIL} [data-name="value"]') if w.relu else s.value(f'{DETAIL} [data-name="total"]')
        assert value == pytest.approx(w.value, abs=TOL)
        assert value == pytest.approx(float(shown[neuron, i, j]), abs=2e-5)  # the Overview's activation
        assert s.value(f"{DETAIL} .cvd-engine") == pytest.approx(float(shown[neuron, i, j]), abs=TOL)
        assert (s.page.locator(f'{DETAIL} [data-name="value"]').count() == 1) == bool(n.relu)
    s.page.keyboard.press("ArrowLeft")
    assert s.top()["at"] == [positions(n)[-1][0], max(0, positions(n)[-1][1] - 1)]
    if which == "chosen":
        s.shot(f"views-conv-whole-{s.which}")
    s.page.keyboard.press("Escape")
    s.page.wait_for_selector(DETAIL, state="detached", timeout=5_000)
    close_all(s)


@pytest.mark.own_url
def test_url_restores_the_detail_view(s):
    col = chosen(s)
    n = conv_neuron(s.trace(), col["name"], 0)
    oh, ow = n.geometry.output_hw
    at = (oh - 1, min(2, ow - 1))
    image = s.state()["image"]
    s.open(f"?image={image}&neuron={col['name']}.0&level=3&part=0&at={at[0]}.{at[1]}")
    s.page.wait_for_selector(DETAIL, state="visible", timeout=10_000)
    v = s.views()
    assert [x["kind"] for x in v] == ["conv", "conv"] and v[-1]["mode"] == "channel" and v[-1]["at"] == list(at)
    check_window(s, conv_neuron(s.trace(), col["name"], 0), *at, 0)
    close_all(s)


@pytest.mark.own_url
@pytest.mark.parametrize("speed", [16, 0.25])
def test_the_urls_speed_means_the_same_in_every_view(s, speed):
    """One speed ladder (render.clock): ?speed=16 is 16× in the conv view's sweep and in its detail panel."""
    col = chosen(s)
    s.open(f"?neuron={col['name']}.0&level=3&part=whole&speed={speed:g}")
    s.page.wait_for_selector(DETAIL, state="visible", timeout=10_000)
    conv, detail = s.views()
    assert conv["speed"] == speed and detail["speed"] == speed
    assert s.page.input_value(f"{VIEW} .cv-speed") == f"{speed:g}"
    assert s.page.text_content(f"{DETAIL} .dp-speed-out").startswith(f"{speed:g}×")
    assert f"speed={speed:g}" in s.query()
    close_all(s)


def test_reduced_motion_shows_everything_at_once(s, browser):
    page = s.context.new_page()
    page.emulate_media(reduced_motion="reduce")
    page.goto(s.url)
    page.wait_for_function("document.documentElement.dataset.ready", timeout=120_000)
    col = chosen(s)
    page.click(f'[data-col="{col["index"]}"][data-neuron="0"]')
    page.wait_for_selector(VIEW, state="visible", timeout=10_000)
    top = json.loads(page.evaluate("cnn101_views()"))[-1]
    assert not top["playing"] and top["revealed"] == top["steps"] - 1
    assert not page.eval_on_selector(".ov-stage", "e => e.classList.contains('tr-anim')")
    assert page.eval_on_selector(VIEW, "e => getComputedStyle(e).animationName") == "none"
    page.keyboard.press("Escape")
    page.wait_for_selector(VIEW, state="detached", timeout=2_000)
    page.close()


@pytest.mark.own_url
def test_level_2_state_in_the_url_and_a_new_image(s):
    """?level=2&at=i.j reopens the view with the window at (i, j); choosing another image redraws the open
    view with the new image's numbers (same neuron, same window)."""
    col = chosen(s)
    n = conv_neuron(s.trace(), col["name"], 0)
    i, j = positions(n)[2]
    image = s.state()["image"]
    s.open(f"?image={image}&neuron={col['name']}.0&level=2&at={i}.{j}")
    s.page.wait_for_selector(VIEW, state="visible", timeout=10_000)
    top = s.top()
    assert top["cursor"] == [i, j] and not top["playing"] and top["revealed"] == top["steps"] - 1
    check_sum(s, n, i, j)
    others = s.page.eval_on_selector_all("button.example", "els => els.map(e => e.dataset.id)")
    other = next(e for e in others if e != image)
    s.page.click(f'button.example[data-id="{other}"]')
    s.page.wait_for_function(f"JSON.parse(cnn101_state()).image === {other!r}", timeout=30_000)
    s.page.wait_for_selector(VIEW, state="visible", timeout=10_000)
    top = s.top()
    assert top["layer"] == col["name"] and top["cursor"] == [i, j]
    n2 = conv_neuron(s.trace(), col["name"], 0)
    assert not np.allclose(n2.inputs, n.inputs)  # really another image
    check_sum(s, n2, i, j)
    assert s.page.locator(VIEW).count() == 1
    close_all(s)
