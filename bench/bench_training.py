"""Training throughput and the page while it trains (issue 14).

    .venv/bin/python bench/bench_training.py            # CPython 10 steps; the page: 8 steps, 4 s of frames
    .venv/bin/python bench/bench_training.py --quick    # fewer: checks the harness
    .venv/bin/python bench/bench_training.py --site dist
    .venv/bin/python bench/bench_training.py --scratch 15   # also 'Watch it learn from scratch', 15 epochs
    .venv/bin/python bench/bench_training.py --tfjs-wasm DIR  # TF.js wasm's dist/ when node_modules lacks it

Rows (bench/common.py format; group "training"):
- `cpython: <model> whole network, Adam, batch 32` — images per second of forward + backward + update
  (`learn.Adam.step` on 32 images), and the same for the output layer only;
- `pyodide worker: …` — the same step in the page's training worker (Pyodide 0.27.7), timed by the worker
  around each step (cnn101.learn.exchange.Job), first step left out;
- `page frame rate while training` — requestAnimationFrame callbacks per second on the page while the
  worker trains (the page repaints the Overview from each new set of weights), target ≥ 50;
- `bytes when the training panel opens` and `… when training starts` — files the page and its worker
  requested (sizes from build-info.json; on a repeat visit they come from the service worker's cache);
- `tfjs 4.22 <backend>: …` — TF.js training the same model (our TF.js export loaded with loadLayersModel,
  Adam 1e-3, sparse categorical cross-entropy, `trainOnBatch` on the same 32 random images each step, first
  step left out) in the same browser run, on each backend node_modules holds that trains (cpu; wasm when
  @tensorflow/tfjs-backend-wasm is installed, or its dist/ given by --tfjs-wasm, e.g. from
  `npm pack @tensorflow/tfjs-backend-wasm@4.22.0`; webgl here is SwiftShader, a software GPU).
Figures, not assertions. The machine is shared with other workers: quote medians, say so.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from common import machine_info, print_rows, row, save_json, stats  # noqa: E402

RESULTS = HERE / "results-training.json"
BATCH = 32
_FPS = """async (ms) => { const ts = []; const t0 = performance.now();
    await new Promise(done => { function f(t) { ts.push(t); if (t - t0 < ms) requestAnimationFrame(f); else done(); }
                                requestAnimationFrame(f); });
    return ts; }"""


def cpython_rows(n: int) -> list[dict]:
    import numpy as np

    import cnn101
    from cnn101 import learn

    model = cnn101.load_model()
    rng = np.random.default_rng(0)
    xs = rng.random((BATCH, *model.input_shape), dtype=np.float32)
    ys = rng.integers(0, model.num_classes, BATCH)
    rows = []
    for what in ("whole network", "output layer only"):
        m = cnn101.load_model()
        if what != "whole network":
            learn.freeze(m)
        opt = learn.Adam(1e-3)
        opt.step(m, xs, ys)  # warm-up
        per_s = []
        for _ in range(n):
            t0 = time.perf_counter()
            opt.step(m, xs, ys)
            per_s.append(BATCH / (time.perf_counter() - t0))
        rows.append(row("training", f"cpython: {model.name} {what}, Adam, batch {BATCH}", stats(per_s, "images/s")))
    return rows


def _files(site: Path) -> dict[str, int]:
    info = json.loads((site / "build-info.json").read_text())
    return {k: v["size"] for k, v in info["files"].items()}


def page_rows(site: Path, url: str, steps: int, fps_ms: int, wasm_dist: Path | None = None) -> list[dict]:
    from playwright.sync_api import sync_playwright

    import browser as b
    from bench_views import open_page

    sizes = _files(site)
    pw = sync_playwright().start()
    browser = b.launch(pw)
    rows = []
    try:
        ctx, page = open_page(browser, url)
        name = json.loads(page.evaluate("cnn101_state()"))["model"]["name"]
        # the page's own background work after start (examples decoded, Pillow loaded) first
        page.wait_for_function("(s => s.examples_prepared === s.examples && s.pillow === 'loaded')"
                               "(JSON.parse(cnn101_state()))", timeout=180_000)
        asked: list[str] = []
        # the page's and the training worker's own requests (not the service worker's precaching)
        ctx.on("request", lambda r: None if r.service_worker else asked.append(urlparse(r.url).path.lstrip("/")))
        page.click("#training summary")
        page.wait_for_selector("#tr-start")
        opened = sum(sizes.get(p, 0) for p in asked)
        n_opened = len(asked)
        asked.clear()
        examples = page.locator("button.example")
        for cls, ex in ((1, 0), (2, 1)):  # 20 images per class: 16 train + 4 held out each = one batch of 32
            examples.nth(ex).click()
            page.wait_for_function(f"JSON.parse(cnn101_state()).image === {json.dumps(examples.nth(ex).get_attribute('data-id'))}")
            for _ in range(20):
                page.click(f".tr-class:nth-child({cls}) .tr-add-shown")
        page.fill("#tr-lr", "0.001")
        page.fill("#tr-batch", str(BATCH))
        page.fill("#tr-epochs", str(steps + 1))
        page.select_option("#tr-optimizer", "adam")
        page.select_option("#tr-train", "all")
        asked.clear()  # the example clicks above fetched example files again (from the cache)
        t0 = time.perf_counter()
        page.click("#tr-start")
        page.wait_for_function("JSON.parse(cnn101_training()).step >= 1", timeout=180_000)
        first_step_s = time.perf_counter() - t0
        started = sum(sizes.get(p, 0) for p in asked)
        n_started = len(asked)
        started_paths = list(asked)
        ts = page.evaluate(_FPS, fps_ms)
        page.wait_for_function("['done', 'nan', 'failed'].includes(JSON.parse(cnn101_training()).state)", timeout=600_000)
        tr = json.loads(page.evaluate("cnn101_training()"))
        secs = tr["step_seconds"][1:] or tr["step_seconds"]
        fps = [1000.0 * (len(w) - 1) / (w[-1] - w[0]) for w in _windows(ts, 1000.0) if len(w) > 1]
        print("requested when training started:", sorted(set(started_paths)))
        rows += [
            row("training", f"pyodide worker: {name} whole network, Adam, batch {BATCH}",
                stats([BATCH / s for s in secs], "images/s")),
            row("training", "page frame rate while training (1 s windows)", stats(fps, "fps"), target=50),
            row("training", "Start → first step shown (worker's Pyodide + NumPy + wheel + one step)",
                stats([first_step_s], "s")),
            row("training", "bytes when the training panel opens", stats([float(opened)], "bytes"), requests=n_opened),
            row("training", "bytes the worker loads when training starts", stats([float(started)], "bytes"),
                requests=n_started),
        ]
        ctx.close()
        rows += tfjs_rows(browser, steps, wasm_dist)
    finally:
        browser.close()
        pw.stop()
    return rows


_TFJS_TRAIN = """async ([backend, xs, shape, ys, n]) => {
  if (backend === "wasm") tf.wasm.setWasmPaths(new URL("./tfjs-wasm/", location.href).href);
  if (!(await tf.setBackend(backend))) return {error: `backend ${backend} unavailable`};
  await tf.ready();
  const model = await tf.loadLayersModel("./model/model.json");
  model.compile({optimizer: tf.train.adam(1e-3), loss: "sparseCategoricalCrossentropy"});
  const x = tf.tensor(xs, shape), y = tf.tensor(ys, [ys.length, 1]);
  const secs = [], losses = [];
  try {
    for (let i = 0; i < n + 1; i++) {
      const t0 = performance.now();
      losses.push(await model.trainOnBatch(x, y));  // forward + backward + update, the loss read back
      secs.push((performance.now() - t0) / 1000);
    }
  } catch (e) {
    return {error: String(e && e.message || e)};
  }
  return {secs, losses, backend: tf.getBackend()};
}"""


def tfjs_rows(browser, steps: int, wasm_dist: Path | None = None) -> list[dict]:
    """TF.js 4.22 training the same model, batch 32, in `browser` (the run that measured ours). The wasm
    backend's files from `wasm_dist` (its package's dist/), else from node_modules."""
    import shutil

    import numpy as np

    import browser as b
    import cnn101
    from cnn101.formats import tfjs

    tf_dir = ROOT / "node_modules" / "@tensorflow"
    if not (tf_dir / "tfjs" / "dist" / "tf.min.js").is_file():
        print("no TF.js in node_modules: run npm ci")
        return []
    model = cnn101.load_model()
    rng = np.random.default_rng(0)
    xs = rng.random((BATCH, *model.input_shape), dtype=np.float32)
    ys = rng.integers(0, model.num_classes, BATCH)
    probs = np.asarray(model.predict(xs), np.float64).reshape(BATCH, -1)
    loss0 = float(-np.mean(np.log(probs[np.arange(BATCH), ys])))  # the same model's loss before the first step
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-tfjs-train-") as tmp:
        site = Path(tmp)
        shutil.copy(tf_dir / "tfjs" / "dist" / "tf.min.js", site / "tf.min.js")
        backends = ["cpu", "webgl"]
        wasm = wasm_dist or tf_dir / "tfjs-backend-wasm" / "dist"
        scripts = '<script src="./tf.min.js"></script>'
        if (wasm / "tf-backend-wasm.min.js").is_file():
            shutil.copy(wasm / "tf-backend-wasm.min.js", site / "tf-backend-wasm.min.js")
            (site / "tfjs-wasm").mkdir()
            for f in wasm.glob("*.wasm"):
                shutil.copy(f, site / "tfjs-wasm" / f.name)
            scripts += '<script src="./tf-backend-wasm.min.js"></script>'
            backends.append("wasm")
        else:
            print("node_modules lacks @tensorflow/tfjs-backend-wasm (npm ci installs it): no wasm row")
        (site / "index.html").write_text(f"<!doctype html><meta charset=utf-8><title>tfjs training</title>{scripts}")
        tfjs.save(model, site / "model")
        server, url = b.serve(site)
        try:
            for backend in backends:
                ctx = b.guarded_context(browser)
                page = ctx.new_page()
                page.goto(url)
                res = page.evaluate(_TFJS_TRAIN, [backend, xs.ravel().tolist(), list(xs.shape),
                                                  [float(v) for v in ys], steps])
                ctx.close()
                if "error" in res:  # e.g. wasm 4.22 has no Conv2DBackpropFilter kernel: it cannot train a conv layer
                    print(f"tfjs {backend}: {res['error']}")
                    rows.append(row("training", f"tfjs 4.22 {backend}: {model.name} whole network, Adam, batch {BATCH}",
                                    {"value": "cannot train", "unit": ""}, error=res["error"]))
                    continue
                secs = res["secs"][1:] or res["secs"]
                print(f"tfjs {backend}: first loss {res['losses'][0]:.6f} (cnn101's for the same model and "
                      f"batch: {loss0:.6f}); last {res['losses'][-1]:.6f}")
                what = backend + (" (SwiftShader, a software GPU)" if backend == "webgl" else "")
                rows.append(row("training", f"tfjs 4.22 {what}: {model.name} whole network, Adam, batch {BATCH}",
                                stats([BATCH / s for s in secs], "images/s"), first_loss=res["losses"][0],
                                cnn101_loss=loss0))
        finally:
            b.stop(server)
    return rows


def scratch_rows(url: str, epochs: int) -> list[dict]:
    """'Watch it learn from scratch' for `epochs` epochs (Adam 0.003, batch 32): held-out accuracy and wall time."""
    from playwright.sync_api import sync_playwright

    import browser as b
    from bench_views import open_page

    pw = sync_playwright().start()
    browser = b.launch(pw)
    try:
        ctx, page = open_page(browser, url)
        page.click("#training summary")
        page.fill("#tr-lr", "0.003")
        page.fill("#tr-batch", "32")
        page.fill("#tr-epochs", str(epochs))
        page.select_option("#tr-optimizer", "adam")
        t0 = time.perf_counter()
        page.click("#tr-scratch")
        page.wait_for_function("(t => t.runs > 0 && ['done', 'nan', 'failed'].includes(t.state))"
                               "(JSON.parse(cnn101_training()))", timeout=3_600_000, polling=1000)
        wall = time.perf_counter() - t0
        tr = json.loads(page.evaluate("cnn101_training()"))
        ctx.close()
    finally:
        browser.close()
        pw.stop()
    acc = [v for _, v in tr["series"]["val_accuracy"]]
    print("from scratch, held-out accuracy by report:", [round(a, 3) for a in acc])
    return [row("training", f"from scratch ({epochs} epochs, Adam 0.003, batch 32): held-out accuracy (100 images)",
                stats([100.0 * acc[-1]], "%"), state=tr["state"], best=100.0 * max(acc)),
            row("training", f"from scratch ({epochs} epochs): Start → done, incl. fetching 500 images",
                stats([wall], "s"), worker_s=sum(tr["step_seconds"]))]


def _windows(ts: list[float], width: float) -> list[list[float]]:
    out, cur = [], []
    for t in ts:
        if cur and t - cur[0] >= width:
            out.append(cur)
            cur = []
        cur.append(t)
    return out


def run(quick: bool = False, site: Path | None = None, scratch: int = 0, wasm_dist: Path | None = None) -> list[dict]:
    import browser as b
    from bench_views import build_site

    rows = cpython_rows(3 if quick else 10)
    tmp = None
    if site is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-training-")
        site, _ = build_site(Path(tmp.name) / "dist")
    server, url = b.serve(site)
    try:
        rows += page_rows(site, url, 3 if quick else 8, 2000 if quick else 4000, wasm_dist)
        if scratch:
            rows += scratch_rows(url, scratch)
    finally:
        b.stop(server)
        if tmp is not None:
            tmp.cleanup()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--site", type=Path, default=None, help="an existing build (it must hold a model)")
    ap.add_argument("--scratch", type=int, default=0, help="also train from scratch for this many epochs")
    ap.add_argument("--tfjs-wasm", type=Path, default=None,
                    help="dist/ of @tensorflow/tfjs-backend-wasm 4.22 (default: node_modules')")
    args = ap.parse_args()
    rows = run(args.quick, args.site, args.scratch, args.tfjs_wasm)
    print_rows(rows)
    save_json(RESULTS, {"machine": machine_info(), "quick": args.quick, "shared_machine": True, "rows": rows})


if __name__ == "__main__":
    main()
