"""The service worker in Chromium: after one visit the runtime loads with the server gone, and a new
build's sw.js replaces the old cache. Independent of what the page shows: it loads Pyodide, NumPy,
Pillow and our wheel itself, from the page's origin."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest_build import built_site, options, quiet  # noqa: F401  (fixture)
from buildsite.server import make_server, url_of
from buildsite.site import build

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-quic"]
pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium (apt-get install chromium)")]


@pytest.fixture(scope="module")
def chromium(playwright_session):
    # The session's Playwright (conftest): a second sync_playwright() in the same run fails once another
    # module has started one ("Sync API inside the asyncio loop").
    b = playwright_session.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)  # never `playwright install`
    yield b
    b.close()


def guarded_context(browser):
    """A context that aborts and records every request leaving 127.0.0.1 (service worker traffic too)."""
    ctx = browser.new_context()
    ctx.outside = []

    def route(r):
        if urlsplit(r.request.url).hostname in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            ctx.outside.append(r.request.url)
            r.abort()
    ctx.route("**/*", route)
    return ctx

LOAD_RUNTIME = """async (wheel) => {
  const { loadPyodide } = await import(new URL("/pyodide/pyodide.mjs", location.href).href);
  const py = await loadPyodide({ indexURL: new URL("/pyodide/", location.href).href });
  await py.loadPackage(["numpy", "pillow", new URL("/" + wheel, location.href).href]);
  return py.runPython("import numpy, PIL, cnn101; f'{numpy.__version__} {PIL.__version__} {cnn101.__version__}'");
}"""

WAIT_FOR_CONTROL = """async () => {
  await navigator.serviceWorker.register("/sw.js");
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller)
    await new Promise((ok) => navigator.serviceWorker.addEventListener("controllerchange", ok, { once: true }));
  return await caches.keys();
}"""

UPDATE = """async () => {
  const reg = await navigator.serviceWorker.getRegistration();
  await reg.update();
  const worker = reg.installing || reg.waiting;
  if (worker) await new Promise((ok, bad) => worker.addEventListener("statechange", () => {
    if (worker.state === "activated") ok(); if (worker.state === "redundant") bad(new Error("install failed"));
  }));
  return await caches.keys();
}"""


def serve(root, port=0):
    server = make_server(root, port=port, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_offline_reload_and_cache_replacement(chromium, built_site, tmp_path):
    site = tmp_path / "dist"
    shutil.copytree(built_site.out, site, copy_function=shutil.copy2)
    info = json.loads((site / "build-info.json").read_text())
    server = serve(site)
    port, url = server.server_address[1], url_of(server)
    ctx = guarded_context(chromium)
    try:
        page = ctx.new_page()
        page.goto(url + "examples/index.json")  # any page of the site: the app itself need not run
        keys = page.evaluate(WAIT_FOR_CONTROL)
        assert any(k.endswith(":" + info["service_worker_cache"]) for k in keys), keys
        online = page.evaluate(LOAD_RUNTIME, info["wheel"])

        server.shutdown()
        server.server_close()
        page.reload()  # the server is gone: everything below comes from the service worker's cache
        assert page.evaluate(LOAD_RUNTIME, info["wheel"]) == online
        assert online.split()[:2] == ["2.0.2", "10.2.0"]

        changed = build(options(site, examples_per_class=1), log=quiet)  # new assets, new sw.js
        assert changed.cache_name != info["service_worker_cache"]
        server = serve(site, port)  # same origin as before
        keys = page.evaluate(UPDATE)
        assert [k.rsplit(":", 1)[1] for k in keys if k.startswith("cnn101:")] == [changed.cache_name]
    finally:
        ctx.close()
        server.shutdown()
        server.server_close()
    assert ctx.outside == []
