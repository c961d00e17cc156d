"""Property tests: every engine layer against the naive loops of tests/naive.py, on random shapes."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import naive
from cnn101 import ModelError
from cnn101.engine import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Softmax

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOL = dict(rtol=1e-5, atol=1e-5)


@st.composite
def window_case(draw, max_channels=4):
    """A window (kernel or pool) of 1–5 per side, stride 1–3, valid/same, and an input it fits."""
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["valid", "same"]))
    lo_h, lo_w = (kh, kw) if padding == "valid" else (1, 1)
    h, w = draw(st.integers(lo_h, lo_h + 10)), draw(st.integers(lo_w, lo_w + 10))
    c = draw(st.integers(1, max_channels))
    batch = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**32 - 1))
    return (kh, kw), (sh, sw), padding, (batch, h, w, c), np.random.default_rng(seed)


@SETTINGS
@given(window_case(), st.integers(1, 4), st.booleans())
def test_conv2d_equals_naive_loops(case, filters, bias_given):
    (kh, kw), strides, padding, shape, rng = case
    x = rng.uniform(-1, 1, shape).astype(np.float32)
    kernel = rng.uniform(-1, 1, (kh, kw, shape[3], filters)).astype(np.float32)
    bias = rng.uniform(-1, 1, filters).astype(np.float32) if bias_given else None
    layer = Conv2D("c", kernel, bias, strides, padding)
    y = layer.forward(x)
    assert y.dtype == np.float32
    assert y.shape[1:] == layer.output_shape(shape[1:])
    b = layer.bias
    for n in range(shape[0]):
        want = naive.conv2d(x[n], kernel, b, strides, padding)
        assert y.shape[1:] == want.shape
        np.testing.assert_allclose(y[n], want, **TOL)


@SETTINGS
@given(window_case(max_channels=5), st.booleans())
def test_maxpool2d_equals_naive_loops(case, default_strides):
    pool, strides, padding, shape, rng = case
    x = rng.normal(size=shape).astype(np.float32)
    layer = MaxPool2D("p", pool, None if default_strides else strides, padding)
    eff = pool if default_strides else strides
    assert layer.strides == eff
    y = layer.forward(x)
    assert y.dtype == np.float32 and np.all(np.isfinite(y))
    assert y.shape[1:] == layer.output_shape(shape[1:])
    for n in range(shape[0]):
        want = naive.maxpool2d(x[n], pool, eff, padding)
        np.testing.assert_array_equal(y[n], want.astype(np.float32))  # a max is exact


@SETTINGS
@given(window_case())
def test_geometry_matches_tensorflow_rule(case):
    (kh, kw), (sh, sw), padding, (_, h, w, c), _ = case
    conv = Conv2D("c", np.zeros((kh, kw, c, 1), np.float32), None, (sh, sw), padding)
    (oh, top, bottom), (ow, left, right) = conv.geometry((h, w, c))
    assert (oh, ow) == (naive.out_size(h, kh, sh, padding), naive.out_size(w, kw, sw, padding))
    assert (top, left) == (naive.pad_before(h, kh, sh, padding), naive.pad_before(w, kw, sw, padding))
    if padding == "same":  # TF puts the odd pixel of padding at the bottom/right
        assert bottom - top in (0, 1) and right - left in (0, 1)
        assert (oh - 1) * sh + kh <= h + top + bottom and (ow - 1) * sw + kw <= w + left + right
    else:
        assert top == bottom == left == right == 0
    assert conv.pad(np.zeros((1, h, w, c), np.float32)).shape == (1, h + top + bottom, w + left + right, c)


def test_same_padding_puts_the_odd_row_after():
    """4×4 input, 2×2 kernel, stride 1, 'same': no padding on top/left, one row/column after (as TF)."""
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    conv = Conv2D("c", np.ones((2, 2, 1, 1), np.float32), None, 1, "same")
    y = conv.forward(x)[0, :, :, 0]
    assert y[0, 0] == 0 + 1 + 4 + 5
    assert y[3, 3] == 15  # the bottom-right window holds only x[3, 3] and padding


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_flatten_is_channels_last(h, w, c, seed):
    x = np.random.default_rng(seed).normal(size=(2, h, w, c)).astype(np.float32)
    y = Flatten("f").forward(x)
    assert y.shape == (2, h * w * c) and Flatten("f").output_shape((h, w, c)) == (h * w * c,)
    for n in range(2):
        np.testing.assert_array_equal(y[n], naive.flatten(x[n]))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_dense_equals_naive(n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (3, n_in)).astype(np.float32)
    k = rng.uniform(-1, 1, (n_in, n_out)).astype(np.float32)
    b = rng.uniform(-1, 1, n_out).astype(np.float32)
    layer = Dense("d", k, b)
    y = layer.forward(x)
    assert y.dtype == np.float32 and layer.output_shape((n_in,)) == (n_out,)
    assert layer.param_count == n_in * n_out + n_out
    for n in range(3):
        np.testing.assert_allclose(y[n], naive.dense(x[n], k, b), **TOL)


@pytest.mark.parametrize("seed", range(5))
def test_dense_is_correctly_rounded_whatever_the_order(seed):
    """A 1690-input Dense (Tiny VGG's) gives the float32 nearest to the exact x·W + b, so any summation
    order — OpenBLAS on CPython, Pyodide's BLAS-less NumPy, a permutation of the inputs — gives the same."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 3, 1690).astype(np.float32)
    k = rng.normal(0, 0.1, (1690, 10)).astype(np.float32)
    b = rng.normal(0, 1, 10).astype(np.float32)
    y = Dense("d", k, b).forward(x)
    exact = [np.float32(math.fsum([float(b[o])] + [float(x[i]) * float(k[i, o]) for i in range(1690)]))
             for o in range(10)]
    np.testing.assert_array_equal(y, exact)
    p = rng.permutation(1690)
    np.testing.assert_array_equal(Dense("d", k[p], b).forward(x[p]), y)
    np.testing.assert_array_equal(Dense("d", k, b).forward(np.stack([x, x]))[1], y)  # batched: the same


def test_a_wide_dense_is_summed_in_slices_with_the_same_result():
    """2048 units: the kernel is converted to float64 512 rows at a time (3 slices here)."""
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (2, 1500)).astype(np.float32)
    k = rng.normal(0, 0.05, (1500, 2048)).astype(np.float32)
    b = rng.normal(0, 1, 2048).astype(np.float32)
    want = (x.astype(np.float64) @ k.astype(np.float64) + b).astype(np.float32)
    got = Dense("d", k, b).forward(x)
    assert got.shape == (2, 2048) and got.dtype == np.float32
    assert np.mean(got == want) > 0.999 and np.max(np.abs(got - want)) <= 1e-6  # float64 order: ≤ 1 ulp apart


