"""render.overview_svg: the Overview as a standalone SVG file and the exact map pixels of its PNG."""
import base64
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from cnn101.explain.overview import overview
from cnn101.render import ACTIVATION, INPUT, heatmap
from cnn101.render.overview import geometry, heatmaps
from cnn101.render.overview_svg import HEAD, map_rasters, overview_svg, png_scale, png_size, sample
from cnn101.render.png import read_png
from test_render_overview import model_of

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module", params=[(12, 20, [4, 6]), (70, 70, [3])])
def small(request):
    h, w, ch = request.param
    m = model_of(h, w, 3, ch)
    return overview(m, m.trace(np.random.default_rng(1).random(m.input_shape, dtype=np.float32)))


def test_svg_is_xml_self_contained_and_shows_the_numbers(small):
    text = overview_svg(small, scope="unit", detail=True, title="test image")
    root = ET.fromstring(text)
    assert root.tag == SVG + "svg"
    refs = re.findall(r'(?:href|src)="([^"]*)"', text) + re.findall(r"url\(([^)]*)\)", text)
    assert refs and all(r.startswith(("data:image/png;base64,", "#")) for r in refs), refs[:3]
    texts = [t.text for t in root.iter(SVG + "text")]
    out = small.columns[-1]
    for p in small.values(out.index):
        assert f"{float(p):.1%}" in texts
    for name in out.neuron_labels:
        assert name in texts
    for col in small.columns:
        assert col.name in texts
    lg = [lg for lg in small.legends("unit") if lg.colormap == "activation"]
    assert lg and all(f"{v:.3g}" in texts for g in lg for v in (g.lo, g.hi))


def test_every_embedded_map_is_the_pages_heatmap(small):
    root = ET.fromstring(overview_svg(small, scope="module"))
    images = list(root.iter(SVG + "image"))
    cols = [c for c in small.columns if c.kind != "output"]
    assert len(images) == sum(c.neurons for c in cols)
    for im in images:
        col, k = int(im.get("data-col")), int(im.get("data-neuron"))
        png = read_png(base64.b64decode(im.get("href").split(",", 1)[1]))
        want = heatmaps(small, small.columns[col], "module")[k]
        np.testing.assert_array_equal(png, want[..., :png.shape[2]])


def test_sample_takes_the_cell_under_each_pixel_centre():
    rgba = np.random.default_rng(0).integers(0, 256, (7, 5, 4), dtype=np.uint8)
    for height, width in [(7, 5), (14, 10), (9, 13), (3, 2)]:
        out = sample(rgba, width, height)
        assert out.shape == (height, width, 4)
        for i in range(height):
            for j in range(width):
                r, c = int((i + 0.5) * 7 / height), int((j + 0.5) * 5 / width)
                assert (out[i, j] == rgba[r, c]).all()


def test_map_rasters_give_every_cell_its_colour_in_the_png(small):
    geo = geometry(small.layout)
    s = png_scale(geo, small)
    w, h = png_size(geo, s)
    assert (w, h) == (round(geo.width * s), round((geo.height + HEAD) * s))
    rasters = map_rasters(small, geo, "unit", s)
    cols = [c for c in small.columns if c.kind != "output"]
    assert len(rasters) == sum(c.neurons for c in cols)
    i = 0
    for col in cols:
        v = small.values(col.index)
        lo, hi = small.range(col.index, "unit")
        for k in range(col.neurons):
            x, y, px = rasters[i]
            i += 1
            assert 0 <= x and 0 <= y and x + px.shape[1] <= w and y + px.shape[0] <= h
            cells = v[k] if v.ndim == 3 else v[k].reshape(1, 1)
            hm = heatmap(cells, lo, hi, INPUT if col.kind == "input" else ACTIVATION)
            ch, cw = cells.shape
            assert px.shape[0] >= ch and px.shape[1] >= cw  # every cell gets a pixel
            for r in range(ch):  # the pixel at each cell's centre has that cell's colour
                for c in range(cw):
                    pr, pc = int((r + 0.5) * px.shape[0] / ch), int((c + 0.5) * px.shape[1] / cw)
                    assert (px[pr, pc] == hm[r, c]).all(), (col.name, k, r, c)


def test_gradient_overview_rows_show_p_minus_y():
    from cnn101.explain import gradient_overview

    m = model_of(12, 20, 3, [4])
    tr = m.trace(np.random.default_rng(2).random(m.input_shape, dtype=np.float32))
    gov = gradient_overview(m, tr, 1)
    root = ET.fromstring(overview_svg(gov, scope="unit", gradient=True))
    texts = [t.text for t in root.iter(SVG + "text")]
    g = gov.values(gov.columns[-1].index)
    assert all(f"{float(v):+.3f}" in texts for v in g) and not any(t.endswith("%") and t != "0%" and t != "100%"
                                                                    for t in texts)
    bold = [t.text for t in root.iter(SVG + "text") if t.get("font-weight") == "bold"]
    assert bold == [m.class_names[1]]


def test_comparison_shows_b_minus_a_with_changes():
    from cnn101.explain import compare
    from cnn101.render.overview_svg import CHANGE_TEXT, svg_size

    m = model_of(12, 20, 3, [4])
    rng = np.random.default_rng(3)
    ta, tb = (m.trace(rng.random(m.input_shape, dtype=np.float32)) for _ in range(2))
    c = compare(ta, tb)
    geo = geometry(c.layout)
    root = ET.fromstring(overview_svg(c, geo, scope="unit", compare=True))
    assert float(root.get("width")) == svg_size(geo, True)[0] == geo.width + CHANGE_TEXT
    texts = [t.text for t in root.iter(SVG + "text")]
    for ch in c.changes:
        assert f"{ch.b:.1%}" in texts and f"({100 * ch.change:+.1f})" in texts
    inp = c.columns[0]  # B − A of the pixels is signed: the diverging map, not the input's own
    v = c.values(inp.index)[0]
    lo, hi = c.range(inp.index, "unit")
    np.testing.assert_array_equal(heatmaps(c, inp, "unit")[0], heatmap(v, lo, hi, ACTIVATION))
    assert not np.array_equal(heatmap(v, lo, hi, ACTIVATION), heatmap(v, lo, hi, INPUT))
