"""The sequential model: trace keys and order, batch axis, shapes, units/modules, parameter counts, refusals."""
from __future__ import annotations

import numpy as np
import pytest

import naive
from cnn101 import ModelError, Sequential
from cnn101.engine import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Softmax

RNG = np.random.default_rng(7)


def conv(name, cin, cout, k=3, s=1, padding="valid"):
    return Conv2D(name, RNG.normal(0, 0.3, (k, k, cin, cout)), RNG.normal(0, 0.1, cout), s, padding)


def dense(name, n_in, n_out):
    return Dense(name, RNG.normal(0, 0.1, (n_in, n_out)), RNG.normal(0, 0.1, n_out))


def tiny_vgg(classes=10, softmax_layer=True):
    layers = [conv("conv_1_1", 3, 10), ReLU("relu_1_1"), conv("conv_1_2", 10, 10), ReLU("relu_1_2"),
              MaxPool2D("max_pool_1"), conv("conv_2_1", 10, 10), ReLU("relu_2_1"), conv("conv_2_2", 10, 10),
              ReLU("relu_2_2"), MaxPool2D("max_pool_2"), Flatten("flatten"), dense("output", 1690, classes)]
    if softmax_layer:
        layers.append(Softmax("output_softmax"))
    return Sequential(layers, (64, 64, 3), [f"k{i}" for i in range(classes)], name="tiny")


def tail_without_pool():
    """conv-relu-pool, then a conv-relu tail with no pool, then two dense layers, no softmax layer."""
    layers = [conv("a", 1, 4, 5, 1, "same"), ReLU("a_relu"), MaxPool2D("a_pool", 3, 2, "same"),
              conv("b", 4, 6, 2, 2), ReLU("b_relu"), Flatten("flat"), dense("hidden", 7 * 7 * 6, 8),
              ReLU("hidden_relu"), dense("out", 8, 3)]
    return Sequential(layers, (28, 28, 1), ["x", "y", "z"])


def odd_stack():
    """Starts with a pool, three convs without ReLU before one pool, a ReLU after the pool, two pools in a row."""
    layers = [MaxPool2D("p0", 2, 1), conv("c1", 3, 2, 1), conv("c2", 2, 2, 3, 1, "same"), conv("c3", 2, 3, 4, 2, "same"),
              MaxPool2D("p1", 2, 2, "same"), ReLU("r1"), MaxPool2D("p2", 2, 1), Flatten("f"), dense("d", 3 * 3 * 3, 4)]
    return Sequential(layers, (15, 17, 3))


def test_trace_keys_are_input_layers_logits_probs_in_order():
    m = tiny_vgg()
    t = m.trace(RNG.random((64, 64, 3), dtype=np.float32))
    assert list(t) == ["input", *(layer.name for layer in m.layers), "logits", "probs"]
    assert len(t) == len(m.layers) + 3
    for name, shape in m.shapes.items():
        assert t[name].shape == shape and t[name].dtype == np.float32
    np.testing.assert_array_equal(t.logits, t["output"])  # the softmax layer's input
    np.testing.assert_array_equal(t.probs, t["output_softmax"])
    np.testing.assert_allclose(t.probs, naive.softmax(t.logits), rtol=1e-5, atol=1e-7)


def test_trace_without_softmax_layer_adds_probs():
    m = tail_without_pool()
    t = m.trace(RNG.random((28, 28, 1), dtype=np.float32))
    assert list(t)[-3:] == ["out", "logits", "probs"]
    np.testing.assert_array_equal(t.logits, t["out"])
    np.testing.assert_allclose(t.probs, naive.softmax(t.logits), rtol=1e-5, atol=1e-7)
    assert t.probs.dtype == np.float32


def test_each_layer_output_is_that_layer_applied_to_the_previous():
    m = odd_stack()
    t = m.trace(RNG.random(m.input_shape, dtype=np.float32))
    for layer in m.layers:
        prev = t[m.previous(layer.name)]
        np.testing.assert_array_equal(t[layer.name], layer.forward(prev[None])[0])
    assert m.previous(m.layers[0].name) == "input"


def test_batch_axis_kept_only_when_given():
    m = tail_without_pool()
    xs = RNG.random((3, 28, 28, 1), dtype=np.float32)
    tb = m.trace(xs)
    assert tb.batched and tb["a"].shape == (3, 28, 28, 4) and tb.probs.shape == (3, 3)
    assert tb.predicted.shape == (3,)
    for i in range(3):
        ti = m.trace(xs[i])
        assert not ti.batched
        for k in ti:
            np.testing.assert_allclose(tb[k][i], ti[k], rtol=1e-6, atol=1e-6)
        assert int(tb.predicted[i]) == int(ti.predicted)
    np.testing.assert_array_equal(m.predict(xs), tb.probs)
    with pytest.raises(ValueError):
        tb.top(1)


def test_input_shape_is_checked():
    m = tiny_vgg()
    for bad in [np.zeros((32, 32, 3)), np.zeros((64, 64)), np.zeros((64, 64, 1)), np.zeros((1, 1, 64, 64, 3))]:
        with pytest.raises(ValueError, match=r"\(64, 64, 3\)"):
            m.trace(bad)
    m.trace(np.zeros((64, 64, 3), np.float64))  # any float dtype is accepted and cast


