"""Parity with the published CNN Explainer Tiny VGG: golden activations, predictions and accuracy.

Reads ../shared/reference/cnn-explainer (model.json, img/, golden/) and ../shared/data/tiny-imagenet-10
at test time; neither is part of the project.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import cnn101
from cnn101.dataset import Dataset, default_root

REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "cnn-explainer"
IMAGES = sorted(p.stem for p in (REF / "img").glob("*.jpeg")) if REF.is_dir() else []
ATOL = 1e-5
# our trace key → golden key, where they differ (golden 'output' is the softmax of the Dense layer)
GOLDEN_KEY = {"output": "logits", "output_softmax": "probs"}

pytestmark = pytest.mark.skipif(not REF.is_dir(), reason=f"reference model not found at {REF}")


@pytest.fixture(scope="module")
def model():
    return cnn101.load_model(REF / "model.json")


def test_reference_has_21_images():
    assert len(IMAGES) == 21 and {p.stem for p in (REF / "golden").glob("*.npz")} == set(IMAGES)


def test_reference_model_structure(model):
    assert model.input_shape == (64, 64, 3) and model.param_count == 19_920
    assert [layer.name for layer in model.layers] == [
        "conv_1_1", "relu_1_1", "conv_1_2", "relu_1_2", "max_pool_1", "conv_2_1", "relu_2_1", "conv_2_2",
        "relu_2_2", "max_pool_2", "flatten", "output", "output_softmax"]


@pytest.mark.parametrize("image", IMAGES)
def test_golden_activations(model, image):
    g = np.load(REF / "golden" / f"{image}.npz", allow_pickle=False)
    src = REF / "img" / f"{image}.jpeg"
    assert hashlib.sha256(src.read_bytes()).hexdigest() == str(g["jpeg_sha256"])
    x = cnn101.load_image(src, model)
    np.testing.assert_array_equal(np.rint(x * 255).astype(np.uint8), g["input_uint8"])  # same decoded bytes
    np.testing.assert_array_equal(x, g["input"])  # and exactly the same float input
    t = model.trace(x)
    assert set(GOLDEN_KEY.get(k, k) for k in t) <= set(g.files)
    for k in t:
        want = g[GOLDEN_KEY.get(k, k)]
        assert t[k].shape == want.shape, k
        err = float(np.max(np.abs(t[k] - want)))
        assert err <= ATOL, f"{image}: layer {k} differs from the golden activation by {err:.2e}"
    np.testing.assert_allclose(t.probs, g["output"], atol=ATOL, rtol=0)
    assert int(t.predicted) == int(g["pred_class"])


def test_golden_summary_predictions(model):
    """Predicted labels and top-3 as the reference summary lists them (class names from the dataset order)."""
    summary = json.loads((REF / "golden" / "summary.json").read_text())
    names = ["lifeboat", "ladybug", "pizza", "bell pepper", "school bus", "koala", "espresso", "red panda",
             "orange", "sport car"]
    m = cnn101.load_model(REF / "model.json", class_names=names)
    assert len(summary["images"]) == 21
    for row in summary["images"]:
        t = m.trace(cnn101.load_image(REF / "img" / row["image"], m))
        assert m.class_names[int(t.predicted)] == row["pred_label"], row["image"]
        assert abs(float(t.probs.max()) - row["prob"]) <= ATOL
        assert [n for n, _ in t.top(3)] == [n for n, _ in row["top3"]], row["image"]
    by_image = {r["image"]: r for r in summary["images"]}
    assert by_image["espresso_1.jpeg"]["pred_label"] == "espresso"
    assert by_image["white.jpeg"]["pred_label"] == "ladybug"


def test_batch_trace_matches_golden(model):
    """All 21 images as one batch. The batched Dense is one BLAS gemm instead of a gemv per image, whose
    different summation order moves logits of magnitude ≈ 20 by up to ≈ 1.05e-5; hence rtol 1e-6 on top."""
    xs = np.stack([cnn101.load_image(REF / "img" / f"{i}.jpeg", model) for i in IMAGES])
    tb = model.trace(xs)
    for n, image in enumerate(IMAGES):
        g = np.load(REF / "golden" / f"{image}.npz", allow_pickle=False)
        for k in tb:
            np.testing.assert_allclose(tb[k][n], g[GOLDEN_KEY.get(k, k)], atol=ATOL, rtol=1e-6, err_msg=f"{image} {k}")
        assert int(tb.predicted[n]) == int(g["pred_class"])


@pytest.mark.parametrize("split, correct", [("cnnx_test", 177), ("cnnx_val", 167)])
def test_reference_accuracy_with_our_preprocessing(model, split, correct):
    root = default_root()
    if not (root / "MANIFEST.tsv").is_file():
        pytest.skip(f"dataset not found at {root} (set CNN101_DATA)")
    data = Dataset(root)
    s = data.split(split)
    assert len(s) == 250
    predicted = model.predict(s.images(model)).argmax(axis=-1)
    assert int((predicted == s.labels).sum()) == correct  # the paper's 70.8 % on cnnx_test
