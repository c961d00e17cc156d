"""explain.occlusion equals a naive loop over patch positions calling model.predict once per position."""
from __future__ import annotations

import numpy as np
import pytest

import cnn101
from cnn101 import perturb
from cnn101.errors import PerturbError
from cnn101.explain import occlusion
from cnn101.explain.occlusion import positions
from models import synthetic_image, synthetic_model


def naive(model, x, k, size, stride, value):
    sh, sw = (size, size) if isinstance(size, int) else size
    th, tw = (stride, stride) if isinstance(stride, int) else stride
    h, w, _ = x.shape
    base = model.predict(x)[k]
    rows = []
    for top in range(0, h - sh + 1, th):
        rows.append([base - model.predict(perturb.occlude(x, top, left, (sh, sw), value))[k]
                     for left in range(0, w - sw + 1, tw)])
    return np.array(rows, np.float32)


def test_shipped_model_8x8_patch_stride_4_equals_the_naive_loop():
    model = cnn101.load_model()
    x = np.random.default_rng(0).random(model.input_shape, dtype=np.float32)
    k = int(model.predict(x).argmax())
    occ = occlusion(model, x, k, 8, 4)
    assert occ.drops.shape == (15, 15) and occ.drops.dtype == np.float32
    np.testing.assert_allclose(occ.drops, naive(model, x, k, 8, 4, 0.5), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(occ.tops, np.arange(0, 57, 4))
    assert occ.patch(14, 2) == (56, 8, 8, 8)
    assert np.asarray(occ).shape == (15, 15)
    assert occ.class_name == model.class_names[k]


@pytest.mark.parametrize("size,stride,value,target", [
    (5, 3, 0.0, 0), ((4, 7), (2, 5), (1.0, 0.5, 0.0), "stripes"), (32, 1, 0.5, 2), (1, 9, 0.25, 1),
])
def test_any_model_size_stride_and_colour_equal_the_naive_loop(size, stride, value, target):
    model, x = synthetic_model(), synthetic_image()
    occ = occlusion(model, x, target, size, stride, value)
    k = model.class_names.index(target) if isinstance(target, str) else target
    np.testing.assert_allclose(occ.drops, naive(model, x, k, size, stride, value), rtol=0, atol=1e-6)


def test_pixel_map_is_the_mean_drop_of_the_covering_patches_and_zero_where_uncovered():
    model, x = synthetic_model(), synthetic_image()
    occ = occlusion(model, x, 1, 6, 4)  # (32 − 6) / 4 is not whole: the last 2 rows and columns are never covered
    h, w = occ.input_hw
    total, count = np.zeros((h, w)), np.zeros((h, w), int)
    for i in range(occ.shape[0]):
        for j in range(occ.shape[1]):
            t, left, sh, sw = occ.patch(i, j)
            total[t:t + sh, left:left + sw] += occ.drops[i, j]
            count[t:t + sh, left:left + sw] += 1
    np.testing.assert_array_equal(occ.coverage, count)
    assert count[-2:].sum() == 0 and count[:, -2:].sum() == 0 and count[:-2, :-2].min() >= 1
    np.testing.assert_allclose(occ.pixels, np.where(count > 0, total / np.maximum(count, 1), 0), atol=1e-7)
    assert occ.pixels.shape == (32, 32)


def test_a_patch_over_nothing_changes_nothing():
    model = synthetic_model()
    x = np.full(model.input_shape, 0.5, np.float32)  # a grey image: a grey patch hides nothing
    np.testing.assert_array_equal(occlusion(model, x, 0, 4, 4).drops, 0)


@pytest.mark.parametrize("kw", [dict(size=0, stride=1), dict(size=4, stride=0), dict(size=40, stride=1),
                                dict(size=4, stride=1.5), dict(size=4, stride=2, value=2.0),
                                dict(size=4, stride=2, target=3), dict(size=4, stride=2, target="dog")])
def test_bad_settings_raise_a_plain_error(kw):
    model, x = synthetic_model(), synthetic_image()
    target = kw.pop("target", 0)
    with pytest.raises(PerturbError):
        occlusion(model, x, target, **kw)


def test_positions_follow_the_valid_convolution_rule():
    tops, lefts = positions((64, 48), (8, 5), (4, 3))
    assert len(tops) == (64 - 8) // 4 + 1 and len(lefts) == (48 - 5) // 3 + 1
    assert tops[-1] + 8 <= 64 and lefts[-1] + 5 <= 48


def test_the_whole_image_path_used_for_unknown_layers_equals_the_naive_loop(monkeypatch):
    import sys

    local_forward = sys.modules["cnn101.explain.local_forward"]
    monkeypatch.setattr(local_forward, "plan", lambda model: None)
    model, x = synthetic_model(), synthetic_image()
    np.testing.assert_allclose(occlusion(model, x, 2, 7, 5).drops, naive(model, x, 2, 7, 5, 0.5), rtol=0, atol=1e-6)
