"""Build the tiny-imagenet-10 folder (the ten classes of CNN Explainer, with its cnnx_val/cnnx_test split)
from the official tiny-imagenet-200.zip or its unpacked folder. Works offline; downloads nothing.

    python -m training.prepare_data --source tiny-imagenet-200.zip --out data/tiny-imagenet-10

The split membership ships with this package (cnnx_split.tsv: file names, wnids and split, no images).
With the official release the result is byte-identical to the reference folder: the MANIFEST.tsv hash
is checked and reported.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import shutil
import sys
import zipfile
from pathlib import Path

# Output order of the model (class_dict_10.json index), by WordNet id.
WNIDS = ("n03662601", "n02165456", "n07873807", "n07720875", "n04146614",
         "n01882714", "n07920052", "n02509815", "n07747607", "n04285008")
SPLIT_FILE = Path(__file__).with_name("cnnx_split.tsv")
# sha256 of MANIFEST.tsv built from the official release (every image's sha256 is inside it).
REFERENCE_MANIFEST_SHA256 = "33fcb4bac7df78227757d89766c6e530c3a39446f8b4a423e378da3ecde78eb7"
DOWNLOAD_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"


README = """# tiny-imagenet-10

The ten Tiny ImageNet classes of CNN Explainer, built by `python -m training.prepare_data` from the
official tiny-imagenet-200 release: `train/<wnid>/` (500 per class), `val/<wnid>/` (50 per class),
MANIFEST.tsv (path, wnid, sha256, cnnx_split: train / cnnx_val / cnnx_test), class_dict_10.json
(wnid -> index, the model's output order), val_annotations_10.txt, val_class_dict_10.json, wnids.txt,
words_10.txt.

Train on `train`, select on `cnnx_val`, report `cnnx_test`.

Terms: the images come from ImageNet via Tiny ImageNet and fall under the ImageNet terms of access
(non-commercial research and educational use only). Do not commit or redistribute them.
"""


class PrepareError(Exception):
    """The source is missing or not the official tiny-imagenet-200 layout; the message says what to do."""


class Source:
    """Files of tiny-imagenet-200 by relative path ('train/n01…/images/…'), from a zip or a folder."""

    def __init__(self, path):
        p = Path(path)
        if not p.exists():
            raise PrepareError(
                f"No tiny-imagenet-200.zip or folder at {p}. This command works offline and downloads nothing: "
                f"get the official archive ({DOWNLOAD_URL}) on a machine with internet access, copy it here, "
                "and pass it with --source.")
        self.zip = None
        if p.is_file():
            try:
                self.zip = zipfile.ZipFile(p)
            except zipfile.BadZipFile:
                raise PrepareError(f"{p} is not a zip archive (truncated download?). "
                                   "Pass the official tiny-imagenet-200.zip or its unpacked folder.") from None
            names = [n for n in self.zip.namelist() if not n.endswith("/")]
            prefix = _common_prefix(names)
            self.files = {n[len(prefix):]: n for n in names}
        else:
            root = p / "tiny-imagenet-200" if (p / "tiny-imagenet-200" / "wnids.txt").exists() else p
            self.root = root
            self.files = {f.relative_to(root).as_posix(): f for f in root.rglob("*") if f.is_file()}
        if "wnids.txt" not in self.files or "val/val_annotations.txt" not in self.files:
            raise PrepareError(f"{p} does not look like tiny-imagenet-200 (no wnids.txt or val/val_annotations.txt "
                               "inside). Pass the official tiny-imagenet-200.zip or its unpacked folder.")

    def read(self, rel: str) -> bytes:
        if rel not in self.files:
            raise PrepareError(f"The source lacks {rel}; it is not a complete tiny-imagenet-200 release.")
        return self.zip.read(self.files[rel]) if self.zip else self.files[rel].read_bytes()

    def text(self, rel: str) -> str:
        return self.read(rel).decode("utf-8")


def _common_prefix(names: list[str]) -> str:
    """'tiny-imagenet-200/' if every member sits in that top folder, else ''."""
    tops = {n.split("/", 1)[0] + "/" for n in names if "/" in n}
    if len(tops) == 1 and all(n.startswith(next(iter(tops))) for n in names):
        top = next(iter(tops))
        return top if any(n == top + "wnids.txt" for n in names) else ""
    return ""


def read_split(path=SPLIT_FILE) -> list[tuple[str, str, str]]:
    """(val file name, wnid, cnnx_split) in the order of the official val_annotations.txt."""
    lines = [ln for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines)), delimiter="\t"))
    return [(r["file"], r["wnid"], r["cnnx_split"]) for r in rows]


def _numeric_key(name: str):
    stem = name.rsplit(".", 1)[0]
    head, _, num = stem.rpartition("_")
    return (head, int(num)) if num.isdigit() else (stem, -1)


def prepare(source, out, force: bool = False, log=print) -> dict:
    """Write the tiny-imagenet-10 layout into `out`; returns {'images': n, 'manifest_sha256': …, 'matches_reference': bool}."""
    src = Source(source)
    out = Path(out)
    if (out / "MANIFEST.tsv").exists() and not force:
        raise PrepareError(f"{out} already holds a dataset (MANIFEST.tsv); pass --force to rebuild it.")
    wnids200 = set(src.text("wnids.txt").split())
    missing = [w for w in WNIDS if w not in wnids200]
    if missing:
        raise PrepareError(f"The source's wnids.txt lacks the classes {missing}; it is not tiny-imagenet-200.")
    words = {}
    for line in src.text("words.txt").splitlines():
        w, _, gloss = line.partition("\t")
        if w in WNIDS:
            words[w] = gloss
    split = read_split()
    split_of = {f: (w, s) for f, w, s in split}

    # Validation images: keep the official annotation lines of the ten classes, in their order.
    ann = [ln for ln in src.text("val/val_annotations.txt").splitlines() if ln.strip()]
    ann10 = [ln for ln in ann if ln.split("\t")[1] in WNIDS]
    files10 = [ln.split("\t")[0] for ln in ann10]
    if set(files10) != set(split_of):
        lack, extra = sorted(set(split_of) - set(files10)), sorted(set(files10) - set(split_of))
        raise PrepareError(f"The source's validation annotations do not match the reference split "
                           f"({len(lack)} listed files missing, e.g. {lack[:3]}; {len(extra)} unexpected, e.g. "
                           f"{extra[:3]}). Use the official tiny-imagenet-200 release.")
    for ln in ann10:
        f, w = ln.split("\t")[:2]
        if split_of[f][0] != w:
            raise PrepareError(f"{f} is labelled {w} in the source but {split_of[f][0]} in the reference split.")

    if out.exists() and force:
        for sub in ("train", "val"):
            shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    manifest = []

    def put(rel_out: str, data: bytes, wnid: str, split_name: str | None):
        dest = out / rel_out
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        if split_name is not None:
            manifest.append((rel_out, wnid, hashlib.sha256(data).hexdigest(), split_name))

    for w in WNIDS:
        prefix = f"train/{w}/images/"
        images = sorted((r for r in src.files if r.startswith(prefix) and r.endswith(".JPEG")), key=lambda r: _numeric_key(r[len(prefix):]))
        if not images:
            raise PrepareError(f"The source has no training images for {w} (expected {prefix}*.JPEG).")
        for r in images:
            put(f"train/{w}/{r[len(prefix):]}", src.read(r), w, "train")
        boxes = f"train/{w}/{w}_boxes.txt"
        if boxes in src.files:
            put(boxes, src.read(boxes), w, None)
        log(f"  {w} ({words.get(w, '?').split(',')[0]}): {len(images)} training images")
    for ln in ann10:
        f, w = ln.split("\t")[:2]
        put(f"val/{w}/{f}", src.read(f"val/images/{f}"), w, split_of[f][1])

    manifest.sort(key=lambda m: m[0])
    text = "path\twnid\tsha256\tcnnx_split\n" + "".join("\t".join(m) + "\n" for m in manifest)
    (out / "MANIFEST.tsv").write_text(text, encoding="ascii", newline="")
    (out / "val_annotations_10.txt").write_text("".join(ln + "\n" for ln in ann10), encoding="utf-8", newline="")
    classes = {w: {"class": words.get(w, w), "index": i} for i, w in enumerate(WNIDS)}
    (out / "class_dict_10.json").write_text(json.dumps(classes, indent=2), encoding="utf-8")
    val_dict = {}
    for ln in ann10:
        f, w = ln.split("\t")[:2]
        val_dict[f] = {"class": w, "description": words.get(w, w), "index": WNIDS.index(w)}
    (out / "val_class_dict_10.json").write_text(json.dumps(val_dict, indent=2), encoding="utf-8")
    (out / "wnids.txt").write_text("".join(w + "\n" for w in WNIDS), encoding="ascii", newline="")
    (out / "words_10.txt").write_text("".join(f"{w}\t{words[w]}\n" for w in sorted(words)), encoding="utf-8", newline="")
    (out / "README.md").write_text(README, encoding="utf-8")
    digest = hashlib.sha256(text.encode("ascii")).hexdigest()
    return {"images": len(manifest), "manifest_sha256": digest, "matches_reference": digest == REFERENCE_MANIFEST_SHA256}


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.prepare_data", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", type=Path, default=Path("tiny-imagenet-200.zip"),
                   help="the official tiny-imagenet-200.zip, or the folder it unpacks to (default: ./tiny-imagenet-200.zip)")
    p.add_argument("--out", type=Path, required=True,
                   help="where to write the tiny-imagenet-10 folder (outside the repository: the images must "
                        "never be committed); then train with --data DIR or CNN101_DATA=DIR")
    p.add_argument("--force", action="store_true", help="rebuild an existing folder")
    a = p.parse_args(argv)
    try:
        r = prepare(a.source, a.out, a.force)
    except PrepareError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"wrote {r['images']} images and their MANIFEST.tsv to {a.out}")
    if r["matches_reference"]:
        print("MANIFEST.tsv matches the reference tiny-imagenet-10 exactly (sha256 " + r["manifest_sha256"][:12] + "…).")
    else:
        print(f"warning: MANIFEST.tsv (sha256 {r['manifest_sha256'][:12]}…) differs from the reference "
              f"({REFERENCE_MANIFEST_SHA256[:12]}…): the source is not the official release, so accuracy "
              "figures will not be comparable.", file=sys.stderr)


if __name__ == "__main__":
    main()
