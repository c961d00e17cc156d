"""The page's start in headless Chromium (issue 15): what the first paint imports, that later starts run from
the build's precompiled bytecode (kept from the second visit on, not downloaded on the first), that nothing
is fetched twice (by the page, nor by the page and then the service worker's precache), and that the view
modules it no longer imports still open on a first click, by keyboard and from a link that opens them directly."""
from __future__ import annotations

import json
import os
import threading
from collections import Counter
from functools import partial

import pytest

import browser as _b
from views_sites import READY, Session

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEW_MODULES = ("input_view", "conv_view", "relu_detail", "pool_detail", "flatten_view", "dense_detail",
                "back_conv", "back_relu", "back_pool", "back_flatten", "back_dense", "back_softmax")


def _fresh(browser, url, model, query="") -> Session:
    s = Session(browser, url, model, "tiny", route=False, lean=False)  # no routing: the HTTP cache stays on;
    # the real start (service worker, snapshot): this module tests it
    s.open(query)
    return s


@pytest.fixture(scope="module")
def counted_site(app_site):
    """(server, url): the app's site served by buildsite.server, recording every file it sends a body of
    (a 304 sends none), the page as index.html whether it was asked for as / or /index.html."""
    from buildsite.server import make_server, url_of

    server = make_server(app_site, port=0, quiet=True)
    base, sent = server.RequestHandlerClass, []

    class Counting(base.func):
        def copyfile(self, source, outputfile):
            path = self.translate_path(self.path)
            sent.append(os.path.relpath(os.path.join(path, "index.html") if os.path.isdir(path) else path, server.root))
            super().copyfile(source, outputfile)

    server.RequestHandlerClass = partial(Counting, **base.keywords)
    server.sent = sent
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, url_of(server)
    _b.stop(server)


def _startup(s: Session) -> dict:
    return json.loads(s.page.evaluate("cnn101_startup()"))


BYTECODE_KEPT = """async () => { const m = document.querySelector('meta[name="cnn101-bytecode"]');
    return !!(await caches.match(new URL(m.content, document.baseURI).href)); }"""


# for wait_for_function, which does not await a promise: each poll starts a look-up and reads the last one's answer
KEPT_POLL = """() => { const m = document.querySelector('meta[name="cnn101-bytecode"]');
    caches.match(new URL(m.content, document.baseURI).href).then(r => { window.__cnn101Kept = !!r; });
    return window.__cnn101Kept === true; }"""


def test_first_paint_imports_no_view_and_later_starts_run_from_the_build_bytecode(browser, counted_site, app_model):
    server, url = counted_site
    server.sent.clear()
    s = _fresh(browser, url, app_model)
    try:
        r = _startup(s)
        at_ready = set(r["modules"])
        assert not {f"app.{m}" for m in VIEW_MODULES} & at_ready, sorted(at_ready)
        assert {"numpy", "cnn101", "app.app", "app.overview_view"} <= at_ready
        # up to the live page, each preloaded file was fetched once: the page's own request used the preload
        # (a tag that does not match it, e.g. by its integrity, shows as a second entry of the same file)
        fetched = s.page.evaluate("performance.getEntriesByType('resource').filter(r => r.startTime < "
                                  "Number(document.documentElement.dataset.readyMs)).map(r => r.name)")
        preloaded = s.page.evaluate("[...document.querySelectorAll('link[rel=preload], link[rel=modulepreload]')]"
                                    ".map(l => l.href)")
        assert len(preloaded) > 50
        # (the first example is read twice by the page itself, preloaded or not: the second time a 304)
        counts = {u: fetched.count(u) for u in preloaded if "/examples/" not in u}
        assert {u: n for u, n in counts.items() if n != 1} == {}, counts
        # the app's own stored copies (buildsite/stored.py), not the notebook's official stdlib, lock and NumPy
        assert any(u.endswith(".whl") and "/pyodide/stored/numpy-" in u for u in fetched)
        assert any(u.endswith("/pyodide/stored/python_stdlib.zip") for u in fetched)
        assert not any(u.endswith(("/pyodide/python_stdlib.zip", "/pyodide/pyodide-lock.json")) or "/pyodide/numpy-" in u
                       for u in fetched)
        # a first visit does not download the precompiled bytecode (the first visit's byte budget): Python
        # compiles the page's modules itself, and the service worker does not precache it
        assert r["compiled_here"] and not any("/bytecode/" in u for u in fetched)
        s.page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=READY)
        # the service worker's precache (done once it controls the page) downloaded nothing the page had:
        # no file of the first visit went out twice, the page itself (/ and /index.html) included
        sent = Counter(server.sent)
        assert sent["index.html"] == 1 and sent["pyodide/pyodide.asm.wasm"] == 1, sent
        assert {f: n for f, n in sent.items() if n > 1} == {}
        assert not s.page.evaluate(BYTECODE_KEPT)
        # the second visit asks the service worker to keep it once the page is ready ...
        s.open("")
        s.page.wait_for_function(KEPT_POLL, timeout=READY, polling=250)
        # ... and every later start runs NumPy, cnn101 and web/app from a checked-hash .pyc of the build
        s.open("")
        r = _startup(s)
        assert r["compiled_here"] == [], r["compiled_here"]
        assert {"numpy", "numpy._core.numeric", "cnn101.engine.model", "app.app"} <= set(r["precompiled"])
        fetched = s.page.evaluate("performance.getEntriesByType('resource').map(r => r.name)")
        assert not any("/bytecode/" in u for u in fetched)  # from Cache Storage, not the network
    finally:
        s.close()


