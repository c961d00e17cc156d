"""The lab's panels on every screen and by keyboard (issues 13 and 17), in headless Chromium.

At 390×844, 768×1024 and 1440×900: 'Change the image' with the drawing pad, compare mode (its bar, the list
of probability changes and the Overview's B − A legends), the kernel playground and the conv view's weight
editor each have every visible element inside the window horizontally or inside a container the learner can
scroll, and nothing cut off by a clipping box (the same bounding-box rule as test_web_screens.py;
screenshots in test-artifacts/lab-screens-*.png). The webcam preview is checked the same way in
test_web_webcam.py (it needs its own browser with the fake camera).

Keyboard: every control of the lab is reached by Tab (a radio group counts once), and Enter, Space and the
arrow keys operate them: the lab opens, 'Only red' and a slider change the image, the arrow keys move the
grey patch and Delete removes it, a tool is chosen with the arrows, compare mode starts and stops, the
playground opens and Esc closes it.
"""
from __future__ import annotations

import json

import pytest

import browser as _b
from web_page import OUTSIDE, state

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SIZES = [(390, 844), (768, 1024), (1440, 900)]


def lab(page) -> dict:
    return state(page)["lab"]


def wait_traced(page, before: int) -> dict:
    page.wait_for_function(f"(() => {{ const l = JSON.parse(cnn101_state()).lab; "
                           f"return l.changes > {before} && l.traced === l.changes; }})()", timeout=30_000)
    return lab(page)


def cmp_state(page) -> dict:
    return json.loads(page.evaluate("cnn101_compare()"))


def fits(page, selector: str, what: str, tag: str) -> None:
    _b.wait_settled(page)
    bad = page.evaluate(f"sel => [...document.querySelectorAll(sel)].flatMap((d) => ({OUTSIDE})(d))", selector)
    page.locator(selector).first.scroll_into_view_if_needed()
    _b.screenshot(page, f"lab-screens-{tag}-{what}", full_page=False)
    assert not bad, f"{what} at {tag}: {bad}"


def open_lab(page) -> None:
    if page.is_hidden("#lab-body"):
        page.click("#lab-toggle")
    page.wait_for_selector("#lab-body", state="visible")


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_lab_panel_fits(app, size):
    page = app[0]
    w, h = size
    tag = f"{w}x{h}"
    page.set_viewport_size({"width": w, "height": h})
    open_lab(page)
    fits(page, "#lab", "lab", tag)  # change the image, the drawing pad, the compare / webcam / playground row

    n = cmp_state(page)["shown"]
    page.click("#compare-pin")
    page.wait_for_function(f"JSON.parse(cnn101_compare()).shown > {n}", timeout=30_000)
    before = lab(page)["changes"]
    page.click('#lab button[data-lab="only"][data-ch="red"]')
    wait_traced(page, before)
    page.wait_for_selector("#compare-changes", state="visible")
    fits(page, "#lab", "compare", tag)  # the bar, its status line and every class's change
    fits(page, "main", "compare-overview", tag)  # the Overview with its B − A legends
    page.click("#compare-stop")
    before = lab(page)["changes"]
    page.click('#lab button[data-lab="clear"]')
    wait_traced(page, before)

    page.click("#pg-open")
    page.wait_for_selector("#playground", state="visible")
    fits(page, "#playground", "playground", tag)
    page.keyboard.press("Escape")
    page.wait_for_selector("#playground", state="hidden")

    col = next(c for c in state(page)["columns"] if c["kind"] == "conv2d")
    page.click(f'[data-col="{col["index"]}"][data-neuron="0"]')
    page.wait_for_selector("#conv-view .cv-edit-weight", state="visible", timeout=30_000)
    fits(page, "#conv-view", "weight-editor", tag)
    page.keyboard.press("Escape")
    page.wait_for_selector("#conv-view", state="detached", timeout=10_000)
    assert not _b.console_problems(page)


