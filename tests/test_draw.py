"""cnn101.draw: brush strokes and flood fill, against plain loops, with property tests."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnn101 import draw
from cnn101.errors import PerturbError

coords = st.floats(-5, 20, allow_nan=False)


def seg_dist(p, a, b):
    a, b, p = map(np.asarray, (a, b, p))
    d = b - a
    t = 0.0 if float(d @ d) == 0 else min(max(float((p - a) @ d / (d @ d)), 0.0), 1.0)
    return float(np.hypot(*(p - (a + t * d))))


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 16), st.integers(1, 16), st.sampled_from([1, 3]),
       st.lists(st.tuples(coords, coords), min_size=1, max_size=4), st.floats(0.3, 6), st.data())
def test_stroke_paints_exactly_the_pixels_near_the_polyline(h, w, c, pts, r, data):
    x = data.draw(arrays(np.float32, (h, w, c), elements=st.floats(0, 1, width=32)))
    before = x.copy()
    colour = data.draw(st.floats(0, 1))
    y = draw.stroke(x, pts, r, colour)
    np.testing.assert_array_equal(x, before)
    assert y.shape == x.shape and y.dtype == np.float32 and y.min() >= 0 and y.max() <= 1
    segs = list(zip(pts[:-1], pts[1:])) or [(pts[0], pts[0])]
    for i in range(h):
        for j in range(w):
            dist = min(seg_dist((i, j), a, b) for a, b in segs)
            if dist <= r - 1e-6:
                np.testing.assert_array_equal(y[i, j], np.float32(colour))
            elif dist > r + 1e-6:
                np.testing.assert_array_equal(y[i, j], x[i, j])


def test_stroke_into_one_channel_only_and_a_one_pixel_line():
    x = np.full((8, 8, 3), 0.5, np.float32)
    y = draw.stroke(x, [(2, 1), (2, 6)], 0.5, colour=(1.0, 0.0, 0.0), channel="red")
    assert np.all(y[2, 1:7, 0] == 1) and np.all(y[..., 1:] == 0.5)
    assert (y[..., 0] == 1).sum() == 6
    z = draw.stroke(x, [(4, 4)], 0.5, colour=0.2, channel=2)
    assert z[4, 4, 2] == np.float32(0.2) and (z != x).sum() == 1


def naive_region(x, r, c, tol):
    h, w, _ = x.shape
    sim = np.all(np.abs(x.astype(np.float64) - x[r, c]) <= tol + 1e-12, axis=2)
    region = np.zeros((h, w), bool)
    region[r, c] = True
    while True:  # grow by one 4-neighbour step until nothing changes
        grown = region.copy()
        grown[1:] |= region[:-1]
        grown[:-1] |= region[1:]
        grown[:, 1:] |= region[:, :-1]
        grown[:, :-1] |= region[:, 1:]
        grown &= sim
        grown[r, c] = True
        if np.array_equal(grown, region):
            return region
        region = grown


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.data())
def test_fill_paints_the_connected_region_of_similar_pixels(h, w, data):
    x = data.draw(arrays(np.float32, (h, w, 3), elements=st.sampled_from([0.0, 0.25, 1.0])))
    r, c = data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1))
    tol = data.draw(st.sampled_from([0.0, 0.3]))
    region = naive_region(x, r, c, tol)
    np.testing.assert_array_equal(draw.fill_mask(x, r, c, tol), region)
    y = draw.fill(x, r, c, (0.5, 0.6, 0.7), tol)
    np.testing.assert_array_equal(y[region], np.tile(np.float32([0.5, 0.6, 0.7]), (region.sum(), 1)))
    np.testing.assert_array_equal(y[~region], x[~region])
    np.testing.assert_array_equal(draw.fill(y, r, c, (0.5, 0.6, 0.7)), y)  # filling again changes nothing


def test_fill_compares_and_paints_one_channel():
    x = np.zeros((4, 4, 3), np.float32)
    x[:, 2, 1] = 1.0  # a green wall in column 2; red is 0 everywhere
    y = draw.fill(x, 0, 0, 1.0, channel="green")
    assert np.all(y[:, :2, 1] == 1) and np.all(y[:, 3, 1] == 0) and np.all(y[..., [0, 2]] == 0)
    assert draw.fill_mask(x, 0, 0, channel="red").all()


def test_blank_canvas():
    np.testing.assert_array_equal(draw.blank((3, 2, 3)), np.ones((3, 2, 3), np.float32))
    assert draw.blank((2, 2, 3), (1, 0, 0))[1, 1].tolist() == [1, 0, 0]


@pytest.mark.parametrize("call", [
    lambda x: draw.stroke(x, [], 1), lambda x: draw.stroke(x, [(1, 1)], 0), lambda x: draw.stroke(x, [(1, 1)], -2),
    lambda x: draw.stroke(x, [(1, np.nan)], 1), lambda x: draw.stroke(x, [(1, 1)], 1, colour=2.0),
    lambda x: draw.stroke(x, [(1, 1)], 1, channel="alpha"), lambda x: draw.stroke(x, "abc", 1),
    lambda x: draw.fill(x, 9, 0), lambda x: draw.fill(x, 0.5, 0), lambda x: draw.fill(x, 0, 0, tolerance=-1),
    lambda x: draw.fill(x, 0, 0, colour=(1, 1)), lambda x: draw.blank((0, 3, 3)),
])
def test_bad_settings_raise_a_plain_error(call):
    with pytest.raises(PerturbError):
        call(np.zeros((4, 4, 3), np.float32))
