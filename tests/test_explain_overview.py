"""explain.overview: columns, edges and colour ranges derived from the model and a trace."""
from pathlib import Path

import numpy as np
import pytest

import cnn101
from cnn101.engine import Sequential
from cnn101.engine.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Softmax
from cnn101.explain.overview import SCOPES, layout, overview

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "cnn-explainer" / "model.json"


@pytest.fixture(scope="module")
def tiny_vgg():
    if not REFERENCE.exists():
        pytest.skip(f"reference model not found at {REFERENCE}")
    return cnn101.load_model(REFERENCE)


@pytest.fixture(scope="module")
def odd_model():
    """Not Tiny VGG: 1 input channel, 'same' padding with stride 2, a hidden dense layer, no softmax."""
    rng = np.random.default_rng(1)
    layers = [
        Conv2D("c1", rng.normal(size=(5, 5, 1, 4)).astype(np.float32), rng.normal(size=4).astype(np.float32),
               strides=2, padding="same"),
        ReLU("r1"),
        Conv2D("c2", rng.normal(size=(3, 3, 4, 6)).astype(np.float32), np.zeros(6, np.float32)),
        MaxPool2D("p1", 2),
        Conv2D("c3", rng.normal(size=(1, 1, 6, 3)).astype(np.float32), np.zeros(3, np.float32)),
        Flatten("f"),
        Dense("d1", rng.normal(size=(3 * 3 * 3, 7)).astype(np.float32), rng.normal(size=7).astype(np.float32)),
        ReLU("d1_relu"),
        Dense("scores", rng.normal(size=(7, 4)).astype(np.float32), np.zeros(4, np.float32)),
    ]
    return Sequential(layers, (17, 15, 1), ["a", "b", "c", "d"], name="odd")


def image(model, seed=0):
    return np.random.default_rng(seed).random(model.input_shape, dtype=np.float32)


def test_tiny_vgg_columns_and_labels(tiny_vgg):
    lay = layout(tiny_vgg)
    names = [c.name for c in lay.columns]
    assert names == ["input", "conv_1_1", "relu_1_1", "conv_1_2", "relu_1_2", "max_pool_1",
                     "conv_2_1", "relu_2_1", "conv_2_2", "relu_2_2", "max_pool_2", "output"]
    assert lay.column("conv_1_1").label == "conv_1_1 (62, 62, 10)"
    assert lay.column("input").neuron_labels == ("red", "green", "blue")
    out = lay.columns[-1]
    assert out.kind == "output" and out.layers == ("output", "output_softmax") and out.neurons == 10
    assert [c.index for c in lay.columns] == list(range(12))
    assert lay.column("max_pool_1").tutorial == "tutorial-pooling"


def test_tiny_vgg_edges(tiny_vgg):
    lay = layout(tiny_vgg)
    conns = [e.connection for e in lay.edges]
    assert conns == ["all", "one-to-one", "all", "one-to-one", "one-to-one",
                     "all", "one-to-one", "all", "one-to-one", "one-to-one", "all"]
    first = lay.edges_into("conv_1_1")
    assert first.incoming(4) == (0, 1, 2) and len(first.pairs()) == 30
    assert lay.edges_into("relu_1_1").incoming(7) == (7,)
    assert lay.edges_into("output").incoming(0) == tuple(range(10))   # every channel of max_pool_2
    assert lay.edges_into("input") is None


def test_tiny_vgg_scope_groups(tiny_vgg):
    g = layout(tiny_vgg).groups
    assert g["unit"] == ((1, 2), (3, 4, 5), (6, 7), (8, 9, 10))
    assert g["module"] == ((1, 2, 3, 4, 5), (6, 7, 8, 9, 10))
    assert g["global"] == (tuple(range(1, 11)),)


@pytest.mark.parametrize("which", ["tiny_vgg", "odd_model"])
def test_values_are_the_trace(which, request):
    model = request.getfixturevalue(which)
    trace = model.trace(image(model))
    ov = overview(model, trace)
    for col in ov.columns:
        v = ov.values(col.name)
        assert v.shape[0] == col.neurons
        if col.kind == "output":
            np.testing.assert_array_equal(v, trace.probs)
        elif col.is_grid:
            for k in range(col.neurons):   # neuron k is channel k of the layer's output
                np.testing.assert_array_equal(v[k], trace[col.name][:, :, k])
        else:
            np.testing.assert_array_equal(v, trace[col.name])


