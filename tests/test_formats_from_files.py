"""cnn101.formats.model_from_files: a model from files chosen together (the web page's "use your own model")."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cnn101 import ModelError
from cnn101.formats import model_from_files, tfjs
from models import SYNTHETIC_CLASSES, synthetic_image, synthetic_model


def folder_files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def model():
    return synthetic_model()


@pytest.fixture(scope="module")
def native_files(model, tmp_path_factory):
    d = tmp_path_factory.mktemp("native")
    model.save(d / "mine")
    return folder_files(d)


@pytest.fixture(scope="module")
def tfjs_files(model, tmp_path_factory):
    d = tmp_path_factory.mktemp("tfjs")
    tfjs.save(model, d, shard_bytes=512)  # several shards
    files = folder_files(d)
    assert sum(n.endswith(".bin") for n in files) > 1
    return files


def same_numbers(a, b):
    x = synthetic_image()
    ta, tb = a.trace(x), b.trace(x)
    assert list(ta) == list(tb)
    for k in ta:
        np.testing.assert_array_equal(ta[k], tb[k], err_msg=k)


def test_our_card_and_npz(model, native_files):
    got = model_from_files(native_files)
    same_numbers(got, model)
    assert got.class_names == model.class_names == SYNTHETIC_CLASSES


def test_tfjs_model_json_and_its_shards_with_paths_and_other_files_around(model, tfjs_files):
    files = {f"some/folder/{n}": d for n, d in tfjs_files.items()}
    files["README.md"] = b"not a model"
    got = model_from_files(files)
    same_numbers(got, model)


def test_a_renamed_npz_is_still_the_card_s_weights(model, native_files):
    files = {("renamed.npz" if n.endswith(".npz") else n): d for n, d in native_files.items()}
    same_numbers(model_from_files(files), model)


@pytest.mark.parametrize("labels_file, data", [
    ("metadata.json", json.dumps({"labels": ["disc", "lines", "board"], "tfjsVersion": "1.3.1"}).encode()),
    ("labels.txt", b"\xef\xbb\xbfdisc\nlines\n\nboard\n"),
])
def test_labels_from_metadata_json_or_a_text_file(tfjs_files, labels_file, data):
    got = model_from_files({**tfjs_files, labels_file: data})
    assert got.class_names == ["disc", "lines", "board"]


def test_other_text_files_are_not_taken_for_labels(model, tfjs_files):
    got = model_from_files({**tfjs_files, "README.txt": b"how\nto\nuse\nthis\nmodel\n"})
    assert got.class_names == model.class_names


def test_class_names_given_win(tfjs_files):
    assert model_from_files(tfjs_files, class_names=["x", "y", "z"]).class_names == ["x", "y", "z"]


@pytest.mark.parametrize("change, words", [
    (lambda f: {}, ["No files were chosen"]),
    (lambda f: {"cat.png": b"\x89PNG", "notes.txt": b"hello"}, ["None of the chosen files", "cat.png", "model.json"]),
    (lambda f: {n: d for n, d in f["tfjs"].items() if "shard1of" not in n}, ["shard1of", "was not chosen", "model.json"]),
    (lambda f: {n: d for n, d in f["native"].items() if n.endswith(".json")}, ["mine.npz", "not chosen"]),
    (lambda f: {**f["native"], **f["tfjs"]}, ["one model at a time", "mine.json", "model.json"]),
    (lambda f: {**f["tfjs"], "labels.txt": b"a\nb\n"}, ["labels.txt has 2 labels", "3 classes", "one line per class"]),
    (lambda f: {"old.h5": b"\x89HDF"}, ["old.h5", "legacy Keras .h5"]),
])
def test_refusals_say_which_file_and_what_to_choose(native_files, tfjs_files, change, words):
    files = change({"native": native_files, "tfjs": tfjs_files})
    with pytest.raises(ModelError) as e:
        model_from_files(files)
    assert all(w in str(e.value) for w in words), str(e.value)


def test_too_many_bytes_are_refused(monkeypatch, tfjs_files):
    import cnn101.formats.from_files as ff

    monkeypatch.setattr(ff, "MAX_TOTAL_BYTES", 2**20)
    with pytest.raises(ModelError, match=r"add up to 1\.5 MB, more than the 1 MB .* choose only the model's files"):
        model_from_files({**tfjs_files, "photo.bin": bytes(3 * 2**19)})


def test_a_damaged_npz_or_an_unsupported_layer_is_refused_by_the_loaders(native_files, tfjs_files):
    npz = next(n for n in native_files if n.endswith(".npz"))
    with pytest.raises(ModelError, match="damaged or truncated"):
        model_from_files({**native_files, npz: native_files[npz][:100]})
    doc = json.loads(tfjs_files["model.json"])
    layers = doc["modelTopology"]["model_config"]["config"]["layers"]
    layers.insert(1, {"class_name": "BatchNormalization", "config": {"name": "bn"}})
    with pytest.raises(ModelError, match="bn"):
        model_from_files({**tfjs_files, "model.json": json.dumps(doc).encode()})


def test_a_keras_file_without_h5py_says_what_to_do(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "h5py" else real(name, *a))
    with pytest.raises(ModelError) as e:
        model_from_files({"net.keras": b"PK\x03\x04"})
    assert "h5py" in str(e.value) and ".save('model')" in str(e.value) and "TF.js" in str(e.value)


def test_a_keras_file_written_by_keras(tmp_path, tf_keras):
    keras = tf_keras[1]
    m = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, activation="relu", name="c"),
                          keras.layers.Flatten(name="f"), keras.layers.Dense(2, activation="softmax", name="d")])
    m.save(tmp_path / "net.keras")
    got = model_from_files({"net.keras": (tmp_path / "net.keras").read_bytes(), "labels.txt": b"yes\nno\n"})
    assert got.input_shape == (8, 8, 3) and got.class_names == ["yes", "no"]
    x = np.random.default_rng(0).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(got.predict(x), m.predict(x[None], verbose=0)[0], atol=1e-6)
