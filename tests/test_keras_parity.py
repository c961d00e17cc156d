"""Parity with TensorFlow: random-weight Keras Sequential models, every layer's output to ≤ 1e-5.

Each model is loaded into cnn101 three ways — the `.keras` file Keras writes, a TF.js layers-model
(Keras-2-style topology, as tensorflowjs_converter writes it) built here from the Keras weights, and our
own format after `save` → `load_model` — and every engine layer is compared with Keras. A fused
activation (Conv2D(..., activation="relu")) is checked twice: the pre-activation against TensorFlow's
conv/matmul on Keras's input to that layer, the activation against the Keras layer's output.
TensorFlow is a test dependency (scripts/setup.sh dev); these tests must run, never skip.
"""
from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

import cnn101
from models import randomize_keras_weights

keras = tf = L = None  # bound by the `cases` fixture from conftest's tf_keras (collection needs no TensorFlow)
pytestmark = [pytest.mark.tf, pytest.mark.filterwarnings("ignore::DeprecationWarning")]  # Keras under NumPy 2
ATOL = 1e-5
WAYS = ("keras", "tfjs", "native")


def _rgb32():
    return (32, 32, 3), 10, [
        L.Conv2D(8, 5, padding="same", activation="relu", name="c1"),
        L.MaxPooling2D(3, strides=2, padding="same", name="p1"),
        L.Conv2D(6, 4, strides=2, padding="valid", name="c2"),
        L.Activation("relu", name="a2"),
        L.MaxPooling2D(2, name="p2"),
        L.Flatten(name="flat"),
        L.Dropout(0.3, name="drop"),
        L.Dense(10, activation="softmax", name="out"),
    ]


def _gray28():
    return (28, 28, 1), 3, [
        L.Conv2D(4, 1, name="c1"),
        L.ReLU(name="r1"),
        L.Conv2D(5, 2, strides=2, padding="same", use_bias=False, name="c2"),
        L.MaxPooling2D(2, strides=1, padding="valid", name="p2"),
        L.Conv2D(3, 3, padding="same", activation="relu", name="c3"),  # a conv tail without pool
        L.Flatten(name="flat"),
        L.Dense(3, name="logit"),
        L.Softmax(name="sm"),
    ]


def _nonsquare():
    return (45, 37, 3), 10, [
        L.Conv2D(6, (3, 5), strides=(2, 1), activation="relu", name="c1"),
        L.MaxPooling2D((2, 3), strides=2, padding="same", name="p1"),
        L.Conv2D(5, 5, padding="same", name="c2"),
        L.Activation("relu", name="a2"),
        L.Activation("linear", name="lin"),
        L.MaxPooling2D(3, strides=3, padding="same", name="p2"),
        L.Flatten(name="flat"),
        L.Dense(10, name="out"),
        L.Activation("softmax", name="prob"),
    ]


def _deep():
    """Twelve convs (Keras 3 stores them as layers/conv2d … conv2d_11 in its .h5), dense head, no softmax."""
    layers, chans = [], [2, 3, 4, 3, 5, 4, 3, 4, 5, 3, 4, 3, 4]
    for i in range(12):
        k = 3 if i % 2 else 1
        layers.append(L.Conv2D(chans[i + 1], k, padding="same", activation="relu" if i % 3 else None, name=f"conv{i}"))
    layers += [L.MaxPooling2D(2, name="pool"), L.Flatten(name="flat"), L.Dense(12, activation="relu", name="hidden"),
               L.Dropout(0.5, name="drop"), L.Dense(3, name="out")]
    return (16, 16, 2), 3, layers


def _tiny_vgg():
    c = dict(kernel_size=3, padding="valid", activation="relu")
    return (64, 64, 3), 10, [
        L.Conv2D(10, name="conv_1_1", **c), L.Conv2D(10, name="conv_1_2", **c), L.MaxPooling2D(2, name="max_pool_1"),
        L.Conv2D(10, name="conv_2_1", **c), L.Conv2D(10, name="conv_2_2", **c), L.MaxPooling2D(2, name="max_pool_2"),
        L.Flatten(name="flatten"), L.Dense(10, activation="softmax", name="output"),
    ]


