"""render.picture_svg: a picture (why mode's attribution over the input) as a self-contained SVG."""
import base64
import io
import re
import xml.etree.ElementTree as ET

import numpy as np

from cnn101.render.colormap import ATTRIBUTION
from cnn101.render.picture_svg import picture_size, picture_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_size_is_whole_px_per_pixel_and_at_least_the_minimum():
    assert picture_size((64, 64)) == (256, 256)
    assert picture_size((48, 40)) == (240, 288)  # 6 px per pixel: the longer side ≥ 256
    assert picture_size((300, 10)) == (10, 300)


def test_svg_holds_the_picture_title_caption_and_legend():
    from PIL import Image

    rgba = np.random.default_rng(0).integers(0, 256, (12, 20, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    svg, (w, h), (x, y, pw, ph) = picture_svg(rgba, "Gradient for koala", "colour range 0 … 1", (0.0, 0.4219, ATTRIBUTION))
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg" and (float(root.get("width")), float(root.get("height"))) == (w, h)
    refs = re.findall(r'href="([^"]*)"', svg) + re.findall(r"url\(([^)]*)\)", svg)
    assert refs and all(r.startswith(("data:image/png;base64,", "#")) for r in refs)
    texts = [t.text for t in root.iter(SVG + "text")]
    assert "Gradient for koala" in texts and "colour range 0 … 1" in texts and "0.422" in texts
    image = next(root.iter(SVG + "image"))
    assert [float(image.get(k)) for k in ("x", "y", "width", "height")] == [x, y, pw, ph]
    assert 0 <= x and x + pw <= w and y + ph <= h and pw % 20 == 0 and ph % 12 == 0
    png = base64.b64decode(image.get("href").split(",", 1)[1])
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")), rgba)


def test_a_long_title_widens_the_drawing():
    rgba = np.zeros((8, 8, 4), np.uint8)
    short = picture_svg(rgba, "a", "")[1][0]
    long = picture_svg(rgba, "a much longer title of a picture that a slide wants to show whole", "")[1][0]
    assert short == 320 and long > 320 + 200
