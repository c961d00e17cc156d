"""Driving Debian's Chromium with PyPI playwright, offline: shared by every browser test.

- `launch(playwright)`: headless /usr/bin/chromium (never `playwright install`), a fresh profile, the
  flags that stop Chromium's own background traffic, and a host-resolver rule that makes every name but
  localhost unresolvable (so nothing can leave even if a request escaped routing).
- `guarded_context(browser)`: a context whose `route("**/*")` aborts and records every request not to
  127.0.0.1/localhost; `context.outside` lists them (URLs) and `check_offline(context)` fails a test
  that attempted any. `lean=True` (the tests' shared fixtures) opens the app without its background
  work: see LEAN below.
- `WarmContexts`: one warm context per site that the modules' pages share (see the block comment there).
- `serve(root)`: the site server (buildsite.server) on a free port, in a thread.
- `screenshot(page, name)`: a PNG under test-artifacts/ (look at them).
- `console_problems(page)`: page errors and console errors seen so far.

The fixtures built on these live in conftest.py.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-gpu",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--no-pings",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


# The lean start of the tests' pages (conftest's `context` and `app`, views_sites.Session). Once the app is
# ready, a fresh browser context does two things in the background that most tests never look at: the
# service worker precaches the whole site (≈ 35 MB, 680 files, every one through the test's routing), and
# a worker starts a second Pyodide to make the memory snapshot (web/pyodide-start.mjs). On 2 cores that
# is ≈ 9 CPU-seconds per context, competing with the test (measured: notes/ci.md, session 7). A lean
# context blocks service worker registration (Playwright's `service_workers="block"`: register() resolves
# to nothing and warns on the console, which boot.js ignores) and starts every page with the app's own
# "gave up making a snapshot" count set (pyodide-start.mjs MAX_FAILURES: after that many failures it
# makes none). Nothing in the app changed for this: both are states a real browser can be in (no service
# worker support; snapshots that keep failing), so no switch exists that a user could reach by accident.
# The real path stays where it is tested or pays: the tests of the service worker, the snapshot, offline
# use and start-up, and the modules whose pages reload two or more times per context (a lean reload fetches
# everything again through routing, which turns the HTTP cache off, compiles the WebAssembly again and has
# no snapshot nor precompiled bytecode: measured dearer than the background work it saves). They ask with
# `lean=False` or conftest's `real_start` marker; CNN101_REAL_START=1 puts every test on the real path.
LEAN = os.environ.get("CNN101_REAL_START") != "1"
NO_SNAPSHOT = """try { localStorage.setItem("cnn101-pyodide-snapshot-failures", "1000"); } catch (e) { /* opaque origin */ }"""


def chromium_available() -> bool:
    return CHROMIUM.exists() and shutil.which(str(CHROMIUM)) is not None


def is_local(url: str) -> bool:
    """True for URLs that stay on this machine (or never touch the network: data:, blob:, about:)."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-extension", "chrome", "devtools"):
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


def launch(playwright, **kwargs):
    """Headless Debian Chromium, fresh temporary profile."""
    args = CHROMIUM_ARGS + list(kwargs.pop("args", []))
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args, **kwargs)


def lean_for(request) -> bool:
    """Lean pages for a test or a module fixture unless it (or its module) is marked `real_start`."""
    return request.node.get_closest_marker("real_start") is None


def guarded_context(browser, route: bool = True, lean: bool = False, **kwargs):
    """A new context that aborts and records every request leaving localhost (`context.outside`).

    lean=True: no service worker and no Pyodide snapshot in it (see LEAN; CNN101_REAL_START=1 overrides).

    route=False only records them (launch()'s host-resolver rule still stops them): Playwright's routing
    turns Chromium's HTTP cache off (microsoft/playwright#7220), so a page measured through it re-downloads
    what a real browser would revalidate — benchmarks of bytes and start-up use route=False."""
    kwargs.setdefault("viewport", {"width": 1366, "height": 900})
    lean = lean and LEAN
    if lean:
        kwargs.setdefault("service_workers", "block")
    context = browser.new_context(**kwargs)
    if lean:
        context.add_init_script(NO_SNAPSHOT)
    outside: list[str] = []
    context.outside = outside

    def abort_outside(r):
        url = r.request.url
        if is_local(url):
            r.continue_()
        else:
            outside.append(url)
            r.abort("blockedbyclient")

    def seen(request):  # requests that did not pass through routing (e.g. from a service worker)
        if not is_local(request.url) and request.url not in outside:
            outside.append(request.url)

    if route:
        context.route("**/*", abort_outside)
    context.on("request", seen)
    return context


