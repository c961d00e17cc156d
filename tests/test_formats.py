"""Model files: our format and the TF.js writer round-trip exactly; everything broken is refused by name.

Most broken files are made by tampering with a copy of a small TF.js model or our own format; the
functional and BatchNormalization `.keras` files come from real Keras (one small TF import).
"""
from __future__ import annotations

import io
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

import cnn101
from cnn101 import ModelError
from cnn101.engine import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Softmax
from cnn101.formats import native, tfjs

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras internals under NumPy 2


def small_model(card=None) -> Sequential:
    rng = np.random.default_rng(3)
    layers = [Conv2D("conv_a", rng.normal(size=(3, 3, 3, 4)), rng.normal(size=4), 1, "same"), ReLU("conv_a_relu"),
              MaxPool2D("pool_a", 3, 2, "same"), Conv2D("conv_b", rng.normal(size=(2, 2, 4, 5)), None, 2),
              Flatten("flatten"), Dense("output", rng.normal(size=(20, 3)), rng.normal(size=3)),
              Softmax("output_softmax")]
    return Sequential(layers, (9, 10, 3), ["ant", "bee", "cow"], name="small", card=card)


def refused(path_or_call, *words):
    """Assert a ModelError whose message holds every word; returns the message."""
    with pytest.raises(ModelError) as e:
        path_or_call() if callable(path_or_call) else cnn101.load_model(path_or_call)
    msg = str(e.value)
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    return msg


# --- round trips ------------------------------------------------------------------------------------

def _same_model(a: Sequential, b: Sequential):
    assert [layer.config() for layer in a.layers] == [layer.config() for layer in b.layers]
    for la, lb in zip(a.layers, b.layers):
        assert list(la.params) == list(lb.params)
        for k in la.params:
            assert lb.params[k].dtype == np.float32
            np.testing.assert_array_equal(la.params[k], lb.params[k])
            assert la.params[k].tobytes() == lb.params[k].tobytes()  # bit for bit, NaN payloads and −0 included
    assert (a.input_shape, a.class_names, a.param_count) == (b.input_shape, b.class_names, b.param_count)
    x = np.random.default_rng(0).random(a.input_shape, dtype=np.float32)
    ta, tb = a.trace(x), b.trace(x)
    for k in ta:
        np.testing.assert_array_equal(ta[k], tb[k])


def test_native_round_trip_is_exact_with_card_extras(tmp_path):
    extras = {"preprocessing": {"resize": "shorter side, bilinear", "scale": "1/255"},
              "provenance": {"trained_by": "training/train.py", "seed": 1, "data": "tiny-imagenet-10"},
              "evaluation": {"cnnx_test": {"correct": 177, "of": 250}}, "notes": ["ünïcödé ok"]}
    m = small_model(card=extras)
    m.save(tmp_path / "m")
    assert {p.name for p in tmp_path.iterdir()} == {"m.json", "m.npz"}
    for path in ("m.json", "m.npz", "m"):
        back = cnn101.load_model(tmp_path / path) if path != "m" else native.load_model(tmp_path / "m")
        _same_model(m, back)
        assert back.card == extras and back.name == "small"
    card = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert card["format"] == "cnn101-model" and card["param_count"] == m.param_count
    assert card["layers"][3] == {"kind": "conv2d", "name": "conv_b", "kernel_size": [2, 2], "filters": 5,
                                 "strides": [2, 2], "padding": "valid", "use_bias": False}
    # saving the loaded model again writes the same bytes
    back.save(tmp_path / "again")
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "m.json").read_bytes()
    with np.load(tmp_path / "m.npz", allow_pickle=False) as a, np.load(tmp_path / "again.npz", allow_pickle=False) as b:
        assert a.files == b.files and all(a[k].tobytes() == b[k].tobytes() for k in a.files)


def test_native_folder_and_class_names_override(tmp_path):
    small_model().save(tmp_path / "dir" / "tiny-vgg")
    m = cnn101.load_model(tmp_path / "dir", class_names=["x", "y", "z"])
    assert m.class_names == ["x", "y", "z"]


@pytest.mark.parametrize("shard_bytes, shards", [(4 * 1024 * 1024, 1), (100, 11), (64, 16)])
def test_tfjs_writer_reader_round_trip(tmp_path, shard_bytes, shards):
    m = small_model()
    path = tfjs.save(m, tmp_path, shard_bytes=shard_bytes)
    doc = json.loads(path.read_text())
    assert len(doc["weightsManifest"][0]["paths"]) == shards
    assert sorted(p.name for p in tmp_path.glob("*.bin")) == sorted(doc["weightsManifest"][0]["paths"])
    back = cnn101.load_model(path)
    _same_model(m, back)
    assert back.card["source_format"] == "tfjs-layers"
    _same_model(m, cnn101.load_model(tmp_path))  # a folder with model.json


