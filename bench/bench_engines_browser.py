"""Our engine in Pyodide vs TF.js (CPU, WebGL) in the same headless Chromium, on the same model.

TF.js runs the model layer by layer and reads every output back, as CNN Explainer does.
Needs `dist/` (build.py) and node_modules (npm ci). Run: .venv/bin/python bench/bench_engines_browser.py
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, row, script_main, stats  # noqa: E402

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
    shutil.copy(ROOT / "node_modules" / "@tensorflow" / "tfjs" / "dist" / "tf.min.js", tmp / "tf.min.js")
    shutil.copy(Path(__file__).with_name("engines_page.html"), tmp / "index.html")
    tfjs.save(model, tmp / "model")
    return "./wheels/" + wheels[-1].name


class _Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript"}

    def log_message(self, *a):
        pass


def run(quick: bool = False) -> list[dict]:
    from playwright.sync_api import sync_playwright

    model = bench_model()
    x = example_input(model)
    expected = model.trace(x).probs
    repeat, warmup = (5, 2) if quick else (60, 10)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        wheel = _site(tmp, model)
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
                page.goto(url)
                version = page.evaluate("chromium => navigator.userAgent", None)
                flat = x.reshape(-1).tolist()
                shape = [1, *model.input_shape]
                for backend in ("cpu", "webgl"):
                    res = page.evaluate(f"([i, s]) => benchTfjs('{backend}', i, s, {repeat}, {warmup})", [flat, shape])
                    if "error" in res:
                        rows.append({"group": "browser", "name": f"TF.js {backend}: {res['error']}", "value": None})
                        continue
                    err = float(np.abs(np.asarray(res["probs"]) - expected).max())
                    rows.append(row("browser", f"TF.js {res['version']} {backend}, layer by layer + readback",
                                    stats(res["samples"]), max_abs_diff_probs=err, engine=f"tfjs-{backend}"))
                res = page.evaluate(f"([i, w, f]) => benchPyodide(i, {repeat}, {warmup}, w, f)", [flat, wheel, files])
                err = float(np.abs(np.asarray(res["probs"]) - expected).max())
                rows.append(row("browser", "cnn101 in Pyodide 0.27.7, full trace", stats(res["samples"]),
                                max_abs_diff_probs=err, engine="pyodide-chromium", numpy=res["numpy"],
                                startup_ms=res["ready_ms"]))
                rows.append({"group": "browser", "name": "user agent", "value": version})
                browser.close()
        finally:
            server.shutdown()
        if outside:
            raise SystemExit(f"requests left localhost: {outside}")
    by = {r.get("engine"): r for r in rows}
    if "pyodide-chromium" in by and "tfjs-cpu" in by:
        rows.append({"group": "browser", "name": "ratio ours (Pyodide) / TF.js CPU, same browser",
                     "value": round(by["pyodide-chromium"]["median"] / by["tfjs-cpu"]["median"], 3), "unit": "×"})
    return rows


if __name__ == "__main__":
    script_main(run)
