"""explain.conv and explain.geometry against naive loops, the engine's trace and the golden activations."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnn101.engine import Conv2D, Dense, Flatten, ReLU, Sequential
from cnn101.explain import WindowGeometry, conv_neuron, conv_whole, conv_window
from models import REFERENCE, both_traces, reference_image, reference_model, synthetic_image, synthetic_model


@pytest.fixture(params=both_traces())
def trace(request):
    return request.param()


def conv_layers(model):
    return [layer for layer in model.layers if isinstance(layer, Conv2D)]


def naive_pad_offsets(n, k, s, padding):
    """TensorFlow's rule, written out independently: out and pad-before for one axis."""
    if padding == "valid":
        return (n - k) // s + 1, 0
    out = (n + s - 1) // s
    return out, max((out - 1) * s + k - n, 0) // 2


def naive_single_channel(x, kernel, strides, padding):
    """out[i, j] = Σ_{di,dj} x[i·s + di − pad, j·s + dj − pad] · kernel[di, dj] (0 outside), by loops."""
    h, w = x.shape
    kh, kw = kernel.shape
    oh, pt = naive_pad_offsets(h, kh, strides[0], padding)
    ow, pl = naive_pad_offsets(w, kw, strides[1], padding)
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            s = 0.0
            for di in range(kh):
                for dj in range(kw):
                    r, c = i * strides[0] + di - pt, j * strides[1] + dj - pl
                    if 0 <= r < h and 0 <= c < w:
                        s += float(x[r, c]) * float(kernel[di, dj])
            out[i, j] = s
    return out


def test_single_channel_results_equal_naive_loops_and_sum_to_the_trace(trace):
    model = trace.model
    for conv in conv_layers(model):
        f = conv.filters - 1
        n = conv_neuron(trace, conv.name, f)
        assert n.results.shape == (*model.shapes[conv.name][:2], model.shapes[n.source][2])
        for c in range(n.channels):
            naive = naive_single_channel(trace[n.source][:, :, c], conv.kernel[:, :, c, f], conv.strides, conv.padding)
            np.testing.assert_allclose(n.results[:, :, c], naive, rtol=0, atol=1e-9)
        np.testing.assert_allclose(n.pre_activation, trace[conv.name][:, :, f], rtol=0, atol=2e-5)
        np.testing.assert_array_equal(n.output, trace[conv.name][:, :, f])
        assert n.bias == pytest.approx(float(conv.bias[f]))


def test_window_products_sum_to_the_channel_result_everywhere(trace):
    model = trace.model
    conv = conv_layers(model)[-1]
    n = conv_neuron(trace, conv.name, 0)
    oh, ow = n.results.shape[:2]
    for i in range(oh):
        for j in range(ow):
            for c in (0, n.channels - 1):
                w = n.window(i, j, c)
                np.testing.assert_allclose(w.products, w.patch * w.kernel, rtol=0, atol=0)
                assert w.sum == pytest.approx(n.results[i, j, c], abs=1e-9)
                r0, c0 = w.origin
                for di in range(w.patch.shape[0]):
                    for dj in range(w.patch.shape[1]):
                        r, cc = r0 + di, c0 + dj
                        inside = 0 <= r < n.inputs.shape[0] and 0 <= cc < n.inputs.shape[1]
                        assert w.padded[di, dj] == (not inside)
                        assert w.patch[di, dj] == (n.inputs[r, cc, c] if inside else 0.0)


