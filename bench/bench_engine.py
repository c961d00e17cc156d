"""How long a full trace of Tiny VGG (64×64) takes: our engine on CPython and in Pyodide, next to Keras.

Keras runs the same weights two ways: layer by layer, one sub-model per layer output fed the input and read
back (what CNN Explainer does with TF.js), and as one call of the whole model (the final output only).
The model is the bundled one (`cnn101.load_model()`), or the published reference while none is bundled.

Run: .venv/bin/python bench/bench_engine.py [--quick] [--no-keras] [--no-pyodide]
Prints rows and writes bench/results-engine.json. Targets (issue 2): ≤ 1 ms CPython, ≤ 8 ms Pyodide.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine_info, measure, print_rows, row, save_json, stats  # noqa: E402

RESULTS = ROOT / "bench" / "results-engine.json"
REFERENCE = ROOT.parent / "shared" / "reference" / "cnn-explainer"
TARGETS_MS = {"cpython": 1.0, "pyodide": 8.0}


def bench_model():
    """(model, description): the bundled Tiny VGG, else the reference model.json (bench only)."""
    import cnn101

    try:
        return cnn101.load_model(), "bundled weights/tiny-vgg.json"
    except cnn101.ModelError:
        return cnn101.load_model(REFERENCE / "model.json"), "reference cnn-explainer/model.json (no bundled model yet)"


def example_input(model) -> np.ndarray:
    return np.random.default_rng(0).random(model.input_shape, dtype=np.float32)


# --- CPython ------------------------------------------------------------------------------------------

def cpython_rows(model, x, repeat: int) -> list[dict]:
    rows = [row("cpython", "cnn101 full trace (all layers kept)", measure(lambda: model.trace(x), repeat, 20))]
    xb, per_layer = x[None], []
    for layer in model.layers:
        inp = xb
        st = measure(lambda: layer.forward(inp), max(repeat // 2, 20), 5)
        per_layer.append(row("cpython-layer", f"{layer.name} ({layer.kind}) → {model.shapes[layer.name]}", st))
        xb = layer.forward(inp)
    batch = np.stack([x] * 16)
    st = measure(lambda: model.trace(batch), max(repeat // 10, 10), 2)
    rows.append(row("cpython", "cnn101 full trace, batch of 16 (per image)",
                    {**st, **{k: st[k] / 16 for k in ("median", "p25", "p75", "min")}}))
    return rows + per_layer


def single_thread_row(repeat: int) -> dict | None:
    """The full trace with OPENBLAS_NUM_THREADS=1 (a fresh process: the BLAS reads it at import)."""
    code = ("import sys, json; sys.path.insert(0, 'bench'); import bench_engine as b; from common import measure; "
            "m, _ = b.bench_model(); x = b.example_input(m); "
            f"print(json.dumps(measure(lambda: m.trace(x), {repeat}, 20)))")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode:
        print(proc.stderr[-1500:], file=sys.stderr)
        return None
    return row("cpython", "cnn101 full trace, BLAS on one thread", json.loads(proc.stdout.strip().splitlines()[-1]))


# --- Keras --------------------------------------------------------------------------------------------

def keras_of(model):
    """The engine model as a Keras Sequential with the same weights, one Keras layer per engine layer."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    L, layers = keras.layers, []
    for layer in model.layers:
        if layer.kind == "conv2d":
            k = L.Conv2D(layer.filters, tuple(layer.kernel_size), strides=layer.strides, padding=layer.padding,
                         use_bias=layer.use_bias, name=layer.name)
        elif layer.kind == "dense":
            k = L.Dense(layer.units, use_bias=layer.use_bias, name=layer.name)
        elif layer.kind == "maxpool2d":
            k = L.MaxPooling2D(layer.pool_size, strides=layer.strides, padding=layer.padding, name=layer.name)
        elif layer.kind == "flatten":
            k = L.Flatten(name=layer.name)
        else:  # relu, softmax
            k = L.Activation(layer.kind, name=layer.name)
        layers.append(k)
    km = keras.Sequential([keras.Input(model.input_shape), *layers])
    for layer in model.layers:
        if layer.params:
            km.get_layer(layer.name).set_weights(list(layer.params.values()))
    return km, keras


