"""Shared fixtures. Browser fixtures (see tests/browser.py for the helpers):

  browser        session: headless Debian Chromium (skips the test when /usr/bin/chromium is missing)
  context        a fresh context whose outside requests are aborted and recorded; the test FAILS at
                 teardown if any was attempted (`context.outside` lists them). Lean (browser.py LEAN: no
                 service worker, no Pyodide snapshot) unless the test or its module is marked `real_start`
  page           a page of `context`, collecting console errors (`page.problems`); on failure a
                 screenshot goes to test-artifacts/<test>.png
  app_site       session: a built site (dist layout) with a model; uses the trained weights when they
                 exist, else ships the reference Tiny VGG (tests only) as weights/tiny-vgg.{json,npz}
  app_model      session: the same model, loaded in CPython (to compare the page with the engine)
  app_url        session: app_site served on 127.0.0.1 (a free port), base URL ending in '/'
  serve_site     factory: serve_site(root) -> (server, url), stopped at the end of the test
  tf_keras       session: (tensorflow, keras), imported here and only here, so that collecting the tests
                 never needs TensorFlow; every test that uses it is marked `tf` (deselect: -m "not tf")
  app / state    the page of app_url, ready (web tests: `state(page)` is its App.snapshot as a dict): a page
                 of its own per module, in the site's warm context shared by the modules (browser.py
                 WarmContexts) unless the module is marked `fresh_context`
  warm_contexts  session: that pool of warm contexts, one per site
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

import browser as _b
from web_page import open_app

# No Hypothesis deadline: a per-example time limit is a timed assertion, and on a busy 2-core CI machine
# it fails tests whose results are right (seen: test_web_state's state-file round trip at load 10).
settings.register_profile("cnn101", deadline=None)
settings.load_profile("cnn101")

REPO = _b.REPO
DATA = REPO.parent / "shared" / "data" / "tiny-imagenet-10"
REFERENCE = REPO.parent / "shared" / "reference" / "cnn-explainer"


STRICT = os.environ.get("CNN101_NO_SKIP") == "1"  # set by scripts/test.sh: everything is installed there


def pytest_collection_modifyitems(config, items):
    for item in items:  # a test that needs TensorFlow says so by using the fixture: mark it
        if "tf_keras" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.tf)


@pytest.fixture(scope="session")
def tf_keras():
    """(tensorflow, keras), imported when a test needs them (and not at collection)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow

    return tensorflow, keras


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if STRICT and rep.skipped and not hasattr(rep, "wasxfail"):
        # The README's test command installs the browser, Node packages, TensorFlow and finds ../shared:
        # a skip there means something is missing, which must show as a failure, not pass quietly.
        rep.outcome = "failed"
        rep.longrepr = f"skipped under CNN101_NO_SKIP=1 (a set-up step is missing): {rep.longrepr}"
    setattr(item, f"rep_{rep.when}", rep)


