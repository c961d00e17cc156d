"""The hostile inputs of issue 12, each a small function run by tests/test_hostile_inputs.py in a
subprocess under a memory cap and a timeout.

`python tests/hostile_cases.py WORKDIR CASE...` runs the named cases and prints one JSON line per case:
{"case", "outcome": "error" (a Cnn101Error) | "ok" | "generic" (any other exception) | "wrong" (a
result that failed its check), "type", "message"}. Each case says what it expects: a Cnn101Error
(optionally with words its message must hold or must not hold) or a correct result (checked inside).
"""
from __future__ import annotations

import io
import json
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostile_files as H  # noqa: E402

GiB = 1 << 30


@dataclass
class Case:
    fn: object
    expect: str  # "error" or "ok"
    alone: bool = False  # needs its own process (it would use much memory if the guard failed)
    words: tuple = ()
    banned: tuple = ()


CASES: dict[str, Case] = {}


def case(expect, alone=False, words=(), banned=()):
    def deco(fn):
        CASES[fn.__name__] = Case(fn, expect, alone, tuple(words), tuple(banned))
        return fn
    return deco


class Ctx:
    """What cases share inside one process: the work folder and the bundled model's files."""

    def __init__(self, work: Path):
        import cnn101
        from cnn101.formats import bundled_path, tfjs

        self.work = work
        self.model = cnn101.load_model()
        card = bundled_path()
        self.card, self.npz = card.read_bytes(), card.with_suffix(".npz").read_bytes()
        tdir = work / "tfjs"
        if not (tdir / "model.json").exists():
            tfjs.save(self.model, tdir)
        self.topology = json.loads((tdir / "model.json").read_text())
        self.shards = {p.name: p.read_bytes() for p in tdir.glob("*.bin")}
        self.x = np.full(self.model.input_shape, 0.5, np.float32)

    def card_doc(self):
        return json.loads(self.card)

    def tfjs_files(self, doc=None, **extra):
        return {"model.json": json.dumps(doc or self.topology).encode(), **self.shards, **extra}

    def tfjs_dir(self, name, doc, shards=None):
        d = self.work / name
        d.mkdir(exist_ok=True)
        (d / "model.json").write_text(json.dumps(doc))
        for n, b in (self.shards if shards is None else shards).items():
            (d / n).write_bytes(b)
        return d / "model.json"


CTX: Ctx = None  # type: ignore[assignment]


def from_files(files, **kw):
    from cnn101.formats import model_from_files
    return model_from_files(files, **kw)


def same_as_bundled(m):
    assert np.array_equal(m.predict(CTX.x), CTX.model.predict(CTX.x)), "the model's output differs from the original"


def edited_topology(edit):
    doc = json.loads(json.dumps(CTX.topology))
    edit(doc)
    return doc


def layers_of(doc):
    return doc["modelTopology"]["model_config"]["config"]["layers"]


def tfjs_edit(edit):
    return lambda: from_files(CTX.tfjs_files(edited_topology(edit)))


def card_edit(edit):
    def run():
        doc = CTX.card_doc()
        edit(doc)
        return from_files({"m.json": json.dumps(doc).encode(), "m.npz": CTX.npz})
    return run


# === JSON: depth and size, in every file that is JSON =================================================
DEEP = b"[" * 10000 + b"]" * 10000


@case("error", words=["levels deep"])
def deep_model_json_chosen():
    from_files({"model.json": b'{"modelTopology": ' + DEEP + b"}"})


@case("error", words=["levels deep"])
def deep_model_json_on_disk():
    import cnn101
    (CTX.work / "deep").mkdir(exist_ok=True)
    (CTX.work / "deep" / "model.json").write_bytes(b'{"modelTopology": ' + DEEP + b"}")
    cnn101.load_model(CTX.work / "deep" / "model.json")


