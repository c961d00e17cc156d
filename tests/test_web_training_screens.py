"""The training panel on every screen, by keyboard, and when its worker crashes (issues 14 and 17), in Chromium.

Screens: at 390×844, 768×1024 and 1440×900 the panel — with a plain error message, with two classes of images,
paused mid-run with its curves, and finished with its downloads — has every visible element inside the window
horizontally or inside a container the learner can scroll, and nothing cut off by a clipping box (the same
bounding-box rule as test_web_screens.py; screenshots in test-artifacts/training-screens-*.png).

Keyboard: every control of the panel is reached by Tab, including each class's "Add images…" (Enter opens the
file dialog), and Enter / Space operate them: the panel opens, a class is added, training starts, pauses, takes
one step and resumes.

Worker crash: the worker's own script is served broken (a truncated copy, through routing — the product has no
test hook); Start says in plain words that the worker stopped, the Overview still traces a new image, and once
the script is whole again Start trains to the end.
"""
from __future__ import annotations


import pytest

import cnn101
from cnn101 import learn

import browser as _b
from training_page import TRAIN, add_files, class_files, empty_classes, open_panel, set_settings, training
from web_page import OUTSIDE, READY, assert_matches_engine, make_image, state, wait_paints

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SIZES = [(390, 844), (768, 1024), (1440, 900)]


@pytest.fixture(scope="module")
def files(app, tmp_path_factory):
    """Two classes × 5 PNGs (64×64, from two example classes)."""
    return class_files(app[2], tmp_path_factory.mktemp("screens-classes"))


def fits_everywhere(page, what: str) -> None:
    """The panel at the three sizes: nothing outside the window or cut off; a screenshot of each."""
    problems = {}
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        _b.wait_settled(page)
        _b.wait_frames(page)
        bad = page.evaluate(f"(sel => ({OUTSIDE})(document.querySelector(sel)))", "#training")
        page.locator("#training").screenshot(path=str(_b.artifact_path(f"training-screens-{w}x{h}-{what}")))  # all of it
        if bad:
            problems[f"{w}x{h}"] = bad
    page.set_viewport_size({"width": 1440, "height": 900})
    assert not problems, f"{what}: {problems}"


def test_the_training_panel_fits_every_screen_in_every_state(app, files):
    page = app[0]
    empty_classes(page, 2)
    page.click("#tr-start")  # no images yet: a plain message
    page.wait_for_function("document.getElementById('tr-status').textContent.includes('has no images')",
                           timeout=30_000)
    fits_everywhere(page, "error")

    for row, (name, paths) in enumerate(files.items(), start=1):
        page.fill(f".tr-class:nth-child({row}) .tr-name", name)
        add_files(page, row, paths)
    page.click("#tr-add-class")  # a third row with a long name, no images yet
    page.fill(".tr-class:nth-child(3) .tr-name", "a rather long class name for a phone")
    fits_everywhere(page, "classes")
    page.click(".tr-class:nth-child(3) .tr-remove")

    set_settings(page, 0.01, 2, 500)  # 8 training images → 4 steps an epoch: long enough to pause
    runs = training(page)["runs"]
    page.click("#tr-start")
    page.wait_for_function(f"(t => t.runs > {runs} && t.series.loss.length >= 4)(JSON.parse(cnn101_training()))",
                           timeout=TRAIN)
    fits_everywhere(page, "running")  # the curves, the figures, the buttons while it trains
    page.click("#tr-pause")
    page.wait_for_function("JSON.parse(cnn101_training()).state === 'paused'", timeout=30_000)
    fits_everywhere(page, "paused")
    set_settings(page, 0.01, 2, 1)  # a short run to the end
    runs = training(page)["runs"]
    page.click("#tr-start")
    page.wait_for_function(f"(t => t.runs > {runs} && t.state === 'done')(JSON.parse(cnn101_training()))",
                           timeout=TRAIN)
    page.wait_for_selector("#tr-keep", state="visible", timeout=30_000)
    fits_everywhere(page, "finished")  # the downloads line too
    assert not _b.console_problems(page)


def focused(page) -> str:
    return page.evaluate("""() => { const e = document.activeElement;
        if (!e || !e.closest('#training')) return '';
        if (e.id) return '#' + e.id;
        const row = e.closest('.tr-class');
        const n = row ? [...row.parentElement.children].indexOf(row) + 1 : 0;
        return (e.className || e.tagName.toLowerCase()) + (row ? '@' + n : ''); }""")


CONTROLS = """() => [...document.querySelectorAll(
        '#training summary, #training button, #training select, #training input, #training a[href]')]
    .filter((e) => !e.disabled && !e.closest('[hidden]') && e.getClientRects().length
                   && getComputedStyle(e).visibility !== 'hidden')
    .map((e) => { if (e.id) return '#' + e.id;
                  const row = e.closest('.tr-class');
                  const n = row ? [...row.parentElement.children].indexOf(row) + 1 : 0;
                  return (e.className || e.tagName.toLowerCase()) + (row ? '@' + n : ''); })"""


def tab_through(page, start: str) -> list[str]:
    page.focus(start)
    reached = []
    for _ in range(120):
        page.keyboard.press("Tab")
        name = focused(page)
        if not name:
            break
        reached.append(name)
    return reached


