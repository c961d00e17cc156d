"""Each convolution method of engine/conv_methods.py against the naive loops, whichever platform picks it.

CPython's Conv2D.forward picks `channels_first` (stride 1) or `taps`; Pyodide picks Winograd,
channels_first_einsum, row_windows or taps (tests/test_engine_pyodide.py checks those traces against CPython and TensorFlow there).
Here every method runs on CPython on random shapes, so a wrong index in a method fails on CPython too.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import naive
from cnn101.engine import Conv2D
from cnn101.engine.conv_methods import METHODS, STRIDE_1_ONLY, choose, winograd_kernel

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOL = dict(rtol=1e-5, atol=1e-5)


def _run(method, layer, x):
    (oh, _, _), (ow, _, _) = layer.geometry(x.shape[1:])
    return METHODS[method](layer.pad(x), layer.kernel, layer.bias, layer.strides, oh, ow)


def _check(method, layer, x):
    y = _run(method, layer, x)
    assert y.dtype == np.float32 and y.flags.c_contiguous
    for n in range(x.shape[0]):
        want = naive.conv2d(x[n], layer.kernel, layer.bias, layer.strides, layer.padding)
        assert y[n].shape == want.shape
        np.testing.assert_allclose(y[n], want, **TOL)


@SETTINGS
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 3), st.integers(1, 3), st.sampled_from(["valid", "same"]),
       st.integers(5, 12), st.integers(5, 12), st.integers(1, 4), st.integers(1, 4), st.integers(1, 2),
       st.integers(0, 2**32 - 1))
def test_taps_im2col_and_row_windows_equal_naive_loops(kh, kw, sh, sw, padding, h, w, cin, cout, batch, seed):
    rng = np.random.default_rng(seed)
    layer = Conv2D("c", rng.uniform(-1, 1, (kh, kw, cin, cout)), rng.uniform(-1, 1, cout), (sh, sw), padding)
    x = rng.uniform(-1, 1, (batch, h, w, cin)).astype(np.float32)
    stride_1 = ("channels_first", "channels_first_einsum") if (sh, sw) == (1, 1) else ()
    for method in ("taps", "im2col", "row_windows") + stride_1:
        _check(method, layer, x)


@SETTINGS
@given(st.sampled_from(["valid", "same"]), st.integers(3, 13), st.integers(3, 13), st.integers(1, 12),
       st.integers(1, 5), st.integers(1, 2), st.integers(0, 2**32 - 1))
def test_winograd_equals_naive_loops(padding, h, w, cin, cout, batch, seed):
    """Odd and even output sizes (the last tile reads zeros past the edge), 1×1 outputs, batches."""
    rng = np.random.default_rng(seed)
    layer = Conv2D("c", rng.uniform(-1, 1, (3, 3, cin, cout)), rng.uniform(-1, 1, cout), 1, padding)
    x = rng.uniform(-1, 1, (batch, h, w, cin)).astype(np.float32)
    _check("winograd_2x2", layer, x)


@pytest.mark.parametrize("method", ["channels_first", "channels_first_einsum"])
def test_channels_first_in_several_stacks(monkeypatch, method):
    """A stack bound smaller than the input: the columns go in several stacks and products, same values."""
    from cnn101.engine import conv_methods

    monkeypatch.setattr(conv_methods, "STACK_MAX_BYTES", 4 * (3 * 3 * 2 + 1) * 7)  # 7 columns at a time
    rng = np.random.default_rng(4)
    layer = Conv2D("c", rng.uniform(-1, 1, (3, 3, 2, 3)), rng.uniform(-1, 1, 3), 1, "same")
    _check(method, layer, rng.uniform(-1, 1, (2, 9, 11, 2)).astype(np.float32))


def test_winograd_kernel_is_g_g_gt():
    rng = np.random.default_rng(1)
    k = rng.normal(size=(3, 3, 2, 3)).astype(np.float32)
    g = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
    u = winograd_kernel(k).reshape(4, 4, 2, 3)
    for c in range(2):
        for f in range(3):
            np.testing.assert_allclose(u[:, :, c, f], g @ k[:, :, c, f] @ g.T, rtol=1e-6, atol=1e-6)


def test_methods_agree_on_tiny_vgg_shapes():
    """The shapes the page runs, with trained-like magnitudes: every method within 5e-6 of float64 , well inside TensorFlow parity's 1e-5."""
    rng = np.random.default_rng(2)
    for h, cin in ((64, 3), (62, 10), (30, 10), (28, 10)):
        layer = Conv2D("c", rng.normal(0, 0.3, (3, 3, cin, 10)), rng.normal(0, 0.1, 10), 1, "valid")
        x = rng.uniform(0, 1, (1, h, h, cin)).astype(np.float32)  # outputs up to ≈ 4, as Tiny VGG's (3.5)
        want = naive.conv2d(x[0], layer.kernel, layer.bias)
        for method in METHODS:
            assert float(np.abs(_run(method, layer, x)[0] - want).max()) < 5e-6, method
    assert set(STRIDE_1_ONLY) < set(METHODS)


def test_an_edited_kernel_takes_effect_in_every_method():
    rng = np.random.default_rng(3)
    layer = Conv2D("c", rng.normal(size=(3, 3, 8, 2)), None, 1, "same")
    x = rng.normal(size=(1, 9, 9, 8)).astype(np.float32)
    before = {m: _run(m, layer, x) for m in METHODS}
    layer.kernel[:, :, :, 1] = 0
    for m in METHODS:
        after = _run(m, layer, x)
        np.testing.assert_array_equal(after[..., 0], before[m][..., 0])
        assert np.all(after[..., 1] == 0)


@pytest.mark.parametrize("kernel, strides, size, no_blas, want", [
    ((3, 3, 10, 10), (1, 1), 60, False, "channels_first"),  # CPython (OpenBLAS): few long products
    ((3, 3, 10, 10), (2, 2), 30, False, "taps"),          # strided, with BLAS
    ((3, 3, 10, 10), (1, 1), 60, True, "channels_first_einsum"),  # Pyodide: einsum's long rows, no BLAS
    ((3, 3, 3, 10), (1, 1), 62, True, "channels_first_einsum"),
    ((3, 3, 16, 16), (1, 1), 30, True, "channels_first_einsum"),  # a tie with Winograd
    ((3, 3, 32, 32), (1, 1), 30, True, "winograd_2x2"),           # ≥ 32 channels in: Winograd's fewer products
    ((3, 3, 64, 64), (1, 1), 222, True, "winograd_2x2"),
    ((5, 5, 16, 8), (1, 1), 28, True, "channels_first_einsum"),   # not 3×3: no Winograd
    ((3, 3, 10, 10), (2, 2), 30, True, "row_windows"),    # strided: neither Winograd nor channels_first
    ((5, 5, 16, 8), (2, 2), 28, True, "taps"),            # 80-value kernel rows: row_windows got slower than taps
])
def test_choice_per_shape_and_platform(kernel, strides, size, no_blas, want):
    xp_shape = (1, size + kernel[0] - 1, size + kernel[1] - 1, kernel[2])
    assert choose(xp_shape, kernel, strides, size, size, no_blas=no_blas) == want
