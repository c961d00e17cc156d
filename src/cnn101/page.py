"""What the web page and its build-time snapshot (buildsite/snapshot.py) both say and choose, written
once: the input's caption, the prediction line, and which model file a site shows.

    input_caption("koala", model)      'koala — the network's 64×64 input'
    prediction_text(overview)          'Prediction: koala (93.1%)'
    site_model_file(["tiny-vgg.json", "tiny-vgg.npz", "model.json"])   'tiny-vgg.json'
"""
from __future__ import annotations


def input_caption(label: str, model) -> str:
    h, w = model.input_shape[:2]
    return f"{label} — the network's {h}×{w} input"


def prediction_text(ov) -> str:
    """The line under the input: the top class of an explain.overview.Overview and its probability."""
    name, p = ov.top(1)[0]
    return f"Prediction: {name} ({p:.1%})"


def site_model_file(names) -> str | None:
    """Of the file names in a site's weights folder, the model the page shows: a `<name>.json` card with
    its `<name>.npz` (tiny-vgg first, then by name), else a TF.js `model.json`; None if there is none."""
    names = set(names)
    cards = sorted((n for n in names if n.endswith(".json") and n != "model.json" and n[:-5] + ".npz" in names),
                   key=lambda n: (n != "tiny-vgg.json", n))
    if cards:
        return cards[0]
    return "model.json" if "model.json" in names else None
