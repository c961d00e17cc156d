"""The backward views (web/app/back_*.py) in headless Chromium, on the Tiny VGG site and the synthetic model's
site (5×5 stride-2 'same' convs, an overlapping pool, 3 classes): in why mode a click on a conv, ReLU,
max-pool or output neuron opens that layer kind's backward view — a labelled role="dialog" — instead of the
forward one; every number it shows (the data-value of each printed cell, collected by the panel's state)
equals CPython's `explain.backward_view` for the page's image and class (≤ 1e-5) at several steps reached
by the arrow keys, Home/End, a hover and the play control; the output's view opens the softmax +
cross-entropy step (p − y) at level 3; Esc, the close button and the browser's Back/Forward go up and down
a level as for the forward views. Outside requests are blocked by the shared fixtures.
"""
from __future__ import annotations

import numpy as np
import pytest

from cnn101.explain import backward_view, conv_input_gradient, softmax_backward
from views_sites import open_session

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.real_start]  # pages reload ≥ 2× per context: cheaper with SW + snapshot
WHY = "JSON.parse(cnn101_state()).why"


@pytest.fixture(scope="module", params=["tiny", "synthetic"])
def s(request, browser):
    yield from open_session(request, browser, "?why=1")  # as every test opens it: the first needs no reload


def close(a, b, tol=1e-5) -> bool:
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    fin = np.isfinite(b)
    return (a.shape == b.shape and bool(np.array_equal(np.isfinite(a), fin))
            and bool(np.all(a[~fin] == b[~fin]))
            and float(np.max(np.abs(a[fin] - b[fin]), initial=0)) <= tol * max(1.0, float(np.max(np.abs(b[fin]), initial=0))))


def why_on(s, query: str = "") -> None:
    s.at("?why=1" + query)
    s.page.wait_for_function(f"(() => {{ const w = {WHY}; return w.on && w.count >= 1; }})()", timeout=60_000)


def grads(s, target=None):
    trace = s.trace()
    t = int(trace.predicted) if target is None else target
    return trace, s.model.backward(trace, t)


def open_back(s, kind: str, neuron: int, panel: str) -> dict:
    col = [c for c in s.columns() if c["kind"] == kind][0] if kind != "output" else s.columns()[-1]
    s.click_neuron(col["index"], neuron)
    s.page.wait_for_selector(f"#{panel}", state="visible", timeout=10_000)
    assert s.page.get_attribute(f"#{panel}", "role") == "dialog"
    label = s.page.text_content(f"#{s.page.get_attribute(f'#{panel}', 'aria-labelledby')}")
    assert "backwards" in label
    assert "level=2" in s.query() and f"neuron={col['name']}.{neuron}" in s.query() and "why=1" in s.query()
    return col


def steps(s, panel: str):
    """Visit several steps as a learner would; yield the panel's state at each."""
    s.page.focus(f"#{panel}")
    if s.top()["playing"]:  # pause first: autoplay would move on between reading the state and the page
        s.page.click(f"#{panel} .dp-play")
        s.page.wait_for_function("!JSON.parse(cnn101_views()).at(-1).playing")
    yield s.top()  # wherever autoplay stopped
    for key in ("Home", "ArrowRight", "ArrowDown", "End", "ArrowLeft"):
        s.page.keyboard.press(key)
        top = s.top()
        assert not top["playing"]
        yield top


def shown(top, name):
    return top["shown"].get(name, [])


def test_relu_backward(s):
    why_on(s)
    col = open_back(s, "relu", 1, "dp-back-relu")
    trace, g = grads(s)
    v = backward_view(trace, g, col["name"], 1)
    for top in steps(s, "dp-back-relu"):
        r, c = top["at"]
        assert close(shown(top, "x"), v.input[r, c]) and close(shown(top, "upstream"), v.upstream[r, c])
        assert close(shown(top, "gradient"), v.input_gradient[r, c])
    s.page.keyboard.press("Escape")
    s.page.wait_for_function("JSON.parse(cnn101_views()).length === 0")
    assert "level" not in s.query()


