"""'Why this class?' (web/app/why_mode.py) in headless Chromium, on the Tiny VGG site and the synthetic
model's site: the toggle switches the Overview to d loss / d activation of every neuron (values, ranges and
legends equal explain.gradient_overview on CPython, ≤ 1e-5), the chosen attribution's map equals
explain.attribution / explain.occlusion and the overlay canvas holds render.overlay of it at the chosen
opacity; the state is in the URL; one click goes back to the activations. Outside requests are blocked by
the shared fixtures. Screenshots at 1440×900 and 390×844.
"""
from __future__ import annotations

import base64

import numpy as np
import pytest

from cnn101.explain import attribution, gradient_overview, occlusion
from cnn101.explain.overview import overview
from cnn101.render.colormap import ACTIVATION, ATTRIBUTION
from cnn101.render.overlay import overlay
from views_sites import open_session

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.real_start]  # pages reload ≥ 2× per context: cheaper with SW + snapshot
WHY = "JSON.parse(cnn101_state()).why"


@pytest.fixture(scope="module", params=["tiny", "synthetic"])
def s(request, browser):
    yield from open_session(request, browser)


def f32(b64: str, shape=None) -> np.ndarray:
    a = np.frombuffer(base64.b64decode(b64), "<f4")
    return a if shape is None else a.reshape(shape)


def close(a, b, tol=1e-5) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and bool(np.max(np.abs(a - b), initial=0) <= tol * max(1.0, float(np.max(np.abs(b), initial=0))))


