"""How the cost of a full trace grows, how close we are to the machine's floor, and the explanation math.

- scaling: Tiny-VGG-shaped models (same layers as the bench model, random weights) at input sizes 32–224
  and at 10–80 channels per conv;
- floor: the model's multiply–adds and the time a tuned single-thread kernel would need at this machine's
  measured single-thread float32 matmul throughput;
- explain: time to compute what each view needs (a conv neuron's per-channel results, a detail window,
  the whole-neuron sum, the flatten mapping, a class's flatten contributions, softmax terms).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import measure, row, script_main  # noqa: E402

from cnn101.engine import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Softmax  # noqa: E402


def bench_model() -> Sequential:
    from bench_engines_browser import bench_model as load

    return load()


def resized(model: Sequential, size: int, channels: int | None = None, seed: int = 0) -> Sequential:
    """The same stack of layers at another input size (and conv width), with random weights."""
    rng = np.random.default_rng(seed)
    layers, shape = [], (size, size, model.input_shape[2])
    for layer in model.layers:
        if isinstance(layer, Conv2D):
            kh, kw, _, cout = layer.kernel.shape
            cout = channels or cout
            k = rng.normal(0, 0.2, (kh, kw, shape[2], cout)).astype(np.float32)
            new = Conv2D(layer.name, k, np.zeros(cout, np.float32), layer.strides, layer.padding)
        elif isinstance(layer, Dense):
            new = Dense(layer.name, rng.normal(0, 0.05, (shape[0], layer.units)).astype(np.float32))
        elif isinstance(layer, MaxPool2D):
            new = MaxPool2D(layer.name, layer.pool_size, layer.strides, layer.padding)
        else:
            new = {"relu": ReLU, "flatten": Flatten, "softmax": Softmax}[layer.kind](layer.name)
        layers.append(new)
        shape = new.output_shape(shape)
    return Sequential(layers, (size, size, model.input_shape[2]), model.class_names, f"{model.name}@{size}")


def macs(model: Sequential) -> int:
    """Multiply–adds of one forward pass: conv Ho·Wo·kh·kw·Cin·Cout, dense in·out."""
    total = 0
    for inf, layer in zip(model.layer_infos, model.layers):
        if isinstance(layer, Conv2D):
            oh, ow, cout = inf.output_shape
            kh, kw, cin, _ = layer.kernel.shape
            total += oh * ow * kh * kw * cin * cout
        elif isinstance(layer, Dense):
            total += layer.kernel.size
    return total


_GEMM = """
import time, numpy as np
a = np.random.default_rng(0).random((512, 512), dtype=np.float32); b = a.copy()
for _ in range(3): a @ b
ts = []
for _ in range(20):
    t0 = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t0)
print(2 * 512**3 / sorted(ts)[len(ts) // 2] / 1e9)
"""


def single_thread_gflops() -> float:
    """Median float32 GFLOP/s of a 512² matmul with one BLAS thread (the machine's raw single-core speed)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", _GEMM], capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip())


def run(quick: bool = False) -> list[dict]:
    from cnn101 import explain

    rep = 5 if quick else 40
    model = bench_model()
    x = np.random.default_rng(1).random(model.input_shape, dtype=np.float32)
    rows = []
    for size in (32, 64, 128, 224):
        m = resized(model, size)
        xs = np.random.default_rng(size).random(m.input_shape, dtype=np.float32)
        rows.append(row("scaling", f"full trace, input {size}×{size}", measure(lambda: m.trace(xs), rep, 2),
                        macs=macs(m)))
    for ch in (10, 20, 40, 80):
        m = resized(model, model.input_shape[0], ch)
        rows.append(row("scaling", f"full trace, {ch} channels per conv", measure(lambda: m.trace(x), rep, 2),
                        macs=macs(m)))

    gflops = single_thread_gflops()
    n = macs(model)
    ours = measure(lambda: model.trace(x), 20 if quick else 200, 10)
    floor_ms = 2 * n / (gflops * 1e9) * 1e3
    rows.append({"group": "floor", "name": "multiply–adds of one full trace", "value": n, "unit": "MAC"})
    rows.append({"group": "floor", "name": "single-thread float32 matmul throughput (512²)", "value": round(gflops, 2),
                 "unit": "GFLOP/s"})
    rows.append({"group": "floor", "name": "physical floor: MACs at that throughput", "value": round(floor_ms, 4),
                 "unit": "ms"})
    rows.append(row("floor", "our CPython full trace (same model)", ours, ratio_to_floor=round(ours["median"] / floor_ms, 2)))

    trace = model.trace(x)
    convs = [layer.name for layer in model.layers if isinstance(layer, Conv2D)]
    conv = convs[min(1, len(convs) - 1)]
    oh, ow, _ = model.shapes[conv]
    i, j = oh // 2, ow // 2
    rep = 5 if quick else 100
    rows.append(row("explain", f"conv neuron: per-channel results + sum ({conv}, {model.info(conv).input_shape[2]} channels)",
                    measure(lambda: explain.conv_neuron(trace, conv, 0), rep, 3)))
    neuron = explain.conv_neuron(trace, conv, 0)
    rows.append(row("explain", "conv detail window at (i, j): patch × kernel, products, sum",
                    measure(lambda: neuron.window(i, j, 0), rep, 3)))
    rows.append(row("explain", "whole-neuron sum at (i, j): Σ channels + bias (+ ReLU)",
                    measure(lambda: neuron.whole(i, j), rep, 3)))
    rows.append(row("explain", "flatten mapping (index ↔ row, col, channel)",
                    measure(lambda: explain.flatten_map(model), rep, 3)))
    rows.append(row("explain", "one class's flatten contributions + bias = logit",
                    measure(lambda: explain.flatten_class(trace, 0), rep, 3)))
    rows.append(row("explain", "softmax terms", measure(lambda: explain.softmax_detail(trace), rep, 3)))
    return rows


if __name__ == "__main__":
    script_main(run)