@case("error", words=["levels deep"])
def deep_objects_not_lists():
    from_files({"model.json": b'{"modelTopology": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}"})


@case("error", words=["levels deep"])
def deep_card():
    doc = CTX.card.replace(b'"layers": [', b'"layers": [' + DEEP + b",", 1)
    from_files({"m.json": doc, "m.npz": CTX.npz})


@case("ok")
def brackets_inside_strings_are_not_depth():
    doc = edited_topology(lambda d: d.setdefault("userDefinedMetadata", {}).__setitem__("note", "[" * 5000 + '\\"{'))
    same_as_bundled(from_files(CTX.tfjs_files(doc)))


@case("ok")
def deep_metadata_json_is_ignored_as_labels():
    m = from_files(CTX.tfjs_files(**{"metadata.json": b'{"labels": ' + DEEP + b"}"}))
    same_as_bundled(m)


@case("error", words=["levels deep", "config.json"])
def deep_keras_config():
    from cnn101.formats import keras_file
    keras_file.model_from_bytes(H.keras_file(config=b'{"class_name": ' + DEEP + b"}"))


@case("error", words=["metadata.json"], banned=["config.json"])
def bad_keras_metadata_is_named():
    from cnn101.formats import keras_file
    keras_file.model_from_bytes(H.keras_file(metadata=b"{oops"))


@case("error", words=["levels deep", "metadata.json"])
def deep_keras_metadata():
    from cnn101.formats import keras_file
    keras_file.model_from_bytes(H.keras_file(metadata=DEEP))


@case("error", words=["MB"], alone=True)
def huge_json():
    from_files({"model.json": b'{"modelTopology": {}, "pad": "' + b"x" * (40 << 20) + b'"}'})


@case("error", words=["not a number"])
def json_nan_constant():
    from_files({"model.json": json.dumps(CTX.topology).replace('"float32"', 'NaN', 1).encode(), **CTX.shards})


# === wrong JSON types everywhere ======================================================================
def _set_layer(i, key, value):
    return tfjs_edit(lambda d: layers_of(d)[i]["config"].__setitem__(key, value))


TFJS_TYPE_EDITS = {
    "layer_is_a_string": lambda d: layers_of(d).__setitem__(0, "Conv2D"),
    "layers_is_a_dict": lambda d: d["modelTopology"]["model_config"]["config"].__setitem__("layers", {"a": 1}),
    "layer_config_is_a_list": lambda d: layers_of(d)[1].__setitem__("config", [1, 2]),
    "class_name_is_a_number": lambda d: layers_of(d)[1].__setitem__("class_name", 7),
    "model_config_is_a_string": lambda d: d["modelTopology"].__setitem__("model_config", "Sequential"),
    "topology_is_a_list": lambda d: d.__setitem__("modelTopology", [1]),
    "strides_is_text": lambda d: layers_of(d)[0]["config"].__setitem__("strides", "x"),
    "strides_fractional": lambda d: layers_of(d)[0]["config"].__setitem__("strides", [1.5, 1.5]),
    "kernel_size_is_text": lambda d: layers_of(d)[0]["config"].__setitem__("kernel_size", "3"),
    "pool_size_negative": lambda d: [c["config"].__setitem__("pool_size", [-2, 2]) for c in layers_of(d)
                                     if c["class_name"] == "MaxPooling2D"],
    "padding_is_a_list": lambda d: layers_of(d)[0]["config"].__setitem__("padding", ["same"]),
    "use_bias_is_text": lambda d: layers_of(d)[0]["config"].__setitem__("use_bias", "yes"),
    "activation_is_a_list": lambda d: layers_of(d)[0]["config"].__setitem__("activation", ["relu"]),
    "activation_dict_with_list_config": lambda d: layers_of(d)[0]["config"].__setitem__("activation", {"config": [1]}),
    "dilation_is_text": lambda d: layers_of(d)[0]["config"].__setitem__("dilation_rate", "2"),
    "input_shape_fractional": lambda d: layers_of(d)[0]["config"].__setitem__("batch_input_shape", [None, 63.5, 64, 3]),
    "input_shape_strings": lambda d: layers_of(d)[0]["config"].__setitem__("batch_input_shape", [None, "a", 64, 3]),
    "input_shape_null": lambda d: layers_of(d)[0]["config"].__setitem__("batch_input_shape", [None, None, 64, 3]),
    "input_shape_negative": lambda d: layers_of(d)[0]["config"].__setitem__("batch_input_shape", [None, -1, 64, 3]),
    "input_shape_is_a_number": lambda d: layers_of(d)[0]["config"].__setitem__("batch_input_shape", 64),
    "input_shape_two_dims": lambda d: layers_of(d)[0]["config"].__setitem__("batch_input_shape", [None, 64, 64]),
    "manifest_is_a_dict": lambda d: d.__setitem__("weightsManifest", {"paths": []}),
    "manifest_group_is_a_string": lambda d: d.__setitem__("weightsManifest", ["group"]),
    "paths_is_a_string": lambda d: d["weightsManifest"][0].__setitem__("paths", "group1-shard1of1.bin"),
    "path_is_a_number": lambda d: d["weightsManifest"][0].__setitem__("paths", [1]),
    "weight_shape_minus_one": lambda d: d["weightsManifest"][0]["weights"][0].__setitem__("shape", [-1]),
    "weight_shape_null": lambda d: d["weightsManifest"][0]["weights"][0].__setitem__("shape", [None]),
    "weight_shape_text": lambda d: d["weightsManifest"][0]["weights"][0].__setitem__("shape", ["a"]),
    "weight_shape_fractional": lambda d: d["weightsManifest"][0]["weights"][0].__setitem__("shape", [2.5, 3]),
    "weight_shape_is_a_number": lambda d: d["weightsManifest"][0]["weights"][0].__setitem__("shape", 3),
    "weight_shape_huge": lambda d: d["weightsManifest"][0]["weights"][0].__setitem__("shape", [10**6, 10**6]),
    "weight_entry_is_a_list": lambda d: d["weightsManifest"][0]["weights"].__setitem__(0, [1]),
    "weight_dtype_is_a_list": lambda d: d["weightsManifest"][0]["weights"][0].__setitem__("dtype", ["float32"]),
    "weight_dtype_complex": lambda d: d["weightsManifest"][0]["weights"][0].__setitem__("dtype", "complex64"),
    "quantization_is_a_string": lambda d: d["weightsManifest"][0]["weights"][0].__setitem__("quantization", "uint8"),
    "quantization_is_an_object": lambda d: d["weightsManifest"][0]["weights"][0].__setitem__("quantization", {"dtype": "uint8"}),
    "class_names_is_a_string": lambda d: d.__setitem__("userDefinedMetadata", {"class_names": "abcdefghij"}),
    "class_names_hold_objects": lambda d: d.__setitem__("userDefinedMetadata", {"class_names": [{}] * 10}),
    "metadata_is_a_list": lambda d: d.__setitem__("userDefinedMetadata", [1]),
    "format_is_graph": lambda d: d.__setitem__("format", "graph-model"),
    "doc_is_a_list": None,
}
for _name, _edit in TFJS_TYPE_EDITS.items():
    if _edit is None:
        continue
    CASES[f"tfjs_{_name}"] = Case(tfjs_edit(_edit), "error")
CASES["tfjs_doc_is_a_list"] = Case(lambda: from_files({"model.json": b"[1, 2]", **CTX.shards}), "error")


@case("ok")
def tfjs_kernel_size_as_one_number():  # Keras allows `kernel_size: 3`: read as (3, 3)
    same_as_bundled(from_files(CTX.tfjs_files(edited_topology(
        lambda d: layers_of(d)[0]["config"].__setitem__("kernel_size", 3)))))


@case("ok")
def tfjs_whole_float_sizes_are_fine():
    same_as_bundled(from_files(CTX.tfjs_files(edited_topology(
        lambda d: layers_of(d)[0]["config"].__setitem__("strides", [1.0, 1.0])))))


CARD_EDITS = {
    "version_null": lambda c: c.__setitem__("version", None),
    "version_text": lambda c: c.__setitem__("version", "1"),
    "layers_is_a_dict": lambda c: c.__setitem__("layers", {"a": 1}),
    "layer_is_a_string": lambda c: c["layers"].__setitem__(0, "conv2d"),
    "layer_name_is_a_number": lambda c: c["layers"][0].__setitem__("name", 3),
    "kind_is_a_list": lambda c: c["layers"][0].__setitem__("kind", ["conv2d"]),
    "strides_text": lambda c: c["layers"][0].__setitem__("strides", "x"),
    "strides_fractional": lambda c: c["layers"][0].__setitem__("strides", 1.5),
    "kernel_size_text": lambda c: c["layers"][0].__setitem__("kernel_size", "3"),
    "filters_text": lambda c: c["layers"][0].__setitem__("filters", "10"),
    "use_bias_text": lambda c: c["layers"][0].__setitem__("use_bias", "no"),
    "pool_size_zero": lambda c: [x.__setitem__("pool_size", 0) for x in c["layers"] if x["kind"] == "maxpool2d"],
    "input_shape_fractional": lambda c: c.__setitem__("input_shape", [63.5, 64, 3]),
    "input_shape_null": lambda c: c.__setitem__("input_shape", None),
    "input_shape_text": lambda c: c.__setitem__("input_shape", "64x64x3"),
    "class_names_string": lambda c: c.__setitem__("class_names", "abcdefghij"),
    "class_names_number": lambda c: c.__setitem__("class_names", 10),
    "name_is_a_list": lambda c: c.__setitem__("name", ["x"]),
    "card_is_a_list": None,
}
for _name, _edit in CARD_EDITS.items():
    if _edit is not None:
        CASES[f"card_{_name}"] = Case(card_edit(_edit), "error")
CASES["card_is_a_list"] = Case(lambda: from_files({"m.json": b'["cnn101-model"]', "m.npz": CTX.npz}), "error")


# === model_from_files arguments =======================================================================
@case("error")
def files_not_a_mapping():
    from_files([("model.json", b"{}")])


@case("error")
def files_text_not_bytes():
    from_files({"model.json": json.dumps(CTX.topology)})


@case("error")
def files_name_not_text():
    from_files({3: b"{}"})


@case("error", words=["Two different files named model.json"])
def two_model_json_from_different_folders():
    other = edited_topology(lambda d: d.__setitem__("userDefinedMetadata", {"class_names": list("abcdefghij")}))
    from_files({"a/model.json": json.dumps(CTX.topology).encode(), "b/model.json": json.dumps(other).encode(),
                **CTX.shards})


@case("ok")
def same_file_twice_from_two_folders_is_fine():
    same_as_bundled(from_files({"a/model.json": json.dumps(CTX.topology).encode(),
                                "b/model.json": json.dumps(CTX.topology).encode(), **CTX.shards}))


@case("error", words=["one string"])
def class_names_argument_is_a_string():
    from_files(CTX.tfjs_files(), class_names="abcdefghij")


@case("error")
def no_files():
    from_files({})


@case("error")
def load_model_of_a_number():
    import cnn101
    cnn101.load_model(123)


@case("error")
def load_model_of_a_folder_without_model():
    import cnn101
    (CTX.work / "empty").mkdir(exist_ok=True)
    cnn101.load_model(CTX.work / "empty")


# === archives: .npz ===================================================================================
def npz_case(npz: bytes):
    return lambda: from_files({"m.json": CTX.card, "m.npz": npz})


def bundled_members():
    import zipfile
    with zipfile.ZipFile(io.BytesIO(CTX.npz)) as z:
        return [H.member(n, z.read(n)) for n in z.namelist()]


@case("error", banned=["pickle"])
def npz_random_bytes():
    npz_case(bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)))()


