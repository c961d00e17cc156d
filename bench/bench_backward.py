"""How long the backward pass takes next to the forward trace, in CPython and in Pyodide (Node), and the
attribution maps that use it (vanilla gradient, Grad-CAM, SmoothGrad with n = 16), on the shipped Tiny VGG; and each
conv-gradient method of engine/conv_backward.py per conv layer (✔ = the one chosen on that platform).

Run: .venv/bin/python bench/bench_backward.py [--quick] [--no-pyodide] [--site dist]
Prints rows and writes bench/results-backward.json. Target (issue 16): backward ≤ 2.5 × the forward trace,
in both runtimes. Pyodide runs the engine from src/ (mounted over the site's wheel), so the figures are
those of the code in this tree. Medians: the machine is shared, the load at the start is recorded.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine_info, print_rows, row, save_json, stats  # noqa: E402

RESULTS = ROOT / "bench" / "results-backward.json"
TARGET_RATIO = 2.5

# Runs as is in CPython (exec) and in Pyodide; REPEAT is substituted; fills RESULT with sample lists (ms).
CODE = """
import time, numpy as np, cnn101
from cnn101.explain import vanilla_gradient, grad_cam, smoothgrad, gradient_overview
from cnn101.explain.overview import layout
model = cnn101.load_model(MODEL_PATH)
x = np.random.default_rng(0).random(model.input_shape, dtype=np.float32)
def timed(fn, n, warm=3):
    for _ in range(warm):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter(); fn(); out.append((time.perf_counter() - t) * 1e3)
    return out
trace = model.trace(x)
target = int(trace.predicted)
RESULT = {"numpy": np.__version__, "samples": {}, "layers": {}}
S = RESULT["samples"]
# forward and backward interleaved, so that a busy moment of the shared machine hits both alike
fw, bw, lean = [], [], []
for _ in range(REPEAT):
    fw += timed(lambda: model.trace(x), 1, 0)
    bw += timed(lambda: model.backward(trace, target), 1, 0)
    lean += timed(lambda: model.backward(trace, target, need_input=False), 1, 0)