def expected_map(model, x, method: str, target: int):
    if method == "occlusion":  # the page's patch: an eighth of the shorter side, stride half of it
        size = max(1, min(model.input_shape[:2]) // 8)
        m = occlusion(model, x, target, size, max(1, size // 2)).pixels
        top = float(np.max(np.abs(m))) or 1.0
        return m, -top, top, ACTIVATION
    a = attribution(model, x, method, target, **({"n": 16, "seed": 0} if method == "smoothgrad" else {}))
    return a.map, *a.range, ACTIVATION if a.signed else ATTRIBUTION


def wait_why(s, count: int, **want) -> dict:
    cond = " && ".join([f"w.count >= {count}", "w.on"] + [f"w.{k} === {v!r}" for k, v in want.items()])
    s.page.wait_for_function(f"(() => {{ const w = {WHY}; return {cond}; }})()", timeout=60_000)
    return s.state()["why"]


def check_page(s, why: dict, target: int) -> None:
    trace = s.trace()
    gov = gradient_overview(s.model, trace, target)
    assert why["target"] == target and abs(why["loss"] - float(gov.grads.loss)) <= 1e-5
    scope = s.state()["scope"]
    for col in why["columns"]:
        want = gov.values(col["index"])
        assert close(f32(col["values"], want.shape), want), col["name"]
        assert close(col["range"], gov.range(col["index"], scope)), col["name"]
    assert close([lg[2:] for lg in why["legends"]], [[lg.lo, lg.hi] for lg in gov.legends(scope)])
    # the output rows print p − y
    printed = s.values(f'.ov-class[data-col="{len(why["columns"]) - 1}"]')
    assert close(printed, gov.values(len(why["columns"]) - 1))
    # the attribution and its overlay
    x = trace["input"]
    m, lo, hi, cmap = expected_map(s.model, np.asarray(x, np.float32), why["method"], target)
    assert close(f32(why["map"], m.shape), m) and close(why["map_range"], [lo, hi])
    pixels = np.array(s.page.evaluate("""() => { const c = document.getElementById('why-overlay');
        return [...c.getContext('2d').getImageData(0, 0, c.width, c.height).data]; }"""), np.int16)
    want_px = overlay(np.asarray(x, np.float32), m, lo, hi, why["opacity"], cmap).astype(np.int16)
    assert pixels.size == want_px.size and int(np.max(np.abs(pixels - want_px.reshape(-1)))) <= 1


def test_why_mode_shows_the_gradients_and_the_attribution(s):
    s.at()  # a reload, unless the module's page is still as just opened
    s.page.click("#why-toggle")
    why = wait_why(s, 1, method="gradient")
    predicted = int(s.trace().predicted)
    check_page(s, why, predicted)
    assert "why=1" in s.query() and s.page.get_attribute("#why-toggle", "aria-pressed") == "true"
    # hovering a neuron describes its gradient
    s.page.hover('canvas.ov-neuron[data-col="1"]')
    assert "d loss / d value" in s.page.text_content("#info")
    other = (predicted + 1) % len(s.model.class_names)
    for method in ("gradient_x_input", "smoothgrad", "gradcam", "occlusion"):
        n = why["count"]
        s.page.select_option("#why-method", method)
        why = wait_why(s, n, method=method)
        if method == "gradcam":  # another class
            n = why["count"]
            s.page.select_option("#why-class", str(other))
            why = wait_why(s, n + 1, target=other)
        check_page(s, why, other if method in ("gradcam", "occlusion") else predicted)
        assert f"method={method}" in s.query()
    s.page.fill("#why-opacity", "0.25")
    s.page.dispatch_event("#why-opacity", "input")
    why = wait_why(s, why["count"], opacity=0.25)
    check_page(s, why, other)
    assert "opacity=0.25" in s.query() and f"class={other}" in s.query()


def test_the_url_restores_why_mode_and_one_click_goes_back(s):
    other = (int(s.trace().predicted) + 1) % len(s.model.class_names)
    s.open(f"?why=1&class={other}&method=gradcam&opacity=0.4")
    why = wait_why(s, 1, method="gradcam", opacity=0.4)
    check_page(s, why, other)
    s.page.set_viewport_size({"width": 1440, "height": 900})
    s.shot(f"why-{s.which}-1440")
    s.page.set_viewport_size({"width": 390, "height": 844})
    s.shot(f"why-{s.which}-390")
    s.page.set_viewport_size({"width": 1440, "height": 900})
    s.page.click("#why-toggle")  # back to activations: one click
    s.page.wait_for_function(f"!{WHY}.on")
    assert "why" not in s.query() and s.page.is_hidden("#why-controls")
    st = s.state()
    ov = overview(s.model, s.trace())
    for col in st["columns"]:
        want = ov.values(col["index"])
        assert close(f32(col["values"], want.shape), want)
    out = st["columns"][-1]["index"]
    assert s.page.text_content(f'.ov-class[data-col="{out}"] .ov-pct').strip().endswith("%")


def test_how_fragile_shows_the_fgsm_steps(s):
    from cnn101.explain import fgsm
    from cnn101.image import to_uint8

    other = (int(s.trace().predicted) + 1) % len(s.model.class_names)
    s.open(f"?why=1&class={other}")
    wait_why(s, 1)
    s.page.click("#fragile summary")
    s.page.wait_for_function("+(document.getElementById('fragile').dataset.count || 0) >= 1")
    want = fgsm(s.model, s.trace(), other)
    names = s.model.class_names
    count = 1
    for index in (0, len(want.steps) - 1, 3):
        if index:
            s.page.fill("#fragile-eps", str(index))
            s.page.dispatch_event("#fragile-eps", "input")
            count += 1
            s.page.wait_for_function(f"+document.getElementById('fragile').dataset.count >= {count}")
        got = s.state()["why"]["fragile"]
        step = want.steps[index]
        assert got["target"] == other and got["epsilon"] == step.epsilon and got["predicted"] == step.predicted
        assert got["epsilons"] == list(want.epsilons) and got["flip_epsilon"] == want.flip_epsilon
        assert close(got["probs"], step.probs)
        assert close(f32(got["image"], step.image.shape), step.image)
        for canvas, image in (("fragile-image", step.image), ("fragile-diff", step.amplified)):
            px = np.array(s.page.evaluate("""(id) => { const c = document.getElementById(id);
                return [...c.getContext('2d').getImageData(0, 0, c.width, c.height).data]; }""", canvas), np.int16)
            rgb = to_uint8(image)
            rgb = np.repeat(rgb, 3, axis=2) if rgb.ndim == 3 and rgb.shape[2] == 1 else rgb
            assert int(np.max(np.abs(px.reshape(*image.shape[:2], 4)[..., :3] - rgb.reshape(*image.shape[:2], 3)))) <= 1
        text = s.page.text_content("#fragile-prediction")
        assert names[step.predicted] in text and ("flipped" in text) == (step.predicted != want.original_prediction)
        flip = s.page.text_content("#fragile-flip")
        assert (f"{want.flip_epsilon:g}." in flip) if want.flip_epsilon is not None else flip.startswith("None")
    if s.which == "tiny":
        s.page.set_viewport_size({"width": 390, "height": 844})
        s.page.locator("#fragile").scroll_into_view_if_needed()
        s.shot("why-fragile-tiny-390")
        s.page.set_viewport_size({"width": 1440, "height": 900})
        s.page.locator("#fragile").scroll_into_view_if_needed()
        s.shot("why-fragile-tiny-1440")


def active(s) -> str:
    return s.page.evaluate("document.activeElement && document.activeElement.id")


def test_why_controls_by_keyboard(s):
    """Toggle, class, method and opacity work from the keyboard alone, in tab order; Enter on the toggle
    goes back to the activations."""
    s.at()  # a reload, unless the module's page is still as just opened
    s.page.focus("#why-toggle")
    s.page.keyboard.press("Enter")
    why = wait_why(s, 1, method="gradient")
    predicted = int(s.trace().predicted)
    s.page.keyboard.press("Tab")
    assert active(s) == "why-class"
    s.page.keyboard.press("ArrowDown")  # 'the prediction' → the first class
    why = wait_why(s, why["count"] + 1, target=0)
    check_page(s, why, 0)
    s.page.keyboard.press("Tab")
    assert active(s) == "why-method"
    s.page.keyboard.press("ArrowDown")  # gradient → gradient × input
    why = wait_why(s, why["count"] + 1, method="gradient_x_input")
    check_page(s, why, 0)
    assert s.page.get_attribute("#why-help", "href") == "#tutorial-attribution-gradient-x-input"
    s.page.keyboard.press("Tab")
    assert active(s) == "why-opacity"
    before = why["opacity"]
    s.page.keyboard.press("ArrowLeft")
    why = wait_why(s, why["count"] + 1)
    assert why["opacity"] == pytest.approx(before - 0.05) and f"opacity={why['opacity']:g}" in s.query()
    check_page(s, why, 0)
    s.page.keyboard.press("Shift+Tab")
    s.page.keyboard.press("Shift+Tab")
    s.page.keyboard.press("Shift+Tab")
    assert active(s) == "why-toggle"
    s.page.keyboard.press("Enter")  # back to activations
    s.page.wait_for_function(f"!{WHY}.on")
    assert "why" not in s.query() and s.page.is_hidden("#why-controls")
    assert s.page.get_attribute("#why-toggle", "aria-pressed") == "false"
    del predicted


def test_a_click_on_the_fgsm_title_keeps_the_open_view(s):
    """The FGSM panel's title is a control, not 'empty space' (which goes back one level)."""
    s.open("?why=1")
    wait_why(s, 1)
    relu = [c for c in s.state()["columns"] if c["kind"] == "relu"][0]
    s.click_neuron(relu["index"], 0)
    s.page.wait_for_selector("#dp-back-relu", state="visible")
    title = "document.querySelector('#fragile summary').click()"  # (the open panel may lie over it)
    s.page.evaluate(title)
    s.page.wait_for_function("+(document.getElementById('fragile').dataset.count || 0) >= 1")
    assert s.page.evaluate("document.getElementById('fragile').open")
    assert len(s.views()) == 1 and "level=2" in s.query()
    s.page.evaluate(title)  # and closing it again
    assert not s.page.evaluate("document.getElementById('fragile').open")
    assert len(s.views()) == 1 and "level=2" in s.query()
    s.escape_all()


IN_VIEW = """(id) => { const r = document.getElementById(id).getBoundingClientRect();
    return r.top >= -1 && r.top < innerHeight; }"""


def test_tutorial_links_scroll_to_their_text_and_keep_the_url(s):
    s.open("?why=1&method=smoothgrad")
    wait_why(s, 1, method="smoothgrad")
    query = s.query()
    for link, anchor in (("#why-help", "tutorial-attribution-smoothgrad"),
                         ('#why a.why-help[href="#tutorial-backpropagation"]', "tutorial-backpropagation")):
        s.page.evaluate("scrollTo(0, 0)")
        assert s.page.get_attribute(link, "href") == f"#{anchor}"
        s.page.click(link)
        s.page.wait_for_function(IN_VIEW, arg=anchor)
        assert s.query() == query and "#" not in s.page.url
    s.page.evaluate("scrollTo(0, 0)")
    s.page.click("#fragile summary")
    s.page.click('#fragile a.why-help')
    s.page.wait_for_function(IN_VIEW, arg="tutorial-fragile")
    assert "#" not in s.page.url
    s.page.evaluate("scrollTo(0, 0)")
    pool = [c for c in s.state()["columns"] if c["kind"] == "maxpool2d"][0]
    s.click_neuron(pool["index"], 0)
    s.page.wait_for_selector("#dp-back-pool", state="visible")
    assert s.page.get_attribute("#dp-back-pool .dp-tutorial", "href") == "#tutorial-backprop-pooling"
    s.page.click("#dp-back-pool .dp-tutorial")
    s.page.wait_for_function(IN_VIEW, arg="tutorial-backprop-pooling")
    assert "#" not in s.page.url
    s.page.evaluate("scrollTo(0, 0)")
    s.escape_all()