@case("error", banned=["pickle"])
def npz_that_is_a_pickle():
    import pickle
    npz_case(pickle.dumps({"a": 1}))()


@case("error", words=["Python objects"], banned=["pickle", "damaged"])
def npz_object_array():
    arrays = dict(np.load(io.BytesIO(CTX.npz)))
    first = next(iter(arrays))
    arrays[first] = np.array([{"evil": 1}], dtype=object)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    npz_case(buf.getvalue())()


@case("error", words=["complex"])
def npz_complex_weights():
    arrays = dict(np.load(io.BytesIO(CTX.npz)))
    first = next(iter(arrays))
    arrays[first] = arrays[first].astype(np.complex64) + 1j
    npz_case(H.npz_of(arrays))()


@case("error")
def npz_truncated():
    npz_case(CTX.npz[: len(CTX.npz) // 2])()


@case("error")
def npz_empty():
    npz_case(b"")()


@case("ok", alone=True)
def npz_unused_member_bomb_is_never_read():
    npz = H.zip_bytes(bundled_members() + [H.bomb_member("unused.npy", 3 * GiB)])
    same_as_bundled(from_files({"m.json": CTX.card, "m.npz": npz}))


@case("error", words=["MB"], alone=True)
def npz_used_member_bomb():
    members = bundled_members()
    name = members[0][0]
    members[0] = H.bomb_member(name, 3 * GiB, prefix=H.npy_header((3 * GiB // 4,)))
    npz_case(H.zip_bytes(members))()


@case("error", alone=True)
def npz_member_lies_about_its_size():
    members = bundled_members()
    name = members[0][0]
    members[0] = H.bomb_member(name, 3 * GiB, declared=1000, prefix=H.npy_header((10**6,)))
    npz_case(H.zip_bytes(members))()


@case("error", alone=True)
def npz_many_bombs_add_up():  # each under the per-member limit, together far over the total
    members = bundled_members()
    names = [m[0] for m in members]
    kernel = [n for n in names if n.endswith("kernel.npy")]
    for i, n in enumerate(kernel):
        members[names.index(n)] = H.bomb_member(n, 200 << 20, prefix=H.npy_header(((200 << 20) // 4,)))
    npz_case(H.zip_bytes(members))()


@case("error", words=["declares shape"], alone=True)
def npy_header_declares_a_trillion_floats():
    members = bundled_members()
    members[0] = H.member(members[0][0], H.npy_header((10**12,)) + bytes(64))
    npz_case(H.zip_bytes(members))()


@case("error")
def npy_header_damaged():
    members = bundled_members()
    members[0] = H.member(members[0][0], b"\x93NUMPY\x01\x00\x20\x00{'descr': <f4, 'shape': (}" + bytes(10))
    npz_case(H.zip_bytes(members))()


@case("error")
def npy_header_structured_dtype():
    members = bundled_members()
    members[0] = H.member(members[0][0], H.npy(np.zeros(3, dtype=[("a", "<f4"), ("b", "<f4")])))
    npz_case(H.zip_bytes(members))()


@case("error", words=["encrypted"])
def npz_encrypted_member():
    members = bundled_members()
    n, data, method, crc, size, _ = members[0]
    members[0] = (n, data, method, crc, size, 1)
    npz_case(H.zip_bytes(members))()


@case("error", words=["members"])
def npz_with_too_many_members():
    members = bundled_members() + [H.member(f"x{i}", b"", deflate=False) for i in range(20_000)]
    npz_case(H.zip_bytes(members))()


@case("error")
def npz_two_members_with_one_name():
    members = bundled_members()
    npz_case(H.zip_bytes(members + [members[0]]))()


# === archives: .keras and its HDF5 ====================================================================
def keras(**kw):
    from cnn101.formats import keras_file
    return keras_file.model_from_bytes(H.keras_file(**kw))


@case("ok")
def keras_minimal_is_read():
    m = keras()
    assert m.input_shape == (8, 8, 3) and m.num_classes == 2
    p = m.predict(np.full((8, 8, 3), 0.5, np.float32))
    assert np.isclose(p.sum(), 1)


@case("error", words=["MB"], alone=True)
def keras_config_bomb():
    from cnn101.formats import keras_file
    data = H.zip_bytes([H.bomb_member("config.json", 3 * GiB), H.member("model.weights.h5", H.keras_weights_h5())])
    keras_file.model_from_bytes(data)


@case("error", words=["MB"], alone=True)
def keras_weights_bomb():
    from cnn101.formats import keras_file
    data = H.zip_bytes([H.member("config.json", json.dumps(H.KERAS_CONFIG).encode()),
                        H.bomb_member("model.weights.h5", 3 * GiB)])
    keras_file.model_from_bytes(data)


@case("error", words=["another file"])
def hdf5_external_storage():
    secret = CTX.work / "secret.bin"
    secret.write_bytes(np.arange(54, dtype=np.float32).tobytes())

    def edit(f):
        del f["layers/conv2d/vars/0"]
        f["layers/conv2d/vars"].create_dataset("0", shape=(3, 3, 3, 2), dtype="<f4", external=[(str(secret), 0, 216)])
    keras(h5=H.keras_weights_h5(edit))


@case("error", words=["link"])
def hdf5_soft_link():
    import h5py

    def edit(f):
        f.create_dataset("elsewhere", data=np.zeros((3, 3, 3, 2), np.float32))
        del f["layers/conv2d/vars/0"]
        f["layers/conv2d/vars/0"] = h5py.SoftLink("/elsewhere")
    keras(h5=H.keras_weights_h5(edit))


@case("error", words=["link"])
def hdf5_external_link():
    import h5py

    def edit(f):
        del f["layers/conv2d/vars/0"]
        f["layers/conv2d/vars/0"] = h5py.ExternalLink(str(CTX.work / "other.h5"), "/x")
    keras(h5=H.keras_weights_h5(edit))


@case("error", words=["MB"], alone=True)
def hdf5_huge_fill_value_dataset():
    def edit(f):
        del f["layers/conv2d/vars/0"]
        f["layers/conv2d/vars"].create_dataset("0", shape=(3 * GiB // 4,), dtype="<f4", fillvalue=1.0)
    keras(h5=H.keras_weights_h5(edit))


@case("error", words=["complex"])
def hdf5_complex_weights():
    def edit(f):
        del f["layers/conv2d/vars/0"]
        f["layers/conv2d/vars"].create_dataset("0", data=np.ones((3, 3, 3, 2), np.complex64))
    keras(h5=H.keras_weights_h5(edit))


@case("error")
def hdf5_text_weights():
    def edit(f):
        del f["layers/conv2d/vars/0"]
        f["layers/conv2d/vars"].create_dataset("0", data=np.array([b"abc"] * 3))
    keras(h5=H.keras_weights_h5(edit))


@case("error")
def hdf5_garbage():
    keras(h5=b"\x89HDF\r\n\x1a\n" + bytes(100))


@case("error", words=["lacks"])
def keras_without_weights():
    from cnn101.formats import keras_file
    keras_file.model_from_bytes(H.zip_bytes([H.member("config.json", json.dumps(H.KERAS_CONFIG).encode())]))


@case("error")
def keras_config_layer_is_a_string():
    cfg = json.loads(json.dumps(H.KERAS_CONFIG))
    cfg["config"]["layers"][1] = "Conv2D"
    keras(config=cfg)


@case("error")
def keras_layer_name_is_a_list():
    cfg = json.loads(json.dumps(H.KERAS_CONFIG))
    cfg["config"]["layers"][1]["config"]["name"] = ["c"]
    keras(config=cfg)


# === TF.js shard paths ================================================================================
def with_paths(paths):
    return edited_topology(lambda d: d["weightsManifest"][0].__setitem__("paths", paths))


@case("error", words=["plain file name"])
def shard_path_outside_the_folder():
    import cnn101
    (CTX.work / "outside.bin").write_bytes(b"".join(CTX.shards.values()))
    cnn101.load_model(CTX.tfjs_dir("t1", with_paths(["../outside.bin"])))


@case("error", words=["plain file name"], alone=True)
def shard_path_dev_zero():
    import cnn101
    cnn101.load_model(CTX.tfjs_dir("t2", with_paths(["/dev/zero"])))


@case("error", words=["regular file"], alone=True)
def shard_that_is_a_fifo():
    import cnn101
    p = CTX.tfjs_dir("t3", with_paths(["fifo.bin"]), shards={})
    os.mkfifo(p.parent / "fifo.bin")
    cnn101.load_model(p)


@case("error", words=["symbolic link"])
def shard_that_is_a_symlink():
    import cnn101
    (CTX.work / "outside2.bin").write_bytes(b"".join(CTX.shards.values()))
    p = CTX.tfjs_dir("t4", with_paths(["link.bin"]), shards={})
    os.symlink(CTX.work / "outside2.bin", p.parent / "link.bin")
    cnn101.load_model(p)


@case("error", words=["regular file"])
def shard_that_is_a_folder():
    import cnn101
    p = CTX.tfjs_dir("t5", with_paths(["dir.bin"]), shards={})
    (p.parent / "dir.bin").mkdir(exist_ok=True)
    cnn101.load_model(p)


@case("error", words=["plain file name"])
def shard_path_windows_style():
    import cnn101
    cnn101.load_model(CTX.tfjs_dir("t6", with_paths(["..\\outside.bin"])))


@case("error", words=["MB"], alone=True)
def shard_much_larger_than_declared():
    import cnn101
    p = CTX.tfjs_dir("t7", CTX.topology, shards={})
    for n in CTX.shards:
        with open(p.parent / n, "wb") as f:
            f.truncate(3 * GiB)  # sparse: no disk used
    cnn101.load_model(p)


@case("error", alone=True)
def model_json_that_is_a_fifo():
    import cnn101
    (CTX.work / "fifo-model").mkdir(exist_ok=True)
    os.mkfifo(CTX.work / "fifo-model" / "model.json")
    cnn101.load_model(CTX.work / "fifo-model" / "model.json")


@case("error", alone=True)
def load_model_of_dev_zero_card():
    import cnn101
    (CTX.work / "zero").mkdir(exist_ok=True)
    os.symlink("/dev/zero", CTX.work / "zero" / "m.json")
    cnn101.load_model(CTX.work / "zero" / "m.json")


@case("error", alone=True)
def image_path_that_is_a_fifo():
    import cnn101
    os.mkfifo(CTX.work / "pic.png")
    cnn101.load_image(CTX.work / "pic.png")


@case("error", alone=True)
def image_path_dev_zero():
    import cnn101
    cnn101.load_image("/dev/zero")


@case("ok")
def shard_paths_plain_are_read():
    import cnn101
    same_as_bundled(cnn101.load_model(CTX.tfjs_dir("t8", CTX.topology)))


@case("ok")
def chosen_files_keep_base_names():  # model_from_files reads '../x.bin' as the chosen file 'x.bin'
    doc = with_paths(["../" + n for n in CTX.shards])
    same_as_bundled(from_files(CTX.tfjs_files(doc)))


@case("error", words=["MB"], alone=True)
def tiny_model_with_an_8000_square_input():  # 1 KB of JSON, 1.3 GB of activations for one image
    card = {"format": "cnn101-model", "version": 1, "name": "wide", "input_shape": [8000, 8000, 3],
            "class_names": ["a", "b"], "layers": [
                {"kind": "conv2d", "name": "c", "kernel_size": [3, 3], "filters": 2, "strides": [1, 1], "padding": "valid"},
                {"kind": "maxpool2d", "name": "p", "pool_size": [1000, 1000], "strides": [1000, 1000], "padding": "valid"},
                {"kind": "flatten", "name": "f"}, {"kind": "dense", "name": "d", "units": 2}]}
    npz = H.npz_of({"c/kernel": np.ones((3, 3, 3, 2), np.float32), "c/bias": np.zeros(2, np.float32),
                    "d/kernel": np.ones((98, 2), np.float32), "d/bias": np.zeros(2, np.float32)})
    m = from_files({"w.json": json.dumps(card).encode(), "w.npz": npz})
    m.trace(np.zeros((8000, 8000, 3), np.float32))  # not reached


@case("error", alone=True)
def model_declares_an_8000_square_input():
    doc = edited_topology(lambda d: layers_of(d)[0]["config"].__setitem__("batch_input_shape", [None, 8000, 8000, 3]))
    from_files(CTX.tfjs_files(doc))


@case("error", alone=True)
def card_declares_an_8000_square_input():
    card_edit(lambda c: c.__setitem__("input_shape", [8000, 8000, 3]))()


# === images ============================================================================================
def png(size, mode="RGB", color=(200, 30, 60)):
    from PIL import Image
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, "PNG", optimize=False)
    return buf.getvalue()


def uniform_result(x, rgb, size=(64, 64)):
    assert x.shape == (*size, 3) and x.dtype == np.float32, (x.shape, x.dtype)
    assert np.allclose(x, np.array(rgb, np.float32) / 255, atol=1 / 255), (x.min(), x.max())


@case("ok", alone=True)
def strip_1000000_by_1():
    import cnn101
    uniform_result(cnn101.load_image(png((1_000_000, 1)), 64), (200, 30, 60))


@case("ok", alone=True)
def strip_1_by_1000000():
    import cnn101
    uniform_result(cnn101.load_image(png((1, 1_000_000)), (48, 64)), (200, 30, 60), (48, 64))


@case("ok", alone=True)
def strip_100000_by_1():
    import cnn101
    uniform_result(cnn101.load_image(png((100_000, 1)), 64), (200, 30, 60))


@case("ok", alone=True)
def strip_keeps_its_centre():
    import cnn101
    from PIL import Image
    a = np.zeros((2, 3_000_000, 3), np.uint8)
    a[:, 1_499_997:1_500_003] = 255  # a white centre on black: the crop keeps only the middle of the strip
    x = cnn101.load_image(Image.fromarray(a), 8)
    assert x.shape == (8, 8, 3) and x.min() > 0.9, x.min()


@case("ok")
def bounded_resize_matches_resize_then_crop():
    import cnn101
    from cnn101 import image
    yy, xx = np.mgrid[0:37, 0:300]
    a = (127 + 100 * np.stack([np.sin(xx / 17), np.cos(yy / 9), np.sin((xx + yy) / 23)], -1)).astype(np.uint8)
    usual = cnn101.load_image(a, (20, 24))
    image.MAX_RESIZE_PIXELS = 0  # force the path that resamples only the kept box
    try:
        boxed = cnn101.load_image(a, (20, 24))
    finally:
        image.MAX_RESIZE_PIXELS = 16_000_000
    assert usual.shape == boxed.shape and np.abs(usual - boxed).max() < 0.05, np.abs(usual - boxed).max()


@case("error", words=["truncated or damaged"])
def jpeg_first_200_bytes():
    import cnn101
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 200, 30)).save(buf, "JPEG")
    cnn101.load_image(buf.getvalue()[:200])


@case("error")
def jpeg_first_half():
    import cnn101
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)).save(buf, "JPEG")
    cnn101.load_image(buf.getvalue()[: len(buf.getvalue()) // 2])


@case("error")
def png_truncated():
    import cnn101
    data = png((100, 100))
    cnn101.load_image(data[: len(data) - 30])


for _label, _size in {"text_64": "64", "zero": 0, "negative": -5, "fractional": 1.5, "none": None,
                      "zero_height": (0, 10), "one_number_tuple": (64,), "three_numbers": (64, 64, 3),
                      "true": True, "huge": 10**6, "text_pair": ("64", "64"), "float_pair": (64.0, 64.0)}.items():
    CASES[f"load_image_size_{_label}"] = Case((lambda s: lambda: __import__("cnn101").load_image(png((10, 10)), s))(_size),
                                              "error", words=("size",))


@case("error", words=["floating-point"])
def tiff_mode_f():
    import cnn101
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.full((8, 8), 0.5, np.float32), "F").save(buf, "TIFF")
    cnn101.load_image(buf.getvalue(), 8)


@case("error", words=["LAB"])
def lab_image():
    import cnn101
    from PIL import Image
    cnn101.load_image(Image.new("LAB", (8, 8), (50, 20, 20)), 8)


@case("ok")
def transparent_rgba_and_rgba_premultiplied_agree():
    import cnn101
    from PIL import Image
    a = cnn101.load_image(Image.new("RGBA", (8, 8), (0, 0, 0, 0)), 8)
    b = cnn101.load_image(Image.new("RGBa", (8, 8), (0, 0, 0, 0)), 8)
    assert np.array_equal(a, b) and a.min() == 1.0, (a.min(), b.min())


@case("ok")
def half_transparent_rgba_premultiplied():
    import cnn101
    from PIL import Image
    a = cnn101.load_image(Image.new("RGBA", (8, 8), (255, 0, 0, 128)), 8)
    b = cnn101.load_image(Image.new("RGBa", (8, 8), (128, 0, 0, 128)), 8)
    assert np.allclose(a, b, atol=2 / 255), (a[0, 0], b[0, 0])


@case("ok")
def transparent_la_premultiplied():
    import cnn101
    from PIL import Image
    a = cnn101.load_image(Image.new("La", (8, 8), (0, 0)), 8)
    assert a.min() == 1.0


@case("ok")
def sixteen_bit_grey():
    import cnn101
    from PIL import Image
    img = Image.fromarray(np.full((8, 8), 257 * 100, np.uint16))
    x = cnn101.load_image(img, 8)
    assert np.allclose(x, 100 / 255)


@case("error")
def not_an_image():
    import cnn101
    cnn101.load_image(b"hello, world" * 100)


@case("error")
def empty_image_file():
    import cnn101
    cnn101.load_image(b"")


@case("error")
def image_of_a_number():
    import cnn101
    cnn101.load_image(12345)


@case("error", words=["pixels"], alone=True)
def png_declaring_100000_squared():
    import cnn101
    import struct
    import zlib
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))  # noqa: E731
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")
    cnn101.load_image(data)


@case("error")
def pixels_of_floats():
    import cnn101
    cnn101.load_image(np.full((8, 8, 3), np.nan, np.float32), 8)


@case("error")
def pixels_of_wrong_shape():
    import cnn101
    cnn101.load_image(np.zeros((8, 8, 5), np.uint8), 8)


# === engine: inputs, top(), names ======================================================================
@case("error", words=["NaN"])
def trace_nan_input():
    x = CTX.x.copy()
    x[0, 0, 0] = np.nan
    CTX.model.trace(x)


@case("error", words=["infinite"])
def trace_inf_input():
    x = CTX.x.copy()
    x[3, 3, 1] = -np.inf
    CTX.model.trace(x)


@case("error", words=["infinite"])
def trace_float64_too_big_for_float32():
    x = CTX.x.astype(np.float64)
    x[0, 0, 0] = 1e300
    CTX.model.trace(x)


@case("error", words=["NaN"])
def predict_batch_with_nan():
    x = np.stack([CTX.x, CTX.x])
    x[1, 0, 0, 0] = np.nan
    CTX.model.predict(x)


@case("error", words=["shape"])
def trace_wrong_shape():
    CTX.model.trace(np.zeros((10, 10, 3), np.float32))


@case("error", words=["shape"])
def trace_five_axes():
    CTX.model.trace(np.zeros((1, 1, *CTX.model.input_shape), np.float32))


@case("error")
def trace_complex_input():
    CTX.model.trace(CTX.x.astype(np.complex64))


@case("error")
def trace_text_input():
    CTX.model.trace("an image")


@case("error", words=["top"])
def top_minus_one():
    CTX.model.trace(CTX.x).top(-1)


@case("error", words=["top"])
def top_zero():
    CTX.model.trace(CTX.x).top(0)


@case("error", words=["top"])
def top_fractional():
    CTX.model.trace(CTX.x).top(1.5)


@case("ok")
def top_more_than_classes_gives_all():
    t = CTX.model.trace(CTX.x).top(1000)
    assert len(t) == CTX.model.num_classes and all(0 <= p <= 1 for _, p in t)


@case("error", words=["No layer named"])
def unknown_layer_name():
    CTX.model.layer("nope")


@case("error", words=["No layer named"])
def unknown_layer_info():
    CTX.model.info("nope")


@case("error", words=["has no"])
def unknown_trace_key():
    CTX.model.trace(CTX.x)["nope"]


@case("ok")
def trace_membership_still_works():
    t = CTX.model.trace(CTX.x)
    assert "input" in t and "nope" not in t and t.get("nope") is None


@case("error", words=["complex"])
def conv_with_complex_kernel():
    from cnn101.engine import Conv2D
    Conv2D("c", np.ones((3, 3, 3, 2), np.complex64))


@case("error", words=["whole numbers", "1.5"])
def conv_with_fractional_strides():
    from cnn101.engine import Conv2D
    Conv2D("c", np.ones((3, 3, 3, 2), np.float32), strides=1.5)


@case("error", words=["list of names"])
def sequential_class_names_string():
    from cnn101.engine import Sequential
    Sequential(CTX.model.layers, CTX.model.input_shape, "abcdefghij")


@case("error", words=["whole numbers"])
def sequential_fractional_input_shape():
    from cnn101.engine import Sequential
    Sequential(CTX.model.layers, (63.5, 64, 3))


# === explanations: names, channels, positions =======================================================
def _explain(fn_name, *args):
    def run():
        from cnn101 import explain
        return getattr(explain, fn_name)(CTX.model.trace(CTX.x), *args)
    return run


for _label, _args in {"conv_neuron_unknown_layer": ("conv_neuron", "nope", 0),
                      "conv_neuron_of_a_relu": ("conv_neuron", "relu_1_1", 0),
                      "conv_neuron_filter_minus_one": ("conv_neuron", "conv_1_1", -1),
                      "conv_neuron_filter_too_big": ("conv_neuron", "conv_1_1", 10**6),
                      "conv_neuron_filter_fractional": ("conv_neuron", "conv_1_1", 1.5),
                      "conv_neuron_filter_text": ("conv_neuron", "conv_1_1", "0"),
                      "conv_window_outside": ("conv_window", "conv_1_1", 0, 999, 0, 0),
                      "conv_window_negative": ("conv_window", "conv_1_1", 0, -1, 0, 0),
                      "conv_window_channel_too_big": ("conv_window", "conv_1_1", 0, 0, 0, 99),
                      "pool_window_outside": ("pool_window", "max_pool_1", 0, 999, 0),
                      "relu_detail_channel_too_big": ("relu_detail", "relu_1_1", 99),
                      "dense_neuron_minus_one": ("dense_neuron", -1),
                      "flatten_class_too_big": ("flatten_class", 99)}.items():
    CASES[f"explain_{_label}"] = Case(_explain(*_args), "error")


@case("error", words=["single image"])
def explain_a_batched_trace():
    from cnn101 import explain
    explain.conv_neuron(CTX.model.trace(np.stack([CTX.x, CTX.x])), "conv_1_1", 0)


@case("ok")
def explain_integral_float_channel_is_fine():
    from cnn101 import explain
    t = CTX.model.trace(CTX.x)
    assert np.array_equal(explain.conv_neuron(t, "conv_1_1", 2.0).pre_activation,
                          explain.conv_neuron(t, "conv_1_1", 2).pre_activation)


# === the runner ========================================================================================
def run(names: list[str], work: Path) -> None:
    global CTX
    from cnn101.errors import Cnn101Error

    CTX = Ctx(work)
    for name in names:
        c = CASES[name]
        rec = {"case": name}
        try:
            c.fn()
            rec["outcome"] = "ok"
        except Cnn101Error as e:
            rec.update(outcome="error", type=type(e).__name__, message=str(e))
        except AssertionError as e:
            rec.update(outcome="wrong", type="AssertionError", message=str(e))
        except BaseException as e:  # noqa: BLE001 - that is what this records
            rec.update(outcome="generic", type=type(e).__name__, message=str(e)[:500],
                       where=traceback.format_exc(limit=-3)[-800:])
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    run(sys.argv[2:], Path(sys.argv[1]))
