"""Issue 17's acceptance for the 'why' parts (issue 16): at 390×844 (a phone, touch), 768×1024 and 1440×900
the why panel (its controls, the attribution overlay, the open FGSM panel) and every backward view a click
can open in why mode (convolution, ReLU, max pooling, the output's flatten + dense and its softmax step) have
every visible element inside the window horizontally or inside a container the learner can scroll, and
none cut off by a clipping box (bounding boxes, as tests/test_web_screens.py checks the forward views), nor
left of where its scrolling container's content starts (a centred row wider than its box spills there);
each view is a labelled role="dialog". Screenshots are kept in test-artifacts/screens-why-*.png.
"""
from __future__ import annotations

import pytest

import browser as _b
from test_web_screens import OUTSIDE, SIZES, check_fits, open_neuron
from views_sites import Session

pytestmark = [pytest.mark.browser, pytest.mark.slow]


# Elements that lie left of (or above) where their scrolling container's content starts: a centred row wider
# than its box spills there, and no scrolling reaches it.
UNREACHABLE = """(root) => {
  const bad = [];
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                      (e.classList.length ? '.' + [...e.classList].join('.') : '');
  for (const el of root.querySelectorAll('*')) {
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1 || el.closest('[hidden]')) continue;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (!['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) continue;
      const b = a.getBoundingClientRect();
      if (r.left < b.left - a.scrollLeft - 1) bad.push(name(el) + ' left of ' + name(a) + "'s scroll range");
      break;
    }
  }
  return [...new Set(bad)].slice(0, 12);
}"""


def check_reachable(s, what: str, tag: str) -> None:
    bad = s.page.evaluate(f"() => [...document.querySelectorAll('[role=dialog]:not(.leaving), #why')]"
                          f".flatMap((d) => ({UNREACHABLE})(d))")
    assert not bad, f"{what} at {tag}: {bad}"


@pytest.fixture(scope="module")
def s(browser, app_url, app_model):
    session = Session(browser, app_url, app_model, "tiny", has_touch=True, viewport={"width": 1440, "height": 900})
    session.open("?why=1")
    session.page.wait_for_function("JSON.parse(cnn101_state()).why.on", timeout=60_000)
    yield session
    session.close()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_why_panel_and_every_backward_view_fit(s, size):
    w, h = size
    tag = f"why-{w}x{h}"
    s.page.set_viewport_size({"width": w, "height": h})
    s.escape_all()
    if not s.page.evaluate("document.getElementById('fragile').open"):
        s.page.click("#fragile summary")
        s.page.wait_for_function("+(document.getElementById('fragile').dataset.count || 0) >= 1")
    _b.wait_settled(s.page)
    bad = s.page.evaluate(f"() => ({OUTSIDE})(document.getElementById('why'))")
    s.page.locator("#why").scroll_into_view_if_needed()
    _b.screenshot(s.page, f"screens-{tag}-panel", full_page=False)
    assert not bad, f"the why panel at {tag}: {bad}"
    check_reachable(s, "the why panel", tag)
    s.page.locator("#fragile").scroll_into_view_if_needed()
    _b.screenshot(s.page, f"screens-{tag}-fragile", full_page=False)
    bad = s.page.evaluate(f"() => ({OUTSIDE})(document.querySelector('main'))")
    assert not bad, f"the why Overview at {tag}: {bad}"
    cols = s.columns()
    by_kind = {}
    for c in cols:
        by_kind.setdefault(c["kind"], c)
    convs = [c for c in cols if c["kind"] == "conv2d"]
    for what, col, kind in [("conv", convs[min(1, len(convs) - 1)], "back-conv"),
                            ("relu", by_kind.get("relu"), "back-relu"),
                            ("pool", by_kind.get("maxpool2d"), "back-pool"), ("output", cols[-1], "back-flatten")]:
        if col is None:
            continue
        s.escape_all()
        s.page.evaluate("scrollTo(0, 0)")
        open_neuron(s, col["index"], 0)
        assert s.top()["kind"] == kind
        check_fits(s, f"back-{what}", tag)
        check_reachable(s, f"back-{what}", tag)
        if what == "output":
            s.page.click(".bk-softmax")
            s.page.wait_for_function("JSON.parse(cnn101_views()).length > 1", timeout=10_000)
            assert s.top()["kind"] == "back-softmax"
            check_fits(s, "back-softmax", tag)
            check_reachable(s, "back-softmax", tag)
    s.escape_all()
