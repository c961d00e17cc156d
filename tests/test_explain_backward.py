"""The backward views' numbers (explain/backward.py) equal the engine's `model.backward`, for every channel and
filter, on the shipped Tiny VGG and on models unlike it (stride-2 'same' convs, an overlapping 'same' pool, a
conv without ReLU, a hidden dense layer with ReLU, ties in pools). Also the gradient Overview's values
and scopes."""
from __future__ import annotations

import numpy as np
import pytest

import cnn101
from cnn101.engine import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Softmax
from cnn101.explain import (FlattenDense, backward_view, conv_backward, conv_input_gradient, dense_backward, flatten_backward, gradient_overview,
                            pool_backward, relu_backward, softmax_backward)
from cnn101.explain.overview import overview
from models import synthetic_image, synthetic_model

TOL = dict(rtol=1e-5, atol=1e-6)


def hidden_dense_model():
    rng = np.random.default_rng(4)
    return Sequential([Conv2D("c", rng.normal(0, 0.5, (3, 3, 1, 3)), rng.normal(0, 0.1, 3), strides=(2, 1)),
                       ReLU("c_relu"), MaxPool2D("p", 2, 1, "same"), Flatten("f"),
                       Dense("h", rng.normal(0, 0.4, (36, 6)), rng.normal(0, 0.1, 6)), ReLU("h_relu"),
                       Dense("out", rng.normal(0, 0.5, (6, 4)), None), Softmax("sm")], (9, 5, 1), name="hidden")


def cases():
    shipped = cnn101.load_model()
    x = np.random.default_rng(0).random(shipped.input_shape, dtype=np.float32)
    hd = hidden_dense_model()
    return [pytest.param((shipped, x, 3), id="shipped"),
            pytest.param((synthetic_model(), synthetic_image(), "checkers"), id="synthetic"),
            pytest.param((hd, np.round(np.random.default_rng(1).random(hd.input_shape) * 2) / 2, 1), id="hidden-ties")]


@pytest.fixture(params=cases())
def case(request):
    model, x, target = request.param
    trace = model.trace(x)
    return model, trace, model.backward(trace, target)


def test_softmax_backward_is_p_minus_y(case):
    model, trace, g = case
    v = softmax_backward(trace, g)
    np.testing.assert_allclose(v.logit_gradient, g["logits"], **TOL)
    assert v.onehot[v.target] == 1 and v.onehot.sum() == 1
    assert v.loss == pytest.approx(g.loss, rel=1e-5)


def test_dense_backward_equals_the_engine(case):
    model, trace, g = case
    for layer in (la for la in model.layers if isinstance(la, Dense)):
        v = dense_backward(trace, g, layer.name)
        np.testing.assert_allclose(v.input_gradient, g[v.source], **TOL)
        np.testing.assert_allclose(v.weight_gradient, g.params[layer.name]["kernel"], **TOL)
        if layer.use_bias:
            np.testing.assert_allclose(v.bias_gradient, g.params[layer.name]["bias"], **TOL)
        terms, total = v.input_terms(5)
        assert terms.shape == (layer.units,) and total == pytest.approx(float(g[v.source][5]), rel=1e-5, abs=1e-7)
        assert v.weight_term(5, 1)[2] == pytest.approx(float(g.params[layer.name]["kernel"][5, 1]), rel=1e-5, abs=1e-9)


def test_flatten_backward_folds_back_into_the_maps(case):
    model, trace, g = case
    for layer in (la for la in model.layers if isinstance(la, Flatten)):
        v = flatten_backward(trace, g, layer.name)
        np.testing.assert_array_equal(v.maps, g[v.mapping.source])
        r, c, ch = v.mapping.position(7)
        assert v.vector[7] == g[v.mapping.source][r, c, ch]


def test_pool_backward_routes_like_the_engine(case):
    model, trace, g = case
    for layer in (la for la in model.layers if isinstance(la, MaxPool2D)):
        source = model.previous(layer.name)
        for c in range(model.shapes[source][2]):
            v = pool_backward(trace, g, layer.name, c)
            np.testing.assert_allclose(v.input_gradient, g[source][:, :, c], **TOL)
            w = v.window(0, 0)
            assert w.tied[w.winner] and w.ties == v.ties[0, 0] >= 1
            assert not w.tied.reshape(-1)[:w.winner[0] * w.tied.shape[1] + w.winner[1]].any()  # the first max


def test_relu_backward_passes_where_the_input_was_positive(case):
    model, trace, g = case
    for layer in (la for la in model.layers if isinstance(la, ReLU)):
        source = model.previous(layer.name)
        if len(model.shapes[source]) == 3:
            for c in range(model.shapes[source][2]):
                v = relu_backward(trace, g, layer.name, c)
                np.testing.assert_array_equal(v.input_gradient, g[source][:, :, c])
        else:
            v = relu_backward(trace, g, layer.name)
            np.testing.assert_array_equal(v.input_gradient, g[source])


