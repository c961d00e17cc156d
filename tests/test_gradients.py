"""The backward pass without TensorFlow: each layer's backward against naive loops (hypothesis), explicit
max-pool ties, finite differences in float64 on small random models, and the `Gradients` API."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import naive
from cnn101.engine import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Softmax, TargetError
from models import synthetic_image, synthetic_model
from test_layers import window_case

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOL = dict(rtol=1e-5, atol=1e-5)


# --- each layer's backward against the naive loops -------------------------------------------------------

@SETTINGS
@given(window_case(), st.integers(1, 4), st.booleans(), st.booleans())
def test_conv2d_backward_equals_naive_loops(case, filters, bias_given, need_input):
    (kh, kw), strides, padding, shape, rng = case
    x = rng.uniform(-1, 1, shape).astype(np.float32)
    kernel = rng.uniform(-1, 1, (kh, kw, shape[3], filters)).astype(np.float32)
    layer = Conv2D("c", kernel, rng.uniform(-1, 1, filters).astype(np.float32) if bias_given else None,
                   strides, padding)
    y = layer.forward(x)
    gy = rng.normal(size=y.shape).astype(np.float32)
    gx, grads = layer.backward(x, y, gy, need_input=need_input)
    assert set(grads) == set(layer.params) and grads["kernel"].dtype == np.float32
    dk_total, db_total = 0.0, 0.0
    for n in range(shape[0]):
        dx, dk, db = naive.conv2d_backward(x[n], kernel, gy[n], strides, padding)
        dk_total, db_total = dk_total + dk, db_total + db
        if need_input:
            assert gx.shape == x.shape and gx.dtype == np.float32
            np.testing.assert_allclose(gx[n], dx, **TOL)
    assert gx is None or need_input
    np.testing.assert_allclose(grads["kernel"], dk_total, **TOL)
    if bias_given:
        np.testing.assert_allclose(grads["bias"], db_total, **TOL)


@SETTINGS
@given(window_case(max_channels=3), st.booleans(), st.integers(2, 6))
def test_maxpool2d_backward_equals_naive_loops(case, default_strides, levels):
    """Inputs drawn from a few levels, so most windows hold tied maxima."""
    pool, strides, padding, shape, rng = case
    x = rng.integers(0, levels, shape).astype(np.float32)
    layer = MaxPool2D("p", pool, None if default_strides else strides, padding)
    y = layer.forward(x)
    gy = rng.normal(size=y.shape).astype(np.float32)
    gx, grads = layer.backward(x, y, gy)
    assert grads == {} and gx.shape == x.shape and gx.dtype == np.float32
    for n in range(shape[0]):
        want = naive.maxpool2d_backward(x[n], gy[n], layer.pool_size, layer.strides, padding)
        np.testing.assert_allclose(gx[n], want, **TOL)


@SETTINGS
@given(st.integers(1, 40), st.integers(1, 12), st.integers(1, 3), st.booleans(), st.integers(0, 2**32 - 1))
def test_dense_backward_equals_naive_loops(n_in, units, batch, bias_given, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, n_in)).astype(np.float32)
    layer = Dense("d", rng.normal(size=(n_in, units)), rng.normal(size=units) if bias_given else None)
    gy = rng.normal(size=(batch, units)).astype(np.float32)
    gx, grads = layer.backward(x, layer.forward(x), gy)
    assert set(grads) == set(layer.params)
    dks = 0.0
    for n in range(batch):
        dx, dk, _ = naive.dense_backward(x[n], layer.kernel, gy[n])
        np.testing.assert_allclose(gx[n], dx, **TOL)
        dks = dks + dk
    np.testing.assert_allclose(grads["kernel"], dks, **TOL)
    if bias_given:
        np.testing.assert_allclose(grads["bias"], gy.astype(np.float64).sum(0), **TOL)


@SETTINGS
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_relu_flatten_softmax_backward_equal_naive_loops(h, w, c, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, (2, h, w, c)).astype(np.float32)  # zeros included: no gradient at 0, as TF
    gy = rng.normal(size=x.shape).astype(np.float32)
    relu = ReLU("r")
    gx, _ = relu.backward(x, relu.forward(x), gy)
    np.testing.assert_array_equal(gx, naive.relu_backward(x, gy))
    flat = Flatten("f")
    gflat = rng.normal(size=(2, h * w * c)).astype(np.float32)
    gx, _ = flat.backward(x, flat.forward(x), gflat)
    for n in range(2):  # naive.flatten(gx) must give back the vector: the fold is flatten's inverse
        np.testing.assert_array_equal(naive.flatten(gx[n]), gflat[n])
    sm = Softmax("s")
    z = rng.normal(size=(2, w + 1)).astype(np.float32)
    gz = rng.normal(size=z.shape).astype(np.float32)
    gx, _ = sm.backward(z, sm.forward(z), gz)
    for n in range(2):
        np.testing.assert_allclose(gx[n], naive.softmax_backward(z[n], gz[n]), rtol=1e-5, atol=1e-6)


# --- max-pool ties, explicitly ------------------------------------------------------------------------

def _pool_grad(x2d, pool, strides, padding):
    x = np.asarray(x2d, np.float32)[None, :, :, None]
    layer = MaxPool2D("p", pool, strides, padding)
    y = layer.forward(x)
    gx, _ = layer.backward(x, y, np.ones_like(y))
    return gx[0, :, :, 0]


TIES = np.array([[1, 3, 3, 0], [3, 2, 1, 3], [0, 0, 0, 0], [0, 0, 0, 0]], np.float32)


@pytest.mark.parametrize("pool, strides, padding, want", [
    (2, 2, "valid", [[0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]),
    (2, 1, "valid", [[0, 2, 1, 0], [1, 1, 0, 1], [1, 1, 1, 0], [0, 0, 0, 0]]),
    (3, 1, "same", [[0, 6, 2, 0], [2, 0, 0, 2], [2, 1, 1, 0], [0, 0, 0, 0]]),
])
def test_tied_maxima_the_first_row_by_row_takes_the_gradient(pool, strides, padding, want):
    """The expected arrays are what TensorFlow 2.21's MaxPoolGrad gives (tf.nn.max_pool2d under GradientTape,
    upstream gradient 1), with and without oneDNN: window (0, 0) holds 3 at (0, 1) and at (1, 0), and (0, 1),
    first row by row, takes it all; an all-zero window gives it to its top-left cell; overlapping windows
    add up at a shared winner."""
    np.testing.assert_array_equal(_pool_grad(TIES, pool, strides, padding), want)


def test_all_equal_window_and_negative_values_with_same_padding():
    x = -np.ones((3, 3), np.float32)  # −1 everywhere: the −∞ padding must never win
    g = _pool_grad(x, 2, 2, "same")  # windows (0,0) (0,2) (2,0) (2,2), the last three clipped
    np.testing.assert_array_equal(g, [[1, 0, 1], [0, 0, 0], [1, 0, 1]])


# --- finite differences in float64 on small random models --------------------------------------------------

def small_model(seed, softmax_last=True):
    rng = np.random.default_rng(seed)
    layers = [Conv2D("c1", rng.normal(0, 0.6, (3, 2, 2, 3)), rng.normal(0, 0.1, 3), strides=(1, 2), padding="same"),
              ReLU("r1"), MaxPool2D("p1", (2, 2), (1, 1), "valid"),
              Conv2D("c2", rng.normal(0, 0.5, (2, 2, 3, 2)), None, strides=1, padding="valid"),
              Flatten("f"), Dense("h", rng.normal(0, 0.5, (12, 5)), rng.normal(0, 0.1, 5)), ReLU("hr"),
              Dense("out", rng.normal(0, 0.7, (5, 4)), None)]
    if softmax_last:
        layers.append(Softmax("sm"))
    return Sequential(layers, (5, 7, 2), name=f"small{seed}")


def naive_loss(model, x, target, params=None):
    """The loss in float64, through tests/naive.py's forward loops, with optional replaced parameters."""
    params = params or {}
    h = np.asarray(x, np.float64)
    for layer in model.layers:
        p = {k: np.asarray(v, np.float64) for k, v in layer.params.items()}
        p.update(params.get(layer.name, {}))
        if layer.kind == "conv2d":
            h = naive.conv2d(h, p["kernel"], p.get("bias", np.zeros(layer.filters)), layer.strides, layer.padding)
        elif layer.kind == "relu":
            h = naive.relu(h)
        elif layer.kind == "maxpool2d":
            h = naive.maxpool2d(h, layer.pool_size, layer.strides, layer.padding)
        elif layer.kind == "flatten":
            h = naive.flatten(h)
        elif layer.kind == "dense":
            h = naive.dense(h, p["kernel"], p.get("bias", np.zeros(layer.units)))
        # a final softmax is where the loss takes over: −log softmax(logits)[target]
    m = h.max()
    return float(np.log(np.exp(h - m).sum()) + m - h[target])


