"""Issue 12 on the page, in headless Chromium: the Content-Security-Policy is in the built page and the page
runs under it (no bypass); hostile model files (deeply nested JSON, .npz bombs) get plain messages and
the page keeps working; a tampered app wheel or NumPy wheel gives a plain message instead of a page
stuck at "Loading the engine…"; pasted image addresses are this site's own or data:/blob: only.
"""
from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

import browser as _b
import cnn101
from web_page import READY, choose, examples, open_app, state

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostile_files as H  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CSP_DIRECTIVES = ["default-src 'self'", "script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'", "worker-src 'self'",
                  "connect-src 'self' data: blob:", "object-src 'none'", "base-uri 'none'"]


class _Counter(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):  # noqa: N802
        type(self).hits += 1
        body = b"GIF89a"
        self.send_response(200)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture()
def other_origin():
    """A second local origin that counts the requests it gets (and would allow them by CORS)."""
    handler = type("Counter", (_Counter,), {"hits": 0})
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def works(page, site) -> None:
    """The page still computes: a click on another example repaints it."""
    st = state(page)
    other = next(e for e in examples(site) if e["id"] != st["image"])
    page.click(f'button.example[data-id="{other["id"]}"]')
    page.wait_for_function(f"JSON.parse(cnn101_state()).paints > {st['paints']}", timeout=30_000)
    assert state(page)["image"] == other["id"]


def test_the_page_runs_under_its_csp_and_the_csp_holds(app, other_origin):
    page, _, site, _, url = app
    csp = page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content")
    assert csp and all(d in csp for d in CSP_DIRECTIVES), csp
    assert "Ready" in page.text_content("#status")  # it started under the policy (no bypass in this context)
    handler, other = other_origin
    blocked = page.evaluate("""async (u) => { try { await fetch(u + 'x.gif'); return 'fetched'; }
                                             catch (e) { return 'blocked'; } }""", other)
    assert blocked == "blocked" and handler.hits == 0  # connect-src 'self': nothing reaches another origin
    page.evaluate("""() => { window.cnn101_probe = 'idle';
        const img = new Image(); img.addEventListener('error', () => { window.cnn101_probe = 'errored'; });
        document.body.appendChild(img);
        img.outerHTML = '<img id="csp-probe" src="data:," onerror="window.cnn101_pwned = 1">';
        const probe = document.getElementById('csp-probe');
        probe.addEventListener('error', () => { window.cnn101_probe = 'errored'; }); }""")
    page.wait_for_function("window.cnn101_probe === 'errored'", timeout=10_000)
    assert page.evaluate("window.cnn101_pwned === undefined")  # inline event handlers do not run
    page.evaluate("document.getElementById('csp-probe').remove()")


@pytest.fixture(scope="module")
def hostile_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-models")
    deep = root / "deep"
    deep.mkdir()
    (deep / "model.json").write_bytes(b'{"modelTopology": ' + b"[" * 10000 + b"]" * 10000 + b"}")
    model = cnn101.load_model()
    card = cnn101.formats.bundled_path().read_bytes()
    import zipfile
    with zipfile.ZipFile(cnn101.formats.bundled_path().with_suffix(".npz")) as z:
        members = [H.member(n, z.read(n)) for n in z.namelist()]
    used = root / "used-bomb"
    used.mkdir()
    (used / "m.json").write_bytes(card)
    bombed = list(members)
    bombed[0] = H.bomb_member(members[0][0], 2_500_000_000, prefix=H.npy_header((625_000_000,)))
    (used / "m.npz").write_bytes(H.zip_bytes(bombed))
    unused = root / "unused-bomb"
    unused.mkdir()
    (unused / "m.json").write_bytes(card)
    (unused / "m.npz").write_bytes(H.zip_bytes(members + [H.bomb_member("unused.npy", 2_500_000_000)]))
    return {"deep": [deep / "model.json"], "used": [used / "m.json", used / "m.npz"],
            "unused": [unused / "m.json", unused / "m.npz"], "model": model}


@pytest.mark.parametrize("which, words", [("deep", ["model.json", "levels deep"]),
                                          ("used", ["MB", "m.npz"])])
