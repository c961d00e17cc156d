"""render.overview: positions, SVG edges and HTML of the Overview, for Tiny VGG and an odd model."""
import base64
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from cnn101.engine import Sequential
from cnn101.engine.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Softmax
from cnn101.explain.overview import overview
from cnn101.render import ACTIVATION, INPUT, heatmap
from cnn101.render.overview import BOTTOM, NEURON_AREA, TOP, edge_path, geometry, heatmaps, legends_html, overview_html
from cnn101.render.png import read_png


def model_of(h, w, c, channels, classes=3, seed=0):
    """A random conv/relu/pool stack: any input shape and number of channels per conv."""
    rng = np.random.default_rng(seed)
    layers, cin, shape = [], c, (h, w)
    for i, cout in enumerate(channels):
        layers += [Conv2D(f"c{i}", rng.normal(size=(3, 3, cin, cout)).astype(np.float32),
                          rng.normal(size=cout).astype(np.float32), padding="same"), ReLU(f"r{i}")]
        cin = cout
    layers += [MaxPool2D("p", 2), Flatten("f")]
    flat = (h // 2) * (w // 2) * cin
    layers += [Dense("out", rng.normal(size=(flat, classes)).astype(np.float32) * 0.1, np.zeros(classes, np.float32)),
               Softmax("sm")]
    return Sequential(layers, (h, w, c), [f"k{i}" for i in range(classes)])


@pytest.fixture(scope="module")
def small():
    m = model_of(12, 20, 3, [4, 6])
    return overview(m, m.trace(np.random.default_rng(1).random(m.input_shape, dtype=np.float32)))


def test_columns_go_left_to_right_and_neurons_do_not_overlap(small):
    geo = geometry(small.layout)
    xs = [c.x for c in geo.columns]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    for cg in geo.columns:
        for a, b in zip(cg.boxes, cg.boxes[1:]):
            assert b.y >= a.y + a.h                      # stacked, no overlap
        for bx in cg.boxes:
            assert 0 <= bx.x and bx.x + bx.w <= geo.width and 0 <= bx.y and bx.y + bx.h <= geo.height
    for a, b in zip(geo.columns, geo.columns[1:]):
        assert a.x + a.width < b.x                       # room for edges between columns


def test_non_square_heatmaps_keep_their_aspect(small):
    geo = geometry(small.layout)
    box = geo.columns[1].boxes[0]                        # c0: 12×20
    assert box.w == pytest.approx(geo.node) and box.h == pytest.approx(geo.node * 12 / 20, abs=0.1)


def test_many_neurons_shrink_the_nodes():
    m = model_of(8, 8, 1, [40])
    geo = geometry(overview(m, m.trace(np.zeros(m.input_shape, np.float32))).layout)
    few = geometry(overview(model_of(8, 8, 1, [4]), model_of(8, 8, 1, [4]).trace(np.zeros((8, 8, 1), np.float32))).layout)
    assert geo.node < few.node and geo.height <= TOP + NEURON_AREA + BOTTOM + 1


def _segments(d):
    return re.findall(r"M([\d.]+) ([\d.]+)([CL])[^M]*?([\d.]+) ([\d.]+)(?=M|$)", d)


def test_edge_paths_join_the_right_ports(small):
    geo = geometry(small.layout)
    for e in small.edges:
        segs = _segments(edge_path(geo, e))
        assert len(segs) == len(e.pairs())
        assert {s[2] for s in segs} == ({"C"} if e.connection == "all" else {"L"})
        for (x1, y1, _, x2, y2), (i, j) in zip(segs, e.pairs()):
            assert (float(x1), float(y1)) == pytest.approx(geo.out_port(e.source, i), abs=0.06)
            assert (float(x2), float(y2)) == pytest.approx(geo.in_port(e.target, j), abs=0.06)
    one = small.layout.edges_into("c1")
    assert len(_segments(edge_path(geo, one, [2]))) == small.column("c0").neurons


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(html):
    p = Tags()
    p.feed(html)
    return p.tags


def test_html_has_one_canvas_per_neuron_sized_to_its_heatmap(small):
    tags = parse(overview_html(small))
    canvases = [a for t, a in tags if t == "canvas"]
    hidden = [c for c in small.columns if c.kind != "output"]
    assert len(canvases) == sum(c.neurons for c in hidden)
    for a in canvases:
        col = small.column(int(a["data-col"]))
        h, w = col.shape[:2] if col.is_grid else (1, 1)
        assert (int(a["height"]), int(a["width"])) == (h, w)
    rows = [a for t, a in tags if t == "div" and "ov-class" in a.get("class", "")]
    assert len(rows) == 3
    links = {a["href"] for t, a in tags if t == "a"}
    assert links == {c.tutorial and "#" + c.tutorial for c in small.columns}
    paths = [a for t, a in tags if t == "path"]
    assert len(paths) == len(small.edges) + 1            # one per layer pair, plus the highlight


def test_png_snapshot_shows_exactly_the_heatmaps(small):
    tags = parse(overview_html(small, images="png"))
    imgs = [a for t, a in tags if t == "img"]
    assert imgs
    for a in imgs:
        col, k = small.column(int(a["data-col"])), int(a["data-neuron"])
        got = read_png(base64.b64decode(a["src"].split(",", 1)[1]))
        v = small.values(col.index)[k]
        v = v if v.ndim == 2 else np.reshape(v, (1, 1))
        want = heatmap(v, *small.range(col.index, "unit"), INPUT if col.kind == "input" else ACTIVATION)
        assert np.array_equal(got, want[..., :got.shape[2]])


def test_heatmaps_use_the_scope_range(small):
    for scope in ("unit", "module", "global"):
        rgba = heatmaps(small, small.column("r1"), scope)
        lo, hi = small.range("r1", scope)
        v = small.values("r1")
        assert np.array_equal(rgba[2], heatmap(v[2], lo, hi))


def test_legends_one_per_group(small):
    geo = geometry(small.layout)
    for scope in ("unit", "module", "global"):
        html = legends_html(small, geo, scope)
        assert html.count('class="ov-legend"') == len(small.legends(scope))


def test_non_square_maps_keep_their_proportions_in_the_overview():
    from cnn101.engine import Conv2D, MaxPool2D, ReLU, Sequential, Flatten, Dense, Softmax
    from cnn101.explain.overview import layout
    from cnn101.render.overview import geometry

    rng = np.random.default_rng(0)
    model = Sequential([Conv2D("c", rng.normal(0, .3, (3, 3, 3, 2)).astype(np.float32), np.zeros(2, np.float32)),
                        ReLU("r"), MaxPool2D("p", 2, 2, "valid"), Flatten("f"),
                        Dense("d", rng.normal(0, .1, (23 * 19 * 2, 3)).astype(np.float32), np.zeros(3, np.float32)),
                        Softmax("s")], (48, 40, 3), ["a", "b", "c"], name="wide")
    geo = geometry(layout(model))
    for col, shape in zip(geo.columns[:4], [(48, 40), (46, 38), (46, 38), (23, 19)]):
        for box in col.boxes:
            assert box.w / box.h == pytest.approx(shape[1] / shape[0], rel=0.01), (col.index, box)
