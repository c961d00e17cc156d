"""render.svg: well-formed markup, readable text on every colour, numbers printed as given."""
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from cnn101.render import ACTIVATION, INPUT, WEIGHT
from cnn101.render.svg import (contrast, fit, fmt, heatmap_img, legend, marked_heatmap, number_grid, text_colour)

SVG = "{http://www.w3.org/2000/svg}"


def test_text_on_every_colour_of_every_map_has_wcag_aa_contrast():
    for cmap in (ACTIVATION, WEIGHT, INPUT):
        for rgb in cmap.lut:
            fg = (0, 0, 0) if text_colour(rgb) == "#000000" else (255, 255, 255)
            assert contrast(rgb, fg) >= 4.5, (cmap.name, rgb)
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)


def test_fmt():
    assert fmt(0.12345) == "0.123" and fmt(-0.0001) == "0.000" and fmt(-1.5, 1) == "-1.5"
    assert fmt(-np.inf) == "−∞" and fmt(np.inf) == "∞" and fmt(np.nan) == "NaN"


def test_number_grid_prints_each_value_in_its_cell():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(3, 4))
    pad = np.zeros((3, 4), bool)
    pad[0] = True
    mark = np.zeros((3, 4), bool)
    mark[2, 3] = True
    root = ET.fromstring(number_grid(v, -2, 2, ACTIVATION, 3, padded=pad, marked=mark, caption="x", name="g"))
    assert root.tag == "table" and root.get("data-name") == "g"
    cells = root.findall(".//td")
    assert len(cells) == 12
    for td in cells:
        i, j = int(td.get("data-row")), int(td.get("data-col"))
        assert float(td.text) == pytest.approx(v[i, j], abs=5e-4)
        assert (td.get("class") == "pad") == pad[i, j]
    assert root.find(".//td[@class='mark']").get("data-row") == "2"


def test_marked_heatmap_is_svg_and_grows_over_padding():
    v = np.arange(16, dtype=float).reshape(4, 4)
    root = ET.fromstring(marked_heatmap(v, 0, 15, INPUT, 40, (-1, -1, 3, 3), "t"))
    assert root.tag == SVG + "svg"
    win = root.find(f"{SVG}rect[@class='window']")
    assert float(win.get("x")) == -10 and float(win.get("width")) == 30
    assert root.find(f"{SVG}rect[@class='padding']") is not None
    img = root.find(f"{SVG}image")
    assert img.get("href").startswith("data:image/png;base64,") and "pixelated" in img.get("style")
    inside = ET.fromstring(marked_heatmap(v, 0, 15, INPUT, 40, (1, 1, 2, 2), "t"))
    assert inside.find(f"{SVG}rect[@class='padding']") is None


def test_images_scale_by_whole_pixels_when_small():
    assert fit((13, 13), 96) == (91, 91) and fit((60, 60), 96) == (120, 120) and fit((200, 100), 100) == (50, 100)
    el = ET.fromstring(heatmap_img(np.zeros((5, 7)), -1, 1, box=70))
    assert el.tag == "img" and (el.get("width"), el.get("height")) == ("70", "50")
    leg = ET.fromstring(legend(-2.5, 2.5, ACTIVATION, "a & b"))
    assert "".join(leg.itertext()).startswith("a & b")


def test_one_scale_keeps_a_pooled_map_half_its_input_and_non_square_maps_in_proportion():
    from cnn101.render.svg import cell_scale

    x, y = np.zeros((46, 38)), np.zeros((23, 19))  # a 2×2/2 pooling of a non-square map
    s = cell_scale(x.shape, 120)
    assert fit(x.shape, 120, s) == (38 * s, 46 * s) and fit(y.shape, 120, s) == (19 * s, 23 * s)
    assert fit(y.shape, 120) != fit(y.shape, 120, s)  # each fitted alone, both came out about 120 px

    def size(svg):
        root = ET.fromstring(svg)
        img = root.find("{http://www.w3.org/2000/svg}image")
        return float(img.get("width")), float(img.get("height"))
    big, small = size(marked_heatmap(x, -1, 1, box=120)), size(marked_heatmap(y, -1, 1, box=120, scale=s))
    assert small == (big[0] / 2, big[1] / 2) and big[0] / big[1] == pytest.approx(38 / 46)
