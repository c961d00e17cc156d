"""The engine inside Pyodide (the browser's runtime, here under Node) computes what it computes on CPython.

Loads the published CNN Explainer Tiny VGG from ../shared/reference inside Pyodide 0.27.7 (NumPy 2.0.2,
Pillow 10.2.0 and our wheel, all from the verified dist/), traces three images, and compares every
layer with the CPython trace to 1e-5 absolute, and with TensorFlow's golden activations.

The engine is fed the same input array on both sides (decoded on CPython, passed as .npy): Pyodide's
Pillow 10.2.0 is built on IJG libjpeg 9, which decodes colour JPEGs differently from the libjpeg-turbo
of CPython's Pillow, TensorFlow's golden files and Chromium's canvas (by up to 27/255 here). The
decoder difference is pinned by its own test below.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest_build import REPO, built_site  # noqa: F401  (fixture)
from pyodide_node import run_pyodide

REFERENCE = REPO.parent / "shared" / "reference" / "cnn-explainer"
IMAGES = ["espresso_1.jpeg", "panda_3.jpeg", "bus_2.jpeg"]  # panda_3 is a grayscale JPEG
TOL = 1e-5
#: The golden file's `logits` (`flatten @ W + b`, not a TensorFlow layer) are TensorFlow's own float32 sum,
#: 1.19e-5 from the correctly rounded value our Dense computes; the reference README gives 1.2e-5 for an
#: independent NumPy pass. Every TensorFlow layer, `probs` included, is held to TOL.
GOLDEN_LOGITS_TOL = 1.2e-5

cnn101 = pytest.importorskip("cnn101")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (REFERENCE / "model.json").is_file(), reason="no ../shared/reference/cnn-explainer"),
    pytest.mark.skipif(shutil.which("node") is None, reason="needs Node to run Pyodide"),
    pytest.mark.skipif(not hasattr(cnn101, "load_model") or not hasattr(cnn101, "load_image"),
                       reason="the engine has not landed yet"),
]

PYODIDE_CODE = """
import numpy as np
import cnn101
import PIL

model = cnn101.load_model("/ref/model.json")
RESULT = {"numpy": np.__version__, "pillow": PIL.__version__, "layers": {}}
for name in IMAGES:
    x = np.load("/io/" + name + ".input.npy", allow_pickle=False)   # decoded on CPython
    arrays = {k: np.asarray(v) for k, v in model.trace(x).items()}
    np.savez("/io/" + name + ".trace.npz", **arrays)
    RESULT["layers"][name] = list(arrays)
    own = np.asarray(cnn101.load_image("/ref/img/" + name, 64))     # decoded by Pyodide's Pillow
    np.save("/io/" + name + ".own-input.npy", own)
"""


def cpython_input(name):
    return np.asarray(cnn101.load_image(REFERENCE / "img" / name, 64))


@pytest.fixture(scope="module")
def pyodide_run(built_site, tmp_path_factory):
    io = tmp_path_factory.mktemp("pyodide-io")
    for name in IMAGES:
        np.save(io / f"{name}.input.npy", cpython_input(name))
    run = run_pyodide(f"IMAGES = {IMAGES!r}\n" + PYODIDE_CODE, built_site.out, packages=("numpy", "pillow"),
                      mounts={"/ref": REFERENCE, "/io": io})
    assert run.result["numpy"] == "2.0.2" and run.result["pillow"] == "10.2.0"
    traces = {}
    for name in IMAGES:
        with np.load(io / f"{name}.trace.npz", allow_pickle=False) as z:
            traces[name] = {k: z[k] for k in run.result["layers"][name]}
    own_inputs = {name: np.load(io / f"{name}.own-input.npy", allow_pickle=False) for name in IMAGES}
    return traces, own_inputs


def max_err(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - b))) if np.size(b) else 0.0


def within(got, want, tol=TOL) -> bool:
    return bool(np.all(np.abs(np.asarray(got, np.float64) - want) <= tol))


@pytest.mark.parametrize("name", IMAGES)
def test_every_layer_matches_cpython(pyodide_run, name):
    model = cnn101.load_model(REFERENCE / "model.json")
    expected = {k: np.asarray(v) for k, v in model.trace(cpython_input(name)).items()}
    got = pyodide_run[0][name]
    assert list(got) == list(expected)
    assert {"input", "logits", "probs"} <= set(got)
    for layer, want in expected.items():
        assert got[layer].shape == want.shape and got[layer].dtype == want.dtype, layer
        assert within(got[layer], want), f"{name} {layer}: max |pyodide - cpython| = {max_err(got[layer], want):.3g}"


@pytest.mark.parametrize("name", IMAGES)
def test_pyodide_matches_tensorflow_golden(pyodide_run, name):
    golden_path = REFERENCE / "golden" / (name.rsplit(".", 1)[0] + ".npz")
    if not golden_path.is_file():
        pytest.skip("no golden activations")
    got = pyodide_run[0][name]
    with np.load(golden_path, allow_pickle=False) as golden:
        # golden "output" is the softmax; compare the layers whose meaning is the same on both sides
        compared = [k for k in golden.files if k in got and k != "output" and golden[k].dtype.kind == "f"]
        assert {"input", "conv_1_1", "max_pool_2", "flatten", "logits", "probs"} <= set(compared)
        for layer in compared:
            tol = GOLDEN_LOGITS_TOL if layer == "logits" else TOL
            assert within(got[layer], golden[layer], tol), \
                f"{name} {layer}: max |pyodide - tensorflow| = {max_err(got[layer], golden[layer]):.3g}"


LIBJPEG9 = pytest.mark.xfail(strict=True, reason=(
    "Pyodide 0.27.7's Pillow 10.2.0 uses IJG libjpeg 9: colour JPEGs decode differently from libjpeg-turbo "
    "(CPython Pillow, TensorFlow golden, Chromium canvas). The page must not decode JPEGs with Pillow in "
    "Pyodide if it is to show the numbers CPython computes."))


@pytest.mark.parametrize("name", [pytest.param(n, marks=LIBJPEG9) if n != "panda_3.jpeg" else n for n in IMAGES])
def test_load_image_in_pyodide_decodes_like_cpython(pyodide_run, name):
    own = pyodide_run[1][name]
    assert own.shape == (64, 64, 3) and own.dtype == np.float32
    assert max_err(own, cpython_input(name)) <= TOL
