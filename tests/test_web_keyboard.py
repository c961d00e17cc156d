"""Keyboard, screen readers, reduced motion, touch and the tutorial text, in headless Chromium on both
sites: neurons and controls are focusable in order, Enter opens, Esc goes back (focus returns), arrow keys
move the window unless a slider has the focus, live regions say what is shown, `prefers-reduced-motion`
opens views paused without animation, a tap does what a hover does, and every label and view links to a
tutorial section that the build rendered from docs/tutorial.md."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import browser as _b
from views_sites import Session, site_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TUTORIAL = (Path(__file__).resolve().parents[1] / "docs" / "tutorial.md").read_text(encoding="utf-8")
ANCHORS = re.findall(r'^<a id="(tutorial-[a-z0-9-]+)"></a>\n## ', TUTORIAL, flags=re.M)  # sections (### ones are headings)


def _session(request, browser, which, **kwargs):
    url, model = site_for(request, which)
    session = Session(browser, url, model, which, pool=_b.warm_pool(request), **kwargs)
    session.open()
    return session


@pytest.fixture(scope="module", params=["tiny", "synthetic"])
def s(request, browser):
    session = _session(request, browser, request.param)
    yield session
    session.close()


def active(s) -> dict:
    return s.page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName, id: e.id, cls: e.className && e.className.baseVal !== undefined ? e.className.baseVal
                : e.className, col: e.dataset ? e.dataset.col : null, neuron: e.dataset ? e.dataset.neuron : null,
                inPanel: !!e.closest('.dp, .lv'), panel: (e.closest('.dp, .lv') || {}).id || null}; }""")


def test_neurons_are_focusable_buttons_in_column_order(s):
    nodes = s.page.eval_on_selector_all("[data-neuron]", """e => e.map(n => [+n.dataset.col, +n.dataset.neuron,
        n.getAttribute('tabindex'), n.getAttribute('role'), n.getAttribute('aria-label') || ''])""")
    assert len(nodes) == sum(c["neurons"] for c in s.columns())
    assert all(r == "button" and label for _, _, t, r, label in nodes)
    assert [t for *_, t, _, _ in nodes].count("0") == 1  # the Overview is one Tab stop (issue 17) ...
    assert [(c, n) for c, n, *_ in nodes] == sorted((c, n) for c, n, *_ in nodes)  # DOM order = columns, then neurons
    # ... and arrow keys move inside it: Down to the next neuron, Right to the next column
    col = s.column("relu")
    s.page.focus(f'[data-col="{col["index"]}"][data-neuron="0"]')
    s.page.keyboard.press("ArrowDown")
    a = active(s)
    assert (int(a["col"]), int(a["neuron"])) == (col["index"], 1)
    s.page.keyboard.press("ArrowRight")
    a = active(s)
    assert int(a["col"]) == col["index"] + 1
    assert s.page.get_attribute(f'[data-col="{a["col"]}"][data-neuron="{a["neuron"]}"]', "tabindex") == "0"
    assert s.page.inner_text("#info")  # the info line (aria-live) describes the focused neuron


def test_enter_opens_esc_goes_back_and_focus_returns(s):
    col = s.column("maxpool2d")
    sel = f'[data-col="{col["index"]}"][data-neuron="0"]'
    s.page.focus(sel)
    s.page.keyboard.press("Enter")
    s.page.wait_for_selector("#dp-pool", state="visible")
    assert active(s)["panel"] == "dp-pool"
    assert "Max pooling view opened" in s.page.inner_text("#view-status")
    assert s.page.get_attribute("#dp-pool", "role") == "dialog"
    desc = s.page.get_attribute("#dp-pool", "aria-describedby")
    assert "largest value" in s.page.inner_text(f"#{desc}")
    # Tab walks the panel's controls in a sensible order
    seen = []
    for _ in range(8):
        s.page.keyboard.press("Tab")
        a = active(s)
        assert a["inPanel"], a
        seen.append(a["cls"].split()[0] if a["cls"] else a["tag"].lower())
    assert seen[:8] == ["dp-tutorial", "export-png", "export-svg", "dp-close", "dp-play", "dp-prev", "dp-next",
                        "dp-speed"]  # Save PNG / Save SVG (issue 13) sit in the header, before ×
    # arrows on the speed slider change the speed, not the window
    if s.top()["playing"]:
        s.page.click("#dp-pool .dp-play")
    before = s.top()["index"]
    s.page.focus("#dp-pool .dp-speed")
    s.page.keyboard.press("ArrowRight")
    assert s.top()["index"] == before and s.top()["speed"] == 2.0
    s.page.keyboard.press("ArrowLeft")
    assert s.top()["speed"] == 1.0
    # elsewhere in the panel the arrows move the window and the live region says the new value
    s.page.focus("#dp-pool .dp-next")
    s.page.keyboard.press("Home")
    s.page.keyboard.press("ArrowRight")
    assert s.top()["index"] == 1
    assert s.page.inner_text("#dp-pool .dp-live").startswith("Output row 0, column 1: max of")
    s.page.keyboard.press("Escape")
    s.page.wait_for_selector("#dp-pool", state="detached")
    a = active(s)
    assert (int(a["col"]), int(a["neuron"])) == (col["index"], 0)  # focus back on the neuron
    assert "closed" in s.page.inner_text("#view-status")