def keras_rows(model, x, repeat: int) -> tuple[list[dict], dict]:
    km, keras = keras_of(model)
    import tensorflow as tf

    xb = tf.constant(x[None])
    subs = [keras.Model(km.inputs, layer.output) for layer in km.layers]

    def layer_by_layer():
        return [s(xb, training=False).numpy() for s in subs]

    def layer_by_layer_predict():
        return [s.predict_on_batch(xb) for s in subs]

    # sanity: Keras computes what we compute
    ours = model.trace(x)
    worst = max(float(np.abs(out[0] - ours[layer.name]).max()) for out, layer in zip(layer_by_layer(), model.layers))
    rows = [
        row("keras", "layer by layer: one sub-model per layer, each from the input, read back",
            measure(layer_by_layer, max(repeat // 10, 10), 3)),
        row("keras", "layer by layer with predict_on_batch", measure(layer_by_layer_predict, max(repeat // 20, 5), 2)),
        row("keras", "one call of the whole model (final output only)",
            measure(lambda: km(xb, training=False).numpy(), max(repeat // 4, 20), 5)),
        row("keras", "one predict_on_batch of the whole model", measure(lambda: km.predict_on_batch(xb), max(repeat // 4, 20), 5)),
    ]
    return rows, {"keras_version": keras.__version__, "tensorflow_version": tf.__version__,
                  "max_abs_diff_vs_cnn101": worst}


# --- Pyodide (Node) -----------------------------------------------------------------------------------

PYODIDE_CODE = """
import time, statistics, numpy as np, cnn101
try:
    model = cnn101.load_model()
except cnn101.ModelError:
    model = cnn101.load_model("/ref/model.json")
x = np.random.default_rng(0).random(model.input_shape, dtype=np.float32)
def timed(fn, n, warm):
    for _ in range(warm):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter(); fn(); out.append((time.perf_counter() - t) * 1e3)
    return out
RESULT = {"trace": timed(lambda: model.trace(x), REPEAT, 10), "layers": {}, "numpy": np.__version__}
xb = x[None]
for layer in model.layers:
    inp = xb
    RESULT["layers"][layer.name] = statistics.median(timed(lambda: layer.forward(inp), max(REPEAT // 2, 10), 3))
    xb = layer.forward(inp)
"""


def pyodide_rows(repeat: int) -> tuple[list[dict], dict]:
    """Our engine inside Pyodide 0.27.7 under Node, via tests/pyodide_node.py and the verified dist/."""
    dist = ROOT / "dist"
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from pyodide_node import run_pyodide
    except ImportError as e:
        return [], {"skipped": f"tests/pyodide_node.py not importable ({e})"}
    if not (dist / "build-info.json").is_file():
        return [], {"skipped": "no built dist/ (run: .venv/bin/python build.py)"}
    info = json.loads((dist / "build-info.json").read_text())
    current = _wheel_current(dist / info["wheel"])
    # A stale wheel still brings the packages; the engine is then imported from src/, mounted over it.
    prelude = "" if current else "import sys; sys.path.insert(0, '/src')\n"
    run = run_pyodide(prelude + PYODIDE_CODE.replace("REPEAT", str(repeat)) + "RESULT['file'] = cnn101.__file__\n",
                      dist, mounts={"/ref": REFERENCE, "/src": ROOT / "src"})
    res = run.result
    rows = [row("pyodide", "cnn101 full trace (all layers kept), Node", stats(res["trace"]))]
    rows += [{"group": "pyodide-layer", "name": n, "value": round(v, 4), "unit": "ms (median)"} for n, v in res["layers"].items()]
    return rows, {"runtime": "Pyodide " + info["pyodide_version"] + " under Node " + (machine_info()["node"] or "?"),
                  "numpy": res["numpy"], "engine_from": res["file"],
                  "note": "dist/ wheel" if current else "src/ (the dist/ wheel's engine is older; python build.py)"}


def _wheel_current(wheel: Path) -> bool:
    """Whether dist/'s wheel holds the engine as it is in src/ now (else rebuild: python build.py)."""
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        return all(f"cnn101/engine/{f.name}" in names and z.read(f"cnn101/engine/{f.name}") == f.read_bytes()
                   for f in (ROOT / "src" / "cnn101" / "engine").glob("*.py"))


def _loadavg() -> str | None:
    """The machine is shared: the load when the bench started says how much to trust the figures."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return None


def run(quick: bool = False, keras: bool = True, pyodide: bool = True) -> dict:
    repeat = 60 if quick else 300
    model, source = bench_model()
    x = example_input(model)
    rows = cpython_rows(model, x, repeat)
    one = single_thread_row(repeat)
    if one:
        rows.insert(1, one)
    doc = {"what": "full trace of Tiny VGG, 64×64×3, every layer's output kept; times in ms (median, p25, p75)",
           "model": source, "param_count": model.param_count, "targets_ms": TARGETS_MS, "machine": machine_info(),
           "loadavg_at_start": _loadavg()}
    if keras:
        krows, doc["keras"] = keras_rows(model, x, repeat)
        rows += krows
    if pyodide:
        try:
            prows, doc["pyodide"] = pyodide_rows(repeat // 2)
        except Exception as e:  # the bench reports and carries on; tests/test_engine_pyodide.py owns correctness
            prows, doc["pyodide"] = [], {"failed": f"{type(e).__name__}: {str(e)[:500]}"}
        rows += prows
    doc["rows"] = rows
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--no-keras", action="store_true")
    ap.add_argument("--no-pyodide", action="store_true")
    a = ap.parse_args()
    t0 = time.time()
    doc = run(a.quick, not a.no_keras, not a.no_pyodide)
    print(f"model: {doc['model']} ({doc['param_count']:,} parameters)")
    print_rows(doc["rows"])
    for k in ("keras", "pyodide"):
        if k in doc:
            print(f"{k}: {doc[k]}")
    for env, target in TARGETS_MS.items():
        r = next((r for r in doc["rows"] if r["group"] == env and r["name"].startswith("cnn101 full trace")), None)
        if r:
            print(f"target {env}: median {r['median']:.3f} ms vs ≤ {target} ms → {'met' if r['median'] <= target else 'MISSED'}")
    save_json(RESULTS, doc)
    print(f"wrote {RESULTS.relative_to(ROOT)} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
