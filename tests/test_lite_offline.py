"""The app and the notebook offline, as a learner meets them: one online visit to the app and one to the
notebook, then a new browser process with the server gone. The server sends `Cache-Control: no-store`, so
only the service workers can serve the second session. Every request outside localhost is aborted and
fails the test.

Reuses the notebook site of test_lite_notebook.py (same build, taken from the build cache).
"""
from __future__ import annotations

import json
import re
import threading
from functools import partial
from http.server import ThreadingHTTPServer

import pytest

import browser as b
from buildsite import lite
from buildsite.server import SiteHandler, _GzipCache, url_of
from test_lite_notebook import KERNEL_IDLE, NOTEBOOK, cell_tagged, expected_prediction, open_tutorial

pytestmark = [pytest.mark.browser, pytest.mark.slow]
READY_MS = 180_000


class NoStoreHandler(SiteHandler):
    """The site's handler, but nothing may be kept in the HTTP cache. Counts the body bytes it sends."""
    quiet = True
    sent = [0]

    def send_header(self, keyword, value):
        if keyword.lower() == "cache-control":
            value = "no-store"
        elif keyword.lower() == "content-length":
            self.sent[0] += int(value)
        super().send_header(keyword, value)


def serve_no_store(root):
    handler = type("H", (NoStoreHandler,), {"gzip_cache": _GzipCache(), "sent": [0]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.sent = handler.sent
    return server, url_of(server)


def session(pw, profile):
    """A Chromium process on a persistent profile, every outside request aborted and recorded."""
    ctx = pw.chromium.launch_persistent_context(
        str(profile), executable_path=str(b.CHROMIUM), headless=True, args=b.CHROMIUM_ARGS,
        viewport={"width": 1366, "height": 900})
    ctx.outside = []

    def route(r):
        if b.is_local(r.request.url):
            r.continue_()
        else:
            ctx.outside.append(r.request.url)
            r.abort("blockedbyclient")
    ctx.route("**/*", route)
    return ctx


def watch(page):
    """Record failed requests and HTTP errors of the site (`page.failures`)."""
    page.failures = []
    page.on("requestfailed", lambda r: page.failures.append(f"{r.url} {r.failure}"))
    page.on("response", lambda r: page.failures.append(f"{r.url} HTTP {r.status}") if r.status >= 400 else None)
    return page


def open_app(page, url):
    page.goto(url)
    page.wait_for_function("document.documentElement.dataset.ready", timeout=READY_MS)
    assert page.evaluate("document.documentElement.dataset.ready") == "1", page.text_content("#status")


REGISTRATIONS = """async () => (await navigator.serviceWorker.getRegistrations())
    .map(r => ({scope: r.scope, active: r.active && r.active.state}))"""
APP_CACHED = """async () => {
  const reg = await navigator.serviceWorker.ready;
  return !!navigator.serviceWorker.controller && reg.active.state === "activated";
}"""
NOTEBOOK_CACHED = """async (scope) => {
  const reg = await navigator.serviceWorker.getRegistration(scope);
  if (!reg || reg.scope !== scope || !reg.active || reg.active.state !== "activated") return false;
  for (const key of await caches.keys())
    if (key.includes(":notebook:") && await (await caches.open(key)).match(scope + ".offline-ready")) return true;
  return false;
}"""
UNTIL = """async ([check, arg, ms]) => {  // wait_for_function does not await an async predicate
  const test = eval(check), end = Date.now() + ms;
  while (!(await test(arg))) {
    if (Date.now() > end) return false;
    await new Promise((ok) => setTimeout(ok, 250));
  }
  return true;
}"""


def until(page, check: str, arg=None, ms: int = READY_MS) -> None:
    assert page.evaluate(UNTIL, [check, arg, ms]), f"not within {ms} ms: {check}"


CACHED_BYTES = """async () => {
  const out = {};
  for (const key of await caches.keys()) {
    const cache = await caches.open(key);
    let n = 0;
    for (const request of await cache.keys()) n += (await (await cache.match(request)).arrayBuffer()).byteLength;
    out[key] = n;
  }
  return out;
}"""


def run_first_cells(page, cells: int) -> None:
    """Run the notebook's first `cells` cells (markdown and code) with Shift+Enter from the top."""
    page.locator(".jp-Notebook .jp-Cell").first.click()
    page.keyboard.press("Escape")
    for _ in range(cells):
        page.keyboard.press("Shift+Enter")


def test_app_and_notebook_work_offline_after_one_visit_each(playwright_session, lite_site, lite_contents,
                                                           app_model, tmp_path):
    site, profile = lite_site.out, tmp_path / "profile"
    server, url = serve_no_store(site)
    lite_scope = url + lite.PREFIX
    try:
        ctx = session(playwright_session, profile)
        page = watch(ctx.new_page())
        b.track_console(page)
        open_app(page, url)
        until(page, APP_CACHED)
        assert not page.failures, page.failures  # build-info.json and the rest: all there

        app_bytes = server.sent[0]
        open_tutorial(page, url)
        # The notebook site's worker (ours) is registered and has stored everything the notebook may load.
        until(page, NOTEBOOK_CACHED, lite_scope)
        print(f"bytes sent: app visit {app_bytes}, notebook visit with its precache {server.sent[0] - app_bytes}")
        scopes = {r["scope"] for r in page.evaluate(REGISTRATIONS)}
        assert scopes == {url, lite_scope}, scopes  # the app's worker survived the notebook's first visit
        stored = page.evaluate(CACHED_BYTES)
        print("cache bytes (decoded):", json.dumps(stored))
        not_found = [f for f in page.failures if "HTTP 404" in f]
        assert not not_found, not_found  # e.g. /favicon.ico
        ctx.close()
        assert ctx.outside == []
    finally:
        server.shutdown()
        server.server_close()

    # A new browser process on the same profile; nothing listens on the port any more.
    ctx = session(playwright_session, profile)
    try:
        page = watch(ctx.new_page())
        b.track_console(page)
        open_app(page, url)
        assert page.locator(".snapshot").count() == 0  # the live Overview, drawn by Python in the page
        assert not page.failures, page.failures
        b.screenshot(page, "offline-app", full_page=False)

        open_tutorial(page, url)
        page.wait_for_function(KERNEL_IDLE, timeout=READY_MS, polling=500)
        nb = json.loads((lite_contents / NOTEBOOK.name).read_text(encoding="utf-8"))
        upto = nb["cells"].index(cell_tagged(nb, "overview")) + 1
        code = sum(c["cell_type"] == "code" for c in nb["cells"][:upto])
        run_first_cells(page, upto)
        page.wait_for_function("""(n) => {
            const p = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')].slice(0, n);
            return p.every(e => /^\\[\\d+\\]:$/.test(e.textContent.trim()));
        }""", arg=code, timeout=READY_MS, polling=500)
        page.wait_for_function(KERNEL_IDLE, timeout=READY_MS)
        b.screenshot(page, "offline-notebook", full_page=False)
        outputs = page.locator(".jp-Notebook .jp-CodeCell").evaluate_all(
            "cells => cells.map(c => c.querySelector('.jp-OutputArea') ? c.querySelector('.jp-OutputArea').innerText : '')")
        errors = [o for o in outputs[:code] if re.search(r"Traceback|Error\b", o)]
        assert not errors, errors
        text = "\n".join(outputs[:code])
        assert f"predicted: {expected_prediction(lite_contents, app_model)}" in text
        overview = page.locator(".jp-Notebook .jp-CodeCell").nth(code - 1)
        assert overview.locator("img[src^='data:image/png']").count() >= 3  # heatmaps drawn offline
    finally:
        ctx.close()
    assert ctx.outside == []