def test_hostile_model_files_get_plain_messages_and_the_page_works(app, hostile_models, which, words):
    page, _, site, _, _ = app
    before = state(page)
    st = choose(page, hostile_models[which])
    assert st["model_error"] and all(w in st["model_error"] for w in words), st["model_error"]
    assert st["model"] == before["model"] and page.is_visible("#model-error")
    works(page, site)
    assert not [p for p in _b.console_problems(page) if "Pyodide has suffered a fatal error" in p]


def test_an_npz_whose_unused_member_is_a_bomb_loads(app, hostile_models):
    page, _, site, default, _ = app
    st = choose(page, hostile_models["unused"])
    assert st["model_error"] is None, st["model_error"]  # the bomb is never inflated
    works(page, site)
    before = state(page)["model_attempts"]
    page.click("#model-reset")
    page.wait_for_function(f"JSON.parse(cnn101_state()).model_attempts > {before}", timeout=READY)


def test_pasted_addresses_stay_on_this_machine(app, other_origin, tmp_path):
    page, _, site, model, url = app
    handler, other = other_origin
    page.fill("#url-input", other + "elsewhere.gif")
    page.click("#url-load")
    page.wait_for_function("document.getElementById('input-error').textContent.includes('other sites')")
    assert handler.hits == 0
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (20, 30), (250, 20, 20)).save(buf, "PNG")
    before = state(page)["paints"]
    page.fill("#url-input", "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode())
    page.click("#url-load")
    page.wait_for_function(f"JSON.parse(cnn101_state()).paints > {before}", timeout=30_000)
    assert page.is_hidden("#input-error")


# --- tampered files in a copy of the site ------------------------------------------------------------
@pytest.fixture()
def site_copy(app_site, tmp_path, serve_site):
    copy = tmp_path / "site"
    def link(src, dst):  # hard links (cheap); a tampered file is replaced, never edited in place
        try:
            os.link(src, dst)
        except OSError:  # another file system (CNN101_SITE elsewhere): copy
            shutil.copy2(src, dst)

    shutil.copytree(app_site, copy, copy_function=link)
    server, url = serve_site(copy)
    return copy, url


def tamper(path: Path) -> bytes:
    data = path.read_bytes()
    path.unlink()  # break the hard link first
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 0xFF
    path.write_bytes(bytes(bad))
    return data


def app_numpy_wheel(site: Path) -> Path:
    """The NumPy wheel the page loads: the one its own lock names (the app's stored copy when the build made
    one, buildsite/stored.py), not just any numpy-*.whl of the site (the notebook's official one is there too)."""
    meta = re.search(r'<meta name="cnn101-pyodide"[^>]*data-lock="([^"]+)"', (site / "index.html").read_text())
    lock = site / meta.group(1) if meta else site / "pyodide" / "pyodide-lock.json"
    name = json.loads(lock.read_text())["packages"]["numpy"]["file_name"]
    wheel = (site / "pyodide" / name).resolve()
    assert wheel.is_file() and site.resolve() in wheel.parents, wheel
    return wheel


@pytest.mark.parametrize("which, words", [("app", ["integrity", "cnn101-", "rebuild"]),
                                          ("numpy", ["numpy", "integrity", "rebuild"])])
def test_a_tampered_wheel_gives_a_plain_message(browser, site_copy, which, words):
    copy, url = site_copy
    info = json.loads((copy / "build-info.json").read_text())
    target = copy / info["wheel"] if which == "app" else app_numpy_wheel(copy)
    original = tamper(target)
    ctx = _b.guarded_context(browser, lean=True)
    try:
        page = ctx.new_page()
        page.goto(url)
        page.wait_for_selector('html[data-ready="error"]', state="attached", timeout=READY)
        status = page.text_content("#status")
        assert all(w in status for w in words), status
        _b.screenshot(page, f"tampered-{which}", full_page=False)
        target.unlink()
        target.write_bytes(original)  # the right file again: a reload works
        page.reload()
        page.wait_for_selector('html[data-ready="1"]', state="attached", timeout=READY)
        assert "Ready" in page.text_content("#status")
    finally:
        ctx.close()
    _b.check_offline(ctx)


def test_a_model_whose_activations_are_too_large_for_the_page_is_refused(app, tmp_path):
    """A small file (24 KB of weights) whose 1024×1024×3 input makes 84 MB of activations per image: the
    package takes it (under its 256 MB bound), the page says plainly it keeps at most 64 MB."""
    import numpy as np

    from cnn101.engine import Dense, Flatten, MaxPool2D, Sequential

    page, _, site, _, _ = app
    layers = [MaxPool2D(f"same_{i}", 1, 1) for i in range(5)]
    layers += [MaxPool2D("shrink", 32, 32), Flatten("f"),
               Dense("d", np.full((32 * 32 * 3, 2), 0.01, np.float32), np.zeros(2, np.float32))]
    Sequential(layers, (1024, 1024, 3), ["a", "b"], name="roomy").save(tmp_path / "roomy")
    before = state(page)
    st = choose(page, [tmp_path / "roomy.json", tmp_path / "roomy.npz"])
    assert st["model_error"] and "activations" in st["model_error"] and "64 MB" in st["model_error"], st["model_error"]
    assert st["model"] == before["model"]
    works(page, site)


# --- what the policy must allow, found by testing ------------------------------------------------------
PROBE = """import { loadPyodide } from "./pyodide/pyodide.mjs";
// without the permission the compile is refused (a CSP violation) and loadPyodide never settles
document.addEventListener("securitypolicyviolation", (e) => {
  document.documentElement.dataset.probe = `failed: ${e.violatedDirective} blocked ${e.blockedURI}`; });
loadPyodide({ indexURL: new URL("./pyodide/", location.href).href })
  .then((py) => { document.documentElement.dataset.probe = "ok:" + py.runPython("1 + 1"); })
  .catch((e) => { document.documentElement.dataset.probe = "failed:" + e; });
"""


def _with_policy(html: str, policy: str) -> str:
    import re
    return re.sub(r'(<meta http-equiv="Content-Security-Policy" content=")[^"]*(")', lambda m: m.group(1) + policy + m.group(2), html, count=1)


@pytest.mark.parametrize("script_src, expect", [("'self' 'wasm-unsafe-eval'", "ok:2"), ("'self'", "failed:")])
def test_pyodide_needs_wasm_unsafe_eval(browser, site_copy, script_src, expect):
    """Pyodide alone (no PyScript) starts under script-src 'self' 'wasm-unsafe-eval'; without it compiling its
    WebAssembly is a CSP violation (and loadPyodide never settles)."""
    copy, url = site_copy
    (copy / "csp-probe.mjs").write_text(PROBE)
    (copy / "csp-probe.html").write_text(
        f'<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src \'self\'; script-src {script_src}">'
        '<script type="module" src="./csp-probe.mjs"></script>')
    ctx = _b.guarded_context(browser, lean=True)
    try:
        page = ctx.new_page()
        page.goto(url + "csp-probe.html")
        page.wait_for_selector("html[data-probe]", state="attached", timeout=READY)
        probe = page.get_attribute("html", "data-probe")
        assert probe.startswith(expect) and ("wasm-eval" in probe or expect == "ok:2"), probe
    finally:
        ctx.close()


def test_pyscript_needs_unsafe_eval(browser, site_copy):
    """Without 'unsafe-eval' PyScript 0.6.66 throws an EvalError at start-up (its hooks code calls Function());
    that is why the policy allows it. The page then says plainly what its server forbids, instead of
    waiting for ever at "Loading the engine…"."""
    copy, url = site_copy
    index = copy / "index.html"
    html = index.read_text()
    index.unlink()  # a hard link to the shared build: replace, never edit
    index.write_text(_with_policy(html, "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
                                        "connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"))
    ctx = _b.guarded_context(browser, lean=True)
    try:
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector('html[data-ready="error"]', state="attached", timeout=READY)
        assert "'unsafe-eval'" in page.text_content("#status")
        assert any("Evaluating a string as JavaScript" in e for e in errors), errors
    finally:
        ctx.close()