def test_reference_tfjs_round_trips_through_both_formats(tmp_path):
    ref = Path(__file__).resolve().parents[2] / "shared" / "reference" / "cnn-explainer" / "model.json"
    if not ref.exists():
        pytest.skip("reference model not present")
    m = cnn101.load_model(ref)
    _same_model(m, cnn101.load_model(tfjs.save(m, tmp_path / "t", shard_bytes=20_000)))
    m.save(tmp_path / "n" / "ref")
    _same_model(m, cnn101.load_model(tmp_path / "n" / "ref.json"))


# --- TF.js refusals -------------------------------------------------------------------------------

@pytest.fixture
def tj(tmp_path):
    """A fresh TF.js copy of the small model (two shards) and a helper to rewrite its model.json."""
    path = tfjs.save(small_model(), tmp_path / "tj", shard_bytes=300)

    class TJ:
        dir = path.parent
        json_path = path
        doc = json.loads(path.read_text())

        def write(self, doc=None):
            self.json_path.write_text(json.dumps(doc or self.doc))
            return self.json_path

        def layers(self):
            return self.doc["modelTopology"]["model_config"]["config"]["layers"]

        def weights(self):
            return self.doc["weightsManifest"][0]["weights"]
    return TJ()


def test_tfjs_functional_model(tj):
    tj.doc["modelTopology"]["model_config"]["class_name"] = "Functional"
    refused(tj.write(), "functional", "Sequential")
    tj.doc["modelTopology"]["model_config"]["class_name"] = "Model"
    refused(tj.write(), "functional")


def test_tfjs_graph_model(tj):
    tj.doc["format"] = "graph-model"
    refused(tj.write(), "graph-model", "layers")


@pytest.mark.parametrize("cls", ["BatchNormalization", "Conv2DTranspose", "DepthwiseConv2D", "AveragePooling2D", "LSTM"])
def test_tfjs_unsupported_layer_named(tj, cls):
    tj.layers()[2] = {"class_name": cls, "config": {"name": "odd_one"}}
    refused(tj.write(), "'odd_one'", cls, "Supported layers")


@pytest.mark.parametrize("change, words", [
    (lambda c: c.update(activation="tanh"), ["conv_a", "tanh"]),
    (lambda c: c.update(dilation_rate=[2, 2]), ["conv_a", "dilated"]),
    (lambda c: c.update(data_format="channels_first"), ["conv_a", "channels_first"]),
    (lambda c: c.update(padding="causal"), ["conv_a", "causal"]),
])
def test_tfjs_unsupported_options_named(tj, change, words):
    change(tj.layers()[0]["config"])
    refused(tj.write(), *words)


def test_tfjs_quantized_weights(tj):
    tj.weights()[0]["quantization"] = {"dtype": "uint8", "min": -1.0, "scale": 0.01}
    refused(tj.write(), "conv_a/kernel", "quantized", "uint8")


@pytest.mark.parametrize("dtype", ["float16", "int32"])
def test_tfjs_other_dtypes(tj, dtype):
    tj.weights()[0]["dtype"] = dtype
    refused(tj.write(), "conv_a/kernel", dtype, "float32")


def test_tfjs_kernel_shape_mismatch_names_layer_and_shape(tj):
    w = tj.weights()
    w[0]["shape"] = [3, 3, 6, 2]  # same byte count as (3, 3, 3, 4), wrong filters
    refused(tj.write(), "'conv_a'", "(3, 3, 6, 2)", "filters=4")


def test_tfjs_dense_input_mismatch_names_layer_and_shape(tj):
    tj.layers()[3]["config"]["strides"] = [1, 1]  # conv_b now gives 4×4×5 = 80 values, the dense kernel takes 20
    refused(tj.write(), "'output'", "expects 20 inputs", "gives 80")


def test_tfjs_input_shape_mismatch_names_layer(tj):
    tj.layers()[0]["config"]["batch_input_shape"] = [None, 9, 10, 1]
    refused(tj.write(), "'conv_a'", "3 input channels", "gives 1")


def test_tfjs_missing_input_shape(tj):
    del tj.layers()[0]["config"]["batch_input_shape"]
    refused(tj.write(), "input shape")


