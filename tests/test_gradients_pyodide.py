"""The backward pass inside Pyodide (the browser's runtime, here under Node) gives what it gives on CPython.

Pyodide 0.27.7 (NumPy 2.0.2, no BLAS) runs our wheel from the built dist/: the shipped Tiny VGG's gradients
for three inputs and targets (one a batch), the synthetic model's (stride-2 'same' convs, overlapping pool,
no ReLU after a conv), and the attribution maps; every array must be within 1e-5 of CPython's, relative to
max(1, max |CPython value|). Three training steps (plain SGD, then Adam) give the same weights.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest_build import built_site  # noqa: F401  (fixture)
from models import synthetic_image, synthetic_model
from pyodide_node import run_pyodide

import cnn101

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("node") is None, reason="needs Node to run Pyodide")]
REL = 1e-5

PYODIDE_CODE = """
import numpy as np
import cnn101
from cnn101.explain import vanilla_gradient, gradient_x_input, smoothgrad, grad_cam

def save(name, model, x, target):
    g = model.backward(model.trace(x), target)
    arrays = {"g/" + k: np.asarray(v) for k, v in g.items()}
    arrays.update({f"p/{layer}/{k}": v for layer, ps in g.params.items() for k, v in ps.items()})
    arrays["loss"] = np.float64(g.loss)
    if x.ndim == 3:
        for a in (vanilla_gradient(model, x, target), gradient_x_input(model, x, target),
                  smoothgrad(model, x, target, n=4, seed=3), grad_cam(model, x, target)):
            arrays["a/" + a.method] = a.map
    np.savez("/io/" + name + ".npz", **arrays)
    return sorted(arrays)

shipped = cnn101.load_model()
synth = cnn101.load_model("/io/synthetic.json")
RESULT = {"numpy": np.__version__, "keys": {}}
for name, model, target in CASES:
    x = np.load("/io/" + name + ".x.npy")
    RESULT["keys"][name] = save(name, shipped if model == "shipped" else synth, x, target)

from cnn101 import learn
xs = np.load("/io/batch.x.npy")
opt = learn.Adam(1e-3)
RESULT["train_losses"] = [learn.sgd_step(shipped, xs, [0, 5, 9], 0.01)] + [opt.step(shipped, xs, [1, 2, 3]) for _ in range(2)]
np.savez("/io/trained.npz", **{f"{la.name}/{k}": v for la in shipped.layers for k, v in la.params.items()})
"""

CASES = [("img0", "shipped", 3), ("img1", "shipped", 7), ("batch", "shipped", [0, 5, 9]), ("synth", "synthetic", 2)]


def inputs():
    rng = np.random.default_rng(5)
    shipped = cnn101.load_model()
    xs = {"img0": rng.random(shipped.input_shape, dtype=np.float32),
          "img1": np.round(rng.random(shipped.input_shape, dtype=np.float32) * 3) / 3,  # quantised: pool ties
          "batch": rng.random((3, *shipped.input_shape), dtype=np.float32), "synth": synthetic_image()}
    return shipped, xs


def cpython_arrays(model, x, target):
    from cnn101.explain import grad_cam, gradient_x_input, smoothgrad, vanilla_gradient

    g = model.backward(model.trace(x), target)
    arrays = {"g/" + k: v for k, v in g.items()}
    arrays.update({f"p/{layer}/{k}": v for layer, ps in g.params.items() for k, v in ps.items()})
    arrays["loss"] = np.float64(g.loss)
    if x.ndim == 3:
        for a in (vanilla_gradient(model, x, target), gradient_x_input(model, x, target),
                  smoothgrad(model, x, target, n=4, seed=3), grad_cam(model, x, target)):
            arrays["a/" + a.method] = a.map
    return arrays


@pytest.fixture(scope="module")
def pyodide_run(built_site, tmp_path_factory):
    io = tmp_path_factory.mktemp("pyodide-grad-io")
    _, xs = inputs()
    for name, x in xs.items():
        np.save(io / f"{name}.x.npy", x)
    synthetic_model().save(io / "synthetic")
    run = run_pyodide(f"CASES = {CASES!r}\n" + PYODIDE_CODE, built_site.out, mounts={"/io": io})
    assert run.result["numpy"] == "2.0.2"
    out = {}
    for name, *_ in CASES:
        with np.load(io / f"{name}.npz", allow_pickle=False) as z:
            out[name] = {k: z[k] for k in run.result["keys"][name]}
    with np.load(io / "trained.npz", allow_pickle=False) as z:
        out["train"] = (run.result["train_losses"], {k: z[k] for k in z.files})
    return out


@pytest.mark.parametrize("name, which, target", CASES)
def test_gradients_in_pyodide_equal_cpython(pyodide_run, name, which, target):
    shipped, xs = inputs()
    model = shipped if which == "shipped" else synthetic_model()
    want = cpython_arrays(model, xs[name], target)
    got = pyodide_run[name]
    assert set(got) == set(want)
    assert any(k.startswith("p/") for k in got) and "g/input" in got
    for k, w in want.items():
        w = np.asarray(w, np.float64)
        assert got[k].shape == w.shape, k
        scale = max(1.0, float(np.abs(w).max())) if w.size else 1.0
        err = float(np.abs(got[k] - w).max()) if w.size else 0.0
        assert err <= REL * scale, f"{name} {k}: max |pyodide − cpython| = {err:.3g} (scale {scale:.3g})"


def test_training_steps_in_pyodide_equal_cpython(pyodide_run, tmp_path_factory):
    from cnn101 import learn

    shipped, xs = inputs()
    losses = [learn.sgd_step(shipped, xs["batch"], [0, 5, 9], 0.01)]
    opt = learn.Adam(1e-3)
    losses += [opt.step(shipped, xs["batch"], [1, 2, 3]) for _ in range(2)]
    got_losses, trained = pyodide_run["train"]
    np.testing.assert_allclose(got_losses, losses, rtol=1e-6)
    for la in shipped.layers:
        for k, v in la.params.items():
            w = v.astype(np.float64)
            err = float(np.abs(trained[f"{la.name}/{k}"] - w).max())
            assert err <= REL * max(1.0, float(np.abs(w).max())), f"{la.name}.{k}: {err:.3g}"
