"""Driving Debian's Chromium with PyPI playwright, offline: shared by every browser test.

- `launch(playwright)`: headless /usr/bin/chromium (never `playwright install`), a fresh profile, the
  flags that stop Chromium's own background traffic, and a host-resolver rule that makes every name but
  localhost unresolvable (so nothing can leave even if a request escaped routing).
- `guarded_context(browser)`: a context whose `route("**/*")` aborts and records every request not to
  127.0.0.1/localhost; `context.outside` lists them (URLs) and `check_offline(context)` fails a test
  that attempted any. `lean=True` (the tests' shared fixtures) opens the app without its background
  work: see LEAN below.
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
    context.lean = lean
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


def track_console(page) -> list[str]:
    """Start collecting page errors and console errors of `page`; returns the (growing) list."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: problems.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    page.problems = problems
    return problems


def console_problems(page) -> list[str]:
    return list(getattr(page, "problems", []))


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
