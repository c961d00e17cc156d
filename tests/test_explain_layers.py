"""explain.relu, explain.pooling, explain.flatten, explain.softmax and explain.routing against naive NumPy."""
import math

import numpy as np
import pytest

from cnn101.engine import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Softmax
from cnn101.explain import (dense_neuron, flatten_class, flatten_map, logits_layer, pool_channel, pool_window,
                            relu_detail, route, routes, softmax_detail)
from models import REFERENCE, both_traces, reference_image, reference_model, synthetic_image, synthetic_model


@pytest.fixture(params=both_traces())
def trace(request):
    return request.param()


def of_kind(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


# --- ReLU ----------------------------------------------------------------------------------------------
def test_relu_is_max_zero_cell_by_cell(trace):
    model = trace.model
    for layer in of_kind(model, ReLU):
        c = model.shapes[layer.name][2] - 1
        d = relu_detail(trace, layer.name, c)
        np.testing.assert_array_equal(d.x, trace[model.previous(layer.name)][:, :, c])
        np.testing.assert_array_equal(d.y, trace[layer.name][:, :, c])
        np.testing.assert_array_equal(d.y, np.where(d.x > 0, d.x, 0))
        assert len(d.positions) == d.x.size and tuple(d.positions[1]) == (0, 1)
        for (i, j) in d.positions[:: max(1, len(d.positions) // 17)]:
            cell = d.at(i, j)
            assert cell.y == max(0.0, cell.x) == float(trace[layer.name][i, j, c])
    with pytest.raises(ValueError, match="channel"):
        relu_detail(trace, of_kind(model, ReLU)[0].name)


# --- max pooling ---------------------------------------------------------------------------------------
def naive_pool(x, ph, pw, sh, sw, padding):
    h, w = x.shape
    if padding == "valid":
        oh, ow, pt, pl = (h - ph) // sh + 1, (w - pw) // sw + 1, 0, 0
    else:
        oh, ow = math.ceil(h / sh), math.ceil(w / sw)
        pt, pl = max((oh - 1) * sh + ph - h, 0) // 2, max((ow - 1) * sw + pw - w, 0) // 2
    out, arg = np.full((oh, ow), -np.inf), {}
    for i in range(oh):
        for j in range(ow):
            for di in range(ph):
                for dj in range(pw):
                    r, c = i * sh + di - pt, j * sw + dj - pl
                    if 0 <= r < h and 0 <= c < w and x[r, c] > out[i, j]:
                        out[i, j], arg[i, j] = x[r, c], (r, c)
    return out, arg


def test_pool_windows_equal_naive_loops_and_the_trace(trace):
    model = trace.model
    for layer in of_kind(model, MaxPool2D):
        for c in (0, model.shapes[layer.name][2] - 1):
            p = pool_channel(trace, layer.name, c)
            naive, arg = naive_pool(p.input, *layer.pool_size, *layer.strides, layer.padding)
            np.testing.assert_array_equal(p.output, naive.astype(np.float32))
            oh, ow = naive.shape
            assert len(p.positions) == oh * ow
            for i in range(oh):
                for j in range(ow):
                    w = p.window(i, j)
                    assert w.value == naive[i, j] == w.trace_value
                    assert w.source_cell == arg[i, j]
                    assert w.values[w.argmax] == w.value
                    assert np.all(w.values[w.padded] == -np.inf)
                    assert tuple(p.positions[i * ow + j]) == w.origin


def test_pool_padding_never_wins():
    trace = synthetic_model().trace(synthetic_image())
    w = pool_window(trace, "shrink_pool", 0, 1, 1)  # 3×3/2 'same' on 4×4: the last row and column are padding
    assert w.origin == (2, 2) and w.padded[2, :].all() and w.padded[:, 2].all() and not w.padded[0, 0]
    assert np.isfinite(w.value)


# --- flatten and dense ---------------------------------------------------------------------------------
def test_flatten_map_is_channels_last(trace):
    model = trace.model
    fm = flatten_map(model)
    h, w, c = fm.shape
    src = trace[fm.source]
    flat = trace[fm.layer]
    assert fm.size == flat.size
    for idx in (0, 1, c, w * c, fm.size - 1, fm.size // 3):
        r, col, ch = fm.position(idx)
        assert fm.index(r, col, ch) == idx
        assert flat[idx] == src[r, col, ch]
    k = 0
    for r in range(h):
        for col in range(w):
            for ch in range(c):
                assert fm.index(r, col, ch) == k and tuple(fm.positions[k]) == (r, col, ch)
                k += 1
    np.testing.assert_array_equal(fm.grid(flat), src)


def test_flatten_class_contributions_sum_to_the_logit(trace):
    model = trace.model
    dense = model.layer(logits_layer(model))
    for k in range(model.num_classes):
        d = flatten_class(trace, k)
        assert d.layer == dense.name and d.label == model.class_names[k]
        x = trace[d.source]
        naive = 0.0
        for n in range(x.size):
            naive += float(x[n]) * float(dense.kernel[n, k])
        assert d.sum == pytest.approx(naive, abs=1e-9)
        np.testing.assert_array_equal(d.weights, dense.kernel[:, k])
        assert d.value == pytest.approx(naive + float(dense.bias[k]), abs=1e-9)
        assert d.value == pytest.approx(float(trace.logits[k]), abs=2e-5)
        assert d.trace_value == float(trace.logits[k])
        g = d.grid(d.contributions)
        r, c, ch = d.flatten.position(int(d.top(1)[0]))
        assert g[r, c, ch] == d.contributions[d.top(1)[0]]
        assert abs(d.contributions[d.top(3)]).tolist() == sorted(abs(d.contributions[d.top(3)]).tolist(), reverse=True)


def test_dense_neuron_of_a_hidden_dense_layer():
    rng = np.random.default_rng(0)
    from cnn101.engine import Sequential
    model = Sequential([Conv2D("c", rng.normal(size=(3, 3, 1, 2)), None, 1, "valid"), Flatten("f"),
                        Dense("hidden", rng.normal(size=(4, 4))), ReLU("hidden_relu"), Dense("out", rng.normal(size=(4, 2)))],
                       (4, 3, 1), ["a", "b"])
    trace = model.trace(rng.uniform(size=(4, 3, 1)))
    h = dense_neuron(trace, 3, "hidden")
    assert h.label == "unit 3" and h.flatten is not None and h.flatten.shape == (2, 1, 2)
    assert h.value == pytest.approx(float(trace["hidden"][3]), abs=1e-5)
    o = flatten_class(trace, 1)
    assert o.layer == "out" and o.label == "b" and o.flatten is None
    assert o.value == pytest.approx(float(trace.logits[1]), abs=1e-5)
    with pytest.raises(ValueError, match="Flatten"):
        o.grid(o.weights)
    assert route(model, "out").view == "dense" and route(model, "hidden").view == "dense"  # flatten: classes only
    assert route(model, "out").shown_source == "hidden_relu" and route(model, "hidden").shown_source == "c"


# --- softmax -------------------------------------------------------------------------------------------
def test_softmax_terms(trace):
    s = softmax_detail(trace)
    logits = [float(v) for v in trace.logits]
    exps = [math.exp(v) for v in logits]
    total = sum(exps)
    assert s.total == pytest.approx(total, rel=1e-12)
    for i, (e, l) in enumerate(zip(exps, logits)):
        t = s.term(i)
        assert t.logit == l and t.exp == pytest.approx(e, rel=1e-12)
        assert t.prob == pytest.approx(e / total, rel=1e-12)
        assert t.prob == pytest.approx(float(trace.probs[i]), abs=1e-6)
    assert s.predicted == int(trace.predicted)
    assert s.probs.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(s.exp_shifted / s.exp_shifted.sum(), s.probs)


def test_softmax_of_huge_logits_stays_finite():
    from types import SimpleNamespace
    t = SimpleNamespace(logits=np.array([1000.0, 999.0], np.float32), probs=np.array([0.73, 0.27], np.float32),
                        model=SimpleNamespace(class_names=["a", "b"]), batched=False)
    s = softmax_detail(t)
    assert np.all(np.isfinite(s.probs)) and s.probs[0] == pytest.approx(1 / (1 + math.exp(-1)))


# --- routing -------------------------------------------------------------------------------------------
def test_routing_follows_layer_kinds(trace):
    model = trace.model
    rs = {r.layer: r for r in routes(model)}
    expect = {Conv2D: "conv", ReLU: "relu", MaxPool2D: "pool", Dense: "flatten", Softmax: "softmax", Flatten: None}
    for layer in model.layers:
        r = rs[layer.name]
        assert r.view == expect[type(layer)], layer.name
        assert r.source == model.previous(layer.name)
        if isinstance(layer, (ReLU, MaxPool2D)):
            assert r.connection == "one-to-one" and r.sources(2, 7) == [2]
        elif isinstance(layer, (Conv2D, Dense)):
            assert r.connection == "all" and r.sources(2, 4) == [0, 1, 2, 3]
    out = rs[logits_layer(model)]
    assert out.shown_source == flatten_map(model).source