def test_every_training_control_by_keyboard(app, files):
    page = app[0]
    page.on("filechooser", lambda chooser: None)  # Playwright intercepts file dialogs from now on (not a race later)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.reload()
    page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
    page.wait_for_function("window.cnn101_training", timeout=READY)
    if page.is_visible("#tr-start"):
        page.click("#training summary")
    page.focus("#training summary")
    page.keyboard.press("Enter")
    page.wait_for_selector("#tr-start", state="visible")

    page.focus("#tr-add-class")
    page.keyboard.press("Enter")
    assert len(training(page)["names"]) == 3
    page.focus(".tr-class:nth-child(3) .tr-remove")
    page.keyboard.press("Space")
    assert len(training(page)["names"]) == 2

    want = set(page.evaluate(CONTROLS))
    reached = tab_through(page, "#training summary")
    assert want <= set(reached) | {"summary"}, f"not reached by Tab: {sorted(want - set(reached))}"
    assert "tr-files@1" in reached and "tr-files@2" in reached

    page.focus(".tr-class:nth-child(1) .tr-files")  # Space on "Add images…" opens the file dialog
    assert page.evaluate("document.activeElement.type") == "file"
    with page.expect_file_chooser() as fc:
        page.keyboard.press("Space")
    before = training(page)["attempts"]
    names = list(files)
    fc.value.set_files([str(p) for p in files[names[0]]])
    page.wait_for_function(f"JSON.parse(cnn101_training()).attempts >= {before + 5}", timeout=READY)
    add_files(page, 2, files[names[1]])
    assert training(page)["counts"] == [5, 5]

    page.focus("#tr-lr")
    page.keyboard.press("Control+A")
    page.keyboard.type("0.01")
    page.focus("#tr-batch")
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    page.focus("#tr-epochs")
    page.keyboard.press("Control+A")
    page.keyboard.type("40")
    page.focus("#tr-optimizer")
    page.keyboard.press("ArrowDown")  # SGD with momentum
    assert page.eval_on_selector("#tr-optimizer", "e => e.value") == "sgd"

    runs = training(page)["runs"]
    page.focus("#tr-start")
    page.keyboard.press("Enter")
    page.wait_for_function(f"(t => t.runs > {runs} && t.state === 'running' && t.step >= 2)"
                           "(JSON.parse(cnn101_training()))", timeout=TRAIN)
    page.focus("#tr-pause")
    page.keyboard.press("Space")
    page.wait_for_function("JSON.parse(cnn101_training()).state === 'paused'", timeout=30_000)
    step = training(page)["step"]
    page.focus("#tr-step")
    page.keyboard.press("Enter")
    page.wait_for_function(f"JSON.parse(cnn101_training()).step === {step + 1}", timeout=30_000)
    assert training(page)["settings"]["optimizer"] == "sgd" and training(page)["settings"]["epochs"] == 40
    page.focus("#tr-resume")
    page.keyboard.press("Enter")
    page.wait_for_function(f"JSON.parse(cnn101_training()).step > {step + 1}", timeout=30_000)
    page.focus("#tr-pause")
    page.keyboard.press("Enter")
    page.wait_for_function("JSON.parse(cnn101_training()).state === 'paused'", timeout=30_000)
    page.wait_for_selector("#tr-keep", state="visible", timeout=30_000)
    want = set(page.evaluate(CONTROLS))  # now with Pause disabled, One step / Resume / Reset and the downloads
    reached = tab_through(page, "#training summary")
    assert want <= set(reached) | {"summary"}, f"not reached by Tab: {sorted(want - set(reached))}"
    assert not _b.console_problems(page)


def test_a_crashed_worker_is_said_plainly_and_the_page_keeps_working(browser, app_url, app_site, app_model, files,
                                                                    tmp_path):
    """The worker's script arrives truncated (as a broken download would): the worker dies on load."""
    from web_page import open_app

    ctx = _b.guarded_context(browser, lean=True, service_workers="block")  # every request through routing, none from a cache
    page = ctx.new_page()
    problems = _b.track_console(page)
    try:
        open_app(page, app_url)
        script = (app_site / "training-worker.mjs").read_text()
        broken = script[: len(script) // 2]

        def serve_broken(route):
            route.fulfill(status=200, content_type="text/javascript", body=broken)

        ctx.route("**/training-worker.mjs", serve_broken)
        open_panel(page)
        for row, (name, paths) in enumerate(files.items(), start=1):
            page.fill(f".tr-class:nth-child({row}) .tr-name", name)
            add_files(page, row, paths[:2])
        set_settings(page, 0.05, 2, 1, "sgd")
        page.click("#tr-start")
        page.wait_for_function("JSON.parse(cnn101_training()).state === 'failed'", timeout=TRAIN)
        status = page.text_content("#tr-status")
        assert "training worker stopped" in status and "page still works" in status and "Start training" in status
        assert page.is_enabled("#tr-start") and page.is_enabled("#tr-scratch")

        # the Overview still traces a new image, with the model on show (the new output layer, not trained yet)
        st = state(page)
        names = list(files)
        assert st["model"]["class_names"] == names
        shown = learn.replace_output(app_model, names, seed=0)
        img = make_image(tmp_path, "after-crash.png", size=(64, 64), source=next(iter(files.values()))[0])
        page.set_input_files("#upload", str(img))
        wait_paints(page, st["paints"])
        assert_matches_engine(state(page), shown, cnn101.load_image(img, app_model))  # = CPython on the same file

        ctx.unroute("**/training-worker.mjs", serve_broken)  # the fault is gone: Start trains to the end
        runs = training(page)["runs"]
        page.click("#tr-start")
        page.wait_for_function(f"(t => t.runs > {runs} && ['done', 'nan', 'failed'].includes(t.state))"
                               "(JSON.parse(cnn101_training()))", timeout=TRAIN)
        tr = training(page)
        assert tr["state"] == "done", tr["message"]
        assert tr["step"] == tr["total"] and tr["step"] >= 1
        assert "trained here" in page.text_content("#model-name")
        unexpected = [p for p in problems if "training-worker" not in p and "SyntaxError" not in p]
        assert not unexpected, unexpected
    finally:
        ctx.close()
    _b.check_offline(ctx)
