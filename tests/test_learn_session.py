"""Step-by-step training (cnn101.learn.Session, the worker's Job): the same weights as `fit`, bit for bit;
a loss that is not a number puts back the last good weights; the bytes that cross to and from a worker."""
import json

import numpy as np
import pytest

from cnn101 import learn
from cnn101.formats import model_from_files, tfjs
from cnn101.formats.native import model_bytes, model_from_bytes
from cnn101.learn.exchange import Job, check_settings, session_for
from cnn101.render.curves import curves_svg
from models import synthetic_image, synthetic_model


def data(n=10):
    xs = np.stack([synthetic_image(s) for s in range(n)])
    return xs, np.arange(n) % 3


def weights(model):
    return {(la.name, k): v.copy() for la in model.layers for k, v in la.params.items()}


@pytest.mark.parametrize("make", [lambda: learn.Adam(1e-2), lambda: learn.SGD(0.05, momentum=0.9)])
def test_a_session_run_to_the_end_equals_fit_bit_for_bit(make):
    xs, ys = data()
    a, b = synthetic_model(), synthetic_model()
    history = learn.fit(a, xs, ys, make(), epochs=3, batch_size=4, seed=7)
    s = learn.Session(b, make(), xs, ys, batch_size=4, epochs=3, seed=7)
    losses = []
    while not s.done:
        losses.append(s.step()["loss"])
    assert s.steps == history.steps == s.total_steps == 9
    for key, v in weights(a).items():
        np.testing.assert_array_equal(weights(b)[key], v, err_msg=str(key))
    assert np.mean(losses[:3]) != np.mean(losses[-3:])
    with pytest.raises(learn.TrainingError, match="finished"):
        s.step()


def test_a_loss_that_is_not_a_number_puts_back_the_last_good_weights():
    xs, ys = data(8)
    model = synthetic_model()
    s = session_for(model, {"optimizer": "sgd", "learning_rate": 1e4, "momentum": 0.0, "batch_size": 4,
                            "epochs": 20, "train": "all"}, xs, ys)
    seen = []
    with pytest.raises(learn.TrainingError, match="not a number"):
        while True:
            seen.append(weights(model))
            s.step()
    good = seen[-2]  # the weights before the last step whose loss was finite
    for key, v in weights(model).items():
        np.testing.assert_array_equal(v, good[key])
    assert all(np.isfinite(v).all() for v in weights(model).values())
    assert np.isfinite(learn.evaluate(model, xs, ys)[0])


def test_holdout_takes_every_fifth_image_of_each_class():
    ys = np.array([0] * 7 + [1] * 4 + [2] * 10)
    train, held = learn.holdout(ys)
    assert list(held) == [4, 15, 20]
    assert sorted(np.concatenate([train, held]).tolist()) == list(range(len(ys)))


def test_settings_are_checked_with_plain_messages():
    assert check_settings({})["optimizer"] == "adam"
    for bad, words in [({"optimizer": "rmsprop"}, "optimizer"), ({"learning_rate": -1}, "learning rate"),
                       ({"learning_rate": "x"}, "learning rate"), ({"batch_size": 0}, "batch size"),
                       ({"epochs": 1.5}, "epochs"), ({"train": "middle"}, "which layers")]:
        with pytest.raises(learn.TrainingError, match=words):
            check_settings(bad)


def test_head_training_leaves_the_other_layers_alone():
    xs, ys = data(6)
    model = learn.replace_output(synthetic_model(), ["a", "b", "c"])
    before = weights(model)
    s = session_for(model, {"train": "head", "learning_rate": 0.01, "epochs": 2, "batch_size": 3}, xs, ys)
    while not s.done:
        s.step()
    for (name, key), v in weights(model).items():
        same = np.array_equal(v, before[name, key])
        assert same == (name != "scores"), name


def test_a_job_from_bytes_equals_a_session_and_reports_json():
    xs, ys = data(15)
    model = learn.replace_output(synthetic_model(), ["x", "y", "z"])
    card, npz = model_bytes(model)
    train, held = learn.holdout(ys)
    settings = {"optimizer": "sgd", "learning_rate": 0.05, "batch_size": 4, "epochs": 2, "train": "all", "seed": 3}
    xt, yt, xv, yv = xs[train], ys[train], xs[held], ys[held]
    job = Job(card, npz, xt.astype("<f4").tobytes(), xt.shape, yt.tolist(), xv.astype("<f4").tobytes(), xv.shape,
              yv.tolist(), json.dumps(settings))
    reports = [json.loads(job.advance(3))]
    while not reports[-1]["done"]:
        reports.append(json.loads(job.advance(3)))
    assert sum(len(r["steps"]) for r in reports) == reports[-1]["total_steps"] == 6
    assert reports[-1]["val_accuracy"] is not None and reports[-1]["error"] is None
    ref = model_from_bytes(card, npz)
    s = session_for(ref, settings, xt, yt, (xv, yv))
    while not s.done:
        s.step()
    got = model_from_bytes(card, job.weights())
    for key, v in weights(ref).items():
        np.testing.assert_array_equal(weights(got)[key], v)
    assert json.loads(job.advance(1))["steps"] == []


def test_model_bytes_and_tfjs_files_read_back_to_the_same_model():
    model = learn.replace_output(synthetic_model(), ["p", "q"])
    card, npz = model_bytes(model)
    for files in ({"m.json": card, "m.npz": npz}, tfjs.files(model, shard_bytes=1000)):
        back = model_from_files(files)
        assert back.class_names == ["p", "q"]
        for key, v in weights(model).items():
            np.testing.assert_array_equal(weights(back)[key], v)
    other = synthetic_model(seed=4)
    learn.copy_weights(model_from_bytes(card, npz), other := learn.replace_output(other, ["p", "q"]))
    np.testing.assert_array_equal(other.layer("edges").kernel, model.layer("edges").kernel)
    with pytest.raises(learn.TrainingError, match="another network"):
        learn.copy_weights(model, learn.replace_output(synthetic_model(), ["a", "b", "c"]))


def test_curves_draw_one_line_per_series_with_values():
    svg = curves_svg({"loss": [(1, 2.0), (2, 1.0)], "accuracy": [(1, 0.5), (2, 1.0)], "val_loss": [(2, float("nan"))]}, 4)
    assert svg.count("<polyline") == 2 and 'data-series="loss"' in svg and 'data-series="val_loss"' not in svg
    assert 'points="83.0,6.0 160.0,70.0"' in svg  # step 1 of 4, the largest loss at the top


def test_curves_run_to_the_last_step_that_ran_unless_told_otherwise():
    """A run stopped at step 3 of 200 fills the chart (its last point at the right edge), not 1.5 % of it."""
    series = {"loss": [(1, 2.0), (2, 1.5), (3, 1.0)], "val_loss": [(2, 1.8)]}
    assert 'points="108.7,6.0 211.3,38.0 314.0,70.0"' in curves_svg(series)
    assert 'points="108.7,6.0 211.3,38.0 314.0,70.0"' not in curves_svg(series, 200)
    assert "<polyline" not in curves_svg({})  # nothing ran yet: an empty chart