def test_whole_neuron_equals_the_overview_value(trace):
    model = trace.model
    for conv in conv_layers(model):
        n = conv_neuron(trace, conv.name, 1)
        oh, ow = n.results.shape[:2]
        for i, j in {(0, 0), (oh - 1, ow - 1), (oh // 2, ow // 3), (0, ow - 1), (oh - 1, 0)}:
            wh = n.whole(i, j)
            np.testing.assert_allclose(wh.channel_sums, n.results[i, j], rtol=0, atol=1e-9)
            assert wh.total == pytest.approx(float(wh.channel_sums.sum()) + n.bias, abs=1e-12)
            assert wh.total == pytest.approx(float(trace[conv.name][i, j, 1]), abs=2e-5)
            after = model.layers[[lay.name for lay in model.layers].index(conv.name) + 1]
            if isinstance(after, ReLU):
                assert wh.relu == after.name
                assert wh.value == pytest.approx(float(trace[after.name][i, j, 1]), abs=2e-5)
                assert wh.value == max(0.0, wh.total)
            else:
                assert wh.relu is None and wh.value == wh.total
            assert wh.trace_value == float(n.value[i, j])
            assert abs(wh.value - wh.trace_value) < 2e-5


def test_whole_neuron_matches_the_golden_activations():
    golden = REFERENCE / "golden" / "espresso_1.npz"
    if not golden.exists():
        pytest.skip("no golden activations")
    g = np.load(golden, allow_pickle=False)
    trace = reference_model().trace(reference_image())
    for layer, relu in (("conv_1_1", "relu_1_1"), ("conv_2_2", "relu_2_2")):
        for (i, j, f) in ((0, 0, 0), (5, 7, 3), (g[layer].shape[0] - 1, g[layer].shape[1] - 1, 9)):
            wh = conv_whole(trace, layer, f, i, j)
            assert wh.total == pytest.approx(float(g[layer][i, j, f]), abs=1e-5)
            assert wh.value == pytest.approx(float(g[relu][i, j, f]), abs=1e-5)


def test_positions_are_the_true_sweep():
    model = synthetic_model()
    trace = model.trace(synthetic_image())
    n = conv_neuron(trace, "edges", 0)  # 5×5, stride 2, same on 32×32: 16×16, padding 1 before, 2 after
    g = n.geometry
    assert g.output_hw == (16, 16) and g.pad == (1, 2, 1, 2)
    assert n.positions.shape == (256, 2)
    assert n.positions[0].tolist() == [-1, -1]
    assert n.positions[1].tolist() == [-1, 1]
    assert n.positions[16].tolist() == [1, -1]
    assert n.positions[-1].tolist() == [29, 29]  # the last window reaches row 33 = 2 rows of padding
    w = n.window(15, 15, 0)
    assert w.padded[-2:, :].all() and not w.padded[:3, :3].any()
    np.testing.assert_array_equal(conv_window(trace, "edges", 0, 15, 15, 0).products, w.products)


def test_geometry_matches_the_engine_for_many_shapes():
    rng = np.random.default_rng(3)

    @settings(max_examples=60, deadline=None)
    @given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 5), st.integers(1, 5), st.integers(1, 3),
           st.integers(1, 3), st.sampled_from(["valid", "same"]))
    def check(h, w, kh, kw, sh, sw, padding):
        if padding == "valid" and (kh > h or kw > w):
            return
        kernel = rng.normal(size=(kh, kw, 2, 1)).astype(np.float32)
        conv = Conv2D("c", kernel, [0.5], (sh, sw), padding)
        oh, ow, _ = conv.output_shape((h, w, 2))
        model = Sequential([conv, Flatten("f"), Dense("d", np.ones((oh * ow, 2), np.float32))], (h, w, 2))
        x = rng.uniform(size=(h, w, 2)).astype(np.float32)
        trace = model.trace(x)
        n = conv_neuron(trace, "c", 0)
        assert n.geometry.output_hw == trace["c"].shape[:2]
        np.testing.assert_allclose(n.pre_activation, trace["c"][:, :, 0], atol=1e-5)
        for c in range(2):
            np.testing.assert_allclose(n.results[:, :, c], naive_single_channel(x[:, :, c], kernel[:, :, c, 0],
                                                                                (sh, sw), padding), atol=1e-9)
        oh, ow = n.geometry.output_hw
        assert len(n.positions) == oh * ow
        assert n.whole(oh - 1, ow - 1).total == pytest.approx(float(trace["c"][oh - 1, ow - 1, 0]), abs=1e-5)

    check()


def test_errors_name_what_is_wrong():
    trace = synthetic_model().trace(synthetic_image())
    with pytest.raises(ValueError, match="relu"):
        conv_neuron(trace, "edges_relu", 0)
    with pytest.raises(IndexError, match="Filter 4"):
        conv_neuron(trace, "edges", 4)
    with pytest.raises(IndexError, match="outside"):
        conv_neuron(trace, "edges", 0).window(16, 0, 0)
    with pytest.raises(IndexError, match="Channel 3"):
        conv_neuron(trace, "edges", 0).window(0, 0, 3)
    batch = synthetic_model().trace(np.stack([synthetic_image()] * 2))
    with pytest.raises(ValueError, match="single image"):
        conv_neuron(batch, "edges", 0)


def test_ranges_are_symmetric_and_cover_the_values(trace):
    conv = conv_layers(trace.model)[0]
    n = conv_neuron(trace, conv.name, 0)
    lo, hi = n.kernel_range
    assert lo == -hi and hi == pytest.approx(float(np.abs(n.kernels).max()))
    lo, hi = n.result_range
    assert lo == -hi and hi == pytest.approx(float(np.abs(n.results).max()))
    lo, hi = n.value_range
    assert lo == -hi and hi >= np.abs(n.pre_activation).max() and hi >= np.abs(n.value).max()
    assert isinstance(WindowGeometry.of(conv, trace[n.source].shape).formula(), str)
