"""Parity of `model.backward` with TensorFlow's GradientTape: every activation, input and weight gradient.

TensorFlow's loss is `tf.nn.sparse_softmax_cross_entropy_with_logits` on the logits (the mean over a
batch). Its forward pass is written out layer by layer so that the tape can watch every intermediate
tensor, fused activations included (the pre-activation is computed with `tf.nn.conv2d`/`tf.matmul` on
the layer's own variables, so its kernel/bias gradients come out too). Each gradient must be within
1e-5 of TensorFlow's, relative to max(1, max |TF value|).

Models: the shipped Tiny VGG on real tiny-imagenet-10 images (one per class, several targets), and
Keras models the engine was not written for, loaded from the `.keras` file Keras writes.
TensorFlow is a test dependency (scripts/setup.sh dev); these tests must run, never skip.
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest

import cnn101
from models import randomize_keras_weights
from cnn101.dataset import Dataset, default_root

# TensorFlow is imported when these tests run (the tf_keras fixture of conftest, which also marks them
# 'tf'), not when they are collected: the fast layer and a machine without TensorFlow can still collect.
tf = keras = L = None


@pytest.fixture(autouse=True, scope="module")
def _tensorflow(tf_keras):
    global tf, keras, L
    tf, keras = tf_keras
    L = keras.layers
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
REL = 1e-5


def _odd_gray():
    """23×19×1: 5×5 stride-2 'same' conv with fused relu, 3×3 stride-1 'same' pool, 1×1 conv without bias,
    hidden dense layers, fused softmax."""
    return (23, 19, 1), [
        L.Conv2D(6, 5, strides=2, padding="same", activation="relu", name="c1"),
        L.MaxPooling2D(3, strides=1, padding="same", name="p1"),
        L.Conv2D(4, 1, use_bias=False, name="c2"),
        L.ReLU(name="r2"),
        L.MaxPooling2D(2, name="p2"),
        L.Flatten(name="flat"),
        L.Dense(9, activation="relu", name="hidden"),
        L.Dense(7, activation="relu", use_bias=False, name="hidden2"),
        L.Dense(4, activation="softmax", name="out"),
    ]


def _nonsquare_rgb():
    """17×21×3: valid 3×3, a (2, 4) kernel with (2, 1) strides, an overlapping (2, 3)/2 'same' pool, separate
    Activation and Softmax layers, a dense layer without bias."""
    return (17, 21, 3), [
        L.Conv2D(5, 3, name="c1"),
        L.Activation("relu", name="a1"),
        L.Conv2D(6, (2, 4), strides=(2, 1), padding="same", activation="relu", name="c2"),
        L.MaxPooling2D((2, 3), strides=2, padding="same", name="p2"),
        L.Conv2D(3, 3, strides=2, padding="valid", name="c3"),
        L.Flatten(name="flat"),
        L.Dense(6, use_bias=False, name="logit"),
        L.Softmax(name="sm"),
    ]


def _logits_only():
    """12×12×2 ending in logits (no softmax): the engine's loss is on softmax of the logits, as TF's."""
    return (12, 12, 2), [
        L.Conv2D(3, 3, padding="same", activation="relu", name="c1"),
        L.Conv2D(4, 3, strides=2, padding="same", name="c2"),
        L.MaxPooling2D(3, strides=2, padding="same", name="p2"),
        L.Flatten(name="flat"),
        L.Dense(5, name="out"),
    ]


SPECS = {"odd_gray23x19": _odd_gray, "nonsquare17x21": _nonsquare_rgb, "logits12": _logits_only}


def _act_name(layer):
    if isinstance(layer, (L.Conv2D, L.Dense)):
        return getattr(layer.activation, "__name__", None)
    return None


def tf_gradients(km, x, targets):
    """(engine name → d loss / d that tensor, engine name → {kernel, bias} grads, loss) from GradientTape."""
    x = tf.constant(x)
    tensors, variables = {"input": x}, {}
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        h, logits = x, None
        for layer in km.layers:
            if isinstance(layer, L.Dropout):
                continue
            act = _act_name(layer)
            if act in ("relu", "softmax"):
                if isinstance(layer, L.Conv2D):
                    pre = tf.nn.conv2d(h, layer.kernel, strides=list(layer.strides), padding=layer.padding.upper())
                else:
                    pre = tf.matmul(h, layer.kernel)
                if layer.use_bias:
                    pre = pre + layer.bias
                tape.watch(pre)
                tensors[layer.name] = pre
                h = tf.nn.relu(pre) if act == "relu" else tf.nn.softmax(pre)
                if act == "softmax":
                    logits = pre
                tensors[f"{layer.name}_{act}"] = h
            else:
                if isinstance(layer, (L.Softmax,)) or (isinstance(layer, L.Activation)
                                                       and layer.get_config()["activation"] == "softmax"):
                    logits = h
                h = layer(h)
                tensors[layer.name] = h
            if layer.weights:
                variables[layer.name] = {"kernel": layer.kernel, **({"bias": layer.bias} if layer.use_bias else {})}
            tape.watch(h)
        if logits is None:
            logits = h
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant(targets), logits))
    grads = {}
    for name, t in tensors.items():
        g = tape.gradient(loss, t)
        if g is not None:  # a final softmax's output is not on the path from the logits to the loss
            grads[name] = g.numpy()
    grads["logits"] = tape.gradient(loss, logits).numpy()
    wgrads = {name: {k: tape.gradient(loss, v).numpy() for k, v in vs.items()} for name, vs in variables.items()}
    del tape
    return grads, wgrads, float(loss.numpy())


def assert_close(got, want, what):
    assert got.shape == want.shape, f"{what}: shape {got.shape} ≠ TF's {want.shape}"
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    err = float(np.max(np.abs(np.asarray(got, np.float64) - want))) if want.size else 0.0
    assert err <= REL * scale, f"{what}: max |engine − TF| = {err:.3g} (scale {scale:.3g})"


def compare(model, trace, g, tf_grads, tf_w, tf_loss):
    compared = 0
    for name, want in tf_grads.items():
        got = g[name] if trace.batched else g[name][None]
        assert_close(got, want, f"d loss / d {name}")
        compared += 1
    for layer in model.layers:
        if layer.params:
            assert set(g.params[layer.name]) == set(layer.params) == set(tf_w[layer.name]), layer.name
            for k, want in tf_w[layer.name].items():
                assert g.params[layer.name][k].shape == layer.params[k].shape
                assert_close(g.params[layer.name][k], want, f"d loss / d {layer.name}.{k}")
    assert abs(g.loss - tf_loss) <= REL * max(1.0, abs(tf_loss))
    # every array of the trace but the softmax output has its TF counterpart
    assert set(trace) - set(tf_grads) <= {"probs", model.layers[-1].name}
    return compared


# --- Keras models the engine was not written for ------------------------------------------------------

@pytest.fixture(scope="module")
def keras_cases(tmp_path_factory):
    cache = {}

    def get(name):
        if name not in cache:
            shape, layers = SPECS[name]()
            keras.utils.set_random_seed(2)
            km = keras.Sequential([keras.Input(shape), *layers], name=name)
            rng = np.random.default_rng(zlib.crc32(name.encode()))
            randomize_keras_weights(km, rng)
            path = tmp_path_factory.mktemp(name) / "m.keras"
            km.save(path)
            x = rng.random((3, *shape), dtype=np.float32)
            cache[name] = (km, cnn101.load_model(path), x)
        return cache[name]
    return get


@pytest.mark.parametrize("name", SPECS)
def test_batch_gradients_match_tensorflow(keras_cases, name):
    km, model, x = keras_cases(name)
    targets = np.arange(3) % model.num_classes
    trace = model.trace(x)
    g = model.backward(trace, targets)
    tf_grads, tf_w, tf_loss = tf_gradients(km, x, targets)
    assert compare(model, trace, g, tf_grads, tf_w, tf_loss) >= len(model.layers)


@pytest.mark.parametrize("name", SPECS)
@pytest.mark.parametrize("target", [0, -1])
def test_single_image_gradients_match_tensorflow(keras_cases, name, target):
    km, model, x = keras_cases(name)
    target = target % model.num_classes
    trace = model.trace(x[1])
    g = model.backward(trace, target)
    tf_grads, tf_w, tf_loss = tf_gradients(km, x[1:2], np.array([target]))
    compare(model, trace, g, tf_grads, tf_w, tf_loss)


def test_pool_ties_route_like_tensorflow(keras_cases):
    """Quantised inputs make a ReLU'd conv output and its pool windows full of equal values."""
    km, model, x = keras_cases("odd_gray23x19")
    xq = np.round(x[:1] * 2) / 2
    xq[:, :8] = 0.0  # a flat region: every window of the relu'd conv there is one tie
    trace = model.trace(xq)
    ties = sum(int(np.sum(trace[n] == 0)) for n in ("c1_relu", "r2"))
    assert ties > 50
    g = model.backward(trace, [2])
    tf_grads, tf_w, tf_loss = tf_gradients(km, xq, np.array([2]))
    compare(model, trace, g, tf_grads, tf_w, tf_loss)


