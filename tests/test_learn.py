"""cnn101.learn without TensorFlow: seeded re-initialisation, a new output layer, freezing, refusals."""
import numpy as np
import pytest

import cnn101
from cnn101 import learn
from models import synthetic_image, synthetic_model


def batch():
    return np.stack([synthetic_image(s) for s in range(4)]), np.array([0, 1, 2, 1])


def weights(model):
    return {(la.name, k): v.copy() for la in model.layers for k, v in la.params.items()}


def test_reinitialize_is_seeded_glorot_with_zero_biases():
    a, b = synthetic_model(), synthetic_model()
    learn.reinitialize(a, seed=3)
    learn.reinitialize(b, seed=3)
    for key, v in weights(a).items():
        np.testing.assert_array_equal(v, weights(b)[key])  # same seed, same weights bit for bit
    conv = a.layer("edges")
    limit = np.sqrt(6 / (5 * 5 * 3 + 5 * 5 * 4))
    assert np.abs(conv.kernel).max() <= limit and np.abs(conv.kernel).max() > 0.8 * limit
    assert not conv.bias.any()
    learn.reinitialize(b, seed=4)
    assert not np.array_equal(a.layer("edges").kernel, b.layer("edges").kernel)
    only = synthetic_model()
    before = weights(only)
    learn.reinitialize(only, seed=0, layers=["scores"])
    np.testing.assert_array_equal(only.layer("edges").kernel, before["edges", "kernel"])


def test_replace_output_makes_a_new_head_and_leaves_the_model_alone():
    model = synthetic_model()
    before = weights(model)
    new = learn.replace_output(model, ["cat", "dog"], seed=1)
    assert new.class_names == ["cat", "dog"] and new.num_classes == 2
    assert [la.name for la in new.layers] == [la.name for la in model.layers]
    assert new.layers[-1].kind == "softmax" and new.layer("scores").kernel.shape == (24, 2)
    xs, _ = batch()
    learn.SGD(0.1).step(new, xs, [0, 1, 1, 0])
    for key, v in weights(model).items():
        np.testing.assert_array_equal(v, before[key])  # training the copy did not touch the original
    with pytest.raises(learn.TrainingError, match="at least two classes"):
        learn.replace_output(model, ["one"])
    with pytest.raises(learn.TrainingError, match="same name"):
        learn.replace_output(model, ["a", "a"])


def test_frozen_layers_keep_their_weights():
    model = synthetic_model()
    learn.freeze(model)  # every layer but the logits layer
    before = weights(model)
    xs, ys = batch()
    opt = learn.Adam(1e-2)
    for _ in range(3):
        opt.step(model, xs, ys)
    after = weights(model)
    for (name, key), v in before.items():
        if name == "scores":
            assert not np.array_equal(after[name, key], v)
        else:
            np.testing.assert_array_equal(after[name, key], v)
    learn.freeze(model, ["edges"], trainable=True)
    learn.sgd_step(model, xs, ys, 0.1)
    assert not np.array_equal(model.layer("edges").kernel, before["edges", "kernel"])


def test_losses_fall_and_bad_settings_are_refused():
    model = synthetic_model()
    xs, ys = batch()
    opt = learn.SGD(0.05, momentum=0.9)
    losses = [opt.step(model, xs, ys) for _ in range(15)]
    assert losses[-1] < losses[0]
    with pytest.raises(learn.TrainingError, match="learning rate"):
        learn.SGD(0)
    with pytest.raises(learn.TrainingError, match="Momentum"):
        learn.SGD(0.1, momentum=1.0)
    with pytest.raises(learn.TrainingError, match="batch"):
        learn.sgd_step(model, xs[0], ys[:1], 0.1)
    blown = synthetic_model()
    blown.layer("scores").kernel[0, 0] = np.inf  # as after a step that overflowed
    with pytest.raises(learn.TrainingError, match="not a number"):
        learn.sgd_step(blown, xs, ys, 0.1)


def test_training_the_head_of_the_shipped_model_on_new_classes():
    model = learn.replace_output(cnn101.load_model(), ["bright", "dark"], seed=0)
    learn.freeze(model)
    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.uniform(0.6, 1.0, (8, 64, 64, 3)), rng.uniform(0.0, 0.4, (8, 64, 64, 3))]).astype(np.float32)
    ys = np.array([0] * 8 + [1] * 8)
    opt = learn.Adam(1e-2)
    for _ in range(20):
        opt.step(model, xs, ys)
    assert (model.trace(xs).predicted == ys).all()


def test_fit_is_seeded_and_reports_per_epoch():
    xs = np.stack([synthetic_image(s) for s in range(10)])
    ys = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    runs = []
    for _ in range(2):
        model = synthetic_model()
        seen = []
        h = learn.fit(model, xs, ys, learn.SGD(0.05, momentum=0.5), epochs=3, batch_size=4, seed=5,
                      validation=(xs[:4], ys[:4]), callback=lambda step, info: seen.append((step, info["loss"])), every=2)
        runs.append((h, weights(model), seen))
    (h, w, seen), (h2, w2, _) = runs
    for key in w:
        np.testing.assert_array_equal(w[key], w2[key])  # same seed: same weights bit for bit
    assert h.steps == 9 and len(h.loss) == len(h.val_loss) == len(h.val_accuracy) == 3
    assert [s for s, _ in seen] == [2, 4, 6, 8]
    assert h.loss == h2.loss and h.val_loss == h2.val_loss
    vl, va = learn.evaluate(synthetic_model(), xs[:4], ys[:4])
    want = synthetic_model().backward(synthetic_model().trace(xs[:4]), ys[:4]).loss
    assert vl == pytest.approx(want, rel=1e-6) and 0 <= va <= 1
    stopped = learn.fit(synthetic_model(), xs, ys, learn.SGD(0.05), epochs=3, batch_size=4,
                        callback=lambda step, info: step < 2)
    assert stopped.steps == 2 and "step 2" in stopped.stopped and len(stopped.loss) == 1
    with pytest.raises(learn.TrainingError, match="one label per image"):
        learn.fit(synthetic_model(), xs, ys[:3], learn.SGD(0.1))
