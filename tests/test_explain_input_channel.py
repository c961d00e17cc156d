"""explain.input_channel and explain.preprocessing: the input neuron's view, against naive loops and the
real preprocessing (cnn101.image.fit with Pillow)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnn101
from cnn101.engine import Conv2D, Dense, Flatten, ReLU, Sequential
from cnn101.explain import conv_neuron, input_channel, preprocessing, route


def _model(c=3):
    rng = np.random.default_rng(0)
    conv = Conv2D("c1", rng.normal(size=(3, 3, c, 4)).astype("f4"), rng.normal(size=4).astype("f4"), padding="same")
    return Sequential([conv, ReLU("r1"), Flatten("f"), Dense("d", rng.normal(size=(6 * 5 * 4, 2)).astype("f4"),
                                                              np.zeros(2, "f4"))], (6, 5, c), ["a", "b"])


@pytest.mark.parametrize("c", [1, 3])
def test_the_channel_and_how_it_feeds_each_kernel(c):
    m = _model(c)
    x = np.random.default_rng(1).random((6, 5, c)).astype("f4")
    t = m.trace(x)
    for k in range(c):
        ch = input_channel(t, k)
        assert ch.label == (("red", "green", "blue") if c == 3 else ("grey",))[k]
        np.testing.assert_array_equal(ch.values, x[:, :, k])
        np.testing.assert_array_equal(ch.levels, np.rint(x[:, :, k] * 255).astype(np.uint8))
        assert ch.layer == "c1" and ch.filters == 4
        for f in range(4):  # the same numbers as the conv view's single-channel result of channel k
            np.testing.assert_allclose(ch.results[:, :, f], conv_neuron(t, "c1", f).results[:, :, k], atol=1e-12)
            k_ = m.layer("c1").kernel[:, :, k, f]
            assert ch.kernel_stats(f) == pytest.approx((k_.min(), k_.max(), k_.sum()))
    with pytest.raises(IndexError):
        input_channel(t, c)
    assert route(m, "input").view == "input"


def test_a_model_without_a_first_conv_has_no_kernels():
    m = Sequential([Flatten("f"), Dense("d", np.ones((12, 2), "f4"), np.zeros(2, "f4"))], (2, 2, 3), ["a", "b"])
    ch = input_channel(m.trace(np.zeros((2, 2, 3), "f4")), 2)
    assert ch.layer is None and ch.filters == 0 and ch.label == "blue"


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 300), w=st.integers(1, 300), th=st.integers(1, 80), tw=st.integers(1, 80))
def test_preprocessing_is_what_load_image_does(h, w, th, tw):
    from PIL import Image
    from cnn101.image import fit

    rng = np.random.default_rng(h * 1000 + w)
    img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    p = preprocessing((h, w), (th, tw))
    resized = img if p.resized_hw == (h, w) else img.resize(p.resized_hw[::-1], Image.Resampling.BILINEAR)
    top, left = p.crop
    mine = np.asarray(resized.crop((left, top, left + tw, top + th)))
    np.testing.assert_array_equal(mine, np.asarray(fit(img, (th, tw))))
    assert len(p.steps) == 4 and p.steps[0] == f"original: {w}×{h} pixels"