SPECS = {"rgb32": _rgb32, "gray28": _gray28, "nonsquare45x37": _nonsquare, "deep16": _deep, "tinyvgg64": _tiny_vgg}


# --- building the Keras models and their reference outputs (once per module) -----------------------

def _pre_activation(layer, x):
    """A layer's output before its fused activation, computed by TensorFlow."""
    ws = layer.get_weights()
    if isinstance(layer, L.Conv2D):
        y = tf.nn.conv2d(x, ws[0], strides=list(layer.strides), padding=layer.padding.upper())
    else:
        y = tf.matmul(x, ws[0])
    return (y + ws[1] if len(ws) > 1 else y).numpy()


def _keras_outputs(model, x) -> dict[str, np.ndarray]:
    """Engine layer name → what Keras computes for it (a fused activation gives two entries)."""
    probe = keras.Model(model.inputs, [layer.output for layer in model.layers])
    outs = [o.numpy() for o in probe([x], training=False)]
    want, prev = {}, x
    for layer, out in zip(model.layers, outs):
        act = getattr(layer, "activation", None)
        act = getattr(act, "__name__", None) if isinstance(layer, (L.Conv2D, L.Dense)) else None
        if act in ("relu", "softmax"):
            want[layer.name] = _pre_activation(layer, prev)
            want[f"{layer.name}_{act}"] = out
        elif not isinstance(layer, L.Dropout) and not (isinstance(layer, L.Activation) and act is None
                                                       and layer.get_config()["activation"] == "linear"):
            want[layer.name] = out
        prev = out
    return want


def _tfjs_topology(model, input_shape) -> list[dict]:
    """Keras-2-style layer configs, as in a TF.js model.json written by tensorflowjs_converter."""
    keys = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation", "use_bias",
            "pool_size", "units", "rate", "axis", "max_value", "negative_slope", "threshold")
    out = []
    for i, layer in enumerate(model.layers):
        cfg = layer.get_config()
        c = {"name": layer.name, "trainable": True, "dtype": "float32", **{k: cfg[k] for k in keys if k in cfg}}
        if i == 0:
            c["batch_input_shape"] = [None, *input_shape]
        out.append({"class_name": type(layer).__name__, "config": c})
    return out


def write_tfjs(model, input_shape, directory, shards=2):
    """model.json + `shards` .bin files cut at arbitrary byte offsets, as the converter does."""
    directory.mkdir(parents=True, exist_ok=True)
    entries, blob = [], b""
    for layer in model.layers:
        for var, w in zip(("kernel", "bias"), layer.get_weights()):
            entries.append({"name": f"{layer.name}/{var}", "shape": list(w.shape), "dtype": "float32"})
            blob += np.ascontiguousarray(w, "<f4").tobytes()
    cut = [round(len(blob) * i / shards) for i in range(shards + 1)]
    paths = [f"group1-shard{i + 1}of{shards}.bin" for i in range(shards)]
    for i, p in enumerate(paths):
        (directory / p).write_bytes(blob[cut[i]:cut[i + 1]])
    doc = {"format": "layers-model", "generatedBy": "keras v2.2.4-tf", "convertedBy": "TensorFlow.js Converter v1.3.1.1",
           "modelTopology": {"keras_version": "2.2.4-tf", "backend": "tensorflow",
                             "model_config": {"class_name": "Sequential",
                                              "config": {"name": "sequential", "layers": _tfjs_topology(model, input_shape)}}},
           "weightsManifest": [{"paths": paths, "weights": entries}]}
    (directory / "model.json").write_text(json.dumps(doc))
    return directory / "model.json"


class Case:
    def __init__(self, name, tmp):
        shape, classes, layers = SPECS[name]()
        keras.utils.set_random_seed(1)
        self.keras = keras.Sequential([keras.Input(shape), *layers], name=name)
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        randomize_keras_weights(self.keras, rng)
        self.x = rng.random((2, *shape), dtype=np.float32)
        self.want = _keras_outputs(self.keras, self.x)
        self.keras_probs = self.keras.predict(self.x, verbose=0)
        self.shape, self.classes = shape, classes
        names = [f"{name} class {i}" for i in range(classes)]
        self.keras_path = tmp / "m.keras"
        self.keras.save(self.keras_path)
        self.models = {"keras": cnn101.load_model(self.keras_path, class_names=names),
                       "tfjs": cnn101.load_model(write_tfjs(self.keras, shape, tmp / "tfjs"), class_names=names)}
        self.models["keras"].save(tmp / "native" / "m")
        self.models["native"] = cnn101.load_model(tmp / "native" / "m.json")
        if self.models["keras"].layers[-1].kind != "softmax":  # the model ends in logits; cnn101 adds probs
            self.keras_probs = tf.nn.softmax(self.keras_probs).numpy()


