"""The explanation numbers and the notebook views inside Pyodide (Python 3.12, NumPy 2.0.2, under Node)
equal CPython's (to the engine's float32 agreement, 1e-5), on the reference Tiny VGG and on the synthetic model (saved in our format)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest_build import built_site  # noqa: F401  (fixture)
from models import REFERENCE, synthetic_image, synthetic_model
from pyodide_node import run_pyodide

import cnn101
from cnn101 import explain

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (REFERENCE / "model.json").is_file(), reason="no ../shared/reference/cnn-explainer"),
    pytest.mark.skipif(shutil.which("node") is None, reason="needs Node to run Pyodide"),
]

# Computed on both sides from the same model file and input array.
CODE = """
import json
import numpy as np
import cnn101
from cnn101 import explain
import cnn101.notebook as nb

def numbers(model, x):
    t = model.trace(x)
    out = {}
    for layer in model.layers:
        if layer.kind == "conv2d":
            n = explain.conv_neuron(t, layer.name, layer.filters - 1)
            oh, ow = n.geometry.output_hw
            out[layer.name + "/results"] = n.results
            w = n.whole(oh - 1, ow - 1)
            out[layer.name + "/whole"] = np.array([w.total, w.value, *w.channel_sums])
            out[layer.name + "/window"] = n.window(0, 0, n.channels - 1).products
            out[layer.name + "/positions"] = n.positions
        elif layer.kind == "maxpool2d":
            p = explain.pool_channel(t, layer.name, 0)
            out[layer.name + "/pool"] = np.array([p.window(i, j).value for i, j in np.ndindex(*p.output.shape)])
    d = explain.flatten_class(t, int(t.predicted))
    out["flatten/contributions"] = d.contributions
    out["flatten/value"] = np.array([d.sum, d.value])
    s = explain.softmax_detail(t)
    out["softmax/probs"] = s.probs
    html = [nb.overview(t)._repr_html_(), nb.conv_neuron(t, [l.name for l in model.layers if l.kind == "conv2d"][0], 0)._repr_html_(),
            nb.softmax(t)._repr_html_(), nb.flatten(t)._repr_html_(), nb.summary(model)._repr_html_()]
    return out, html

def run(model, x, stem):
    out, html = numbers(model, x)
    np.savez(stem + ".npz", **out)
    return [len(h) for h in html], [h.count("data:image/png;base64,") for h in html]
"""

PYODIDE = CODE + """
ref = cnn101.load_model("/ref/model.json")
syn = cnn101.load_model("/io/synthetic.json")
RESULT = {
    "reference": run(ref, np.load("/io/reference.npy"), "/io/reference-out"),
    "synthetic": run(syn, np.load("/io/synthetic.npy"), "/io/synthetic-out"),
}
"""


@pytest.fixture(scope="module")
def compared(built_site, tmp_path_factory):  # noqa: F811
    io = tmp_path_factory.mktemp("explain-io")
    synthetic_model().save(io / "synthetic")
    ref_x = np.load(REFERENCE / "golden" / "espresso_1.npz", allow_pickle=False)["input"]
    np.save(io / "reference.npy", ref_x)
    np.save(io / "synthetic.npy", synthetic_image())
    run = run_pyodide(PYODIDE, built_site.out, mounts={"/ref": REFERENCE, "/io": io})
    scope = {}
    exec(CODE, scope)
    models = {"reference": (cnn101.load_model(REFERENCE / "model.json"), ref_x),
              "synthetic": (cnn101.load_model(io / "synthetic.json"), synthetic_image())}
    return run, scope, models, io


@pytest.mark.parametrize("which", ["reference", "synthetic"])
def test_explanations_in_pyodide_equal_cpython(compared, which):
    run, scope, models, io = compared
    model, x = models[which]
    want, html = scope["numbers"](model, x)
    with np.load(io / f"{which}-out.npz", allow_pickle=False) as got:
        assert set(got.files) == set(want)
        for key, value in want.items():
            # the inputs are each side's own float32 trace, which agree to ~1e-5 (see test_engine_pyodide)
            np.testing.assert_allclose(got[key], value, rtol=2e-6, atol=2e-5, err_msg=key)
    lengths, images = run.result[which]
    assert images == [h.count("data:image/png;base64,") for h in html]
    assert all(n > 1000 for n in lengths)
    assert explain.conv_neuron  # imported on CPython too