def focused(page) -> str:
    """A name for the focused element: its id, or its data-lab(+channel/direction), or radio:<name>."""
    return page.evaluate("""() => { const e = document.activeElement;
        if (!e || !e.closest('#lab')) return '';
        if (e.type === 'radio') return 'radio:' + e.name;
        if (e.id) return '#' + e.id;
        if (e.dataset.lab) return e.dataset.lab + (e.dataset.ch || e.dataset.dir || e.dataset.i || '');
        return e.tagName.toLowerCase() + '?'; }""")


CONTROLS = """() => [...document.querySelectorAll('#lab button, #lab select, #lab input, #lab [tabindex="0"]')]
    .filter((e) => !e.disabled && !e.closest('[hidden]') && e.getClientRects().length
                   && getComputedStyle(e).visibility !== 'hidden')
    .map((e) => e.type === 'radio' ? 'radio:' + e.name : e.id ? '#' + e.id
                : e.dataset.lab ? e.dataset.lab + (e.dataset.ch || e.dataset.dir || e.dataset.i || '') : e.tagName.toLowerCase() + '?')"""


def test_every_lab_control_by_keyboard(app):
    page = app[0]
    page.set_viewport_size({"width": 1440, "height": 900})
    if page.is_visible("#lab-body"):
        page.click("#lab-toggle")  # start closed
    page.focus("#lab-toggle")
    page.keyboard.press("Enter")
    page.wait_for_selector("#lab-body", state="visible")
    assert page.get_attribute("#lab-toggle", "aria-expanded") == "true"

    want = set(page.evaluate(CONTROLS))
    reached = []
    page.focus("#lab-toggle")
    for _ in range(200):  # Tab through the lab until the focus leaves it
        page.keyboard.press("Tab")
        name = focused(page)
        if not name:
            break
        reached.append(name)
    assert want <= set(reached) | {"#lab-toggle"}, f"not reached by Tab: {sorted(want - set(reached))}"

    before = lab(page)["changes"]
    page.focus('#lab button[data-lab="only"][data-ch="red"]')
    page.keyboard.press("Space")
    st = wait_traced(page, before)
    assert st["steps"] == [{"op": "keep_channel", "channel": "red"}]

    page.focus("#lab-brightness")
    page.keyboard.press("ArrowRight")
    st = wait_traced(page, st["changes"])
    assert {"op": "brightness", "amount": 0.05} in st["steps"]

    page.focus("#lab-canvas")
    page.keyboard.press("ArrowRight")  # the first arrow places the patch in the middle
    st = wait_traced(page, st["changes"])
    patch = next(s for s in st["steps"] if s["op"] == "occlude")
    page.keyboard.press("ArrowRight")
    st = wait_traced(page, st["changes"])
    moved = next(s for s in st["steps"] if s["op"] == "occlude")
    assert (moved["top"], moved["left"]) == (patch["top"], patch["left"] + 1)
    page.keyboard.press("Delete")
    st = wait_traced(page, st["changes"])
    assert all(s["op"] != "occlude" for s in st["steps"])

    page.focus('#lab input[name="lab-tool"]:checked')
    page.keyboard.press("ArrowRight")  # the radio group: the next tool
    assert page.evaluate("document.querySelector('#lab input[name=\"lab-tool\"]:checked').value") != "patch"
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.querySelector('#lab input[name=\"lab-tool\"]:checked').value") == "patch"

    page.focus('#lab button[data-lab="clear"]')
    page.keyboard.press("Enter")
    st = wait_traced(page, st["changes"])
    assert st["steps"] == []

    n = cmp_state(page)["shown"]
    page.focus("#compare-pin")
    page.keyboard.press("Enter")
    page.wait_for_function(f"JSON.parse(cnn101_compare()).shown > {n}", timeout=30_000)
    assert cmp_state(page)["active"]
    page.focus("#compare-stop")
    page.keyboard.press("Space")
    page.wait_for_function("!JSON.parse(cnn101_compare()).active", timeout=30_000)

    page.focus("#pg-open")
    page.keyboard.press("Enter")
    page.wait_for_selector("#playground", state="visible")
    assert page.evaluate("document.activeElement.id") == "pg-channel"
    page.keyboard.press("Escape")
    page.wait_for_selector("#playground", state="hidden")
    assert not _b.console_problems(page)