@pytest.fixture(scope="module")
def cases(tmp_path_factory, tf_keras):
    global keras, tf, L
    tf, keras = tf_keras
    L = keras.layers
    cache = {}

    def get(name) -> Case:
        if name not in cache:
            cache[name] = Case(name, tmp_path_factory.mktemp(name))
        return cache[name]
    return get


# --- the tests ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", SPECS)
def test_every_layer_matches_keras(cases, name, way):
    case = cases(name)
    model = case.models[way]
    trace = model.trace(case.x)
    engine_names = [layer.name for layer in model.layers]
    assert engine_names == list(case.want), "engine layers ≠ Keras layers (fused activations split, Dropout dropped)"
    for n, want in case.want.items():
        got = trace[n]
        assert got.shape == want.shape, n
        err = float(np.max(np.abs(got - want)))
        assert err <= ATOL, f"{name}/{way}: layer {n} differs from Keras by {err:.2e}"
    np.testing.assert_allclose(trace.probs, case.keras_probs, atol=ATOL, rtol=0)
    np.testing.assert_array_equal(trace.predicted, np.argmax(case.keras_probs, axis=-1))


@pytest.mark.parametrize("name", SPECS)
def test_structure_matches_keras(cases, name):
    case = cases(name)
    m = case.models["keras"]
    assert m.input_shape == case.shape and m.num_classes == case.classes
    assert m.param_count == case.keras.count_params()
    for layer in case.keras.layers:
        if layer.name in m.shapes:
            assert m.shapes[layer.name] == tuple(layer.output.shape[1:]), layer.name
    assert m.class_names[0] == f"{name} class 0"


@pytest.mark.parametrize("name", SPECS)
def test_three_ways_load_the_same_model(cases, name):
    """Same weights bit for bit, same trace bit for bit, whichever file the model came from."""
    case = cases(name)
    ref = case.models["keras"]
    t0 = ref.trace(case.x)
    for way in ("tfjs", "native"):
        m = case.models[way]
        assert [layer.config() for layer in m.layers] == [layer.config() for layer in ref.layers]
        for a, b in zip(m.layers, ref.layers):
            for var in a.params:
                np.testing.assert_array_equal(a.params[var], b.params[var])
        t = m.trace(case.x)
        for k in t0:
            np.testing.assert_array_equal(t[k], t0[k])
    assert case.models["native"].class_names == ref.class_names
    assert case.models["native"].card["source_format"] == "keras"


def test_inference_only_layers_are_noted(cases):
    m = cases("rgb32").models["keras"]
    assert "drop" not in m.shapes
    assert any("Dropout" in note and "drop" in note for note in m.card["notes"])
    assert "lin" not in cases("nonsquare45x37").models["tfjs"].shapes  # Activation('linear') does nothing


def test_keras_file_weights_are_found_by_class_order(cases):
    """Keras 3 keys h5 groups by class: layers/conv2d, conv2d_1 … conv2d_11 (and conv2d_10 < conv2d_2 as text)."""
    import io
    import zipfile

    import h5py

    case = cases("deep16")
    with zipfile.ZipFile(case.keras_path) as z, h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
        groups = set(f["layers"])
    assert {"conv2d", "conv2d_10", "conv2d_11", "dense", "dense_1"} <= groups
    assert not {layer.name for layer in case.keras.layers} & groups  # the user's names are not used
    m = case.models["keras"]
    for layer in case.keras.layers:
        for ours, theirs in zip(m.layer(layer.name).params.values() if layer.get_weights() else (), layer.get_weights()):
            np.testing.assert_array_equal(ours, theirs)