def test_keyboard_reaches_the_flatten_and_softmax_views(s):
    out = s.column("output")
    s.page.focus(f'[data-col="{out["index"]}"][data-neuron="0"]')
    s.page.keyboard.press("Enter")
    s.page.wait_for_selector("#lv-flatten", state="visible")
    assert active(s)["panel"] == "lv-flatten"
    s.page.keyboard.press("ArrowRight")
    assert s.top()["current"] == 0
    s.page.focus("#lv-flatten .fv-softmax")
    s.page.keyboard.press("Enter")
    s.page.wait_for_selector("#dp-softmax", state="visible")
    assert active(s)["panel"] == "dp-softmax"
    s.page.keyboard.press("ArrowDown")
    assert s.top()["index"] == 1 and "probability" in s.page.inner_text("#dp-softmax .dp-live")
    s.page.keyboard.press("Escape")
    s.page.wait_for_selector("#dp-softmax", state="detached")
    s.page.keyboard.press("Escape")
    s.page.wait_for_selector("#lv-flatten", state="detached")
    a = active(s)
    assert (int(a["col"]), int(a["neuron"])) == (out["index"], 0)


def _without_at(query: str) -> dict:
    from urllib.parse import parse_qs

    return {k: v for k, v in parse_qs(query.lstrip("?")).items() if k != "at"}


def test_tutorial_rendered_and_linked(s):
    ids = s.page.eval_on_selector_all("#tutorial section[id]", "e => e.map(x => x.id)")
    assert ids == ANCHORS and len(ids) >= 9
    assert "put here by the build" not in s.page.inner_text("#tutorial")
    for href in s.page.eval_on_selector_all(".ov-label", "e => e.map(a => a.getAttribute('href'))"):
        assert href[1:] in ids, href
    # every view links to an existing section; following the link scrolls there and keeps the URL
    for kind, panel in (("relu", "#dp-relu"), ("maxpool2d", "#dp-pool"), ("output", "#lv-flatten")):
        col = s.column(kind)
        s.click_neuron(col["index"], 0)
        s.page.wait_for_selector(panel, state="visible")
        href = s.page.get_attribute(f"{panel} .dp-tutorial", "href")
        assert href[1:] in ids
        query = s.query()
        s.page.click(f"{panel} .dp-tutorial")
        s.page.wait_for_function(f"document.getElementById({href[1:]!r}).getBoundingClientRect().top < innerHeight")
        # still open, state kept (a pointer left over a flatten element after the scroll may set the
        # hovered position 'at', which is state too; the neuron and level must not change)
        assert _without_at(s.query()) == _without_at(query) and s.views()
        s.escape_all()


# --- reduced motion and touch (their own contexts) -------------------------------------------------------
@pytest.fixture(scope="module")
def calm(request, browser):
    session = _session(request, browser, "synthetic", reduced_motion="reduce", has_touch=True)
    yield session
    session.close()


def test_reduced_motion_opens_paused_without_animation(calm):
    col = calm.column("relu")
    calm.click_neuron(col["index"], 0)
    calm.page.wait_for_selector("#dp-relu", state="visible")
    assert calm.top()["playing"] is False and calm.top()["index"] == 0
    assert calm.page.eval_on_selector("#dp-relu", "e => getComputedStyle(e).animationName") == "none"
    calm.page.click("#dp-relu .dp-next")  # steps are instant
    assert calm.top()["index"] == 1
    calm.page.click("#dp-relu .dp-play")  # the learner may still play
    calm.page.wait_for_function("JSON.parse(cnn101_views()).at(-1).index > 2", timeout=10_000)
    calm.page.click("#dp-relu .dp-play")
    calm.escape_all()


def test_tap_does_what_hover_does(calm):
    col = calm.column("maxpool2d")
    calm.page.tap(f'[data-col="{col["index"]}"][data-neuron="1"]')  # the first tap shows the value (issue 17)
    assert col["name"] in calm.page.text_content("#info") and calm.views() == []
    calm.page.tap(f'[data-col="{col["index"]}"][data-neuron="1"]')  # the second opens
    calm.page.wait_for_selector("#dp-pool", state="visible")
    grid = calm.top()["grid"]
    x, y = calm.cell_point('#dp-pool svg[data-grid="output"]', grid[0] - 1, 0)
    calm.page.touchscreen.tap(x, y)
    assert calm.top()["at"] == [grid[0] - 1, 0]
    calm.shot("views-pool-touch-reduced-motion")
    calm.escape_all()
