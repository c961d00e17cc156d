"""cnn101.perturb: property tests (shape, dtype, range, identity at zero strength, involutions, the input
left alone) and exact checks against plain loops; bad settings raise PerturbError."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnn101 import perturb
from cnn101.errors import Cnn101Error, PerturbError

shapes = st.tuples(st.integers(1, 12), st.integers(1, 12), st.sampled_from([1, 3, 4]))
unit = st.floats(0, 1, width=32)


@st.composite
def images(draw, shape=None):
    return draw(arrays(np.float32, draw(shapes) if shape is None else shape, elements=unit))


def ok(out, x):
    assert out.dtype == np.float32 and out.shape == x.shape
    assert np.all(np.isfinite(out)) and out.min() >= 0 and out.max() <= 1
    assert out is not x


# Every operation with settings drawn at random, and the same with zero strength (must give x back).
def strong(draw, x):
    h, w, c = x.shape
    ch = draw(st.integers(0, c - 1))
    return draw(st.sampled_from([
        ("occlude", dict(top=draw(st.integers(-h, h)), left=draw(st.integers(-w, w)), size=draw(st.integers(1, 6)),
                         value=draw(unit))),
        ("box_blur", dict(size=draw(st.integers(1, 6)))),
        ("gaussian_blur", dict(sigma=draw(st.floats(0, 3)))),
        ("noise", dict(amount=draw(st.floats(0, 1)), seed=draw(st.integers(0, 2**32)),
                       kind=draw(st.sampled_from(["gaussian", "uniform"])))),
        ("rotate", dict(degrees=draw(st.floats(-720, 720)), fill=draw(unit))),
        ("flip", dict(direction=draw(st.sampled_from(["horizontal", "vertical"])))),
        ("shift", dict(down=draw(st.integers(-2 * h, 2 * h)), right=draw(st.integers(-2 * w, 2 * w)), fill=draw(unit))),
        ("keep_channel", dict(channel=ch)), ("zero_channel", dict(channel=ch)),
        ("set_channel", dict(channel=ch, value=draw(unit))),
        ("invert", dict(channel=draw(st.sampled_from([None, ch])))),
        ("permute_channels", dict(order=draw(st.permutations(range(c))))),
        ("swap_channels", dict(a=ch, b=draw(st.integers(0, c - 1)))),
        ("brightness", dict(amount=draw(st.floats(-1, 1)))),
        ("contrast", dict(factor=draw(st.floats(0, 10)))),
    ]))


ZERO = [("box_blur", dict(size=1)), ("gaussian_blur", dict(sigma=0)), ("noise", dict(amount=0, seed=3)),
        ("rotate", dict(degrees=0)), ("rotate", dict(degrees=360)), ("shift", dict(down=0, right=0)),
        ("brightness", dict(amount=0)), ("contrast", dict(factor=1)), ("permute_channels", None),
        ("blur", dict(size=1)), ("occlude", dict(top=-20, left=0, size=3))]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_operation_keeps_shape_dtype_and_range_and_leaves_its_input(data):
    x = data.draw(images())
    before = x.copy()
    name, kw = strong(data.draw, x)
    out = perturb.OPERATIONS[name](x, **kw)
    ok(out, x)
    np.testing.assert_array_equal(x, before)


@settings(max_examples=60, deadline=None)
@given(images())
def test_zero_strength_is_the_identity(x):
    for name, kw in ZERO:
        kw = dict(order=list(range(x.shape[2]))) if kw is None else kw
        out = perturb.OPERATIONS[name](x, **kw)
        ok(out, x)
        np.testing.assert_array_equal(out, x, err_msg=name)


@settings(max_examples=100, deadline=None)
@given(images())
def test_involutions(x):
    for d in ("horizontal", "vertical"):
        np.testing.assert_array_equal(perturb.flip(perturb.flip(x, d), d), x)
    np.testing.assert_allclose(perturb.invert(perturb.invert(x)), x, rtol=0, atol=6e-8)
    c = x.shape[2]
    np.testing.assert_array_equal(perturb.swap_channels(perturb.swap_channels(x, 0, c - 1), 0, c - 1), x)
    np.testing.assert_array_equal(perturb.rotate(perturb.rotate(x, 180), 180), x)
    if x.shape[0] == x.shape[1]:
        np.testing.assert_array_equal(perturb.rotate(perturb.rotate(x, 90), -90), x)


@settings(max_examples=100, deadline=None)
@given(images(), st.data())
def test_shift_and_occlude_equal_plain_loops(x, data):
    h, w, c = x.shape
    dy, dx = data.draw(st.integers(-h - 1, h + 1)), data.draw(st.integers(-w - 1, w + 1))
    out = perturb.shift(x, dy, dx, fill=0.25)
    for i in range(h):
        for j in range(w):
            si, sj = i - dy, j - dx
            want = x[si, sj] if 0 <= si < h and 0 <= sj < w else np.float32(0.25)
            np.testing.assert_array_equal(out[i, j], want)
    top, left, size = data.draw(st.integers(-5, h + 2)), data.draw(st.integers(-5, w + 2)), data.draw(st.integers(1, 5))
    out = perturb.occlude(x, top, left, size, value=0.75)
    for i in range(h):
        for j in range(w):
            inside = top <= i < top + size and left <= j < left + size
            np.testing.assert_array_equal(out[i, j], np.float32(0.75) if inside else x[i, j])


@settings(max_examples=60, deadline=None)
@given(images(), st.integers(1, 5))
def test_box_blur_equals_the_mean_of_the_edge_padded_window(x, k):
    h, w, _ = x.shape
    out = perturb.box_blur(x, k)
    before = (k - 1) // 2
    for i in range(h):
        for j in range(w):
            rows = np.clip(np.arange(i - before, i - before + k), 0, h - 1)
            cols = np.clip(np.arange(j - before, j - before + k), 0, w - 1)
            np.testing.assert_allclose(out[i, j], x[np.ix_(rows, cols)].mean(axis=(0, 1)), atol=1e-6)


def test_rotation_by_90_sampled_agrees_with_rot90_and_direction_is_anticlockwise():
    x = np.random.default_rng(0).random((7, 7, 3), dtype=np.float32)
    np.testing.assert_allclose(perturb._rotate_sampled(x, 90.0, np.zeros(3, np.float32)), np.rot90(x), atol=1e-6)
    y = np.zeros((5, 5, 1), np.float32)
    y[0, 4] = 1  # top right corner → anticlockwise → top left
    assert perturb.rotate(y, 90)[0, 0, 0] == 1
    assert perturb.rotate(y, 45, fill=0.5)[0, 0, 0] == 0.5  # a corner comes from outside the image: the fill
    z = np.random.default_rng(1).random((4, 6, 3), dtype=np.float32)  # not square: 90° samples, keeps the shape
    assert perturb.rotate(z, 90).shape == (4, 6, 3)
    np.testing.assert_array_equal(perturb.rotate(z, 180), z[::-1, ::-1])


def test_channel_operations_by_name_and_the_red_channel_experiment():
    x = np.random.default_rng(2).random((4, 4, 3), dtype=np.float32)
    red = perturb.keep_channel(x, "red")
    np.testing.assert_array_equal(red[..., 0], x[..., 0])
    assert not red[..., 1:].any()
    np.testing.assert_array_equal(perturb.zero_channel(x, "G")[..., 1], 0)
    np.testing.assert_array_equal(perturb.swap_channels(x, "r", "b"), x[..., ::-1])
    np.testing.assert_array_equal(perturb.permute_channels(x, ["blue", "green", "red"]), x[..., ::-1])
    np.testing.assert_array_equal(perturb.invert(x, "blue")[..., :2], x[..., :2])
    np.testing.assert_allclose(perturb.brightness(x, 0.1), np.clip(x + np.float32(0.1), 0, 1))
    np.testing.assert_allclose(perturb.contrast(x, 2.0), np.clip(0.5 + 2 * (x - 0.5), 0, 1), atol=1e-7)
    assert np.all(perturb.contrast(x, 0.0) == 0.5)


def test_noise_is_seeded():
    x = np.full((8, 8, 3), 0.5, np.float32)
    a, b = perturb.noise(x, 0.1, seed=7), perturb.noise(x, 0.1, seed=7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, perturb.noise(x, 0.1, seed=8))
    assert abs(float((a - x).std()) - 0.1) < 0.03


def test_apply_runs_steps_in_order():
    x = np.random.default_rng(3).random((6, 6, 3), dtype=np.float32)
    steps = [{"op": "keep_channel", "channel": "red"}, {"op": "rotate", "degrees": 90}, {"op": "invert"}]
    np.testing.assert_array_equal(perturb.apply(x, steps),
                                  perturb.invert(perturb.rotate(perturb.keep_channel(x, 0), 90)))
    np.testing.assert_array_equal(perturb.apply(x, []), x)
    from cnn101 import draw

    drawn = [{"op": "stroke", "points": [[1, 1], [4, 5]], "radius": 1.5, "colour": [1, 0, 0]},
             {"op": "fill", "row": 0, "col": 5, "colour": 0.5, "tolerance": 1.0}]
    np.testing.assert_array_equal(perturb.apply(x, drawn),
                                  draw.fill(draw.stroke(x, [(1, 1), (4, 5)], 1.5, (1, 0, 0)), 0, 5, 0.5, 1.0))


BAD = [
    lambda x: perturb.occlude(x, 0, 0, size=0),
    lambda x: perturb.occlude(x, 0, 0, size=(2, -1)),
    lambda x: perturb.occlude(x, 0, 0, size=2, value=1.5),
    lambda x: perturb.occlude(x, 0.5, 0, size=2),
    lambda x: perturb.box_blur(x, 0),
    lambda x: perturb.gaussian_blur(x, -1.0),
    lambda x: perturb.gaussian_blur(x, float("nan")),
    lambda x: perturb.blur(x, 3, kind="motion"),
    lambda x: perturb.noise(x, -0.1),
    lambda x: perturb.noise(x, 0.1, kind="pink"),
    lambda x: perturb.rotate(x, float("inf")),
    lambda x: perturb.rotate(x, 10, fill=[0.1, 0.2]),
    lambda x: perturb.flip(x, "diagonal"),
    lambda x: perturb.shift(x, 1.5, 0),
    lambda x: perturb.keep_channel(x, "purple"),
    lambda x: perturb.keep_channel(x, 3),
    lambda x: perturb.zero_channel(x, -1),
    lambda x: perturb.invert(x, True),
    lambda x: perturb.permute_channels(x, [0, 0, 1]),
    lambda x: perturb.permute_channels(x, 5),
    lambda x: perturb.brightness(x, 2),
    lambda x: perturb.contrast(x, -1),
    lambda x: perturb.apply(x, [{"op": "melt"}]),
    lambda x: perturb.apply(x, [{"op": "blur", "radius": 3}]),
    lambda x: perturb.keep_channel(x[..., 0], 0),
    lambda x: perturb.keep_channel(x * 2 + 1.5, 0),
    lambda x: perturb.keep_channel(np.full_like(x, np.nan), 0),
]


@pytest.mark.parametrize("call", BAD, ids=range(len(BAD)))
def test_bad_settings_raise_a_plain_error(call):
    x = np.random.default_rng(4).random((5, 5, 3), dtype=np.float32)
    with pytest.raises(PerturbError) as e:
        call(x)
    assert isinstance(e.value, Cnn101Error) and len(str(e.value)) > 20 and "Traceback" not in str(e.value)


def test_the_red_channel_experiment_of_the_tutorial_holds():
    """docs/tutorial.md: keep only red → the green and blue results of a first-layer neuron are 0, the red
    result is unchanged, and the neuron is the red result plus the bias."""
    import cnn101
    from cnn101.explain import conv_neuron

    model = cnn101.load_model()
    x = np.random.default_rng(0).random(model.input_shape, dtype=np.float32)
    first = next(layer.name for layer in model.layers if layer.kind == "conv2d")
    for f in (0, 3):
        a = conv_neuron(model.trace(x), first, f)
        b = conv_neuron(model.trace(perturb.keep_channel(x, "red")), first, f)
        assert not b.results[..., 1:].any()
        np.testing.assert_array_equal(b.results[..., 0], a.results[..., 0])
        np.testing.assert_allclose(b.pre_activation, b.results[..., 0] + b.bias, atol=1e-5)


def test_the_operations_said_to_clip_do_clip():
    x = np.array([[[0.05, 0.5, 0.95]]], np.float32)
    assert perturb.brightness(x, 0.2)[0, 0, 2] == 1 and perturb.brightness(x, -0.2)[0, 0, 0] == 0
    assert perturb.contrast(x, 3)[0, 0].tolist() == [0, 0.5, 1]
    assert perturb.noise(np.ones((8, 8, 3), np.float32), 0.5, seed=1).max() == 1
    assert set(perturb.CLIPS) <= set(perturb.OPERATIONS)