def test_pool_backward_with_ties(s):
    why_on(s)
    trace, g = grads(s)
    pool = [c for c in s.columns() if c["kind"] == "maxpool2d"][0]
    # the first channel with a window whose maximum is tied (ReLU zeros make them common)
    tied_in = [c for c in range(pool["shape"][2]) if (backward_view(trace, g, pool["name"], c).ties > 1).any()]
    assert tied_in, "no tied window in any channel: the tie case is not exercised"
    col = open_back(s, "maxpool2d", tied_in[0], "dp-back-pool")
    v = backward_view(trace, g, col["name"], tied_in[0])
    seen = []
    for top in steps(s, "dp-back-pool"):
        i, j = top["at"]
        w = v.window(i, j)
        assert close(shown(top, "window"), w.values) and close(shown(top, "upstream"), w.upstream)
        assert close(shown(top, "gradient"), v.input_gradient[w.target_cell])
        assert int(s.page.get_attribute("#dp-back-pool .dp-eq-note", "data-ties")) == w.ties
        seen.append((i, j))
    i, j = (int(t) for t in np.argwhere(v.ties > 1)[0])  # a tie: the first maximum gets the gradient
    s.hover_cell('#dp-back-pool svg[data-grid="upstream"]', i, j)
    s.page.wait_for_function(f"JSON.parse(cnn101_views()).at(-1).at.join() === '{i},{j}'", timeout=10_000)
    top = s.top()
    w = v.window(i, j)
    marks = s.page.eval_on_selector_all('#dp-back-pool .dp-eq [data-name="window"]',
                                        "els => els.map(e => e.classList.contains('mark'))")
    assert marks == w.tied.ravel().tolist() and sum(marks) > 1
    assert "tie" in s.page.text_content("#dp-back-pool .dp-eq-note")
    assert close(shown(top, "gradient"), v.input_gradient[w.target_cell]) and w.tied[w.winner]
    s.shot(f"back-pool-{s.which}")
    s.page.click("#dp-back-pool .dp-close")
    s.page.wait_for_function("JSON.parse(cnn101_views()).length === 0")


def test_conv_backward(s):
    why_on(s)
    convs = [c for c in s.columns() if c["kind"] == "conv2d"]
    col = convs[1]
    s.click_neuron(col["index"], 1)
    panel = "dp-back-conv"
    s.page.wait_for_selector(f"#{panel}", state="visible", timeout=10_000)
    trace, g = grads(s)
    v = backward_view(trace, g, col["name"], 1)
    channels = v.input.shape[2]
    for c in (0, channels - 1):
        if c:
            s.page.select_option(f"#{panel} .bk-channel", str(c))
            s.page.wait_for_function(f"JSON.parse(cnn101_views()).at(-1).channel === {c}")
        total = conv_input_gradient(trace, g, col["name"], c).total
        for top in steps(s, panel):
            r, k = top["at"]
            win, flipped, share = v.input_window(c, r, k)
            assert top["channel"] == c
            assert close(shown(top, "window"), win) and close(shown(top, "flipped"), flipped)
            assert close(shown(top, "share"), share) and close(share, v.input_share(c)[r, k])
            assert close(shown(top, "channel-gradient"), total[r, k])
            assert close(shown(top, "kernel-gradient"), v.kernel_gradient[:, :, c])
            assert close(shown(top, "bias-gradient"), v.bias_gradient)
        kh, kw = v.kernel.shape[:2]
        s.page.hover(f'#{panel} .bk-kgrad [data-kernel="{kh * kw - 1}"]')
        s.page.wait_for_function(f"JSON.parse(cnn101_views()).at(-1).kernel_at.join() === '{kh - 1},{kw - 1}'")
        assert close(shown(s.top(), "kernel-sum"), v.kernel_window(kh - 1, kw - 1, c)[2])
        assert close(v.kernel_window(kh - 1, kw - 1, c)[2], v.kernel_gradient[kh - 1, kw - 1, c])
    # the first conv too (it reads the image)
    s.page.keyboard.press("Escape")
    s.click_neuron(convs[0]["index"], 0)
    s.page.wait_for_selector(f"#{panel}", state="visible", timeout=10_000)
    v0 = backward_view(trace, g, convs[0]["name"], 0)
    top = s.top()
    r, k = top["at"]
    assert close(shown(top, "share"), v0.input_share(0)[r, k])
    s.escape_all()