def check_offline(context) -> None:
    """Fail if anything tried to leave localhost during the test."""
    outside = list(getattr(context, "outside", []))
    assert not outside, f"{len(outside)} request(s) tried to leave localhost: {outside[:10]}"


# --- one warm context per site, shared by the modules' pages ---------------------------------------------
# A module's page in a fresh context is a first visit: ≈ 9 s to ready here (Pyodide compiled and started,
# NumPy and the page's modules compiled from source). Most modules do not test a first visit; they need a
# page of their own with nothing left by another module. So every site gets one context for the whole run
# (`warm_contexts`, conftest), warmed once as a returning learner's browser is (service worker installed with
# its precache, Pyodide memory snapshot made, precompiled bytecode kept: ≈ 3 s to ready, the start every
# second visit takes), and each module opens its own page in it and leaves with the learner's stored state
# wiped (`WarmContexts.release`: every page it opened closed, the stored models deleted). What stays is
# what a browser keeps for the site itself (service worker, its caches, the snapshot). Modules that count
# requests, test a first visit or need context options of their own keep a fresh context (marker
# `fresh_context`, or context options); CNN101_FRESH_CONTEXTS=1 gives every module a fresh one.
SHARED = os.environ.get("CNN101_FRESH_CONTEXTS") != "1"
WARM_MS = 120_000
_SNAPSHOT_SETTLED = """['made', 'failed', 'given up'].includes(document.documentElement.dataset.pyodideSnapshot)
    || !!document.documentElement.dataset.pyodideSnapshotCheck"""
_SW_ACTIVE = "async () => (await navigator.serviceWorker.getRegistration())?.active?.state === 'activated'"
_BYTECODE_KEPT = """async () => { const m = document.querySelector('meta[name="cnn101-bytecode"]');
    return !m || !m.dataset.integrity || !!(await caches.match(new URL(m.content, document.baseURI).href, {ignoreVary: true})); }"""
# the learner's state a module may leave behind (web/model-store.js: kept and stored models)
_FORGET = """async () => { sessionStorage.clear();
    await new Promise((done) => { const q = indexedDB.deleteDatabase("cnn101-models");
        q.onsuccess = q.onerror = () => done(); q.onblocked = () => done(); }); }"""


class WarmContexts:
    """Per site (base URL): one guarded context on the real start, warmed by `warm_up` when first asked.

    `acquire(url)` gives a module the context; `release(context, url, page)` closes the module's page, and
    once no module holds the context any more, every other page left in it (a test's second tab) and the
    learner's stored state (two module fixtures of one module can hold the same site's context at once)."""

    def __init__(self, browser):
        self.browser = browser
        self.by_url: dict[str, object] = {}
        self.holders: dict[str, int] = {}

    def acquire(self, url: str):
        if url not in self.by_url:
            context = guarded_context(self.browser, lean=False)
            warm_up(context, url)
            self.by_url[url] = context
        self.holders[url] = self.holders.get(url, 0) + 1
        return self.by_url[url]

    def release(self, context, url: str, page) -> None:
        if not page.is_closed():
            page.close()
        self.holders[url] -= 1
        if self.holders[url]:
            return
        for other in list(context.pages):
            other.close()
        blank = context.new_page()  # a same-origin page without Python: the database is free to go
        blank.goto(url + "build-info.json")
        blank.evaluate(_FORGET)
        blank.close()
        try:
            check_offline(context)  # what this site's modules attempted since the last release
        finally:
            context.outside.clear()  # the next holder starts with a clean record

    def close(self) -> None:
        for context in self.by_url.values():
            context.close()


def warm_up(context, url: str) -> None:
    """A first visit, then a second: the service worker has its precache, the snapshot is made, the bytecode kept."""
    page = context.new_page()
    track_console(page)
    for _ in range(2):
        page.goto(url)
        page.wait_for_function("document.documentElement.dataset.ready", timeout=WARM_MS)
        wait_async(page, _SW_ACTIVE, WARM_MS)  # installed: its precache is in
        page.wait_for_function(_SNAPSHOT_SETTLED, timeout=WARM_MS)
    wait_async(page, _BYTECODE_KEPT, WARM_MS)
    problems = console_problems(page)
    page.close()
    assert not problems, f"warming the shared context of {url}: {problems}"