def test_top_and_predicted():
    m = tiny_vgg(classes=4)
    t = m.trace(RNG.random((64, 64, 3), dtype=np.float32))
    top = t.top(4)
    assert [n for n, _ in top] == [m.class_names[i] for i in np.argsort(-t.probs, kind="stable")]
    assert top[0][0] == m.class_names[int(t.predicted)]
    assert all(a[1] >= b[1] for a, b in zip(top, top[1:]))
    assert abs(sum(p for _, p in top) - 1) < 1e-5


def test_shapes_and_param_counts_tiny_vgg():
    m = tiny_vgg()
    assert m.shapes["conv_1_1"] == (62, 62, 10) and m.shapes["max_pool_1"] == (30, 30, 10)
    assert m.shapes["max_pool_2"] == (13, 13, 10) and m.shapes["flatten"] == (1690,)
    assert m.param_count == 19_920  # as the published Tiny VGG
    # multiply-adds: 62²·10·27 + 60²·10·90 + 28²·10·90 + 26²·10·90 + 1690·10
    assert m.mac_count == 1_037_880 + 3_240_000 + 705_600 + 608_400 + 16_900 == 5_608_780
    info = m.info("conv_1_2")
    assert (info.index, info.kind, info.input_shape, info.output_shape, info.param_count) == \
        (2, "conv2d", (62, 62, 10), (60, 60, 10), 910)
    assert m.info("output").param_count == 16_910
    assert [i.name for i in m.layer_infos] == [layer.name for layer in m.layers]


def test_units_and_modules_tiny_vgg():
    m = tiny_vgg()
    assert m.units == [["conv_1_1", "relu_1_1"], ["conv_1_2", "relu_1_2", "max_pool_1"],
                       ["conv_2_1", "relu_2_1"], ["conv_2_2", "relu_2_2", "max_pool_2"]]
    assert m.modules == [[0, 1], [2, 3]]
    assert (m.info("relu_1_2").unit, m.info("relu_1_2").module) == (1, 0)
    assert (m.info("conv_2_1").unit, m.info("conv_2_1").module) == (2, 1)
    for flat in ("flatten", "output", "output_softmax"):
        assert m.info(flat).unit is None and m.info(flat).module is None


def test_units_and_modules_with_a_tail_without_pool():
    m = tail_without_pool()
    assert m.units == [["a", "a_relu", "a_pool"], ["b", "b_relu"]]
    assert m.modules == [[0], [1]]  # the tail is a module of its own, not dropped
    assert m.shapes["a_pool"] == (14, 14, 4) and m.shapes["b"] == (7, 7, 6)
    assert m.param_count == 5 * 5 * 1 * 4 + 4 + 2 * 2 * 4 * 6 + 6 + 294 * 8 + 8 + 8 * 3 + 3
    assert m.info("hidden_relu").unit is None


def test_units_and_modules_of_an_odd_stack():
    m = odd_stack()
    assert m.units == [["p0"], ["c1"], ["c2"], ["c3", "p1", "r1", "p2"]]
    assert m.modules == [[0], [1, 2, 3]]
    assert m.shapes["p0"] == (14, 16, 3) and m.shapes["c3"] == (7, 8, 3) and m.shapes["p1"] == (4, 4, 3) and m.shapes["p2"] == (3, 3, 3)
    # every H×W×C layer is in exactly one unit, and units are in layer order
    spatial = [layer.name for layer in m.layers if len(m.shapes[layer.name]) == 3]
    assert [n for u in m.units for n in u] == spatial
    assert sorted(u for mod in m.modules for u in mod) == list(range(len(m.units)))


def test_one_conv_model():
    m = Sequential([conv("only", 3, 2, 2), Flatten("f"), dense("d", 3 * 3 * 2, 2)], (4, 4, 3))
    assert m.units == [["only"]] and m.modules == [[0]]
    assert m.class_names == ["class 0", "class 1"] and m.num_classes == 2


@pytest.mark.parametrize("name", ["input", "logits", "probs"])
def test_reserved_names_refused(name):
    with pytest.raises(ModelError, match=f"'{name}'.*reserved"):
        Sequential([Flatten(name), dense("d", 12, 2)], (2, 2, 3))


def test_duplicate_names_refused():
    with pytest.raises(ModelError, match="Two layers are named 'x'"):
        Sequential([conv("x", 3, 2), ReLU("x"), Flatten("f"), dense("d", 8, 2)], (4, 4, 3))


@pytest.mark.parametrize("make, words", [
    (lambda: Sequential([], (4, 4, 3)), ["no layers"]),
    (lambda: Sequential([conv("c", 3, 2)], (4, 4, 3)), ["'c'", "(2, 2, 2)", "Flatten then Dense"]),
    (lambda: Sequential([Flatten("f"), dense("d", 48, 2)], (4, 4, 3), ["one"]), ["2 outputs", "1 class names"]),
    (lambda: Sequential([Flatten("f"), dense("d", 48, 2)], (4, 4)), ["(4, 4)"]),
    (lambda: Sequential([conv("c", 3, 2), Flatten("f"), dense("d", 9, 2)], (4, 4, 3)), ["'d'", "9 inputs", "8"]),
    (lambda: Sequential([conv("c", 1, 2), Flatten("f"), dense("d", 8, 2)], (4, 4, 3)), ["'c'", "1 input channels"]),
])
def test_inconsistent_models_refused(make, words):
    with pytest.raises(ModelError) as e:
        make()
    for w in words:
        assert w in str(e.value)


def test_summary_and_repr_mention_layers():
    m = tail_without_pool()
    s = m.summary()
    assert all(layer.name in s for layer in m.layers) and "3 classes" in s
    assert "28, 28, 1" in repr(m)