S["forward trace"] = fw
S["backward (every activation, input and weight gradient)"] = bw
# CPU time of the process, in blocks of 10 calls: time spent waiting for a core on a shared machine is left out
cpu_f, cpu_b = [], []
for _ in range(max(REPEAT // 10, 3)):
    t0 = time.process_time(); [model.trace(x) for _ in range(10)]; cpu_f.append((time.process_time() - t0) * 100)
    t0 = time.process_time(); [model.backward(trace, target) for _ in range(10)]; cpu_b.append((time.process_time() - t0) * 100)
RESULT["cpu"] = [cpu_f, cpu_b]
S["backward without d/d input (training)"] = lean
lay = layout(model)
S["gradient Overview data (backward + every column's values and scopes)"] = timed(
    lambda: gradient_overview(model, trace, lay=lay), max(REPEAT // 2, 5))
S["vanilla gradient map (trace + backward)"] = timed(lambda: vanilla_gradient(model, x), max(REPEAT // 2, 5))
S["Grad-CAM, last conv layer (trace + backward)"] = timed(lambda: grad_cam(model, x), max(REPEAT // 2, 5))
S["SmoothGrad n = 16 (one batch of 16: trace + backward)"] = timed(lambda: smoothgrad(model, x, n=16), max(REPEAT // 10, 3), 1)
g = model.backward(trace, target)
for i, layer in enumerate(model.layers[:-1]):
    below = "input" if i == 0 else model.layers[i - 1].name
    xi, yi, gi = trace[below][None], trace[layer.name][None], g[layer.name][None]
    f = sorted(timed(lambda: layer.forward(xi), max(REPEAT // 2, 5)))[max(REPEAT // 2, 5) // 2]
    b = sorted(timed(lambda: layer.backward(xi, yi, gi), max(REPEAT // 2, 5)))[max(REPEAT // 2, 5) // 2]
    RESULT["layers"][layer.name] = [f, b]
# each conv-gradient method of engine/conv_backward.py on each conv layer (all gradients), interleaved per round
from cnn101.engine import conv_backward
RESULT["conv_backward"], RESULT["conv_backward_chosen"] = {}, {}
for i, layer in enumerate(model.layers):
    if layer.kind != "conv2d":
        continue
    xp = layer.pad(trace["input" if i == 0 else model.layers[i - 1].name][None])
    gi = g[layer.name][None]
    fns = {name: (lambda f=f: f(xp, layer.kernel, gi, layer.strides, True)) for name, f in conv_backward.METHODS.items()
           if name not in conv_backward.STRIDE_1_ONLY or tuple(layer.strides) == (1, 1)}
    got = {k: [] for k in fns}
    for _ in range(max(REPEAT // 10, 5)):
        for k, fn in fns.items():
            got[k] += timed(fn, 1, 0)
    RESULT["conv_backward"][layer.name] = {k: sorted(v)[len(v) // 2] for k, v in got.items()}
    RESULT["conv_backward_chosen"][layer.name] = conv_backward.choose(layer.kernel.shape, layer.strides)
"""


def _rows(group: str, result: dict) -> list[dict]:
    rows = [row(group, name, stats(samples)) for name, samples in result["samples"].items()]
    fwd = statistics.median(result["samples"]["forward trace"])
    bwd = statistics.median(result["samples"]["backward (every activation, input and weight gradient)"])
    rows.append({"group": group, "name": "backward / forward (medians)", "value": round(bwd / fwd, 3),
                 "unit": f"× (target ≤ {TARGET_RATIO})"})
    cpu_f, cpu_b = (statistics.median(v) for v in result["cpu"])
    if cpu_f > 0:  # Pyodide's process clock may not tick finer than the calls
        rows.append({"group": group, "name": "backward / forward (process CPU time, medians of 10-call blocks)",
                     "value": round(cpu_b / cpu_f, 3), "unit": f"× ({cpu_f:.3f} / {cpu_b:.3f} ms per call)"})
    rows += [{"group": group + "-layer", "name": f"{name}: forward / backward", "value": f"{f:.3f} / {b:.3f}",
              "unit": "ms (median)"} for name, (f, b) in result["layers"].items()]
    chosen = result.get("conv_backward_chosen", {})
    rows += [{"group": group + "-conv-backward", "value": round(ms, 4), "unit": "ms (median, interleaved)",
              "name": f"{name}: {method}{' ✔' if chosen.get(name) == method else ''}"}
             for name, methods in result.get("conv_backward", {}).items() for method, ms in methods.items()]
    return rows


def cpython(repeat: int) -> dict:
    scope: dict = {}
    exec("MODEL_PATH = None\n" + CODE.replace("REPEAT", str(repeat)), scope)  # noqa: S102 - our own benchmark code
    return scope["RESULT"]


def pyodide(repeat: int, site: Path | None) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from pyodide_node import run_pyodide

    tmp = None
    if site is None or not (site / "build-info.json").is_file():
        from bench_page import build_site

        tmp = tempfile.TemporaryDirectory()
        site, _ = build_site(Path(tmp.name) / "dist")
    try:
        # src/ mounted over the wheel; its weights/ link does not resolve in Pyodide's file system: mount weights/
        code = "import sys; sys.path.insert(0, '/src')\nMODEL_PATH = '/weights/tiny-vgg.json'\n"
        code += CODE.replace("REPEAT", str(repeat))
        code += "RESULT['engine_from'] = cnn101.__file__\n"
        return run_pyodide(code, site, mounts={"/src": ROOT / "src", "/weights": ROOT / "weights"}, timeout=1200).result
    finally:
        if tmp:
            tmp.cleanup()


def _loadavg() -> str | None:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return None


def run(quick: bool = False, site: Path | None = None, with_pyodide: bool = True) -> dict:
    repeat = 20 if quick else 200
    doc = {"what": "shipped Tiny VGG 64×64×3, one image; ms (median, p25, p75); machine shared (2 cores)",
           "loadavg_at_start": _loadavg(), "target_ratio": TARGET_RATIO}
    rows = _rows("cpython", cpython(repeat))
    if with_pyodide:
        res = pyodide(max(repeat // 4, 5), site)
        doc["pyodide"] = {"numpy": res["numpy"], "engine_from": res["engine_from"]}
        rows += _rows("pyodide", res)
    doc["rows"] = rows
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-pyodide", action="store_true")
    ap.add_argument("--site", type=Path, default=None, help="a built site (default: build one in a temporary folder)")
    a = ap.parse_args()
    t0 = time.time()
    doc = run(a.quick, a.site, not a.no_pyodide)
    doc["machine"] = machine_info()
    print_rows(doc["rows"])
    for r in doc["rows"]:
        if r["name"] == "backward / forward (medians)":
            print(f"target {r['group']}: backward = {r['value']} × forward vs ≤ {TARGET_RATIO} → "
                  f"{'met' if r['value'] <= TARGET_RATIO else 'MISSED'}")
    save_json(RESULTS, doc)
    print(f"wrote {RESULTS.relative_to(ROOT)} in {time.time() - t0:.0f} s (load at start: {doc['loadavg_at_start']})")


if __name__ == "__main__":
    main()
