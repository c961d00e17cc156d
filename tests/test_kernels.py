"""cnn101.kernels: presets and edits of conv neurons, and putting the trained values back."""
from __future__ import annotations

import numpy as np
import pytest

from cnn101 import ModelError
from cnn101.kernels import PRESETS, Edits, preset
from models import synthetic_image, synthetic_model


def test_the_classic_3x3_filters():
    np.testing.assert_array_equal(preset("identity", 3, 3), [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    np.testing.assert_allclose(preset("blur", 3, 3), np.full((3, 3), 1 / 9), rtol=1e-6)
    np.testing.assert_allclose(preset("edges (vertical)", 3, 3), np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 4)
    np.testing.assert_array_equal(preset("edges (horizontal)", 3, 3), preset("edges (vertical)", 3, 3).T)
    np.testing.assert_array_equal(preset("sharpen", 3, 3), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    assert not preset("zero", 3, 3).any()


@pytest.mark.parametrize("kh, kw", [(1, 1), (2, 2), (5, 5), (3, 5), (4, 1)])
@pytest.mark.parametrize("name", PRESETS)
def test_presets_exist_for_every_kernel_size(name, kh, kw):
    k = preset(name, kh, kw)
    assert k.shape == (kh, kw) and k.dtype == np.float32 and np.all(np.isfinite(k))
    if name == "identity":
        assert k.sum() == 1 and k[(kh - 1) // 2, (kw - 1) // 2] == 1
    if name == "blur":
        assert k.sum() == pytest.approx(1)
    if name.startswith("edges"):
        assert k.sum() == pytest.approx(0, abs=1e-7)  # a flat image gives 0


def test_a_flat_image_through_edges_gives_zero_and_through_identity_itself():
    flat = np.full((7, 7), 0.3)
    for name, want in [("edges (vertical)", 0.0), ("identity", 0.3), ("blur", 0.3)]:
        k = preset(name, 3, 3).astype(np.float64)
        assert float((flat[:3, :3] * k).sum()) == pytest.approx(want, abs=1e-7)


def test_a_preset_edit_changes_the_trace_and_reset_restores_it_bit_for_bit():
    model = synthetic_model()
    x = synthetic_image()
    before = {k: v.copy() for k, v in model.trace(x).items()}
    other = model.layer("edges").kernel[:, :, :, 0].copy()
    edits = Edits(model)
    edits.preset("edges", 1, "identity")
    conv = model.layer("edges")
    cin = conv.kernel.shape[2]
    np.testing.assert_allclose(conv.kernel[:, :, :, 1], np.repeat(preset("identity", 5, 5)[:, :, None], cin, 2) / cin)
    np.testing.assert_array_equal(conv.kernel[:, :, :, 0], other)  # the other neurons keep theirs
    edits.set_bias("edges", 1, 0.0)
    after = model.trace(x)
    # identity, 5×5, stride 2, 'same' (1 padding row/column before): output (i, j) is centred on input
    # (2i + 1, 2j + 1), so it is the mean of the channels there
    assert after["edges"][..., 1][1, 1] == pytest.approx(float(x[3, 3].mean()), abs=1e-6)
    np.testing.assert_allclose(after["edges"][..., 1], x[1::2, 1::2].mean(axis=2), atol=1e-6)
    assert not np.array_equal(after["probs"], before["probs"])
    assert edits.edited() == [("edges", 1)] and edits.presets == {("edges", 1): "identity"}
    edits.reset_all()
    for k, v in model.trace(x).items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    assert edits.edited() == [] and edits.presets == {}


def test_setting_a_kernel_by_hand_and_refusals():
    model = synthetic_model()
    edits = Edits(model)
    edits.set_kernel("mix", 2, np.ones((5, 5)))
    assert np.all(model.layer("mix").kernel[:, :, :, 2] == 1) and ("mix", 2) in edits.edited()
    for call, words in [
        (lambda: edits.preset("mix_relu", 0, "blur"), ["mix_relu", "only conv kernels"]),
        (lambda: edits.preset("mix", 9, "blur"), ["neurons 0–4", "not 9"]),
        (lambda: edits.preset("mix", 0, "emboss"), ["Unknown kernel preset", "identity"]),
        (lambda: edits.set_kernel("mix", 0, np.ones((3, 3))), ["5×5×4", "(3, 3)"]),
        (lambda: edits.set_kernel("mix", 0, np.full((5, 5), np.nan)), ["finite"]),
        (lambda: edits.set_bias("mix", 0, float("inf")), ["finite"]),
    ]:
        with pytest.raises(ModelError) as e:
            call()
        assert all(w in str(e.value) for w in words), str(e.value)


def test_the_trained_kernel_is_kept_through_edits():
    model = synthetic_model()
    before = model.layer("mix").kernel[:, :, :, 1].copy()
    edits = Edits(model)
    assert np.array_equal(edits.trained_kernel("mix", 1), before)  # not edited yet: the model's own
    edits.set_kernel("mix", 1, np.zeros((5, 5)))
    got = edits.trained_kernel("mix", 1)
    assert np.array_equal(got, before) and not np.array_equal(model.layer("mix").kernel[:, :, :, 1], before)
    got[0, 0, 0] = 99  # a copy: the kept values do not change
    edits.reset("mix", 1)
    assert np.array_equal(model.layer("mix").kernel[:, :, :, 1], before)


def test_read_only_weights_are_copied_before_editing():
    model = synthetic_model()
    conv = model.layer("edges")
    conv.kernel.flags.writeable = False
    Edits(model).preset("edges", 0, "blur")
    assert conv.kernel.flags.writeable
