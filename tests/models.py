"""Models for tests: the published reference Tiny VGG and a synthetic model that looks nothing like it.

The synthetic model (32×32×3 input, 5×5 kernels, stride 2, 'same' padding with an uneven split,
a conv without a ReLU, an overlapping 'same' max pool, 3 classes) proves that no explanation, render or
view assumes Tiny VGG. Web tests can reuse it: `synthetic_model().save(tmp_path / "synthetic")`.

    from models import synthetic_model, synthetic_image, reference_model, reference_image
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from cnn101.engine import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Softmax

REFERENCE = Path(os.environ.get("CNN101_REFERENCE", Path(__file__).resolve().parents[2] / "shared" / "reference"
                                / "cnn-explainer"))
REFERENCE_CLASSES = ["lifeboat", "ladybug", "pizza", "bell pepper", "school bus", "koala", "espresso",
                     "red panda", "orange", "sport car"]
SYNTHETIC_CLASSES = ["circle", "stripes", "checkers"]


def _conv(rng, name, k, cin, cout, strides, padding):
    kernel = rng.normal(0.0, 1.0 / np.sqrt(k * k * cin), (k, k, cin, cout)).astype(np.float32)
    bias = rng.normal(0.0, 0.1, cout).astype(np.float32)
    return Conv2D(name, kernel, bias, strides=strides, padding=padding)


def synthetic_model(seed: int = 0) -> Sequential:
    """32×32×3 → conv 5×5/2 same (16×16×4, padding 1 before, 2 after) → ReLU → conv 5×5/1 same (16×16×5) →
    ReLU → max pool 2×2/2 (8×8×5) → conv 3×3/2 same, no ReLU (4×4×6) → max pool 3×3/2 same (2×2×6) →
    flatten (24) → dense 3 → softmax."""
    rng = np.random.default_rng(seed)
    layers = [
        _conv(rng, "edges", 5, 3, 4, 2, "same"), ReLU("edges_relu"),
        _conv(rng, "mix", 5, 4, 5, 1, "same"), ReLU("mix_relu"),
        MaxPool2D("mix_pool", 2, 2, "valid"),
        _conv(rng, "shrink", 3, 5, 6, 2, "same"),
        MaxPool2D("shrink_pool", 3, 2, "same"),
        Flatten("flat"),
        Dense("scores", rng.normal(0.0, 0.5, (24, 3)).astype(np.float32), rng.normal(0.0, 0.1, 3).astype(np.float32)),
        Softmax("scores_softmax"),
    ]
    return Sequential(layers, (32, 32, 3), SYNTHETIC_CLASSES, name="synthetic")


def synthetic_image(seed: int = 1, size: tuple[int, int] = (32, 32)) -> np.ndarray:
    """A smooth random image in [0, 1] (float32 H×W×3) with some structure for the kernels to find."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([np.sin(6 * xx + rng.uniform(0, 6)) * np.cos(5 * yy + rng.uniform(0, 6)) for _ in range(3)], -1)
    img = 0.5 + 0.4 * img + rng.normal(0, 0.05, img.shape)
    return np.clip(img, 0, 1).astype(np.float32)


def reference_model() -> Sequential:
    """The published CNN Explainer Tiny VGG (TF.js files from ../shared/reference); skips if absent."""
    path = REFERENCE / "model.json"
    if not path.exists():
        pytest.skip(f"reference model not found at {path}")
    import cnn101

    return cnn101.load_model(path, class_names=REFERENCE_CLASSES)


def reference_image(name: str = "espresso_1") -> np.ndarray:
    """One of the reference example images, as the golden files feed it (uint8 / 255)."""
    golden = REFERENCE / "golden" / f"{name}.npz"
    if not golden.exists():
        pytest.skip(f"reference golden file not found at {golden}")
    with np.load(golden, allow_pickle=False) as z:
        return z["input"]


def both_traces():
    """pytest params: the reference model on a golden image and the synthetic model on its image."""
    return [pytest.param(lambda: reference_model().trace(reference_image()), id="reference"),
            pytest.param(lambda: synthetic_model().trace(synthetic_image()), id="synthetic")]


def randomize_keras_weights(model, rng) -> None:
    """Give every layer of a Keras model random float32 weights scaled by fan-in (larger than Glorot, so
    activations neither vanish nor saturate and parity tests see non-trivial values)."""
    for layer in model.layers:
        ws = layer.get_weights()
        if ws:
            fan_in = math.prod(ws[0].shape[:-1])
            new = [rng.normal(0, 1.2 / math.sqrt(fan_in), ws[0].shape)] + [rng.normal(0, 0.2, w.shape) for w in ws[1:]]
            layer.set_weights([w.astype(np.float32) for w in new])