def test_tfjs_missing_weights_for_a_layer(tj):
    extra = json.loads(json.dumps(tj.layers()[3]))
    extra["config"]["name"] = "conv_x"  # a layer the manifest has no weights for
    tj.layers().insert(4, extra)
    refused(tj.write(), "'conv_x'", "found 0")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_tfjs_nan_inf_weights(tj, bad):
    first = tj.dir / tj.doc["weightsManifest"][0]["paths"][0]
    blob = bytearray(first.read_bytes())
    blob[8:12] = np.float32(bad).tobytes()  # the third value of conv_a/kernel
    first.write_bytes(bytes(blob))
    refused(tj.json_path, "'conv_a'", "NaN or infinite")


def test_tfjs_truncated_shard(tj):
    last = tj.dir / tj.doc["weightsManifest"][0]["paths"][-1]
    last.write_bytes(last.read_bytes()[:-6])
    refused(tj.json_path, "truncated", "output/bias")


def test_tfjs_shard_too_long(tj):
    last = tj.dir / tj.doc["weightsManifest"][0]["paths"][-1]
    last.write_bytes(last.read_bytes() + b"\0" * 8)
    refused(tj.json_path, "do not belong together")


def test_tfjs_missing_shard(tj):
    name = tj.doc["weightsManifest"][0]["paths"][1]
    (tj.dir / name).unlink()
    refused(tj.json_path, "missing", name)


def test_tfjs_reader_without_load_model(tj):
    (tj.dir / "model.json").write_text("{not json")
    refused(lambda: tfjs.load(tj.dir / "model.json"), "not valid JSON")


# --- JSON and file-type refusals ----------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("{not json", ["bad.json", "not valid JSON"]),
    ('{"hello": 1}', ["bad.json", "neither", "model.json"]),
    ("[1, 2, 3]", ["bad.json", "neither"]),
    ('{"format": "layers-model", "modelTopology": "x"}', ["modelTopology"]),
    ('{"modelTopology": {"model_config": {"class_name": "Sequential", "config": {"layers": []}}}}', ["input shape"]),
])
def test_wrong_json(tmp_path, text, words):
    (tmp_path / "bad.json").write_text(text)
    refused(tmp_path / "bad.json", *words)


def test_not_utf8_json(tmp_path):
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe\x00garbage")
    refused(tmp_path / "bad.json", "not valid JSON")


def test_legacy_h5_and_unknown_types(tmp_path):
    (tmp_path / "m.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    refused(tmp_path / "m.h5", "Legacy Keras .h5", ".keras")
    (tmp_path / "m.pb").write_bytes(b"x")
    refused(tmp_path / "m.pb", "'.pb'")
    refused(tmp_path / "nothing.json", "does not exist")
    (tmp_path / "empty").mkdir()
    refused(tmp_path / "empty", "holds no model")


# --- our format refusals ------------------------------------------------------------------------------

@pytest.fixture
def nat(tmp_path):
    small_model().save(tmp_path / "m")
    return tmp_path / "m.json", tmp_path / "m.npz"


def test_native_truncated_npz(nat):
    card, npz = nat
    data = npz.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 10):
        npz.write_bytes(data[:cut])
        refused(card, ".npz", "damaged or truncated")


def test_native_corrupt_npz(nat):
    card, npz = nat
    data = bytearray(npz.read_bytes())
    i = data.index(b"\x93NUMPY") + 200  # inside the first array's data: the zip CRC no longer matches
    data[i] ^= 0xFF
    npz.write_bytes(bytes(data))
    refused(card, "damaged or truncated")


def test_native_npz_with_pickled_objects_is_refused(nat):
    card, npz = nat
    arrays = dict(np.load(npz, allow_pickle=False))
    arrays["conv_a/kernel"] = np.array([{"evil": 1}], dtype=object)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    npz.write_bytes(buf.getvalue())
    msg = refused(card, "Python objects", "never loads")  # never unpickled, and never an invitation to
    assert "pickle" not in msg


def test_native_missing_npz(nat):
    card, npz = nat
    npz.unlink()
    refused(card, "m.npz", "missing")


def test_native_missing_array(nat):
    card, npz = nat
    arrays = dict(np.load(npz, allow_pickle=False))
    del arrays["output/kernel"]
    np.savez(npz, **arrays)
    refused(card, "'output'", "output/kernel")


