"""explain.local_forward: probabilities of copies of an image changed inside small rectangles equal full
forward passes of those copies, on Tiny VGG and on models with stride 2, 'same' padding, even kernels,
1×1 convs and overlapping pools."""
from __future__ import annotations

import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import cnn101
import cnn101.explain  # noqa: F401
from models import synthetic_image, synthetic_model
from test_explain_playground import odd_model

local_forward = sys.modules["cnn101.explain.local_forward"]
MODELS = {"synthetic": synthetic_model(), "odd": odd_model(), "tiny-vgg": cnn101.load_model()}


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(MODELS)), st.integers(1, 12), st.integers(1, 12), st.integers(1, 6), st.integers(0, 2**16))
def test_local_recomputation_equals_full_forward_passes(name, nr, nc, copies, seed):
    model = MODELS[name]
    rng = np.random.default_rng(seed)
    h, w, c = model.input_shape
    nr, nc = min(nr, h), min(nc, w)
    x = rng.random(model.input_shape, dtype=np.float32)
    tops = rng.integers(0, h - nr + 1, copies)
    lefts = rng.integers(0, w - nc + 1, copies)
    tops[0], lefts[-1] = h - nr, w - nc  # the far edges too
    values = rng.random((copies, nr, nc, c), dtype=np.float32)
    got = local_forward.probabilities(model, x, model.trace(x), tops, lefts, (nr, nc), values)
    batch = np.repeat(x[None], copies, axis=0)
    for q in range(copies):
        batch[q, tops[q]:tops[q] + nr, lefts[q]:lefts[q] + nc] = values[q]
    np.testing.assert_allclose(got, model.predict(batch), rtol=0, atol=2e-6)


def test_plan_covers_the_grid_layers_then_the_flat_ones():
    steps, rest = local_forward.plan(synthetic_model())
    assert [s.layer.name for s in steps] == ["edges", "edges_relu", "mix", "mix_relu", "mix_pool", "shrink",
                                             "shrink_pool"]
    assert [lay.name for lay in rest] == ["flat", "scores", "scores_softmax"]
