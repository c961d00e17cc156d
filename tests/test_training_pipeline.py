"""The training pipeline end to end on a tiny subset, and the offline data-preparation command."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `training/` is a top-level package of the repo, not part of cnn101
    sys.path.insert(0, str(ROOT))

import cnn101  # noqa: E402
from cnn101.dataset import Dataset, default_root  # noqa: E402
from training import prepare_data  # noqa: E402

DATA = default_root()
needs_data = pytest.mark.skipif(not (DATA / "MANIFEST.tsv").exists(), reason=f"no tiny-imagenet-10 at {DATA}")
PAPER_NAMES = ["conv_1_1", "relu_1_1", "conv_1_2", "relu_1_2", "max_pool_1", "conv_2_1", "relu_2_1",
               "conv_2_2", "relu_2_2", "max_pool_2", "flatten", "output", "output_softmax"]


# --- training → export → reload, on 2 classes × 20 images, 1 epoch ----------------------------------------

@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory, tf_keras):
    if not (DATA / "MANIFEST.tsv").exists():
        pytest.skip(f"no tiny-imagenet-10 at {DATA}")
    from training.data import Augment
    from training.train import Config, run

    base = tmp_path_factory.mktemp("runs")
    cfg = dict(epochs=1, batch_size=8, classes=[1, 8], per_class=20, augment=Augment(flip=True, shift=2))
    a = run(Config(seed=3, **cfg), DATA, base / "a", log=lambda *_: None)
    b = run(Config(seed=3, **cfg), DATA, base / "b", log=lambda *_: None)
    return base, a, b


@pytest.mark.slow  # trains (TensorFlow): seconds; not in the fast unit layer
def test_run_writes_a_model_cnn101_reloads_with_paper_layer_names(tiny_runs):
    base, record, _ = tiny_runs
    model = cnn101.load_model(base / "a" / "tiny-vgg.json")
    assert [layer.name for layer in model.layers] == PAPER_NAMES
    assert model.class_names == ["ladybug", "orange"]
    assert model.input_shape == (64, 64, 3) and model.num_classes == 2
    assert len(record["history"]) == 1 and record["selected_epoch"] == 1
    assert json.loads((base / "a" / "run.json").read_text())["cnnx_test_accuracy"] == record["cnnx_test_accuracy"]
    # The .keras file of the run reads back through cnn101's own Keras reader to the same weights.
    k = cnn101.load_model(base / "a" / "model.keras")
    for ours, theirs in zip(model.layers, k.layers):
        for var, arr in ours.params.items():
            np.testing.assert_array_equal(arr, theirs.params[var])


@pytest.mark.slow  # trains (TensorFlow): seconds; not in the fast unit layer
def test_card_figures_are_the_numpy_engines_on_the_subset(tiny_runs):
    base, record, _ = tiny_runs
    model = cnn101.load_model(base / "a" / "tiny-vgg.json")
    split = Dataset(DATA).split("cnnx_test", classes=[1, 8], per_class=20)
    y = np.where(split.labels == 1, 0, 1)
    pred = model.predict(split.images(model)).argmax(1)
    assert model.card["cnnx_test_accuracy"] == float(np.mean(pred == y))
    conf = np.asarray(model.card["evaluation"]["cnnx_test"]["confusion_matrix"])
    assert conf.sum() == len(y) == 40 and np.trace(conf) == int(np.sum(pred == y))
    assert model.card["dataset"]["manifest_sha256"] == hashlib.sha256((DATA / "MANIFEST.tsv").read_bytes()).hexdigest()
    assert model.card["seed"] == 3 and model.card["training"]["epochs"] == 1
    assert model.card["tensorflow_version"]


@pytest.mark.slow  # trains (TensorFlow): seconds; not in the fast unit layer
def test_same_seed_gives_the_same_weights(tiny_runs):
    base, _, _ = tiny_runs
    with np.load(base / "a" / "tiny-vgg.npz") as a, np.load(base / "b" / "tiny-vgg.npz") as b:
        assert a.files == b.files
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.slow  # trains (TensorFlow): seconds; not in the fast unit layer
def test_ship_picks_best_by_val_and_writes_native_and_tfjs(tiny_runs, tmp_path):
    from training.export import ship

    base, a, b = tiny_runs
    rec = json.loads((base / "b" / "run.json").read_text())
    rec["seed"], rec["cnnx_val_accuracy"] = 9, 1.5  # make run b the best by cnnx_val (and only by it)
    (base / "b" / "run.json").write_text(json.dumps(rec))
    card_path = ship([base / "a", base / "b"], tmp_path / "weights")
    shipped = cnn101.load_model(card_path)
    assert shipped.card["seed"] == 9 and [s["seed"] for s in shipped.card["seeds"]] == [3, 9]
    assert shipped.card["mean_cnnx_test_accuracy"] == pytest.approx((a["cnnx_test_accuracy"] + b["cnnx_test_accuracy"]) / 2)
    tfjs_model = cnn101.load_model(tmp_path / "weights" / "tfjs" / "model.json")
    assert tfjs_model.class_names == shipped.class_names
    x = np.random.default_rng(0).random((3, 64, 64, 3), dtype=np.float32)
    np.testing.assert_array_equal(tfjs_model.predict(x), shipped.predict(x))


def test_augment_is_seeded_and_keeps_range():
    from training.data import Augment, augment

    x = np.random.default_rng(1).random((6, 8, 8, 3), dtype=np.float32)
    aug = Augment(flip=True, shift=2, brightness=0.1, contrast=0.2, saturation=0.2)
    a = augment(x, aug, np.random.default_rng(5))
    np.testing.assert_array_equal(a, augment(x, aug, np.random.default_rng(5)))
    assert a.shape == x.shape and a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1
    assert not np.array_equal(a, x)
    np.testing.assert_array_equal(augment(x, Augment(flip=False), np.random.default_rng(5)), x)
    flipped = augment(x, Augment(flip=True), np.random.default_rng(5))
    for i in range(len(x)):  # every image is either itself or its mirror image
        assert np.array_equal(flipped[i], x[i]) or np.array_equal(flipped[i], x[i, :, ::-1])


@pytest.mark.parametrize("aug", [dict(flip=True, shift=3), dict(flip=False, shift=2), dict(flip=True, shift=0),
                                 dict(flip=True, shift=2, brightness=0.1, contrast=0.2, saturation=0.2)])
def test_fast_epochs_give_the_reference_augmentations_pixels(aug):
    from training.data import Augment, EpochImages, augment

    u8 = np.random.default_rng(2).integers(0, 256, (7, 9, 8, 3), dtype=np.uint8)
    x = u8.astype(np.float32) / np.float32(255)  # as cnn101.load_image makes them
    a = Augment(**aug)
    fast, r1, r2 = EpochImages(x, a), np.random.default_rng(11), np.random.default_rng(11)
    for _ in range(3):
        o1, o2 = r1.permutation(len(x)), r2.permutation(len(x))
        np.testing.assert_array_equal(fast.epoch(o2, r2), augment(x[o1], a, r1))


# --- prepare_data: offline, from the official zip or folder ------------------------------------------------

def _fake_tiny_imagenet_200(root: Path, train_per_class=2, drop_val=()) -> Path:
    """The official tiny-imagenet-200 layout with a few tiny JPEGs per class and all 500 listed val files."""
    from PIL import Image

    t = root / "tiny-imagenet-200"
    wnids = list(prepare_data.WNIDS)
    (t / "val" / "images").mkdir(parents=True)
    (t / "wnids.txt").write_text("\n".join(["n09999999", *wnids]) + "\n")
    (t / "words.txt").write_text("n09999999\tnot one of ours\n" + "".join(f"{w}\tgloss {i}, other\n" for i, w in enumerate(sorted(wnids))))
    rng = np.random.default_rng(0)

    def jpeg(path):
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(path, "JPEG")

    for w in wnids + ["n09999999"]:
        d = t / "train" / w / "images"
        d.mkdir(parents=True)
        for k in range(train_per_class):
            jpeg(d / f"{w}_{k}.JPEG")
        (t / "train" / w / f"{w}_boxes.txt").write_text("".join(f"{w}_{k}.JPEG\t0\t0\t7\t7\n" for k in range(train_per_class)))
    lines = ["val_0.JPEG\tn09999999\t0\t0\t7\t7"]
    jpeg(t / "val" / "images" / "val_0.JPEG")
    for f, w, _ in prepare_data.read_split():
        if f not in drop_val:
            lines.append(f"{f}\t{w}\t0\t0\t7\t7")
            jpeg(t / "val" / "images" / f)
    (t / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    return t


def _zip_folder(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as z:
        for f in sorted(folder.rglob("*")):
            z.write(f, f.relative_to(folder.parent).as_posix())
    return dest


def test_prepare_data_without_a_source_fails_with_a_clear_message(tmp_path, capsys):
    with pytest.raises(prepare_data.PrepareError, match="offline.*tiny-imagenet-200.zip"):
        prepare_data.prepare(tmp_path / "tiny-imagenet-200.zip", tmp_path / "out")
    with pytest.raises(SystemExit) as e:
        prepare_data.main(["--source", str(tmp_path / "missing.zip"), "--out", str(tmp_path / "out")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "missing.zip" in err and "--source" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(prepare_data.PrepareError, match="not a zip"):
        prepare_data.prepare(tmp_path / "broken.zip", tmp_path / "out")


@pytest.mark.parametrize("as_zip", [False, True])
def test_prepare_data_builds_the_tiny_imagenet_10_layout(tmp_path, as_zip):
    src = _fake_tiny_imagenet_200(tmp_path / "src")
    source = _zip_folder(src, tmp_path / "tiny-imagenet-200.zip") if as_zip else src.parent
    out = tmp_path / "tiny-imagenet-10"
    r = prepare_data.prepare(source, out, log=lambda *_: None)
    assert r["images"] == 10 * 2 + 500 and not r["matches_reference"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["MANIFEST.tsv", "README.md", "class_dict_10.json", "train", "val", "val_annotations_10.txt",
         "val_class_dict_10.json", "wnids.txt", "words_10.txt"])
    assert not (out / "train" / "n09999999").exists()
    rows = list(csv.DictReader(io.StringIO((out / "MANIFEST.tsv").read_text()), delimiter="\t"))
    assert [r_["path"] for r_ in rows] == sorted(r_["path"] for r_ in rows)
    for row in rows:  # every listed file exists with the listed hash
        assert hashlib.sha256((out / row["path"]).read_bytes()).hexdigest() == row["sha256"]
    split = {f: s for f, _, s in prepare_data.read_split()}
    for row in rows:
        if row["path"].startswith("val/"):
            assert row["cnnx_split"] == split[Path(row["path"]).name]
    ds = Dataset(out)
    assert ds.wnids == list(prepare_data.WNIDS)
    assert ds.class_names[0] == "lifeboat"  # display names, not the WordNet glosses
    assert [len(ds.split(s)) for s in ("train", "cnnx_val", "cnnx_test")] == [20, 250, 250]
    assert (out / "train" / "n03662601" / "n03662601_boxes.txt").exists()
    x = ds.split("cnnx_val", per_class=1).images(64)
    assert x.shape == (10, 64, 64, 3)
    with pytest.raises(prepare_data.PrepareError, match="--force"):
        prepare_data.prepare(source, out)
    assert prepare_data.prepare(source, out, force=True, log=lambda *_: None)["images"] == 520


def test_prepare_data_refuses_a_source_that_misses_split_files(tmp_path):
    src = _fake_tiny_imagenet_200(tmp_path / "src", train_per_class=1, drop_val=("val_8.JPEG",))
    with pytest.raises(prepare_data.PrepareError, match="1 listed files missing.*val_8.JPEG"):
        prepare_data.prepare(src, tmp_path / "out")


@needs_data
def test_prepare_data_rebuilds_the_reference_folder_byte_for_byte(tmp_path):
    """Turn the reference folder back into the official layout (symlinks), rebuild, compare every file."""
    t = tmp_path / "tiny-imagenet-200"
    (t / "val" / "images").mkdir(parents=True)
    wnids = (DATA / "wnids.txt").read_text().split()
    (t / "wnids.txt").write_text("\n".join(["n09999999", *wnids]) + "\n")
    (t / "words.txt").write_text("n00000001\tentity\n" + (DATA / "words_10.txt").read_text())
    for w in wnids:
        (t / "train" / w / "images").mkdir(parents=True)
        for f in (DATA / "train" / w).iterdir():
            (t / "train" / w / ("images/" if f.suffix == ".JPEG" else "") / f.name).symlink_to(f)
    ann = (DATA / "val_annotations_10.txt").read_text().splitlines()
    for line in ann:
        f, w = line.split("\t")[:2]
        (t / "val" / "images" / f).symlink_to(DATA / "val" / w / f)
    (t / "val" / "val_annotations.txt").write_text("val_0.JPEG\tn09999999\t0\t0\t1\t1\n" + "\n".join(ann) + "\n")
    out = tmp_path / "out"
    r = prepare_data.prepare(t, out, log=lambda *_: None)
    assert r["matches_reference"] and r["images"] == 5500
    for name in ("MANIFEST.tsv", "class_dict_10.json", "val_class_dict_10.json", "val_annotations_10.txt",
                 "wnids.txt", "words_10.txt"):
        assert (out / name).read_bytes() == (DATA / name).read_bytes(), name
    for row in Dataset(out).rows[::97]:
        assert (out / row["path"]).read_bytes() == (DATA / row["path"]).read_bytes()
