"""Editing a kernel or bias in place changes the next trace (no stale caches in the engine)."""
import numpy as np

from cnn101.engine import Conv2D, Dense, Flatten, ReLU, Sequential


def _model():
    rng = np.random.default_rng(0)
    return Sequential([Conv2D("c", rng.normal(size=(3, 3, 2, 4)), rng.normal(size=4)), ReLU("r"), Flatten("f"),
                       Dense("d", rng.normal(size=(6 * 6 * 4, 3)))], (8, 8, 2))


def test_edited_conv_kernel_and_bias_take_effect():
    m = _model()
    x = np.random.default_rng(1).random((8, 8, 2), dtype=np.float32)
    before = m.trace(x)["c"].copy()
    conv = m.layer("c")
    conv.kernel[1, 1, 0, 2] += 0.5
    conv.bias[2] -= 0.25
    after = m.trace(x)["c"]
    expected = before[..., 2] + 0.5 * x[1:7, 1:7, 0] - 0.25
    np.testing.assert_allclose(after[..., 2], expected, atol=1e-5)
    np.testing.assert_array_equal(after[..., :2], before[..., :2])


def test_edited_dense_weight_changes_logits():
    m = _model()
    x = np.random.default_rng(2).random((8, 8, 2), dtype=np.float32)
    t0 = m.trace(x)
    m.layer("d").kernel[0, 1] += 2.0
    t1 = m.trace(x)
    assert np.isclose(t1.logits[1] - t0.logits[1], 2.0 * t0["f"][0], atol=1e-5)