@pytest.mark.parametrize("seed, softmax_last", [(0, True), (1, False), (2, True)])
def test_finite_differences_in_float64(seed, softmax_last):
    model = small_model(seed, softmax_last)
    rng = np.random.default_rng(seed + 10)
    x = rng.random(model.input_shape)
    target = seed % 4
    g = model.backward(model.trace(x), target)
    assert abs(g.loss - naive_loss(model, x, target)) < 1e-5
    eps = 1e-6
    fd = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        d = np.zeros(x.shape)
        d[idx] = eps
        fd[idx] = (naive_loss(model, x + d, target) - naive_loss(model, x - d, target)) / (2 * eps)
    assert np.abs(fd).max() > 1e-3  # the check has something to check
    np.testing.assert_allclose(g["input"], fd, rtol=0, atol=2e-5)
    for layer in model.layers:
        for key, value in layer.params.items():
            for idx in list(np.ndindex(value.shape))[::3]:
                plus, minus = value.astype(np.float64), value.astype(np.float64)
                plus[idx] += eps
                minus[idx] -= eps
                num = (naive_loss(model, x, target, {layer.name: {key: plus}})
                       - naive_loss(model, x, target, {layer.name: {key: minus}})) / (2 * eps)
                assert abs(g.params[layer.name][key][idx] - num) < 2e-5, (layer.name, key, idx)


