"""Attribution maps and FGSM as plain data (explain/attribution.py, explain/fgsm.py), on the shipped Tiny VGG and
on the synthetic model (stride-2 'same' convs, a last conv without ReLU)."""
from __future__ import annotations

import numpy as np
import pytest

import cnn101
from cnn101.explain import (attribution, class_gradients, fgsm, grad_cam, gradient_x_input, last_conv_layer,
                            smoothgrad, vanilla_gradient)
from cnn101.explain.attribution import resize_bilinear
from models import synthetic_image, synthetic_model


def cases():
    shipped = cnn101.load_model()
    return [pytest.param((shipped, np.random.default_rng(0).random(shipped.input_shape, dtype=np.float32)), id="shipped"),
            pytest.param((synthetic_model(), synthetic_image()), id="synthetic")]


@pytest.fixture(params=cases())
def case(request):
    return request.param


def test_logit_gradients_combine_into_the_loss_gradient(case):
    """d loss / dx = Σ_k p_k · d z_k / dx − d z_t / dx: the logit gradients of every class, weighted by the
    probabilities, give back the engine's loss gradient."""
    model, x = case
    trace = model.trace(x)
    t = 1
    per_class = [class_gradients(model, trace, k)[2]["input"].astype(np.float64) for k in range(model.num_classes)]
    combined = sum(p * gk for p, gk in zip(trace.probs.astype(np.float64), per_class)) - per_class[t]
    want = model.backward(trace, t)["input"]
    np.testing.assert_allclose(combined, want, rtol=1e-4, atol=1e-6 * max(1.0, float(np.abs(want).max())))
    lp = vanilla_gradient(model, trace, t, score="log_prob")
    np.testing.assert_allclose(lp.data["gradient"], -want, rtol=1e-6, atol=1e-9)


def test_vanilla_gradient_and_gradient_times_input(case):
    model, x = case
    a = vanilla_gradient(model, x)
    trace = model.trace(x)
    assert a.target == int(trace.predicted) and a.class_name == model.class_names[a.target]
    assert a.map.shape == model.input_shape[:2] and a.map.dtype == np.float32 and not a.signed
    np.testing.assert_array_equal(a.map, np.abs(a.data["gradient"]).max(axis=-1))
    assert a.range == (0.0, float(a.map.max()))
    b = gradient_x_input(model, x, a.target)
    assert b.signed and b.range[0] == -b.range[1]
    np.testing.assert_allclose(b.map, (x * a.data["gradient"]).sum(-1), rtol=1e-5, atol=1e-7)
    assert set(a.data["layers"]) == set(model.backward(trace, 0)) - {"logits", "probs", model.layers[-1].name} | \
        ({model.layers[-1].name} if model.layers[-1].kind != "softmax" else set())
    n = a.normalized()
    assert n.min() >= 0 and n.max() == pytest.approx(1.0)


