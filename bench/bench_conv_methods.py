"""Each convolution method of engine/conv_methods.py on each conv layer of the shipped model, in CPython and in
Pyodide (Node): time, and error against TensorFlow's conv of the same input (and a float64 reference).
Also ReLU variants and the full trace with the per-platform choice against `taps` everywhere.

Variants are interleaved (round after round, every variant once per round); a row's median and quartiles
are over the rounds' medians (n = rounds), so that a shared machine's load hits every variant alike.

Run: .venv/bin/python bench/bench_conv_methods.py [--quick]  → prints rows, writes bench/results-conv-methods.json
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine_info, print_rows, row, save_json, stats  # noqa: E402

RESULTS = ROOT / "bench" / "results-conv-methods.json"

# Runs unchanged in CPython and in Pyodide: writes each method's output per conv layer to OUT as .npy.
CODE = r"""
import statistics, time, sys
import numpy as np
import cnn101
from cnn101.engine import conv_methods, layers

def timed(fn, n):
    fn()
    s = []
    for _ in range(n):
        t = time.perf_counter(); fn(); s.append((time.perf_counter() - t) * 1e3)
    return statistics.median(s)

def rounds_of(variants, rounds, n):
    got = {k: [] for k in variants}
    for _ in range(rounds):
        for k, fn in variants.items():
            got[k].append(timed(fn, n))
    return got  # each variant: one median per round

model = cnn101.load_model(MODEL)
x = np.random.default_rng(0).random(model.input_shape, dtype=np.float32)
RESULT = {"conv": {}, "relu": {}, "trace": {}, "chosen": {}}
xb = x[None]
relu_in = None
for layer in model.layers:
    if layer.kind == "conv2d":
        (oh, _, _), (ow, _, _) = layer.geometry(xb.shape[1:])
        xp = layer.pad(xb)
        k, b, s = layer.kernel, layer.bias, layer.strides
        variants = {m: (lambda f=f: f(xp, k, b, s, oh, ow)) for m, f in conv_methods.METHODS.items()
                    if (m != "winograd_2x2" or k.shape[:2] == (3, 3))
                    and (m not in conv_methods.STRIDE_1_ONLY or tuple(s) == (1, 1))}
        RESULT["conv"][layer.name] = rounds_of(variants, ROUNDS, N)
        RESULT["chosen"][layer.name] = conv_methods.choose(xp.shape, k.shape, s, oh, ow)
        np.save(f"{OUT}/{layer.name}.input.npy", xb)
        for m, fn in variants.items():
            np.save(f"{OUT}/{layer.name}.{m}.npy", fn())
    if layer.kind == "relu" and relu_in is None:
        relu_in = xb
    xb = layer.forward(xb)
z = np.float32(0)
RESULT["relu"] = rounds_of({"maximum": lambda: np.maximum(relu_in, z),
                            "where": lambda: np.where(relu_in > z, relu_in, z),
                            "multiply_mask": lambda: relu_in * (relu_in > z)}, ROUNDS, N)
RESULT["relu_shape"] = list(relu_in.shape)
real_choose = layers.choose

def rule_before_einsum(xp_shape, kernel_shape, strides, oh, ow, no_blas=conv_methods.NO_BLAS):
    # the per-layer rule until channels_first_einsum (session 5), for the same-run comparison
    kh, kw, cin, _ = kernel_shape
    stride_1 = tuple(strides) == (1, 1)
    if not no_blas:
        return "channels_first" if stride_1 else "taps"
    if stride_1 and (kh, kw) == (3, 3) and cin >= 8 and oh * ow >= 64:
        return "winograd_2x2"
    if stride_1 and kh * kw * cin <= 64:
        return "channels_first"
    return "row_windows" if kw * cin <= 48 else "taps"

def with_rule(rule):
    def run():
        layers.choose = rule
        try:
            return model.trace(x)
        finally:
            layers.choose = real_choose
    return run

variants = {"chosen per layer": lambda: model.trace(x), "taps everywhere": with_rule(lambda *a, **k: "taps")}
if conv_methods.NO_BLAS:
    variants["previous rule (Winograd from 8 channels, channels_first by matmul)"] = with_rule(rule_before_einsum)
RESULT["trace"] = rounds_of(variants, ROUNDS, N)
RESULT["platform"] = sys.platform
"""


def _cpython(model_path: str, out: Path, rounds: int, n: int) -> dict:
    env = {"MODEL": model_path, "OUT": str(out), "ROUNDS": rounds, "N": n}
    exec(compile(CODE, "bench_conv_methods", "exec"), env)
    return env["RESULT"]


def _pyodide(model_path: Path, out: Path, rounds: int, n: int) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from pyodide_node import run_pyodide

    dist = ROOT / "dist"
    prelude = (f"MODEL = '/model/{model_path.name}'\nOUT = '/out'\nROUNDS = {rounds}\nN = {n}\n"
               "import sys; sys.path.insert(0, '/src')\n")  # this tree's engine, whatever dist/'s wheel holds
    run = run_pyodide(prelude + CODE, dist, mounts={"/model": model_path.parent, "/out": out, "/src": ROOT / "src"},
                      timeout=1800)
    return run.result


def _tf_conv(layer, xb: np.ndarray) -> np.ndarray:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    y = tf.nn.conv2d(xb, layer.kernel, strides=list(layer.strides), padding=layer.padding.upper())
    return (y + layer.bias).numpy()


def run(quick: bool = False) -> dict:
    import cnn101

    rounds, n = (2, 3) if quick else (7, 15)
    model_path = ROOT / "weights" / "tiny-vgg.json"
    model = cnn101.load_model(model_path)
    rows, doc = [], {"machine": machine_info(), "rounds": rounds, "per_round": n,
                     "note": "machine shared with other workers; compare figures within a column only"}
    try:
        import tensorflow  # noqa: F401
        have_tf = True
    except ImportError:
        have_tf = False
    for where in ("cpython", "pyodide"):
        with tempfile.TemporaryDirectory() as d:
            out = Path(d)
            res = _cpython(str(model_path), out, rounds, n) if where == "cpython" else _pyodide(model_path, out, rounds, n)
            doc[where] = res
            for name, times in res["conv"].items():
                layer = model.layer(name)
                xb = np.load(out / f"{name}.input.npy")
                tf_y = _tf_conv(layer, xb) if have_tf else None
                for method, ms in times.items():
                    y = np.load(out / f"{name}.{method}.npy")
                    err = float(np.abs(y - tf_y).max()) if tf_y is not None else None
                    rows.append(row(f"conv-{where}", f"{where}: {name} {method}", stats(ms), max_abs_err_vs_tf=err,
                                    chosen=res["chosen"][name] == method))
            for k, ms in res["relu"].items():
                rows.append(row(f"relu-{where}", f"{where}: relu {k} {res['relu_shape']}", stats(ms)))
            for k, ms in res["trace"].items():
                rows.append(row(f"trace-{where}", f"{where}: full trace, {k}", stats(ms)))
    doc["rows"] = rows
    return doc


def main() -> None:
    doc = run("--quick" in sys.argv)
    print_rows(doc["rows"])
    save_json(RESULTS, doc)
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