@pytest.mark.parametrize("no_blas", [False, True])
def test_relu_keeps_nan_and_inf_on_both_platform_paths(monkeypatch, no_blas):
    """Pyodide's ReLU is a compare-and-select; it must let NaN through as np.maximum does (a diverging
    training run has to see its NaN in the page's worker as in CPython)."""
    from cnn101.engine import layers
    monkeypatch.setattr(layers, "NO_BLAS", no_blas)
    z = np.array([np.nan, -np.inf, np.inf, -1.5, -0.0, 0.0, 2.0], np.float32)
    got = ReLU("r").forward(z)
    np.testing.assert_array_equal(got, np.maximum(z, np.float32(0)))
    assert got.dtype == np.float32


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.floats(0.1, 80), st.integers(0, 2**32 - 1))
def test_relu_and_softmax_equal_naive(n, scale, seed):
    z = (np.random.default_rng(seed).normal(size=(2, n)) * scale).astype(np.float32)
    np.testing.assert_array_equal(ReLU("r").forward(z), naive.relu(z).astype(np.float32))
    p = Softmax("s").forward(z)
    assert p.dtype == np.float32 and np.all(np.isfinite(p))
    for i in range(2):
        np.testing.assert_allclose(p[i], naive.softmax(z[i]), rtol=1e-5, atol=1e-7)
        assert abs(float(p[i].sum()) - 1) < 1e-5


def test_softmax_does_not_overflow():
    p = Softmax("s").forward(np.array([[1000.0, 0.0, -1000.0]], np.float32))
    np.testing.assert_allclose(p[0], [1, 0, 0], atol=1e-7)


def test_param_counts():
    assert Conv2D("c", np.zeros((3, 5, 4, 7)), np.zeros(7)).param_count == 3 * 5 * 4 * 7 + 7
    assert Dense("d", np.zeros((10, 3)), np.zeros(3)).param_count == 33
    no_bias = Dense("d", np.zeros((10, 3)))  # use_bias=False in Keras: the bias is zero and not a parameter
    assert no_bias.param_count == 30 and list(no_bias.params) == ["kernel"] and not no_bias.bias.any()
    assert no_bias.config()["use_bias"] is False and "use_bias" not in Dense("d", np.zeros((1, 1)), [0]).config()
    assert MaxPool2D("p").param_count == ReLU("r").param_count == Flatten("f").param_count == 0


@pytest.mark.parametrize("make, words", [
    (lambda: Conv2D("bad", np.zeros((3, 3, 2)), None), ["bad", "4 axes"]),
    (lambda: Conv2D("bad", np.zeros((3, 3, 2, 4)), np.zeros(3)), ["bad", "bias"]),
    (lambda: Conv2D("bad", np.zeros((3, 3, 2, 4)), None, 0), ["bad", "strides"]),
    (lambda: Conv2D("bad", np.zeros((3, 3, 2, 4)), None, 1, "causal"), ["bad", "causal"]),
    (lambda: Conv2D("bad", np.full((3, 3, 2, 4), np.nan), None), ["bad", "NaN"]),
    (lambda: Dense("bad", np.zeros((3, 2)), [0.0, np.inf]), ["bad", "infinite"]),
    (lambda: MaxPool2D("bad", 0), ["bad", "pool_size"]),
    (lambda: Conv2D("bad", np.zeros((5, 5, 2, 4))).output_shape((4, 9, 2)), ["bad", "5×5", "4×9"]),
    (lambda: Conv2D("bad", np.zeros((3, 3, 2, 4))).output_shape((9, 9, 3)), ["bad", "2 input channels"]),
    (lambda: Dense("bad", np.zeros((6, 2))).output_shape((5,)), ["bad", "6 inputs"]),
    (lambda: Dense("bad", np.zeros((6, 2))).output_shape((2, 3, 1)), ["bad", "Flatten"]),
])
def test_bad_layers_are_refused_by_name(make, words):
    with pytest.raises(ModelError) as e:
        make()
    for w in words:
        assert w in str(e.value)