def test_smoothgrad_averages_seeded_noisy_gradients(case):
    model, x = case
    s = smoothgrad(model, x, target=2, n=4, sigma=0.1, seed=7)
    again = smoothgrad(model, x, target=2, n=4, sigma=0.1, seed=7)
    np.testing.assert_array_equal(s.map, again.map)
    assert not np.array_equal(s.map, smoothgrad(model, x, target=2, n=4, sigma=0.1, seed=8).map)
    std = 0.1 * float(x.max() - x.min())
    assert s.data["noise_std"] == pytest.approx(std)
    noise = np.random.default_rng(7).normal(0.0, std, (4, *x.shape))
    each = [vanilla_gradient(model, (x + noise[i]).astype(np.float32), 2).data["gradient"] for i in range(4)]
    np.testing.assert_allclose(s.data["mean_gradient"], np.mean(each, axis=0), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(s.map, np.abs(s.data["mean_gradient"]).max(-1))
    plain = smoothgrad(model, x, target=2, n=1, sigma=0.0)
    np.testing.assert_allclose(plain.map, vanilla_gradient(model, x, 2).map, rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="at least one"):
        smoothgrad(model, x, n=0)


def test_grad_cam_weights_the_layers_maps_by_their_mean_gradient(case):
    model, x = case
    c = grad_cam(model, x, target=0)
    layer = c.data["layer"]
    assert layer == last_conv_layer(model)
    trace, _, g = class_gradients(model, x, 0)
    alpha = g[layer].mean(axis=(0, 1))
    np.testing.assert_allclose(c.data["weights"], alpha, rtol=1e-5, atol=1e-8)
    coarse = np.maximum((trace[layer] * alpha).sum(-1), 0)
    np.testing.assert_allclose(c.data["coarse"], coarse, rtol=1e-4, atol=1e-7)
    assert c.map.shape == model.input_shape[:2] and c.map.min() >= 0
    assert c.map.max() <= coarse.max() * (1 + 1e-6) + 1e-12  # bilinear never overshoots
    any_layer = model.layers[2].name  # Grad-CAM works at any H×W×C layer
    assert grad_cam(model, x, 0, layer=any_layer).data["coarse"].shape == model.shapes[any_layer][:2]
    with pytest.raises(ValueError, match="H×W×C"):
        grad_cam(model, x, 0, layer=next(la.name for la in model.layers if la.kind == "flatten"))
    assert attribution(model, x, "gradcam", 0).data["layer"] == layer


def test_last_conv_layer_follows_a_relu_when_there_is_one():
    assert last_conv_layer(cnn101.load_model()) == "relu_2_2"
    assert last_conv_layer(synthetic_model()) == "shrink"  # no ReLU after it


def test_resize_bilinear():
    a = np.array([[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_allclose(resize_bilinear(a, (2, 2)), a)
    big = resize_bilinear(a, (4, 4))
    np.testing.assert_allclose(big[0], [0, 0.25, 0.75, 1])
    np.testing.assert_allclose(big[:, 0], [0, 0.5, 1.5, 2])
    np.testing.assert_allclose(resize_bilinear(np.full((3, 5), 2.0), (7, 4)), 2.0)


def test_fgsm_steps_along_the_gradient_sign(case):
    model, x = case
    f = fgsm(model, x, epsilons=(0.05, 0.001, 0.01, 0.3))
    trace = model.trace(x)
    g = model.backward(trace, f.target)["input"]
    assert f.target == f.original_prediction == int(trace.predicted)
    np.testing.assert_array_equal(f.sign, np.sign(g))
    assert f.epsilons == (0.001, 0.01, 0.05, 0.3)
    for s in f.steps:
        assert s.image.min() >= 0 and s.image.max() <= 1
        assert np.abs(s.difference).max() <= s.epsilon + 1e-6
        np.testing.assert_allclose(s.image, np.clip(x + s.epsilon * np.sign(g), 0, 1), atol=1e-7)
        np.testing.assert_allclose(s.probs, model.predict(s.image), rtol=1e-5, atol=1e-7)
        assert s.predicted == int(np.argmax(model.predict(s.image)))
        a = s.amplified
        assert a.min() >= 0 and a.max() <= 1
    assert f.steps[0].target_prob < float(trace.probs[f.target])  # a small step lowers the class's probability
    flips = [s.epsilon for s in f.steps if s.predicted != f.original_prediction]
    assert f.flip_epsilon == (flips[0] if flips else None)
    other = f.step(0.02)
    np.testing.assert_allclose(other.image, np.clip(x + 0.02 * np.sign(g), 0, 1), atol=1e-7)


def test_fgsm_flips_the_shipped_models_prediction_on_a_real_image():
    from cnn101.dataset import Dataset, default_root

    data = default_root()
    if not (data / "MANIFEST.tsv").exists():
        pytest.skip(f"no tiny-imagenet-10 at {data}")
    model = cnn101.load_model()
    x = Dataset(data).split("cnnx_test", per_class=1).images(model)[6]
    f = fgsm(model, x)
    assert f.flip_epsilon is not None and f.flip_epsilon <= 0.1
    assert f.step(f.flip_epsilon).predicted != f.original_prediction