# --- the shipped Tiny VGG on real images -----------------------------------------------------------------

def keras_copy(model):
    """A Keras Sequential with the engine model's layers and weights (fused nothing: one Keras layer each)."""
    import keras
    L = keras.layers
    layers = []
    for layer in model.layers:
        if layer.kind == "conv2d":
            layers.append(L.Conv2D(layer.filters, tuple(layer.kernel_size), strides=layer.strides,
                                   padding=layer.padding, use_bias=layer.use_bias, name=layer.name))
        elif layer.kind == "dense":
            layers.append(L.Dense(layer.units, use_bias=layer.use_bias, name=layer.name))
        elif layer.kind == "relu":
            layers.append(L.ReLU(name=layer.name))
        elif layer.kind == "maxpool2d":
            layers.append(L.MaxPooling2D(layer.pool_size, strides=layer.strides, padding=layer.padding,
                                         name=layer.name))
        elif layer.kind == "flatten":
            layers.append(L.Flatten(name=layer.name))
        else:
            layers.append(L.Softmax(name=layer.name))
    km = keras.Sequential([keras.Input(model.input_shape), *layers])
    for layer in model.layers:
        if layer.params:
            km.get_layer(layer.name).set_weights(list(layer.params.values()))
    return km


@pytest.fixture(scope="module")
def shipped():
    data = default_root()
    if not (data / "MANIFEST.tsv").exists():
        pytest.skip(f"no tiny-imagenet-10 at {data}")
    model = cnn101.load_model()
    split = Dataset(data).split("cnnx_test", per_class=1)
    return model, keras_copy(model), split.images(model), split.labels


def test_shipped_model_batch_gradients_match_tensorflow(shipped):
    model, km, x, labels = shipped
    idx = np.arange(0, 10, 2)  # five images of five classes, each with a target that is not its label for some
    targets = (labels[idx] + np.array([0, 0, 3, 7, 1])) % model.num_classes
    trace = model.trace(x[idx])
    g = model.backward(trace, targets)
    tf_grads, tf_w, tf_loss = tf_gradients(km, x[idx], targets)
    assert compare(model, trace, g, tf_grads, tf_w, tf_loss) == len(model.layers) + 1  # + input, logits; − softmax


@pytest.mark.parametrize("image, target", [(1, "ladybug"), (3, 0), (6, "koala"), (9, 9)])
def test_shipped_model_single_image_gradients_match_tensorflow(shipped, image, target):
    model, km, x, labels = shipped
    trace = model.trace(x[image])
    g = model.backward(trace, target)
    t = model.class_names.index(target) if isinstance(target, str) else target
    tf_grads, tf_w, tf_loss = tf_gradients(km, x[image:image + 1], np.array([t]))
    compare(model, trace, g, tf_grads, tf_w, tf_loss)