def test_conv_backward_equals_the_engine(case):
    model, trace, g = case
    for layer in (la for la in model.layers if isinstance(la, Conv2D)):
        source = model.previous(layer.name)
        grads = g.params[layer.name]
        for f in range(layer.filters):
            v = conv_backward(trace, g, layer.name, f)
            np.testing.assert_allclose(v.kernel_gradient, grads["kernel"][:, :, :, f], rtol=1e-4, atol=1e-6)
            if layer.use_bias:
                assert v.bias_gradient == pytest.approx(float(grads["bias"][f]), rel=1e-4, abs=1e-7)
            met, up, total = v.kernel_window(1 % layer.kernel_size[0], 0, 0)
            assert met.shape == up.shape
            assert total == pytest.approx(float(grads["kernel"][1 % layer.kernel_size[0], 0, 0, f]), rel=1e-4, abs=1e-7)
        v = conv_backward(trace, g, layer.name, layer.filters - 1)
        h, w, channels = model.shapes[source]
        for c in {0, channels - 1}:  # every input cell: the window under the flipped kernel sums to the share
            share = v.input_share(c)
            for r in range(h):
                for col in range(w):
                    win, flipped, total = v.input_window(c, r, col)
                    assert win.shape == flipped.shape == layer.kernel_size
                    np.testing.assert_array_equal(flipped, layer.kernel[::-1, ::-1, c, layer.filters - 1])
                    assert total == pytest.approx(share[r, col], rel=1e-6, abs=1e-9)
        with pytest.raises(ValueError):
            v.input_window(0, h, 0)
        for c in range(model.shapes[source][2]):
            ig = conv_input_gradient(trace, g, layer.name, c)
            assert ig.shares.shape == (layer.filters, *model.shapes[source][:2])
            np.testing.assert_allclose(ig.total, g[source][:, :, c], rtol=1e-4, atol=1e-6)


def test_gradient_overview_shows_the_gradients_with_the_overviews_scopes():
    model = synthetic_model()
    trace = model.trace(synthetic_image())
    gov = gradient_overview(model, trace, "circle")
    g = model.backward(trace, 0)
    ov = overview(model, trace)
    assert [c.name for c in gov.columns] == [c.name for c in ov.columns]
    for col in gov.columns:
        vals = gov.values(col.name)
        if col.kind == "output":
            np.testing.assert_array_equal(vals, g["logits"])
        else:
            want = g[col.name]
            np.testing.assert_array_equal(vals, np.moveaxis(want, -1, 0) if want.ndim == 3 else want)
        for scope in ("unit", "module", "global"):
            lo, hi = gov.range(col.name, scope)
            assert lo == -hi and hi >= np.abs(vals).max()
    for scope in ("unit", "module", "global"):
        legends = gov.legends(scope)
        assert all(lg.colormap == "gradient" for lg in legends)
        for lg in legends[1:-1]:  # a group's range is the largest |gradient| among its columns
            assert lg.hi == pytest.approx(max(float(np.abs(gov.values(i)).max()) for i in lg.columns))
    assert gov.range(0, "global")[1] == pytest.approx(float(np.abs(g["input"]).max()))
    assert "p − y" in gov.describe(gov.columns[-1].name, 0)
    assert gradient_overview(model, trace).target == int(trace.predicted)


def test_views_refuse_the_wrong_layer_and_a_batch():
    model = synthetic_model()
    trace = model.trace(synthetic_image())
    g = model.backward(trace, 0)
    with pytest.raises(ValueError, match="not a convolution"):
        conv_backward(trace, g, "mix_pool", 0)
    with pytest.raises(IndexError):
        pool_backward(trace, g, "mix_pool", 99)
    batch = model.trace(np.stack([synthetic_image()] * 2))
    with pytest.raises(ValueError, match="single image"):
        softmax_backward(batch, model.backward(batch, [0, 1]))


def test_backward_view_opens_what_the_forward_route_opens(case):
    model, trace, g = case
    kinds = {"conv2d": "ConvBackward", "relu": "ReluBackward", "maxpool2d": "PoolBackward", "softmax": "SoftmaxBackward"}
    for layer in model.layers:
        if layer.kind == "flatten":
            with pytest.raises(ValueError, match="no backward view"):
                backward_view(trace, g, layer.name, 0)
            continue
        v = backward_view(trace, g, layer.name, 0)
        if layer.kind == "dense":
            src = model.previous(layer.name)
            # the flatten view belongs to the logits layer's classes; a hidden dense layer keeps the dense view
            if model.layer(src).kind == "flatten" and layer.name == model.logits_layer:
                assert isinstance(v, FlattenDense)
                np.testing.assert_array_equal(v.flatten.maps, g[model.previous(src)])
            else:
                assert type(v).__name__ == "DenseBackward"
        else:
            assert type(v).__name__ == kinds[layer.kind], layer.name
