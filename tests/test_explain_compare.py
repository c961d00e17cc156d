"""explain.compare: B − A per neuron equals the traces' difference, ranges per scope are symmetric and shared
by the Overview's groups, class changes are complete and sorted; and its notebook display."""
from __future__ import annotations

import numpy as np
import pytest

import cnn101.notebook as nb
from cnn101 import perturb
from cnn101.errors import ModelError
from cnn101.explain import compare
from cnn101.explain.overview import layout
from models import both_traces, synthetic_image, synthetic_model
from test_notebook_display import parse_html


@pytest.fixture(params=both_traces())
def pair(request):
    ta = request.param()
    x = np.asarray(ta.input)
    tb = ta.model.trace(perturb.occlude(perturb.keep_channel(x, 0), 4, 4, 9))
    return ta, tb


def test_differences_are_b_minus_a_in_the_overview_shape(pair):
    ta, tb = pair
    c = compare(ta, tb)
    for col in c.columns:
        if col.kind == "output":
            want = tb.probs - ta.probs
        else:
            want = np.asarray(tb[col.name]) - np.asarray(ta[col.name])
            want = np.moveaxis(want, -1, 0) if want.ndim == 3 else want
        np.testing.assert_array_equal(c.values(col.index), want.astype(np.float32))
    np.testing.assert_array_equal(c.difference.logits, tb.logits - ta.logits)


@pytest.mark.parametrize("scope", ["unit", "module", "global"])
def test_ranges_are_symmetric_and_shared_per_scope_group(pair, scope):
    ta, tb = pair
    c = compare(ta, tb)
    lay = layout(ta.model)
    for group in lay.groups[scope]:
        m = max(float(np.abs(c.values(i)).max()) for i in group)
        for i in group:
            assert c.range(i, scope) == pytest.approx((-m, m))
    first, last = c.columns[0], c.columns[-1]
    m_in = float(np.abs(c.values(0)).max())
    assert c.range(first.index, scope) == pytest.approx((-m_in, m_in)) and m_in > 0
    m_out = float(np.abs(tb.probs - ta.probs).max())
    assert c.range(last.index, scope) == pytest.approx((-m_out, m_out))
    legends = c.legends(scope)
    assert len(legends) == len(lay.groups[scope]) + 2
    assert all(lg.colormap == "activation" and lg.lo == -lg.hi for lg in legends)


def test_every_class_change_sorted_by_size(pair):
    ta, tb = pair
    ch = compare(ta, tb).changes
    assert sorted(r.index for r in ch) == list(range(ta.model.num_classes))
    sizes = [abs(r.change) for r in ch]
    assert sizes == sorted(sizes, reverse=True)
    for r in ch:
        assert r.a == pytest.approx(float(ta.probs[r.index])) and r.b == pytest.approx(float(tb.probs[r.index]))
        assert r.name == ta.model.class_names[r.index]


def test_same_image_gives_zero_everywhere_and_describe_reads_both():
    model, x = synthetic_model(), synthetic_image()
    c = compare(model.trace(x), model.trace(x))
    assert all(not np.any(c.values(col.index)) for col in c.columns)
    assert c.range("edges", "unit") == (-0.0, 0.0)
    line = c.describe("edges", 1, 2, 3)
    a = float(model.trace(x)["edges"][2, 3, 1])
    assert f"A {a:.4f}, B {a:.4f}, B − A +0.0000" in line


def test_refuses_traces_of_different_models_and_batches():
    model, x = synthetic_model(), synthetic_image()
    other = synthetic_model(seed=1)
    other.class_names = ["a", "b", "c"]
    with pytest.raises(ModelError):
        compare(model.trace(x), other.trace(x))
    with pytest.raises(ValueError):
        compare(model.trace(x[None]), model.trace(x))


@pytest.mark.parametrize("scope", ["unit", "global"])
def test_notebook_display_shows_every_neuron_and_every_class(pair, scope):
    ta, tb = pair
    view = nb.compare(ta, tb, scope)
    html = view._repr_html_()
    p = parse_html(html)
    neurons = sum(col.neurons for col in view.columns if col.kind != "output")
    assert len([a for a in p.imgs if a["src"].startswith("data:image/png;base64,")]) == neurons
    text = " ".join(p.text)
    for r in view.changes:
        assert r.name in text and f"{r.b:.4f}" in text
    lo, hi = view.range(view.columns[1].index, scope)
    assert f"{hi:.3f}" in text  # its legend
    assert "<script" not in html


def test_show_displays_a_comparison():
    model, x = synthetic_model(), synthetic_image()
    c = compare(model.trace(x), model.trace(perturb.flip(x)))
    view = nb.show(c, scope="module")
    assert view.scope == "module" and view.data is c