def test_native_shape_mismatch_names_layer_and_shape(nat):
    card, npz = nat
    arrays = dict(np.load(npz, allow_pickle=False))
    arrays["conv_a/kernel"] = np.zeros((5, 5, 3, 4), np.float32)
    np.savez(npz, **arrays)
    refused(card, "'conv_a'", "(5, 5, 3, 4)", "kernel_size [3, 3]")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_native_nan_inf_weights(nat, bad):
    card, npz = nat
    arrays = dict(np.load(npz, allow_pickle=False))
    arrays["output/bias"][1] = bad
    np.savez(npz, **arrays)
    refused(card, "'output'", "bias", "NaN or infinite")


@pytest.mark.parametrize("edit, words", [
    (lambda c: c.update(version=99), ["version 99", "Upgrade"]),
    (lambda c: c["layers"].__setitem__(1, {"kind": "batchnorm", "name": "bn"}), ["'bn'", "batchnorm"]),
    (lambda c: c.update(class_names=["one"]), ["3 outputs", "1 class names"]),
    (lambda c: c.update(input_shape=[9, 10, 2]), ["'conv_a'", "3 input channels"]),
])
def test_native_bad_card(nat, edit, words):
    card, _ = nat
    doc = json.loads(card.read_text())
    edit(doc)
    card.write_text(json.dumps(doc))
    refused(card, *words)


def test_native_card_that_is_not_ours(nat):
    card, npz = nat
    refused(lambda: native.model_from_bytes(b'{"format": "other"}', npz.read_bytes()), "not a cnn101 model card")
    refused(lambda: native.model_from_bytes(b"\xff", npz.read_bytes()), "not valid JSON")


# --- .keras refusals (written by real Keras where it matters) ----------------------------------------

@pytest.fixture(scope="module")
def keras_files(tmp_path_factory, tf_keras):
    keras = tf_keras[1]

    d = tmp_path_factory.mktemp("keras")
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(2, 3, name="c")(inp)
    out = keras.layers.Dense(2, name="d")(keras.layers.Flatten()(keras.layers.Add()([h, h])))
    keras.Model(inp, out).save(d / "functional.keras")
    keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, name="c"),
                      keras.layers.BatchNormalization(name="bn"), keras.layers.Flatten(),
                      keras.layers.Dense(2)]).save(d / "bn.keras")
    keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2DTranspose(2, 3, name="up"), keras.layers.Flatten(),
                      keras.layers.Dense(2)]).save(d / "transpose.keras")
    keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, name="c"), keras.layers.Flatten(name="f"),
                      keras.layers.Dense(2, name="d")]).save(d / "good.keras")
    return d


def test_keras_functional(keras_files):
    refused(keras_files / "functional.keras", "functional", "keras.Sequential")


@pytest.mark.parametrize("file, words", [("bn.keras", ["'bn'", "BatchNormalization"]),
                                         ("transpose.keras", ["'up'", "Conv2DTranspose"])])
def test_keras_unsupported_layer(keras_files, file, words):
    refused(keras_files / file, *words, "Supported layers")


def test_keras_truncated_and_incomplete(keras_files, tmp_path):
    data = (keras_files / "good.keras").read_bytes()
    (tmp_path / "t.keras").write_bytes(data[: len(data) // 2])
    refused(tmp_path / "t.keras", "not a valid zip")
    with zipfile.ZipFile(keras_files / "good.keras") as z, zipfile.ZipFile(tmp_path / "n.keras", "w") as out:
        out.writestr("config.json", z.read("config.json"))
    refused(tmp_path / "n.keras", "lacks model.weights.h5")
    with zipfile.ZipFile(keras_files / "good.keras") as z:
        parts = {n: z.read(n) for n in z.namelist()}
    for member, junk, words in [("config.json", b"{oops", ["config.json", "not valid JSON"]),
                                ("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 40, ["model.weights.h5", "damaged"])]:
        with zipfile.ZipFile(tmp_path / "c.keras", "w") as out:
            for n, b in parts.items():
                out.writestr(n, junk if n == member else b)
        refused(tmp_path / "c.keras", *words)


def test_keras_good_file_loads(keras_files, tmp_path):
    (tmp_path / "only.keras").write_bytes((keras_files / "good.keras").read_bytes())
    assert [layer.name for layer in cnn101.load_model(tmp_path).layers] == ["c", "f", "d"]  # a folder with a .keras
    m = cnn101.load_model(keras_files / "good.keras")
    assert [layer.name for layer in m.layers] == ["c", "f", "d"] and m.input_shape == (8, 8, 3)
    assert m.card["source_format"] == "keras" and m.card["keras_version"]
    assert math.isclose(float(m.predict(np.zeros((8, 8, 3))).sum()), 1.0, rel_tol=1e-6)