# --- browser ----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def playwright_session():
    if not _b.chromium_available():
        pytest.skip(f"{_b.CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def browser(playwright_session):
    # One renderer process per site within a context: a module's new page in the site's warm context then
    # reuses the process that already compiled Pyodide's WebAssembly (≈ 3 s to ready instead of ≈ 4.5 s;
    # browser.py WarmContexts). Fresh contexts never share a process, so a first visit is unchanged.
    # Not under pytest-xdist: two browsers, each with every page of a site in one renderer for the whole run,
    # crashed a renderer once ("Target crashed", notes/ci.md session 10).
    b = _b.launch(playwright_session, args=[] if os.environ.get("PYTEST_XDIST_WORKER") else ["--process-per-site"])
    yield b
    b.close()


@pytest.fixture()
def context(browser, request):
    ctx = _b.guarded_context(browser, lean=_b.lean_for(request))
    yield ctx
    ctx.close()
    _b.check_offline(ctx)


@pytest.fixture()
def page(context, request):
    p = context.new_page()
    _b.track_console(p)
    yield p
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed and not p.is_closed():
        try:
            _b.screenshot(p, f"FAILED-{request.node.name}")
        except Exception:  # the page may be gone; the failure itself is what matters
            pass


@pytest.fixture()
def serve_site():
    servers = []

    def start(root, **kwargs):
        server, url = _b.serve(root, **kwargs)
        servers.append(server)
        return server, url

    yield start
    for s in servers:
        try:
            _b.stop(s)
        except Exception:
            pass


# --- the app's site -----------------------------------------------------------------------------------
def _class_names() -> list[str] | None:
    f = DATA / "class_dict_10.json"
    if not f.is_file():
        return None
    d = json.loads(f.read_text())
    return [v["class"].split(",")[0].strip() for _, v in sorted(d.items(), key=lambda kv: kv[1]["index"])]


@pytest.fixture(scope="session")
def _app_weights(tmp_path_factory):
    """(weights folder to ship or None for the repo's, CPython model)."""
    import cnn101

    try:
        return None, cnn101.load_model()  # the trained weights are in the wheel
    except cnn101.ModelError:
        pass
    if (REPO / "weights" / "tiny-vgg.json").is_file():
        return None, cnn101.load_model(REPO / "weights" / "tiny-vgg.json")
    if not (REFERENCE / "model.json").is_file():
        pytest.skip("no trained weights and no reference model to build a test site with")
    folder = tmp_path_factory.mktemp("test-weights")
    model = cnn101.load_model(REFERENCE / "model.json", class_names=_class_names())
    model.save(folder / "tiny-vgg")
    return folder, cnn101.load_model(folder / "tiny-vgg.json")


@pytest.fixture(scope="session")
def app_model(_app_weights):
    return _app_weights[1]


@pytest.fixture(scope="session")
def app_site(_app_weights, tmp_path_factory) -> Path:
    """A built site; CNN101_SITE=<folder> uses an existing build instead (it must hold a model)."""
    given = os.environ.get("CNN101_SITE")
    if given:
        return Path(given)
    from buildsite.site import BuildOptions, build

    out = tmp_path_factory.mktemp("app-site") / "dist"
    build(BuildOptions(repo=REPO, out=out, cache=REPO / ".cache", data=DATA if DATA.is_dir() else None,
                       weights=_app_weights[0]), log=lambda *a, **k: None)
    return out


@pytest.fixture(scope="session")
def app_url(app_site):
    server, url = _b.serve(app_site)
    yield url
    _b.stop(server)

# --- the notebook site (tests/test_lite_notebook.py, test_lite_offline.py): built once for both modules ------
@pytest.fixture(scope="session")
def lite_contents(_app_weights, tmp_path_factory) -> Path:
    """The notebooks the site is built with: the repo's, or a copy of the tutorial loading a test model from a
    file next to it while no trained weights exist (test_lite_notebook.py's docstring)."""
    import shutil

    from test_lite_notebook import LOAD, NOTEBOOK, cell_tagged, source

    folder, _model = _app_weights
    if folder is None:
        return REPO / "notebooks"
    out = tmp_path_factory.mktemp("lite-contents")
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    cell = cell_tagged(nb, "model")
    assert LOAD in source(cell)
    cell["source"] = source(cell).replace(LOAD, 'cnn101.load_model("tiny-vgg.json")')
    (out / NOTEBOOK.name).write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
    for f in folder.iterdir():
        shutil.copy2(f, out / f.name)
    return out


@pytest.fixture(scope="session")
def lite_site(_app_weights, lite_contents, tmp_path_factory):
    """The app's site with its notebook site (lite/), as build.py makes it: the BuildResult."""
    from buildsite.site import BuildOptions, build

    out = tmp_path_factory.mktemp("lite-site") / "dist"
    return build(BuildOptions(repo=REPO, out=out, cache=REPO / ".cache", data=DATA if DATA.is_dir() else None,
                              weights=_app_weights[0], lite=True, notebooks=lite_contents), log=lambda *a, **k: None)



# --- the app's page, shared by the tests of one module (loading Pyodide takes seconds) --------------------
@pytest.fixture(autouse=True)
def _sessions_used(request):
    """After each test, every views_sites.Session it used counts as used: `Session.at()` reloads it."""
    yield
    if "views_sites" not in sys.modules:  # no Session made yet
        return
    from views_sites import Session

    for value in getattr(request.node, "funcargs", {}).values():
        if isinstance(value, Session):
            value.opened = None


@pytest.fixture(scope="session")
def synthetic_url(tmp_path_factory):
    """views_sites' synthetic site (its only model: tests/models.py synthetic_model), served for the run."""
    from views_sites import synthetic_site

    server, url = _b.serve(synthetic_site(tmp_path_factory)[0])
    yield url
    _b.stop(server)


@pytest.fixture(scope="session")
def warm_contexts(browser):
    """One warm context per site for the modules' pages (browser.py WarmContexts)."""
    pool = _b.WarmContexts(browser)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def app(browser, app_url, app_site, app_model, request):
    pool = _b.warm_pool(request)
    ctx = pool.acquire(app_url) if pool else _b.guarded_context(browser, lean=_b.lean_for(request))
    page = ctx.new_page()
    _b.track_console(page)
    open_app(page, app_url)
    yield page, ctx, app_site, app_model, app_url
    if pool:
        pool.release(ctx, app_url, page)
        return
    ctx.close()
    _b.check_offline(ctx)


@pytest.fixture()
def live(app, request):
    """The shared page; each test also checks that nothing left localhost during it."""
    page, ctx, site, model, url = app
    yield page, site, model, url
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        _b.screenshot(page, f"FAILED-{request.node.name}")
    _b.check_offline(ctx)
