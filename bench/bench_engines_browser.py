"""Our engine in Pyodide vs TF.js (CPU, WebGL, wasm) in the same headless Chromium, on the same model.

TF.js runs the model layer by layer and reads every output back with `arraySync()` (nested JS arrays), as
CNN Explainer does; its wasm backend also with `dataSync()` (one flat Float32Array per layer). The wasm
backend (XNNPACK) runs with SIMD on one thread (its threads switched off), and with SIMD and threads on a
second copy of the page. Ours is timed three ways: the
trace in a Python loop (every layer kept as a NumPy array, which is what our page's renderer reads: the
like-for-like of TF.js + arraySync, whose values CNN Explainer's JS renderer reads), and called from
JavaScript once per trace with every layer copied into a JS Float32Array (getBuffer + copy: the
like-for-like of TF.js + dataSync), or converted with `toJs()`.

Both pages are cross-origin isolated (the server sends COOP/COEP for `?isolated`), which lets the wasm backend
use threads and makes performance.now() (and Pyodide's time.perf_counter, which reads it) move in 5 µs steps
instead of 0.1 ms, so that single runs can be timed. A sample is the mean of BATCH back-to-back runs; engines
take turns in rounds (interleaved), so a busy machine slows every engine alike. Medians of the samples.
Needs `dist/` (build.py) and node_modules (npm ci). Run: .venv/bin/python bench/bench_engines_browser.py
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, row, script_main, stats  # noqa: E402

#: runs per timed sample (see the module docstring): one, as the isolated pages' clock is fine enough. On a busy
#: machine a longer sample is more often preempted, which penalises the slower engine more.
BATCH = 1
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"]


def bench_model():
    """The shipped model if present, else the reference model (bench only, never shipped)."""
    import cnn101

    try:
        return cnn101.load_model()
    except cnn101.ModelError:
        return cnn101.load_model(ROOT.parent / "shared" / "reference" / "cnn-explainer" / "model.json")


def example_input(model) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.random(model.input_shape, dtype=np.float32)


def _site(tmp: Path, model) -> str:
    from cnn101.formats import tfjs

    dist = ROOT / "dist"
    wheels = sorted((dist / "wheels").glob("cnn101-*.whl"))
    if not (dist / "pyodide" / "pyodide.js").exists() or not wheels:
        raise SystemExit("dist/ is not built: run .venv/bin/python build.py first.")
    os.symlink(dist / "pyodide", tmp / "pyodide")
    os.symlink(dist / "wheels", tmp / "wheels")
    tfjs_dir = ROOT / "node_modules" / "@tensorflow"
    shutil.copy(tfjs_dir / "tfjs" / "dist" / "tf.min.js", tmp / "tf.min.js")
    # CNN101_TFJS_WASM_DIST: another checkout's node_modules/@tensorflow/tfjs-backend-wasm/dist (same 4.22.0),
    # for a tree whose node_modules predates the pin
    wasm_dist = Path(os.environ.get("CNN101_TFJS_WASM_DIST", tfjs_dir / "tfjs-backend-wasm" / "dist"))
    if not (wasm_dist / "tf-backend-wasm.min.js").is_file():
        raise SystemExit("node_modules lacks @tensorflow/tfjs-backend-wasm: run npm ci (package-lock pins 4.22.0), "
                         "or set CNN101_TFJS_WASM_DIST to its dist/ folder.")
    version = json.loads((wasm_dist.parent / "package.json").read_text())["version"]
    if version != json.loads((tfjs_dir / "tfjs" / "package.json").read_text())["version"]:
        raise SystemExit(f"tfjs-backend-wasm {version} does not match tfjs in node_modules.")
    shutil.copy(wasm_dist / "tf-backend-wasm.min.js", tmp / "tf-backend-wasm.min.js")
    (tmp / "tfjs-wasm").mkdir()
    for f in wasm_dist.glob("*.wasm"):  # served from localhost, never from a CDN
        shutil.copy(f, tmp / "tfjs-wasm" / f.name)
    shutil.copy(Path(__file__).with_name("engines_page.html"), tmp / "index.html")
    tfjs.save(model, tmp / "model")
    return "./wheels/" + wheels[-1].name


class _Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript"}

    def end_headers(self):
        if "isolated" in self.path.partition("?")[2]:  # cross-origin isolation: lets the wasm backend use threads
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def log_message(self, *a):
        pass


def _tfjs_row(info: dict, samples: list[float], backend: str, expected: np.ndarray, suffix: str = "") -> dict:
    err = float(np.abs(np.asarray(info["probs"]) - expected).max())
    extra = {k: info[k] for k in ("simd", "threads", "isolated", "cores") if k in info}
    what = backend
    if backend == "wasm":
        what = "wasm " + ("SIMD" if info.get("simd") else "no SIMD") + (" + threads" if info.get("threads") else ", one thread")
    return row("browser", f"TF.js {info['version']} {what}, layer by layer + readback", stats(samples),
               max_abs_diff_probs=err, engine=f"tfjs-{backend}{suffix}", **extra)


def run(quick: bool = False) -> list[dict]:
    from playwright.sync_api import sync_playwright

    model = bench_model()
    x = example_input(model)
    expected = model.trace(x).probs
    # every engine runs `per_round` times in each of `rounds` rounds, the engines taking turns
    rounds, per_round, warmup, batch = (2, 3, 2, 2) if quick else (10, 10, 3, BATCH)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        wheel = _site(tmp, model)
        # The page runs dist/'s wheel: say whether its engine is the one in src/ (a stale build measures old code)
        from bench_engine import _wheel_current

        fresh = "dist wheel = src/" if _wheel_current(ROOT / "dist" / wheel[2:]) else "STALE dist wheel (python build.py)"
        files = sorted(p.name for p in (tmp / "model").iterdir())
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
        outside: list[str] = []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                ctx = browser.new_context()

                def route(r):
                    host = r.request.url.split("/")[2].split(":")[0] if "://" in r.request.url else ""
                    if r.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
                        r.continue_()
                    else:
                        outside.append(r.request.url)
                        r.abort()

                ctx.route("**/*", route)
                page = ctx.new_page()
                page.goto(url + "?isolated&nothreads")  # TF.js wasm on one thread here
                isolated = ctx.new_page()  # the same page, TF.js wasm may use threads
                isolated.goto(url + "?isolated")
                version = page.evaluate("chromium => navigator.userAgent", None)
                flat = x.reshape(-1).tolist()
                shape = [1, *model.input_shape]
                info, where, errors = {}, {}, []
                for backend in ("cpu", "webgl", "wasm"):
                    res = page.evaluate(f"([i, s]) => prepareTfjs('{backend}', i, s)", [flat, shape])
                    if "error" in res:
                        errors.append({"group": "browser", "name": f"TF.js {backend}: {res['error']}", "value": None})
                        continue
                    info[f"tfjs-{backend}"], where[f"tfjs-{backend}"] = res, page
                    if backend == "wasm":
                        where["tfjs-wasm-flat"] = page
                res = isolated.evaluate("([i, s]) => prepareTfjs('wasm', i, s)", [flat, shape])
                if "error" not in res:
                    info["tfjs-wasm-isolated"], where["tfjs-wasm-isolated"] = res, isolated
                py = page.evaluate("([i, w, f]) => preparePyodide(i, w, f)", [flat, wheel, files])
                where["pyodide-loop"] = where["pyodide-readback"] = where["pyodide-tojs"] = page
                samples = {k: [] for k in where}
                for _ in range(rounds):
                    for key, pg in where.items():
                        name = "tfjs-wasm" if key == "tfjs-wasm-isolated" else key
                        samples[key] += pg.evaluate(f"() => timeEngine('{name}', {per_round}, {warmup}, {batch})")
                for key in ("tfjs-cpu", "tfjs-webgl", "tfjs-wasm", "tfjs-wasm-isolated"):
                    if key in info:
                        backend, _, suffix = key[5:].partition("-")
                        rows.append(_tfjs_row(info[key], samples[key], backend, expected, "-" + suffix if suffix else ""))
                if "tfjs-wasm-flat" in samples:
                    rows.append(row("browser", f"TF.js {info['tfjs-wasm']['version']} wasm SIMD, one thread, layer by layer "
                                    "+ dataSync (flat Float32Arrays)", stats(samples["tfjs-wasm-flat"]),
                                    engine="tfjs-wasm-flat"))
                rows += errors
                err = float(np.abs(np.asarray(py["probs"]) - expected).max())
                rows.append(row("browser", "cnn101 in Pyodide 0.27.7, full trace in a Python loop (every layer kept in NumPy)",
                                stats(samples["pyodide-loop"]), max_abs_diff_probs=err, engine="pyodide-chromium",
                                numpy=py["numpy"], startup_ms=py["ready_ms"], engine_code=fresh))
                rows.append(row("browser", "cnn101 in Pyodide 0.27.7, called from JS, every layer copied to a JS Float32Array",
                                stats(samples["pyodide-readback"]), engine="pyodide-chromium-readback"))
                rows.append(row("browser", "cnn101 in Pyodide 0.27.7, called from JS, every layer read back with toJs()",
                                stats(samples["pyodide-tojs"]), engine="pyodide-chromium-tojs"))
                rows.append({"group": "browser", "name": "user agent", "value": version})
                rows.append({"group": "browser", "name": "engines interleaved: rounds × samples per round × runs per sample",
                             "value": f"{rounds} × {per_round} × {batch}"})
                browser.close()
        finally:
            server.shutdown()
        if outside:
            raise SystemExit(f"requests left localhost: {outside}")
    by = {r.get("engine"): r for r in rows}
    # (ours, peer): the first two are like for like (each engine hands every layer to its own renderer: NumPy
    # arrays for our Python renderer, nested JS arrays for CNN Explainer's; or flat Float32Arrays in JS for both)
    pairs = [("pyodide-chromium", "tfjs-wasm", "ours, every layer kept in NumPy / TF.js wasm SIMD + arraySync"),
             ("pyodide-chromium-readback", "tfjs-wasm-flat",
              "ours, every layer copied to JS / TF.js wasm SIMD + dataSync (both flat Float32Arrays)"),
             ("pyodide-chromium-readback", "tfjs-wasm", "ours, every layer copied to JS / TF.js wasm SIMD + arraySync"),
             ("pyodide-chromium", "tfjs-wasm-isolated", "ours, every layer kept in NumPy / TF.js wasm SIMD (threads if isolated) + arraySync"),
             ("pyodide-chromium", "tfjs-cpu", "ours, every layer kept in NumPy / TF.js cpu + arraySync"),
             ("pyodide-chromium-readback", "tfjs-cpu", "ours, every layer copied to JS / TF.js cpu + arraySync")]
    for o, p_key, name in pairs:
        if o in by and p_key in by and "median" in by[o] and "median" in by[p_key]:
            rows.append({"group": "browser", "name": f"ratio {name}, same browser",
                         "value": round(by[o]["median"] / by[p_key]["median"], 3), "unit": "×"})
    return rows


if __name__ == "__main__":
    script_main(run)