@pytest.mark.parametrize("which", ["tiny_vgg", "odd_model"])
def test_ranges_are_symmetric_cover_their_group_and_nest(which, request):
    model = request.getfixturevalue(which)
    ov = overview(model, model.trace(image(model, 3)))
    hidden = ov.columns[1:-1]
    for scope in SCOPES:
        for group in ov.layout.groups[scope]:
            lo, hi = ov.range(group[0], scope)
            assert lo == -hi
            biggest = max(float(np.abs(ov.values(i)).max()) for i in group)
            assert hi == pytest.approx(biggest)          # the tightest symmetric range
            assert all(ov.range(i, scope) == (lo, hi) for i in group)
    for col in hidden:
        u, m, g = (ov.range(col.index, s)[1] for s in SCOPES)
        assert u <= m <= g
    for scope in SCOPES:
        assert ov.range("input", scope) == (0.0, 1.0)
        assert ov.range(ov.columns[-1].name, scope) == (0.0, 1.0)
    with pytest.raises(ValueError):
        ov.range("input", "local")


def test_relu_and_pool_share_their_convs_unit_range(tiny_vgg):
    ov = overview(tiny_vgg, tiny_vgg.trace(image(tiny_vgg)))
    assert ov.range("relu_1_2", "unit") == ov.range("conv_1_2", "unit") == ov.range("max_pool_1", "unit")
    assert ov.range("conv_1_1", "unit") != ov.range("conv_1_2", "unit")
    assert ov.range("conv_1_1", "module") == ov.range("max_pool_1", "module")


def test_legends(tiny_vgg):
    ov = overview(tiny_vgg, tiny_vgg.trace(image(tiny_vgg)))
    leg = ov.legends("unit")
    assert [lg.scope for lg in leg] == ["input", "unit", "unit", "unit", "unit", "output"]
    assert [lg.colormap for lg in leg] == ["input"] + ["activation"] * 4 + ["output"]
    assert len(ov.legends("global")) == 3


def test_model_without_tiny_vgg_shape(odd_model):
    lay = layout(odd_model)
    assert [c.name for c in lay.columns] == ["input", "c1", "r1", "c2", "p1", "c3", "d1", "d1_relu", "scores"]
    assert lay.column("input").neuron_labels == ("grey",)
    assert lay.column("c1").shape == (9, 8, 4)
    assert lay.column("d1").shape == (7,) and not lay.column("d1").is_grid
    assert lay.columns[-1].layers == ("scores",) and lay.columns[-1].neuron_labels == ("a", "b", "c", "d")
    assert [e.connection for e in lay.edges] == ["all", "one-to-one", "all", "one-to-one", "all", "all",
                                                 "one-to-one", "all"]
    # the hidden dense layer and its ReLU share one colour group, after the conv units
    u = lay.groups["unit"]
    assert u[-1] == (6, 7) and (1, 2) in u and (3, 4) in u and (5,) in u
    assert lay.groups["module"] == ((1, 2, 3, 4), (5,), (6, 7))


def test_value_at_and_describe(tiny_vgg):
    x = image(tiny_vgg)
    trace = tiny_vgg.trace(x)
    ov = overview(tiny_vgg, trace)
    assert ov.value_at("conv_1_1", 3, 5, 6) == pytest.approx(float(trace["conv_1_1"][5, 6, 3]))
    assert ov.value_at("input", 1, 2, 9) == pytest.approx(float(x[2, 9, 1]))
    assert ov.value_at("output", 4) == pytest.approx(float(trace.probs[4]))
    text = ov.describe("input", 0, 1, 1)
    assert "red" in text and "row 1" in text and f"{x[1, 1, 0]:.4f}" in text
    text = ov.describe("output", ov.predicted)
    assert tiny_vgg.class_names[ov.predicted] in text and "probability" in text
    assert f"{float(trace['relu_1_1'][0, 61, 2]):.4f}" in ov.describe("relu_1_1", 2, 0, 61)
    with pytest.raises(IndexError):
        ov.value_at("conv_1_1", 10, 0, 0)
    with pytest.raises(IndexError):
        ov.value_at("conv_1_1", 0, 62, 0)
    with pytest.raises(KeyError):
        ov.values("flatten")


def test_batched_trace_refused(tiny_vgg):
    batch = np.stack([image(tiny_vgg, 0), image(tiny_vgg, 1)])
    with pytest.raises(ValueError):
        overview(tiny_vgg, tiny_vgg.trace(batch))


def test_zero_activations_give_a_zero_range(odd_model):
    ov = overview(odd_model, odd_model.trace(np.zeros(odd_model.input_shape, np.float32)))
    # c2 and c3 have zero bias, c1 does not; a range may be zero-width but never inverted
    for scope in SCOPES:
        for col in ov.columns[1:-1]:
            lo, hi = ov.range(col.index, scope)
            assert lo <= 0.0 <= hi
