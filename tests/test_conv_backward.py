"""Each convolution-gradient method of engine/conv_backward.py against the naive loops, whichever platform picks it.

CPython's Conv2D.backward picks `gy_stack` or `x_stack` (stride 1) or `strided`; Pyodide picks `taps_einsum` or
`strided` (tests/test_gradients_pyodide.py checks its gradients against CPython's there). Here every method runs
on CPython on random shapes, so a wrong index in a method fails on CPython too.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import naive
from cnn101.engine import Conv2D, conv_backward
from cnn101.engine.conv_backward import METHODS, STRIDE_1_ONLY, choose

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOL = dict(rtol=1e-5, atol=1e-5)


def _run(method, layer, x, gy, need_input=True):
    gxp, gk, gb = METHODS[method](layer.pad(x), layer.kernel, gy, layer.strides, need_input)
    (_, pt, _), (_, pl, _) = layer.geometry(x.shape[1:])
    gx = None if gxp is None else gxp[:, pt:pt + x.shape[1], pl:pl + x.shape[2]]
    return gx, gk, gb


def _naive(layer, x, gy):
    dxs, dk_total, db_total = [], 0.0, 0.0
    for n in range(x.shape[0]):
        dx, dk, db = naive.conv2d_backward(x[n], layer.kernel, gy[n], layer.strides, layer.padding)
        dxs.append(dx)
        dk_total, db_total = dk_total + dk, db_total + db
    return np.stack(dxs), dk_total, db_total


def _check(methods, layer, x, gy):
    dx, dk, db = _naive(layer, x, gy)
    for method in methods:
        gx, gk, gb = _run(method, layer, x, gy)
        assert gx.dtype == gk.dtype == gb.dtype == np.float32
        assert gk.shape == layer.kernel.shape and gb.shape == (layer.filters,)
        np.testing.assert_allclose(gx, dx, **TOL, err_msg=method)
        np.testing.assert_allclose(gk, dk, **TOL, err_msg=method)
        np.testing.assert_allclose(gb, db, **TOL, err_msg=method)
        lean, gk2, gb2 = _run(method, layer, x, gy, need_input=False)
        assert lean is None
        np.testing.assert_array_equal(gk2, gk)  # training skips d / d input and must get the same weights' gradients
        np.testing.assert_array_equal(gb2, gb)


def _case(rng, kh, kw, strides, padding, batch, h, w, cin, cout):
    layer = Conv2D("c", rng.uniform(-1, 1, (kh, kw, cin, cout)), rng.uniform(-1, 1, cout), strides, padding)
    x = rng.uniform(-1, 1, (batch, h, w, cin)).astype(np.float32)
    gy = rng.normal(size=(batch, *layer.output_shape((h, w, cin))[:2], cout)).astype(np.float32)
    return layer, x, gy


@SETTINGS
@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from(["valid", "same"]), st.integers(5, 12),
       st.integers(5, 12), st.integers(1, 5), st.integers(1, 5), st.integers(1, 2), st.integers(0, 2**32 - 1))
def test_every_stride_1_method_equals_naive_loops(kh, kw, padding, h, w, cin, cout, batch, seed):
    layer, x, gy = _case(np.random.default_rng(seed), kh, kw, 1, padding, batch, h, w, cin, cout)
    _check(METHODS, layer, x, gy)


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(2, 3), st.sampled_from(["valid", "same"]),
       st.integers(5, 12), st.integers(5, 12), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_strided_equals_naive_loops(kh, kw, sh, sw, padding, h, w, cin, cout, seed):
    layer, x, gy = _case(np.random.default_rng(seed), kh, kw, (sh, sw), padding, 2, h, w, cin, cout)
    _check(["strided"], layer, x, gy)


@pytest.mark.parametrize("method", ["gy_stack", "x_stack"])
def test_stacks_in_several_pieces_and_products(monkeypatch, method):
    """Bounds small enough that the columns go in several BLAS products (each stacked on its own) and, for
    x_stack, several pieces of its products P: same values."""
    monkeypatch.setattr(conv_backward, "STACK_MAX_BYTES", 4 * 3 * 3 * 4 * 150)
    monkeypatch.setattr(conv_backward, "SINGLE_THREAD_MNK", 1)  # 64 columns per product
    layer, x, gy = _case(np.random.default_rng(4), 3, 3, 1, "same", 2, 19, 23, 4, 4)
    _check([method], layer, x, gy)


def _float64_reference(x, kernel, gy):
    """Valid stride-1 gradients of one image in float64, by sliding windows (the naive loops take minutes here)."""
    x, kernel, gy = (np.asarray(a, np.float64) for a in (x, kernel, gy))
    kh, kw = kernel.shape[:2]
    oh, ow = gy.shape[:2]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(0, 1))  # (oh, ow, cin, kh, kw)
    dk = np.einsum("ijcab,ijf->abcf", windows, gy)
    dx = np.zeros_like(x)
    for di in range(kh):
        for dj in range(kw):
            dx[di:di + oh, dj:dj + ow] += gy @ kernel[di, dj].T
    return dx, dk, gy.sum(axis=(0, 1))


def test_methods_agree_on_tiny_vgg_shapes():
    """The shapes the page runs, with trained-like magnitudes: every stride-1 method within float32 rounding of
    float64 (sums of up to 3 844 float32 terms: measured ≤ 1.1e-6 of the largest value), inside the 1e-5 held
    against TensorFlow."""
    rng = np.random.default_rng(2)
    for h, cin in ((64, 3), (62, 10), (30, 10), (28, 10)):
        layer = Conv2D("c", rng.normal(0, 0.3, (3, 3, cin, 10)), rng.normal(0, 0.1, 10), 1, "valid")
        x = rng.uniform(0, 1, (1, h, h, cin)).astype(np.float32)
        gy = rng.normal(0, 1e-3, (1, h - 2, h - 2, 10)).astype(np.float32)
        want = _float64_reference(x[0], layer.kernel, gy[0])
        for method in STRIDE_1_ONLY:
            got = _run(method, layer, x, gy)
            for g, w in zip((got[0][0], got[1], got[2]), want):
                assert float(np.abs(g - w).max() / np.abs(w).max()) < 3e-6, method


def test_an_edited_kernel_takes_effect_in_every_method():
    rng = np.random.default_rng(3)
    layer, x, gy = _case(rng, 3, 3, 1, "same", 1, 9, 9, 8, 2)
    before = {m: _run(m, layer, x, gy)[0] for m in STRIDE_1_ONLY}
    layer.kernel[:] = 0
    for m in STRIDE_1_ONLY:
        assert np.any(before[m] != 0) and np.all(_run(m, layer, x, gy)[0] == 0), m


@pytest.mark.parametrize("kernel, strides, no_blas, want", [
    ((3, 3, 10, 10), (1, 1), False, "gy_stack"),    # CPython (OpenBLAS): one stack of gy's shifted copies
    ((3, 3, 3, 10), (1, 1), False, "x_stack"),      # fewer channels in than filters: stack the input instead
    ((3, 3, 16, 8), (1, 1), False, "gy_stack"),
    ((3, 3, 10, 10), (2, 2), False, "strided"),
    ((3, 3, 10, 10), (1, 1), True, "taps_einsum"),  # Pyodide: einsum per tap, no BLAS
    ((3, 3, 3, 10), (1, 1), True, "taps_einsum"),
    ((3, 3, 10, 10), (2, 1), True, "strided"),
])
def test_choice_per_shape_and_platform(kernel, strides, no_blas, want):
    assert choose(kernel, strides, no_blas=no_blas) == want
    assert set(STRIDE_1_ONLY) < set(METHODS)