def wait_async(page, function: str, timeout_ms: int, every_ms: int = 250) -> None:
    """Wait until the async `function` resolves to a truthy value (Playwright's wait_for_function takes the
    promise an async predicate returns as truthy at once, so it cannot wait for one)."""
    for _ in range(max(1, timeout_ms // every_ms)):
        if page.evaluate(function):
            return
        page.wait_for_timeout(every_ms)
    raise AssertionError(f"{function!r} stayed false for {timeout_ms} ms")


def warm_pool(request):
    """conftest's `warm_contexts` for a module fixture, or None when the module needs fresh contexts."""
    if not SHARED or request.node.get_closest_marker("fresh_context") is not None:
        return None
    return request.getfixturevalue("warm_contexts")


def track_console(page) -> list[str]:
    """Start collecting page errors and console errors of `page`; returns the (growing) list."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: problems.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    page.problems = problems
    return problems


def console_problems(page) -> list[str]:
    return list(getattr(page, "problems", []))


# What a page that did not become ready had got through (web/pyodide-start.mjs marks each step; `pending` is
# its flag for a start from the Pyodide snapshot that has not finished). Seen twice in CI in 10 sessions: a
# page stuck at "Starting Python" for 120 s while its timers still ran; this says where it stopped next time.
_START_SO_FAR = """() => {
  const d = document.documentElement.dataset, res = performance.getEntriesByType('resource');
  let pending = null; try { pending = localStorage.getItem('cnn101-pyodide-snapshot-pending'); } catch (e) {}
  return {marks: performance.getEntriesByType('mark').map(m => `${m.name}@${Math.round(m.startTime)}`),
          dataset: Object.assign({}, d), snapshot_pending: pending, ready_state: document.readyState,
          sw: navigator.serviceWorker && navigator.serviceWorker.controller ? navigator.serviceWorker.controller.state : 'none',
          resources: res.length, last_resources: res.slice(-6).map(r =>
            `${r.name.split('/').pop()} ${Math.round(r.startTime)}–${Math.round(r.responseEnd)} ms ${r.encodedBodySize} B`)};
}"""


def note_restart(page) -> None:
    """A page that became ready only after its start watchdog reloaded it (web/boot.js) passes — a
    learner gets a working page — but the stuck start is reported in pytest's warnings summary."""
    where = page.evaluate("document.documentElement.dataset.startRestarted")
    if where:
        import warnings

        warnings.warn(f"{page.url}: the page's start was stuck and restarted once ({where})", stacklevel=2)


def not_ready_report(page, query: str, name: str) -> str:
    """A plain account of a page that did not become ready (its screenshot goes to test-artifacts/name.png)."""
    try:  # (seen: a renderer that crashed — "Target crashed" — answers nothing, and says so below)
        screenshot(page, name, full_page=False)
        status = page.text_content("#status")
        so_far = page.evaluate(_START_SO_FAR)
    except Exception as e:
        status = so_far = f"(the page did not answer: {str(e).splitlines()[0]})"
    return (f"the page at {query!r} did not become ready: #status {status!r}; "
            f"start so far {so_far}; console {console_problems(page)[-5:]}")


def serve(root: Path, **kwargs):
    """Serve a built site from a thread on a free port: (server, base URL ending in '/')."""
    from buildsite.server import start_in_thread

    return start_in_thread(Path(root), **kwargs)


def stop(server) -> None:
    server.shutdown()
    server.server_close()


def artifact_path(name: str, suffix: str = ".png") -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "shot"
    return ARTIFACTS / (safe if safe.endswith(suffix) else safe + suffix)


SETTLED = """sel => { const root = document.querySelector(sel) || document.documentElement;
  return root.getAnimations({subtree: true}).every(a => a.playState !== 'running'
    || !isFinite(a.effect.getComputedTiming().endTime)); }"""


def wait_settled(page, selector: str = "html", timeout: int = 10_000) -> None:
    """Wait until every finite CSS transition / animation under `selector` has finished (no fixed sleep)."""
    page.wait_for_function(SETTLED, arg=selector, timeout=timeout)


def wait_frames(page, n: int = 3) -> None:
    """Wait for `n` animation frames of the page to pass (a paused animation must not move in them)."""
    page.evaluate("n => new Promise(done => { const f = k => k ? requestAnimationFrame(() => f(k - 1)) : done(); f(n); })", n)


def screenshot(page, name: str, full_page: bool = True, **kwargs) -> Path:
    """Save a screenshot under test-artifacts/ and return its path."""
    path = artifact_path(name)
    page.screenshot(path=str(path), full_page=full_page, **kwargs)
    return path
