"""cnn101.render.detail and cnn101.render.flatten_view on CPython: matrix geometry, number cells,
the autoplay clock, arrow keys, window lookup, the panel markup, and the flatten view's drawing."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnn101.engine import MaxPool2D
from cnn101.explain import WindowGeometry
from cnn101.render.clock import SPEEDS
from cnn101.render.detail import Matrix, around, arrow_move, cell, cells, panel_html, sig, window_covering
from cnn101.render.flatten_view import BUCKETS, FlattenLayout, flatten_svg, weight_buckets
from cnn101.render.svg import contrast, fmt

SVG = "{http://www.w3.org/2000/svg}"


def xml(s: str):
    return ET.fromstring(s)


# --- Matrix ------------------------------------------------------------------------------------------
def test_matrix_geometry_and_cell_lookup():
    v = np.arange(35, dtype=float).reshape(5, 7) - 17
    m = Matrix.of(v, -17, 17, "input", pad=(1, 2, 0, 3), box=200)
    assert m.pitch == 200 // 10  # 7 + 0 + 3 columns of padding are the widest side
    x0, y0 = m.origin
    assert (x0, y0) == (2.0, 2.0 + m.pitch)
    assert m.size == (4 + 10 * m.pitch, 4 + 8 * m.pitch)
    for r in range(5):
        for c in range(7):
            x, y, w, h = m.box(r, c)
            assert (w, h) == (m.pitch, m.pitch)
            assert m.cell_at(x + w / 2, y + h / 2) == (r, c)
    # a window hanging into the padding: negative origin, spans several cells
    assert m.box(-1, 5, 3, 4) == (x0 + 5 * m.pitch, y0 - m.pitch, 4 * m.pitch, 3 * m.pitch)
    assert m.cell_at(-5, 0) is None


def test_matrix_of_a_given_pitch_draws_two_matrices_at_one_scale():
    x = Matrix.of(np.zeros((60, 60)), -1, 1, "input", box=300)
    y = Matrix.of(np.zeros((30, 30)), -1, 1, "output", pitch=x.pitch)  # a 2×2/2 max pool's output
    assert y.pitch == x.pitch and y.size[0] - 4 == (x.size[0] - 4) / 2
    assert Matrix.of(np.zeros((30, 30)), -1, 1, "output", box=300).pitch == 2 * x.pitch  # fitted alone
    wide = Matrix.of(np.zeros((48, 40)), -1, 1, "input", box=300)
    assert (wide.size[0] - 4) / (wide.size[1] - 4) == pytest.approx(40 / 48)  # not a square frame


def test_matrix_svg_numbers_padding_and_windows():
    v = np.array([[-1.5, 0.25], [0.0, 2.0]])
    m = Matrix.of(v, -2, 2, "output", pad=(0, 1, 0, 1), box=120)
    assert m.show_numbers  # 40 px cells
    root = xml(m.svg("a title", windows=("win", "out")))
    assert root.get("data-grid") == "output" and root.get("data-rows") == "2" and root.get("data-cols") == "2"
    assert float(root.get("data-pitch")) == m.pitch
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == [fmt(x, 2) for x in v.ravel()]
    assert root.find(f"{SVG}rect[@class='dp-padding']") is not None
    assert [r.get("class") for r in root.iter(f"{SVG}rect") if r.get("class", "").startswith("dp-")][-2:] == \
        ["dp-win", "dp-out"]
    small = Matrix.of(np.zeros((60, 60)), -1, 1, "input", box=300)
    assert not small.show_numbers and not list(xml(small.svg()).iter(f"{SVG}text"))
    assert xml(small.svg()).find(f"{SVG}rect[@class='dp-padding']") is None


# --- cells ---------------------------------------------------------------------------------------------
@given(st.floats(-50, 50, allow_nan=False))
def test_cell_keeps_the_exact_value_and_readable_text(v):
    span = xml(cell(v, -10, 10, digits=3, name="x"))
    assert float(span.get("data-value")) == v and span.get("data-name") == "x"
    assert span.text == fmt(v, 3)
    style = dict(p.split(":") for p in span.get("style").split(";"))
    rgb = [int(style["background"][i:i + 2], 16) for i in (1, 3, 5)]
    fg = (0, 0, 0) if style["color"] == "#000000" else (255, 255, 255)
    assert contrast(rgb, fg) >= 4.5


def test_cells_marks_padding_and_the_maximum():
    vals = np.array([[1.0, -np.inf], [3.0, 2.0]])
    root = xml(cells(vals, -3, 3, name="window", padded=np.isinf(vals), marked=vals == 3.0))
    spans = root.findall("span")
    assert [float(s.get("data-value")) for s in spans] == [1.0, -np.inf, 3.0, 2.0]
    assert ["pad" in s.get("class") for s in spans] == [False, True, False, False]
    assert ["mark" in s.get("class") for s in spans] == [False, False, True, False]
    assert spans[1].text == "−∞" and root.get("data-cells") == "window"


@pytest.mark.parametrize("row, col", [(0, 0), (3, 4), (7, 9), (0, 9)])
def test_around_shows_the_neighbourhood_clipped_with_the_cell_marked(row, col):
    v = np.arange(80.0).reshape(8, 10)
    root = xml(around(v, row, col, -80, 80, radius=2, name="x-around"))
    r0, c0 = int(root.get("data-top")), int(root.get("data-left"))
    rows, cols = int(root.get("data-rows")), int(root.get("data-cols"))
    assert (r0, c0) == (max(0, row - 2), max(0, col - 2))
    assert (r0 + rows, c0 + cols) == (min(8, row + 3), min(10, col + 3))
    spans = root.findall("span")
    np.testing.assert_array_equal([float(x.get("data-value")) for x in spans], v[r0:r0 + rows, c0:c0 + cols].ravel())
    marked = [float(x.get("data-value")) for x in spans if "mark" in x.get("class")]
    assert marked == [v[row, col]]


def test_sig_formats_huge_and_tiny_numbers():
    assert sig(139.30490029) == "139.3"
    assert sig(9.587e-4) == "9.587×10⁻⁴"
    assert sig(4.85e8) == "4.850×10⁸"
    assert sig(float("inf")) == "∞"


def test_arrow_keys_move_on_the_grid_and_stop_at_edges():
    assert arrow_move(0, "ArrowRight", 3, 4) == 1
    assert arrow_move(3, "ArrowRight", 3, 4) == 3
    assert arrow_move(5, "ArrowDown", 3, 4) == 9
    assert arrow_move(9, "ArrowDown", 3, 4) == 9
    assert arrow_move(4, "ArrowLeft", 3, 4) == 4 and arrow_move(4, "ArrowUp", 3, 4) == 0
    assert arrow_move(6, "Home", 3, 4) == 0 and arrow_move(6, "End", 3, 4) == 11
    assert arrow_move(2, "ArrowRight", 5, 1) == 3 and arrow_move(2, "ArrowLeft", 5, 1) == 1  # one column
    assert arrow_move(2, "ArrowDown", 1, 5) == 3  # one row


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 20), k=st.integers(1, 5), s=st.integers(1, 4), padding=st.sampled_from(["valid", "same"]))
def test_window_covering_finds_a_window_over_the_cell(n, k, s, padding):
    if padding == "valid" and k > n:
        return
    g = WindowGeometry.of(MaxPool2D("p", k, s, padding), (n, n, 1))
    for x in range(n):
        i, j = window_covering(x, x, g.strides, g.pad, g.output_hw)
        assert 0 <= i < g.output_hw[0] and 0 <= j < g.output_hw[1]
        covered = any(g.origin(a, 0)[0] <= x < g.origin(a, 0)[0] + k for a in range(g.output_hw[0]))
        r0, c0 = g.origin(i, j)
        if covered:
            assert r0 <= x < r0 + k and c0 <= x < c0 + k


# --- the panel --------------------------------------------------------------------------------------------
def test_panel_markup():
    root = xml(panel_html("dp-relu", "ReLU", "tutorial-relu", "<p>body</p>", "What it shows.", "sub", steps=9,
                          speed=2.0, playing=False))
    assert root.get("id") == "dp-relu" and root.get("role") == "dialog"
    assert root.get("aria-describedby") == "dp-relu-desc"
    assert root.find(".//*[@id='dp-relu-desc']").text == "What it shows."
    assert root.find(".//a[@class='dp-tutorial']").get("href") == "#tutorial-relu"
    play = root.find(".//button[@class='dp-play']")
    assert play.text == "Play" and play.get("aria-pressed") == "false"
    slider = root.find(".//input[@class='dp-speed']")
    assert SPEEDS[int(slider.get("value"))] == 2.0 and int(slider.get("max")) == len(SPEEDS) - 1
    assert root.find(".//*[@aria-live='polite']") is not None
    single = xml(panel_html("dp-x", "X", "t", "", "d", steps=1))
    assert single.find(".//button[@class='dp-play']") is None


# --- the flatten view ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(13, 13, 10), (2, 2, 6), (3, 5, 40), (1, 1, 7)])
def test_flatten_layout_maps_pixels_and_elements(shape):
    lay = FlattenLayout(shape)
    h, w, c = shape
    assert lay.n == h * w * c
    boxes = []
    for ch in range(c):
        x0, y0 = lay.map_origin(ch)
        boxes.append((x0, y0, x0 + w * lay.pixel, y0 + h * lay.pixel))
        assert y0 >= lay.top - 1e-9 and y0 + h * lay.pixel <= lay.top + lay.height + 1e-9
    for a in range(c):  # maps never overlap
        for b in range(a + 1, c):
            A, B = boxes[a], boxes[b]
            assert A[2] <= B[0] or B[2] <= A[0] or A[3] <= B[1] or B[3] <= A[1]
    assert max(bx[2] for bx in boxes) < lay.flatten_x < lay.class_x < lay.width
    rng = np.random.default_rng(0)
    for n in set(rng.integers(0, lay.n, 50).tolist()) | {0, lay.n - 1}:
        row, rest = divmod(n, w * c)
        col, ch = divmod(rest, c)
        assert lay.index(row, col, ch) == n
        px, py = lay.pixel_xy(n)
        assert lay.hit(float(px), float(py)) == ("pixel", n)
        x0, y0 = lay.map_origin(ch)
        assert x0 + col * lay.pixel < px < x0 + (col + 1) * lay.pixel
        fy = float(lay.element_y(n))
        if lay.height / lay.n >= 1:
            assert lay.hit(lay.flatten_x + 1, fy) == ("flatten", n)
        d = lay.path(n)
        assert d.startswith(f"M{float(px):.1f} {float(py):.1f}L{lay.flatten_x:.1f} {fy:.1f}")
        assert d.endswith(f"L{lay.class_x:.1f} {lay.class_y:.1f}")


def test_flatten_svg_draws_every_edge_in_few_paths():
    shape = (13, 13, 10)
    lay = FlattenLayout(shape)
    rng = np.random.default_rng(1)
    values = rng.normal(size=shape)
    weights = rng.normal(size=lay.n) * 0.1
    svg = flatten_svg(lay, values, weights, (-3, 3), (-0.4, 0.4), "koala", 4.2, "max_pool_2")
    root = xml(svg)
    unroll = root.find(f"{SVG}g[@class='fv-unroll']").findall(f"{SVG}path")
    assert len(unroll) == shape[2]
    assert sum(p.get("d").count("M") for p in unroll) == lay.n  # every element, every channel
    wpaths = root.find(f"{SVG}g[@class='fv-weights']").findall(f"{SVG}path")
    assert len(wpaths) <= BUCKETS
    assert sum(p.get("d").count("M") for p in wpaths) == lay.n
    buckets = weight_buckets(weights, -0.4, 0.4)
    for p in wpaths:  # each path holds exactly the edges of its colour bucket
        assert p.get("d").count("M") == int((buckets == int(p.get("data-bucket"))).sum())
    assert len(root.findall(f"{SVG}rect[@class='fv-map']")) == shape[2]
    assert root.find(f"{SVG}path[@class='fv-hi']") is not None
    assert "koala" in svg and re.search(r"logit 4\.200", svg)
    # small maps print their numbers
    small = FlattenLayout((2, 2, 3))
    s2 = flatten_svg(small, np.arange(12.0).reshape(2, 2, 3) / 10, np.ones(12), (-1, 1), (-1, 1), "a", 0.0)
    assert [t.text for t in xml(s2).iter(f"{SVG}text") if t.get("class") == "fv-num"][:2] == ["0.00", "0.30"]


def test_text_colours_match_svg_text_colour():
    from cnn101.render.detail import text_colours
    from cnn101.render.svg import text_colour

    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (500, 3))
    rgb[:3] = [(0, 0, 0), (255, 255, 255), (118, 118, 118)]
    assert list(text_colours(rgb)) == [text_colour(c) for c in rgb]