def test_a_view_opens_on_the_first_click_and_by_keyboard(browser, app_url, app_model):
    s = _fresh(browser, app_url, app_model)
    try:
        assert "app.conv_view" not in _startup(s)["modules"]
        conv = s.column("conv2d")
        s.click_neuron(conv["index"], 1)
        s.page.wait_for_function("JSON.parse(cnn101_views()).length === 1", timeout=READY)
        assert s.state()["selected"] == [conv["name"], 1] and s.state()["level"] == 2
        s.page.keyboard.press("Escape")
        s.page.wait_for_function("JSON.parse(cnn101_views()).length === 0")
        relu = s.column("relu")
        s.page.focus(f'[data-col="{relu["index"]}"][data-neuron="0"]')
        s.page.keyboard.press("Enter")
        s.page.wait_for_function("JSON.parse(cnn101_views()).length === 1", timeout=READY)
        assert s.state()["selected"] == [relu["name"], 0]
    finally:
        s.close()


@pytest.mark.parametrize("kind", ["MaxPool2D", "Conv2D"])
def test_a_link_opens_a_view_directly_and_in_why_mode_its_backward_view(browser, app_url, app_model, kind):
    name = next(layer.name for layer in app_model.layers if type(layer).__name__ == kind)
    s = _fresh(browser, app_url, app_model, f"?neuron={name}.0&level=2")
    try:
        assert s.state()["selected"] == [name, 0] and len(s.views()) == 1
        assert not s.top().get("backward")
    finally:
        s.close()
    s = _fresh(browser, app_url, app_model, f"?why=1&neuron={name}.0&level=2")
    try:
        s.page.wait_for_function("JSON.parse(cnn101_views()).length === 1", timeout=READY)
        assert s.state()["why"]["on"]
        assert s.top().get("backward") is True  # the backward view of the layer, not the forward one
    finally:
        s.close()


# The first load of the page after this is added stalls at one step of its start (the step's promise never
# settles); later loads of the tab run normally. Counts the tab's loads. The watchdog waits 5 s, not 30.
STALL_FIRST_LOAD = """(() => {
  const n = Number(sessionStorage.getItem('test-loads') || 0) + 1;
  sessionStorage.setItem('test-loads', String(n));
  globalThis.cnn101StartWatchdogMs = 5000;
  if (n > 1) return;
  const never = () => new Promise(() => {});
  if (STEP === 'config') {  // PyScript's own config fetch: it never gets to run web/pyodide-start.mjs
    const fetch = globalThis.fetch;
    globalThis.fetch = (what, ...rest) => String(what.url || what).endsWith('pyscript.json') ? never() : fetch(what, ...rest);
  } else {  // every Cache Storage open (the snapshot's read is one): our start module waits forever
    CacheStorage.prototype.open = never;
  }
})();"""


@pytest.mark.parametrize("step, where", [("config", "the very beginning"), ("snapshot", "start-module")])
def test_a_repeat_visit_whose_start_is_stuck_starts_again_once_and_says_so(browser, app_url, app_model, step, where):
    """web/boot.js's watchdog: on a repeat visit (a service worker controls the page), a start that is not
    ready in time reloads the page once, without the snapshot, and the page says why it restarted — whether
    the start stalled before PyScript ran our start module (seen in CI) or inside it."""
    s = _fresh(browser, app_url, app_model)  # the first visit installs the service worker
    try:
        _b.wait_async(s.page, _b._SW_ACTIVE, READY)
        s.page.reload()
        s.page.wait_for_function("document.documentElement.dataset.ready && navigator.serviceWorker.controller",
                                 timeout=READY)
        s.page.evaluate("sessionStorage.removeItem('test-loads')")
        s.context.add_init_script(STALL_FIRST_LOAD.replace("STEP", json.dumps(step)))
        warned: list[str] = []
        s.page.on("console", lambda m: warned.append(m.text) if m.type == "warning" else None)
        s.page.goto(app_url + "?stuck=1")
        assert s.page.evaluate("document.documentElement.dataset.ready") is None
        s.page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)  # across the reload
        d = s.page.evaluate("Object.assign({}, document.documentElement.dataset)")
        assert d["ready"] == "1", s.page.text_content("#status")
        assert d["startRestarted"] == f"stuck after 5 s at: {where}", d
        assert d.get("pyodideSnapshot") != "used", d  # the retry started without the snapshot
        assert s.page.evaluate("sessionStorage.getItem('test-loads')") == "2"  # one reload, no more
        assert s.page.evaluate("sessionStorage.getItem('cnn101-start-restarted')") is None  # finished: armed again
        assert [w for w in warned if "started again without the snapshot" in w], warned
    finally:
        s.close()
