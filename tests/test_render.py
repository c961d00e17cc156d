"""render: colour maps and heatmaps, checked against a naive per-pixel loop."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnn101.render import ACTIVATION, INPUT, WEIGHT, Colormap, heatmap, normalize
from cnn101.render.heatmap import rgba


def test_zero_is_white_and_ends_are_red_and_blue():
    assert ACTIVATION(0.5).tolist() == [255, 255, 255]
    r, g, b = ACTIVATION(0.0).tolist()
    assert r > 2 * b and r > 2 * g          # negative: red
    r, g, b = ACTIVATION(1.0).tolist()
    assert b > 2 * r and b > g              # positive: blue
    assert WEIGHT(0.5).tolist() == [255, 255, 255]
    r, g, b = WEIGHT(0.0).tolist()
    assert r > g > b                        # negative weight: brown
    r, g, b = WEIGHT(1.0).tolist()
    assert g > r                            # positive weight: green
    assert INPUT(0.0).tolist() == [0, 0, 0] and INPUT(1.0).tolist() == [255, 255, 255]


def test_maps_are_monotone_in_lightness_towards_the_centre():
    for cmap in (ACTIVATION, WEIGHT):
        light = cmap.lut.astype(int).sum(axis=1)
        mid = len(light) // 2
        assert np.all(np.diff(light[: mid + 1]) >= 0)
        assert np.all(np.diff(light[mid:]) <= 0)


def naive_heatmap(values, lo, hi, cmap):
    h, w = values.shape
    out = np.zeros((h, w, 4), np.uint8)
    for i in range(h):
        for j in range(w):
            v = float(values[i, j])
            if np.isnan(v):
                out[i, j] = (*cmap.lut[len(cmap.lut) // 2], 0)
                continue
            t = 0.5 if hi <= lo else min(1.0, max(0.0, (v - lo) / (hi - lo)))
            out[i, j, :3] = cmap.lut[int(round(t * (len(cmap.lut) - 1)))]
            out[i, j, 3] = 255
    return out


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float32, st.tuples(st.integers(1, 9), st.integers(1, 9)),
           elements=st.floats(-10, 10, width=32) | st.just(float("nan"))),
    st.floats(-5, 5), st.floats(0, 5),
)
def test_heatmap_matches_naive_loop(values, lo, width):
    hi = lo + width
    got = heatmap(values, lo, hi)
    want = naive_heatmap(values, lo, hi, ACTIVATION)
    assert got.dtype == np.uint8 and got.shape == values.shape + (4,) and got.flags.c_contiguous
    assert np.array_equal(got, want)


def lut_rgba(values, lo, hi, cmap):
    """The colours as render did them before rgba(): the LUT at Colormap.index(normalize(v)), alpha from NaN."""
    t = normalize(values, lo, hi)
    out = np.empty(t.shape + (4,), np.uint8)
    out[..., :3] = cmap.lut[Colormap.index(t)]
    out[..., 3] = np.where(np.isnan(t), 0, 255)
    return out


@settings(max_examples=80, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(0, 4), st.integers(1, 5), st.integers(1, 6)),
           elements=st.floats(-10, 10) | st.floats(-1e6, 1e6) | st.sampled_from([float("nan"), float("inf"), -float("inf"), 0.0, 1e-40])),
    st.sampled_from([np.float32, np.float64, np.int16]),
    st.sampled_from([-3.0, -1e-300, 0.0, 0.25, -float("inf"), 5e-324]),
    st.sampled_from([0.0, 1e-310, 1e-300, 0.5, 7.0, 1e300, float("inf")]),
)
def test_rgba_of_any_shape_is_the_lut_of_normalize(values, dtype, lo, width):
    """Every dtype, NaN, ±inf, zero-width, subnormal and infinite ranges: the same bytes as the LUT path."""
    values = values.astype(dtype) if dtype != np.int16 else np.nan_to_num(values).clip(-3e4, 3e4).astype(dtype)
    hi = lo + width
    for cmap in (ACTIVATION, INPUT):
        got = rgba(values, lo, hi, cmap)
        assert got.dtype == np.uint8 and got.shape == values.shape + (4,) and got.flags.c_contiguous
        assert np.array_equal(got, lut_rgba(values, lo, hi, cmap))


def test_rgba_of_a_strided_view_equals_its_copy():
    v = np.random.default_rng(1).normal(size=(7, 9, 5)).astype(np.float32)
    view = np.moveaxis(v, -1, 0)  # what the Overview colours: (C, H, W) of an H×W×C trace, not copied
    assert np.array_equal(rgba(view, -2, 2), rgba(np.ascontiguousarray(view), -2, 2))
    assert np.array_equal(rgba(view, -2, 2)[3], heatmap(view[3], -2, 2))


def test_rgba_writes_into_a_given_buffer():
    v = np.random.default_rng(2).normal(size=(3, 4, 5)).astype(np.float32)
    v[1, 2, 3] = np.nan
    buf = np.zeros(2 * v.size * 4 + 8, np.uint8)
    part = buf[8:8 + v.size * 4].reshape(v.shape + (4,))
    assert rgba(v, -1, 1, out=part) is part
    assert np.array_equal(part, rgba(v, -1, 1)) and part[1, 2, 3, 3] == 0
    assert not buf[:8].any() and not buf[8 + v.size * 4:].any()  # nothing written outside its part
    for bad in (np.zeros(v.shape + (3,), np.uint8), np.zeros(v.shape + (4,), np.float32),
                np.zeros((5, 4, 3, 4), np.uint8).transpose(2, 1, 0, 3)):
        with pytest.raises(ValueError):
            rgba(v, -1, 1, out=bad)


def test_heatmap_symmetric_range_puts_zero_at_white_and_clips():
    v = np.array([[-2.0, -1.0, 0.0, 1.0, 2.0]])
    rgba = heatmap(v, -1.0, 1.0)
    assert rgba[0, 2].tolist() == [255, 255, 255, 255]
    assert rgba[0, 0].tolist() == rgba[0, 1].tolist() == [*ACTIVATION(0.0), 255]
    assert rgba[0, 4].tolist() == rgba[0, 3].tolist() == [*ACTIVATION(1.0), 255]


def test_heatmap_scale_and_errors():
    v = np.arange(6, dtype=np.float32).reshape(2, 3)
    big = heatmap(v, 0, 5, INPUT, scale=3)
    assert big.shape == (6, 9, 4)
    assert np.array_equal(big[::3, ::3], heatmap(v, 0, 5, INPUT))
    with pytest.raises(ValueError):
        heatmap(np.zeros(4), 0, 1)


def test_normalize_zero_width_range():
    assert np.all(normalize(np.ones((2, 2)), 1.0, 1.0) == 0.5)


def test_css_helpers():
    assert ACTIVATION.hex(0.5) == "#ffffff"
    stops = ACTIVATION.stops(5)
    assert len(stops) == 5 and stops[2] == "#ffffff"
    assert ACTIVATION.css_gradient(3).startswith("linear-gradient(to right, #")
