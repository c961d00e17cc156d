"""The hyperparameter playground: output sizes, the convolution equal to a naive loop, invalid settings
explained (never raised); the per-layer table on Tiny VGG and on odd models."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnn101
from cnn101 import kernels
from cnn101.engine import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Softmax
from cnn101.explain import conv_neuron
from cnn101.explain.playground import channel_of, layer_table, playground, trained_kernel
from models import synthetic_image, synthetic_model


def naive(channel, kernel, s, pads):
    t, b, left, r = pads
    h, w = channel.shape
    k = kernel.shape[0]
    padded = np.zeros((h + t + b, w + left + r))
    padded[t:t + h, left:left + w] = channel
    oh, ow = (padded.shape[0] - k) // s + 1, (padded.shape[1] - k) // s + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            acc = 0.0
            for a in range(k):
                for c in range(k):
                    acc += padded[i * s + a, j * s + c] * kernel[a, c]
            out[i, j] = acc
    return out


@settings(max_examples=120, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 7), st.integers(1, 4),
       st.one_of(st.sampled_from(["valid", "same"]), st.integers(0, 4)), st.integers(0, 2**16))
def test_output_equals_the_naive_loop_and_the_formula(h, w, k, s, padding, seed):
    rng = np.random.default_rng(seed)
    ch = rng.normal(size=(h, w)).astype(np.float32)
    kernel = rng.normal(size=(k, k)).astype(np.float32)
    p = playground(ch, k, s, padding, kernel)
    if padding == "valid":
        pads = (0, 0, 0, 0)
    elif padding == "same":
        pads = p.pad
        assert p.output_hw == (-(-h // s), -(-w // s))  # TensorFlow's 'same': ⌈n / s⌉
    else:
        pads = (padding,) * 4
    fits = k <= h + pads[0] + pads[1] and k <= w + pads[2] + pads[3]
    assert p.valid == fits
    if not fits:
        assert p.output is None and "larger than the padded input" in p.message
        assert len(p.positions) == 0
        return
    want = naive(ch, kernel, s, pads)
    np.testing.assert_allclose(p.output, want, rtol=1e-12, atol=1e-12)
    assert p.output_hw == want.shape == ((h - k + pads[0] + pads[1]) // s + 1, (w - k + pads[2] + pads[3]) // s + 1)
    assert p.formula.endswith(f"= {want.shape[0]}") or f"= {want.shape[0]};" in p.formula
    assert len(p.positions) == want.size
    i, j = want.shape[0] - 1, want.shape[1] - 1
    win = p.window(i, j)
    assert win["origin"] == (i * s - pads[0], j * s - pads[2]) == tuple(p.positions[-1])
    assert win["sum"] == pytest.approx(want[i, j], abs=1e-9)


def test_formula_text_with_numbers_filled_in():
    ch = np.zeros((64, 64), np.float32)
    assert playground(ch, 3, 1, 1).formula == "⌊(64 − 3 + 2·1) / 1⌋ + 1 = 64"
    assert playground(ch, 3, 1, "valid").formula == "⌊(64 − 3 + 2·0) / 1⌋ + 1 = 62"
    p = playground(ch, 4, 2, "same")  # TensorFlow: 31·2 + 4 − 64 = 2 cells of padding, 1 on each side
    assert p.formula == "⌊(64 − 4 + 2·1) / 2⌋ + 1 = 32" and p.valid
    p = playground(np.zeros((5, 9)), 4, 1, "same")
    assert p.formula == "rows: ⌊(5 − 4 + 1 + 2) / 1⌋ + 1 = 5; columns: ⌊(9 − 4 + 1 + 2) / 1⌋ + 1 = 9"
    assert (p.rows.n, p.rows.k, p.rows.s, p.rows.before, p.rows.after, p.rows.out) == (5, 4, 1, 1, 2, 5)
    note = playground(ch, 3, 2, "valid")
    assert note.valid and "never under the kernel" in note.message


@pytest.mark.parametrize("kw,words", [
    (dict(kernel_size=7, padding=1, channel=np.ones((4, 4))), "larger than the padded input"),
    (dict(stride=0), "stride of 0"),
    (dict(stride=5), "from 1 to 4"),
    (dict(stride=1.5), "whole number"),
    (dict(padding=-1), "cannot be negative"),
    (dict(padding="full"), "'valid'"),
    (dict(kernel_size=8), "from 1 to 7"),
    (dict(kernel_size=0), "from 1 to 7"),
    (dict(kernel="emboss"), "Unknown kernel preset"),
    (dict(kernel=np.ones((3, 3)), kernel_size=5), "make them the same"),
    (dict(kernel=np.ones((3, 2))), "square grid"),
    (dict(channel=np.ones((2, 3, 4))), "2-D grid"),
    (dict(channel=np.array([[np.nan]])), "2-D grid"),
])
def test_invalid_settings_come_back_explained_not_raised(kw, words):
    ch = kw.pop("channel", np.ones((6, 6), np.float32))
    p = playground(ch, **{"kernel_size": 3, "stride": 1, "padding": "valid", "kernel": "identity", **kw})
    assert not p.valid and p.output is None
    assert words in p.message
    with pytest.raises(ValueError):
        p.window(0, 0)


def test_trained_kernel_on_a_real_channel_equals_the_networks_single_channel_result():
    model, x = synthetic_model(), synthetic_image()
    trace = model.trace(x)
    for layer in [lay for lay in model.layers if isinstance(lay, Conv2D)]:
        src = model.previous(layer.name)
        n = conv_neuron(trace, layer.name, 1)
        c = n.channels - 1
        p = playground(channel_of(trace, src, c), None, layer.strides[0], layer.padding,
                       trained_kernel(model, layer.name, 1, c))
        assert p.valid, p.message
        np.testing.assert_allclose(p.output, n.results[:, :, c], rtol=0, atol=1e-5)
        np.testing.assert_array_equal(p.positions, n.positions)


def test_presets_come_from_cnn101_kernels():
    ch = np.random.default_rng(0).random((9, 9)).astype(np.float32)
    p = playground(ch, 5, 1, "same", "blur")
    np.testing.assert_array_equal(p.kernel, kernels.preset("blur", 5, 5))
    np.testing.assert_allclose(playground(ch, 3, 1, "same", "identity").output, ch, atol=1e-7)


def test_channel_of_refuses_flat_layers_and_missing_channels():
    model, x = synthetic_model(), synthetic_image()
    t = model.trace(x)
    np.testing.assert_array_equal(channel_of(t, "mix_pool", 2), t["mix_pool"][:, :, 2])
    with pytest.raises(ValueError):
        channel_of(t, "flat", 0)
    with pytest.raises(IndexError):
        channel_of(t, "input", 3)
    with pytest.raises(ValueError):
        trained_kernel(model, "mix_relu", 0, 0)


# --- the per-layer table ------------------------------------------------------------------------------

def odd_model() -> Sequential:
    """1×1 conv, a stride-2 'same' conv with an even kernel, an overlapping 'same' pool, hidden dense layers."""
    rng = np.random.default_rng(5)

    def conv(name, k, cin, cout, s, pad):
        return Conv2D(name, rng.normal(size=(k, k, cin, cout)).astype(np.float32) * 0.3,
                      rng.normal(size=cout).astype(np.float32) * 0.1, s, pad)

    layers = [conv("mix", 1, 3, 4, 1, "valid"), ReLU("mix_relu"), conv("down", 4, 4, 6, 2, "same"),
              MaxPool2D("pool", 3, 2, "same"), conv("wide", 3, 6, 5, 1, "valid"), Flatten("flat"),
              Dense("hidden", rng.normal(size=(5 * 4 * 4, 7)).astype(np.float32) * 0.2, np.zeros(7, np.float32)),
              ReLU("hidden_relu"), Dense("scores", rng.normal(size=(7, 2)).astype(np.float32), np.zeros(2, np.float32)),
              Softmax("probs_out")]
    return Sequential(layers, (23, 21, 3), ["yes", "no"], name="odd")


def walk_back(model, name, i):
    """Naive receptive field: the interval of input coordinates (padding included) that output cell i along
    rows depends on, found by walking the window arithmetic back layer by layer."""
    lo, hi = i, i
    names = [lay.name for lay in model.layers]
    for layer in reversed(model.layers[:names.index(name) + 1]):
        if isinstance(layer, (Conv2D, MaxPool2D)):
            k = layer.kernel_size[0] if isinstance(layer, Conv2D) else layer.pool_size[0]
            s = layer.strides[0]
            h_in = model.shapes[model.previous(layer.name)][0]
            from cnn101.engine.layers import pad_amounts
            _, before, _ = pad_amounts(h_in, k, s, layer.padding)
            lo, hi = lo * s - before, hi * s - before + k - 1
    return lo, hi


@pytest.mark.parametrize("make", [cnn101.load_model, odd_model, synthetic_model])
def test_layer_table_shapes_params_macs_and_receptive_fields(make):
    model = make()
    table = layer_table(model)
    assert [r.name for r in table] == [lay.name for lay in model.layers]
    assert sum(r.macs for r in table) == model.mac_count
    assert sum(r.params for r in table) == model.param_count
    for r, layer in zip(table, model.layers):
        assert r.output_shape == model.shapes[layer.name] and r.params == layer.param_count
        if isinstance(layer, Conv2D):
            (oh, ow, co), (kh, kw, ci, _) = r.output_shape, layer.kernel.shape
            assert r.macs == oh * ow * co * kh * kw * ci
        elif isinstance(layer, Dense):
            assert r.macs == layer.kernel.shape[0] * layer.kernel.shape[1]
        else:
            assert r.macs == 0
        if len(r.output_shape) == 3:
            lo, hi = walk_back(model, r.name, 0)
            lo1, _ = walk_back(model, r.name, 1)
            assert r.receptive_field[0] == hi - lo + 1
            assert r.jump[0] == lo1 - lo
            assert r.start[0] == (lo + hi) / 2
        else:
            assert r.whole_input


def test_receptive_field_really_bounds_what_an_output_cell_sees():
    model = odd_model()
    x = np.random.default_rng(1).random(model.input_shape, dtype=np.float32)
    row = next(r for r in layer_table(model) if r.name == "wide")
    i, j = 1, 2
    top = int(row.start[0] + i * row.jump[0] - (row.receptive_field[0] - 1) / 2)
    left = int(row.start[1] + j * row.jump[1] - (row.receptive_field[1] - 1) / 2)
    y = np.random.default_rng(2).random(model.input_shape, dtype=np.float32)  # everything changed …
    r0, c0 = max(top, 0), max(left, 0)
    y[r0:top + row.receptive_field[0], c0:left + row.receptive_field[1]] = \
        x[r0:top + row.receptive_field[0], c0:left + row.receptive_field[1]]  # … except the field
    a, b = model.trace(x)["wide"][i, j], model.trace(y)["wide"][i, j]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(model.trace(x)["wide"], model.trace(y)["wide"])


def test_tiny_vgg_receptive_fields():
    rows = {r.name: r for r in layer_table(cnn101.load_model())}
    convs = [r for r in rows.values() if r.kind == "conv2d"]
    assert [c.receptive_field[0] for c in convs] == [3, 5, 10, 14]
    assert [c.jump[0] for c in convs] == [1, 1, 2, 2]


# --- notebook displays --------------------------------------------------------------------------------

def test_notebook_playground_and_layer_table():
    import cnn101.notebook as nb
    from test_notebook_display import grid, parse_html, xml

    model, x = synthetic_model(), synthetic_image()
    ch = channel_of(model.trace(x), "input", 1)
    view = nb.playground(ch, 5, 2, "same", "edges (vertical)", at=(3, 4))
    root = xml(view)
    np.testing.assert_allclose(grid(root, "kernel"), kernels.preset("edges (vertical)", 5, 5), atol=5e-4)
    text = " ".join(root.itertext())
    assert "⌊(32 − 5 + 1 + 2) / 2⌋ + 1 = 16" in text  # TensorFlow: 15·2 + 5 − 32 = 3 zeros, the odd one after
    assert f"output (3, 4) = Σ window × kernel = {view.output[3, 4]:.3f}" in text
    bad = nb.playground(ch, 7, 0, -2)
    text = " ".join(xml(bad).itertext())
    assert "stride of 0" in text and "cannot be negative" in text and "do not work" in text

    table = nb.layer_table(model)
    p = parse_html(table._repr_html_())
    text = " ".join(p.text)
    for r in table.rows:
        assert r.name in text and f"{r.macs:,}" in text
    assert f"{model.mac_count:,}" in text and "the whole input" in text
