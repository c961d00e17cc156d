"""render: colour maps and heatmaps, checked against a naive per-pixel loop."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnn101.render import ACTIVATION, INPUT, WEIGHT, heatmap, normalize


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
