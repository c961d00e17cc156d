"""The derived numbers every view shows (one source for the page and the notebook): colour ranges, running
sums, the logits layer, input colours, kernel statistics; and render's cell-size ladder."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnn101.engine import Dense, Flatten, ReLU, Sequential, Softmax
from cnn101.explain import dense_neuron, logits_layer, running_sum, softmax_detail, symmetric
from cnn101.explain.overview import layout
from cnn101.render.svg import grid_cell


def test_symmetric_and_running_sum():
    assert symmetric([1.0, -3.0], [2.0, np.inf, np.nan]) == (-3.0, 3.0)
    assert symmetric(np.zeros(4)) == (0.0, 0.0) and symmetric([]) == (0.0, 0.0)
    v = np.array([0.5, -1.25, 2.0], np.float32)
    np.testing.assert_array_equal(running_sum(v), [0.5, -0.75, 1.25])


@settings(max_examples=60, deadline=None)
@given(st.lists(arrays(st.sampled_from([np.float16, np.float32, np.float64, np.int32]), st.integers(0, 12),
                       elements=st.integers(-1000, 1000)), max_size=4),
       st.lists(st.sampled_from([np.nan, np.inf, -np.inf, -0.0, 1e30]), max_size=3))
def test_symmetric_is_the_largest_finite_magnitude(parts, specials):
    """The reductions-only path (finite floats) and the filtering path (NaN, ±inf, ints) give one answer."""
    arrays_ = [a.astype(np.float64) if a.dtype.kind == "i" and specials else a for a in parts]
    if arrays_ and specials:
        arrays_[0] = np.concatenate([arrays_[0], np.array(specials, arrays_[0].dtype)])
    finite = [abs(float(v)) for a in arrays_ for v in np.asarray(a, np.float64).ravel() if np.isfinite(v)]
    m = max(finite, default=0.0)
    assert symmetric(*arrays_) == (-m, m)


@pytest.mark.parametrize("softmax", [False, True])
def test_one_answer_to_which_layer_gives_the_logits(softmax):
    layers = [Flatten("f"), Dense("d1", np.ones((4, 3), "f4"), np.zeros(3, "f4")), ReLU("r"),
              Dense("d2", np.ones((3, 2), "f4"), np.arange(2, dtype="f4"))] + ([Softmax("s")] if softmax else [])
    m = Sequential(layers, (2, 2, 1), ["a", "b"])
    assert m.logits_layer == logits_layer(m) == "d2"
    assert layout(m).columns[-1].name == "d2" and layout(m).columns[-1].layers == (("d2", "s") if softmax else ("d2",))
    t = m.trace(np.full((2, 2, 1), 0.5, "f4"))
    np.testing.assert_array_equal(t.logits, t["d2"])
    d = dense_neuron(t, 1)
    assert d.layer == "d2"
    np.testing.assert_allclose(d.running, np.cumsum(d.contributions))
    assert d.running[-1] == pytest.approx(d.sum)
    assert d.input_range == symmetric(d.inputs) and d.total_range == symmetric([d.sum, d.bias, d.value])
    s = softmax_detail(t)
    assert s.logit_range == (-float(np.abs(s.logits).max()), float(np.abs(s.logits).max()))


def test_the_cell_size_ladder():
    assert [grid_cell((k, k)) for k in (1, 3, 4, 5, 7, 11)] == [40, 40, 34, 34, 28, 28]
    assert grid_cell((1, 5)) == 34
