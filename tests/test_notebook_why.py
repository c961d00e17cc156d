"""Notebook displays of "why": attribution overlays, the gradient Overview and FGSM — valid markup, pictures that
are the arrays, numbers that are the engine's."""
import re

import numpy as np
import pytest

import cnn101
import cnn101.notebook as nb
from cnn101.render.colormap import ACTIVATION, ATTRIBUTION
from cnn101.render.heatmap import heatmap
from cnn101.render.overlay import overlay
from cnn101.render.png import read_png
from models import synthetic_image, synthetic_model
from test_notebook_display import Balanced


def parse(html):
    p = Balanced()
    p.feed(html)
    p.close()
    assert not p.stack, f"unclosed tags: {p.stack}"
    return p


def png_of(src):
    import base64

    return read_png(base64.b64decode(src.split(",", 1)[1]))


def test_overlay_blends_by_strength():
    image = np.full((2, 3, 3), 0.5)
    values = np.array([[0.0, 1.0, -1.0], [0.5, 2.0, np.nan]])
    out = overlay(image, values, -1.0, 1.0, opacity=0.8, cmap=ACTIVATION)
    assert out.shape == (2, 3, 4) and out.dtype == np.uint8 and (out[..., 3] == 255).all()
    np.testing.assert_array_equal(out[0, 0, :3], [128, 128, 128])  # zero: the image untouched
    blue = heatmap(np.array([[1.0]]), -1, 1, ACTIVATION)[0, 0, :3] / 255
    np.testing.assert_allclose(out[0, 1, :3], np.rint((0.2 * 0.5 + 0.8 * blue) * 255), atol=1)
    np.testing.assert_array_equal(out[1, 1], out[0, 1])  # beyond the range: full strength, end colour
    np.testing.assert_array_equal(out[1, 2, :3], [128, 128, 128])  # NaN: untouched
    np.testing.assert_array_equal(overlay(image, values, -1, 1, opacity=0.0)[..., :3], 128)
    with pytest.raises(ValueError, match="same size"):
        overlay(image, values[:, :2], -1, 1)
    with pytest.raises(ValueError, match="Opacity"):
        overlay(image, values, -1, 1, opacity=1.5)


@pytest.mark.parametrize("method", ["gradient", "gradient_x_input", "smoothgrad", "gradcam"])
def test_attribution_view_shows_the_map_and_its_overlay(method):
    model, x = synthetic_model(), synthetic_image()
    v = nb.attribution(model, x, method, target="stripes", opacity=0.5)
    assert v.target == 1 and v.map.shape == (32, 32)
    html = v._repr_html_()
    p = parse(html)
    pics = {i.get("alt"): png_of(i["src"]) for i in p.imgs}
    cmap = ACTIVATION if v.signed else ATTRIBUTION
    np.testing.assert_array_equal(pics["attribution map"][..., :3], heatmap(v.map, *v.range, cmap)[..., :3])
    np.testing.assert_array_equal(pics["map over the image"][..., :3], v.overlay[..., :3])
    np.testing.assert_array_equal(v.overlay, overlay(x, v.map, *v.range, opacity=0.5, cmap=cmap))
    assert "stripes" in v.title and "opacity 50%" in html


def test_gradient_overview_view_prints_p_minus_y():
    model = synthetic_model()
    trace = model.trace(synthetic_image())
    v = nb.gradient_overview(trace, "circle", scope="module")
    g = model.backward(trace, 0)
    html = v._repr_html_()
    p = parse(html)
    for k in range(3):  # each class's row: name, p, y, p − y, as printed
        prow = [model.class_names[k], f"{float(trace.probs[k]):.4f}", "1" if k == 0 else "0", f"{float(g['logits'][k]):.4f}"]
        joined = "|".join(p.text)
        assert "|".join(prow) in joined, prow
    assert f"{g.loss:.4f}" in v.title
    first = next(i for i in p.imgs if i.get("alt") == "channel 0" and "edges" in i.get("title", ""))
    lo, hi = v.range("edges", "module")
    np.testing.assert_array_equal(png_of(first["src"])[..., :3],
                                  heatmap(np.moveaxis(g["edges"], -1, 0)[0], lo, hi, ACTIVATION)[..., :3])


def test_fgsm_view():
    model = cnn101.load_model()
    x = np.random.default_rng(3).random(model.input_shape, dtype=np.float32)
    v = nb.fgsm(model, x, epsilons=(0.01, 0.1))
    html = v._repr_html_()
    p = parse(html)
    assert len([i for i in p.imgs if i.get("alt") == "difference"]) == 2
    assert "ε = 0.1" in html and v.steps[1].epsilon == 0.1