# --- the Gradients mapping -------------------------------------------------------------------------------

def test_gradients_have_the_traces_keys_shapes_and_the_params_keys():
    model = synthetic_model()
    trace = model.trace(synthetic_image())
    g = model.backward(trace, "stripes")
    assert list(g) == list(trace) and not g.batched and g.target == 1
    for k in trace:
        assert g[k].shape == trace[k].shape and g[k].dtype == np.float32, k
    assert list(g.params) == [la.name for la in model.layers if la.params]
    for name, grads in g.params.items():
        layer = model.layer(name)
        assert {k: v.shape for k, v in grads.items()} == {k: v.shape for k, v in layer.params.items()}
    p = trace.probs.astype(np.float64)
    assert g.loss == pytest.approx(-np.log(p[1]), rel=1e-5)
    np.testing.assert_allclose(g["logits"], p - np.eye(3)[1], atol=1e-6)  # p − y
    np.testing.assert_allclose(g["probs"], [0, -1 / p[1], 0], rtol=1e-6)  # d(−log p_t)/dp: shown, not used
    np.testing.assert_array_equal(g["scores_softmax"], g["probs"])
    np.testing.assert_array_equal(g["scores"], g["logits"])
    np.testing.assert_array_equal(model.gradient(synthetic_image(), 1), g["input"])
    np.testing.assert_array_equal(model.gradient(synthetic_image(), 1, wrt="mix"), g["mix"])


def test_a_batch_gives_the_mean_loss_and_each_images_share():
    model = synthetic_model()
    xs = np.stack([synthetic_image(s) for s in (1, 2, 3)])
    gb = model.backward(model.trace(xs), ["circle", 2, np.int64(1)])
    assert gb.batched and list(gb.target) == [0, 2, 1]
    singles = [model.backward(model.trace(xs[i]), t) for i, t in enumerate((0, 2, 1))]
    assert gb.loss == pytest.approx(np.mean([s.loss for s in singles]), rel=1e-6)
    for k in gb:
        np.testing.assert_allclose(gb[k], np.stack([s[k] for s in singles]) / 3, rtol=1e-5, atol=1e-7)
    for name, grads in gb.params.items():
        for key in grads:
            np.testing.assert_allclose(grads[key], sum(s.params[name][key] for s in singles) / 3, rtol=1e-4, atol=1e-6)
    same = model.backward(model.trace(xs), 2)  # one target for the whole batch
    assert list(same.target) == [2, 2, 2]


def test_a_model_without_softmax_and_training_without_the_input_gradient():
    model = small_model(1, softmax_last=False)
    x = np.random.default_rng(0).random(model.input_shape)
    trace = model.trace(x)
    g = model.backward(trace, 3)
    assert list(g) == list(trace)
    np.testing.assert_array_equal(g["out"], g["logits"])
    lean = model.backward(trace, 3, need_input=False)
    assert "input" not in lean
    for name in g.params:
        for key in g.params[name]:
            np.testing.assert_array_equal(lean.params[name][key], g.params[name][key])


def test_bad_targets_are_refused_with_a_message():
    model = synthetic_model()
    trace = model.trace(synthetic_image())
    with pytest.raises(TargetError, match="no class named 'dog'"):
        model.backward(trace, "dog")
    with pytest.raises(TargetError, match="Class 3 does not exist"):
        model.backward(trace, 3)
    with pytest.raises(TargetError, match="one target per image"):
        model.backward(model.trace(np.stack([synthetic_image()] * 2)), [0, 1, 2])
    with pytest.raises(TargetError, match="class index or a class name"):
        model.backward(trace, 1.5)