def test_output_backward_and_the_softmax_step(s):
    why_on(s)
    trace, g = grads(s)
    k = (int(trace.predicted) + 1) % len(s.model.class_names)
    col = open_back(s, "output", k, "dp-back-flatten")
    v = backward_view(trace, g, col["name"], k)
    d, fold = v.dense, v.flatten
    for top in steps(s, "dp-back-flatten"):
        i = top["index"]
        terms, total = d.input_terms(i)
        x, gy, dw = d.weight_term(i, k)
        assert close(shown(top, "gy"), d.upstream) and close(shown(top, "term"), terms)
        assert close(shown(top, "gradient"), total) and close(total, fold.vector[i])
        assert close(shown(top, "x"), x) and close(shown(top, "gy-k"), gy) and close(shown(top, "weight-gradient"), dw)
        assert close(shown(top, "bias-gradient"), d.bias_gradient[k])
        r, c, ch = fold.mapping.position(i)
        assert f"channel {ch}, row {r}, column {c}" in s.page.text_content("#dp-back-flatten .dp-eq-note")
        assert close(fold.maps[r, c, ch], total)
    # a hover on a folded map picks that flatten element
    h, w, channels = fold.mapping.shape
    s.hover_cell(f'#dp-back-flatten svg[data-grid="fold-{channels - 1}"]', h - 1, 0)
    want = int(fold.mapping.index(h - 1, 0, channels - 1))
    s.page.wait_for_function(f"JSON.parse(cnn101_views()).at(-1).index === {want}", timeout=10_000)
    # level 3: where gy comes from — p − y
    s.page.click("#dp-back-flatten .bk-softmax")
    s.page.wait_for_selector("#dp-back-softmax", state="visible")
    assert "level=3" in s.query() and "part=softmax" in s.query()
    sm = softmax_backward(trace, g)
    top = s.top()
    assert top["index"] == k
    assert close(shown(top, "p"), sm.probs) and close(shown(top, "y"), sm.onehot)
    assert close(shown(top, "p-y"), sm.logit_gradient) and close(shown(top, "p-y"), g["logits"])
    assert close(shown(top, "loss"), g.loss)
    assert close(shown(top, "step-p-y"), sm.logit_gradient[k])
    s.page.go_back(wait_until="commit")  # browser Back: up one level (the softmax step closes)
    s.page.wait_for_function("JSON.parse(cnn101_views()).length === 1")
    assert "level=2" in s.query()
    s.page.go_back(wait_until="commit")
    s.page.wait_for_function("JSON.parse(cnn101_views()).length === 0")
    s.page.go_forward(wait_until="commit")
    s.page.wait_for_function("JSON.parse(cnn101_views()).length === 1")
    assert s.top()["kind"] == "back-flatten"
    s.page.go_forward(wait_until="commit")
    s.page.wait_for_function("JSON.parse(cnn101_views()).length === 2")
    assert s.top()["kind"] == "back-softmax"
    s.escape_all()


def test_a_shared_link_opens_the_backward_view_and_why_off_goes_forward(s):
    relu = [c for c in s.columns() if c["kind"] == "relu"][0]
    why_on(s, f"&neuron={relu['name']}.0&level=2")
    s.page.wait_for_selector("#dp-back-relu", state="visible", timeout=10_000)
    assert s.top()["kind"] == "back-relu"
    other = (int(s.trace().predicted) + 1) % len(s.model.class_names)
    s.page.select_option("#why-class", str(other))  # another class: the open view shows its gradients
    s.page.wait_for_function(f"JSON.parse(cnn101_state()).why.target === {other} && "
                             "JSON.parse(cnn101_views()).length === 1")
    trace, g = grads(s, other)
    v = backward_view(trace, g, relu["name"], 0)
    s.page.focus("#dp-back-relu")
    s.page.keyboard.press("End")
    top = s.top()
    r, c = top["at"]
    assert close(shown(top, "upstream"), v.upstream[r, c])
    s.page.click("#why-toggle")  # back to activations: the forward view of the same neuron
    s.page.wait_for_selector("#dp-relu", state="visible", timeout=10_000)
    assert s.top()["kind"] == "relu"
    s.escape_all()


def test_keyboard_opens_plays_and_closes_a_backward_view(s):
    """Enter on a focused neuron opens its backward view with the focus in it; Play runs it on the one
    clock at the chosen speed; Esc closes it and the focus returns to the neuron."""
    why_on(s, "&speed=16")
    pool = [c for c in s.columns() if c["kind"] == "maxpool2d"][0]
    neuron = f'.ov-neuron[data-col="{pool["index"]}"][data-neuron="1"]'
    s.page.focus(neuron)
    s.page.keyboard.press("Enter")
    s.page.wait_for_selector("#dp-back-pool", state="visible", timeout=10_000)
    assert s.page.evaluate("document.activeElement.id") == "dp-back-pool"
    top = s.top()
    assert top["kind"] == "back-pool" and top["channel"] == 1 and top["speed"] == 16
    if top["playing"]:
        s.page.click("#dp-back-pool .dp-play")
    s.page.keyboard.press("Home")
    s.page.click("#dp-back-pool .dp-play")
    s.page.wait_for_function("JSON.parse(cnn101_views()).at(-1).index >= 5", timeout=20_000)
    assert s.top()["playing"]
    s.page.keyboard.press("Escape")
    s.page.wait_for_function("JSON.parse(cnn101_views()).length === 0")
    assert s.page.evaluate("document.activeElement.matches(arguments[0])".replace("arguments[0]", repr(neuron)))
