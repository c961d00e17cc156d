"""The page's first frame, made at build time on CPython: the Overview of the default example, drawn by
the same render code the live page uses, so a learner sees the network at once while Python starts.

Used by the build (buildsite/site.py). The caption, the prediction line and the choice of model file are
cnn101.page's, the same functions the page uses.

    html = prerender(index_html, model, image_bytes, label)
"""
from __future__ import annotations

import html as _html

import numpy as np

import cnn101
from cnn101.explain.overview import overview
from cnn101.page import input_caption, prediction_text, site_model_file
from cnn101.render.overview import overview_html
from cnn101.render.png import data_uri

MARK = "<!--cnn101:prerender-->"  # inside the Overview's frame
MARK_INPUT = "<!--cnn101:prerender-input-->"  # next to the input canvas
MARK_CAPTION = "<!--cnn101:prerender-caption-->"
MARK_PREDICTION = "<!--cnn101:prerender-prediction-->"


def site_card(weights_dir):
    """The model file a weights folder holds: a `<name>.json` card with its .npz (tiny-vgg first), else a
    TF.js model.json; None if there is none."""
    if weights_dir is None or not weights_dir.is_dir():
        return None
    name = site_model_file(p.name for p in weights_dir.iterdir() if p.is_file())
    return weights_dir / name if name else None


def site_model(weights_dir=None, prefer_site: bool = False):
    """The model the page will show: the wheel's weights, else the first model in weights_dir (with
    prefer_site — a build given its own weights folder — that folder's model first)."""
    card = site_card(weights_dir)
    if prefer_site and card is not None:
        return cnn101.load_model(card)
    try:
        return cnn101.load_model()
    except cnn101.ModelError:
        pass
    return cnn101.load_model(card) if card is not None else None


def prerender(index_html: str, model, image, label: str) -> str:
    """index.html with the snapshot in place of its markers (unchanged if it has none)."""
    if MARK not in index_html:
        return index_html
    x = cnn101.load_image(image, model)
    ov = overview(model, model.trace(x))
    stage = overview_html(ov, scope="unit", images="png")
    rgb = np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)
    h, w = model.input_shape[:2]
    parts = {
        MARK: f'<div class="snapshot">{stage}</div>',
        MARK_INPUT: f'<img class="input-snapshot" src="{data_uri(rgb)}" alt="" width="{w}" height="{h}">',
        MARK_CAPTION: _html.escape(input_caption(label, model)),
        MARK_PREDICTION: _html.escape(prediction_text(ov)),
    }
    for mark, text in parts.items():
        index_html = index_html.replace(mark, text, 1)
    return index_html
