"""render.conv_view on CPython: the intermediate view's geometry, sweep, markup and clock, for the reference
Tiny VGG and the synthetic model (5×5 kernels, stride 2, uneven 'same' padding), against explain's numbers."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from cnn101.explain import conv_neuron
from cnn101.render import conv_view as R
from models import both_traces

CONV = "conv2d"


def _convs(trace):
    return [layer.name for layer in trace.model.layers if layer.kind == CONV]


def _geo(n):
    g = n.geometry
    return R.geometry(n.channels, g.input_hw, g.size, g.strides, g.pad, g.output_hw)


def _vars(style: str) -> dict[str, str]:
    return dict(part.split(":", 1) for part in style.split(";"))


def _pct(v: str) -> float:
    assert v.endswith("%"), v
    return float(v[:-1]) / 100


@pytest.fixture(params=both_traces())
def trace(request):
    return request.param()


def overlap(a, b) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def test_geometry_places_every_row_without_overlap(trace):
    for name in _convs(trace):
        n = conv_neuron(trace, name, 0)
        g = _geo(n)
        assert g.channels == n.channels and g.steps == n.positions.shape[0]
        boxes = [*g.padded, *g.kernels, *g.results, g.plus, g.bias, g.neuron]
        for k, a in enumerate(boxes):
            assert 0 <= a.x and a.right <= g.width and 0 <= a.y and a.bottom <= g.height, (name, k, a)
            for b in boxes[k + 1:]:
                assert not overlap(a, b), (name, a, b)
        for p, i in zip(g.padded, g.inputs):  # the heatmap sits inside its padding frame, at the pad's place
            assert p.x <= i.x and i.right <= p.right + 1e-9 and p.y <= i.y and i.bottom <= p.bottom + 1e-9
        (h, w), (pt, pb, pl, pr) = g.input_hw, g.pad
        cell = g.inputs[0].w / w
        assert g.inputs[0].h / h == pytest.approx(cell)  # square cells
        assert g.inputs[0].x - g.padded[0].x == pytest.approx(pl * cell)
        assert g.padded[0].bottom - g.inputs[0].bottom == pytest.approx(pb * cell)
        # rows in channel order, top to bottom; the neuron to the right of the "+"
        assert all(a.y < b.y for a, b in zip(g.kernels, g.kernels[1:]))
        assert g.plus.right < g.neuron.x and g.results[0].right < g.plus.x


def test_geometry_depends_on_the_model_only():
    """Many channels shrink the rows (to a floor); a single channel still draws; sizes follow the shapes."""
    few = R.geometry(3, (64, 64), (3, 3), (1, 1), (0, 0, 0, 0), (62, 62))
    many = R.geometry(64, (16, 16), (3, 3), (1, 1), (1, 1, 1, 1), (16, 16))
    one = R.geometry(1, (9, 20), (1, 7), (1, 3), (0, 0, 3, 3), (9, 7))
    assert few.pitch > many.pitch >= R.PITCH_MIN
    assert len(many.results) == 64 and many.height > few.height
    assert one.inputs[0].w > one.inputs[0].h  # a wide input stays wide
    assert one.kernels[0].w == pytest.approx(7 * one.kernels[0].h)
    with pytest.raises(ValueError):
        R.geometry(0, (4, 4), (3, 3), (1, 1), (0, 0, 0, 0), (2, 2))


def test_frame_style_moves_the_window_over_explains_positions(trace):
    """--wl/--wt are the kernel window's top-left in percent of the input: equal to explain's sweep
    positions (negative or beyond the edge in the padding); --cl/--ct the output cell."""
    for name in _convs(trace):
        n = conv_neuron(trace, name, 0)
        g = _geo(n)
        (h, w), (oh, ow) = g.input_hw, g.output_hw
        for step in sorted({0, 1, ow - 1, ow, g.steps // 2, g.steps - 1}):
            i, j = g.position(step)
            v = _vars(R.frame_style(g, (i, j), step))
            r0, c0 = n.positions[step]
            assert (r0, c0) == n.geometry.origin(i, j) == g.origin(i, j)
            assert _pct(v["--wt"]) * h == pytest.approx(r0, abs=1e-4)
            assert _pct(v["--wl"]) * w == pytest.approx(c0, abs=1e-4)
            assert _pct(v["--ct"]) * oh == pytest.approx(i, abs=1e-4)
            assert _pct(v["--cl"]) * ow == pytest.approx(j, abs=1e-4)
            assert v["--cursor"] == "visible"
            # the reveal: rows above i whole, row i up to column j
            assert _pct(v["--ry0"]) * oh == pytest.approx(i, abs=1e-4)
            assert _pct(v["--ry1"]) * oh == pytest.approx(i + 1, abs=1e-4)
            assert _pct(v["--rx1"]) * ow == pytest.approx(j + 1, abs=1e-4)
        (kh, kw), (pt, pb, pl, pr) = g.kernel_hw, g.pad
        first = _vars(R.frame_style(g, (0, 0), 0))
        last = _vars(R.frame_style(g, (oh - 1, ow - 1), g.steps - 1))
        # windows hang into the padding: negative offsets at the top/left, past the edge at the bottom/right
        assert (_pct(first["--wt"]) < 0) == (pt > 0) and (_pct(first["--wl"]) < 0) == (pl > 0)
        assert (round(_pct(last["--wt"]) * h) + kh > h) == (pb > 0)
        assert (round(_pct(last["--wl"]) * w) + kw > w) == (pr > 0)


def test_frame_style_reveal_bounds():
    g = R.geometry(2, (8, 8), (3, 3), (2, 2), (0, 1, 0, 1), (4, 4))
    none = _vars(R.frame_style(g, None, -1))
    assert none["--cursor"] == "hidden" and "--wl" not in none
    assert _pct(none["--ry0"]) == _pct(none["--rx1"]) == _pct(none["--ry1"]) == 0
    full = _vars(R.frame_style(g, (3, 3), 10_000))  # clamped to the last step: everything shown
    assert (_pct(full["--ry0"]), _pct(full["--rx1"]), _pct(full["--ry1"])) == (0.75, 1.0, 1.0)


def test_pointer_mapping_round_trips(trace):
    """The centre cell of the window at output (i, j) maps back to (i, j); pointer fractions → cells."""
    for name in _convs(trace):
        g = _geo(conv_neuron(trace, name, 0))
        (kh, kw), (oh, ow) = g.kernel_hw, g.output_hw
        for i in range(oh):
            for j in range(ow):
                r0, c0 = g.origin(i, j)
                assert R.output_for_input(g, r0 + (kh - 1) // 2, c0 + (kw - 1) // 2) == (i, j)
        assert R.output_for_input(g, -100, 10_000) == (0, ow - 1)
        (h, w), (pt, pb, pl, pr) = g.input_hw, g.pad
        assert R.input_cell_at(g, 0.0, 0.0) == (-pt, -pl)
        assert R.input_cell_at(g, 0.9999, 0.9999) == (h - 1 + pb, w - 1 + pr)
    assert R.cell_at(0.5, 0.25, (4, 10)) == (1, 5)
    assert R.cell_at(1.0, -0.1, (4, 10)) == (0, 9)


def test_markup_is_well_formed_and_complete(trace):
    for name in _convs(trace):
        n = conv_neuron(trace, name, 1)
        g = _geo(n)
        captions = tuple(f"ch {c}" for c in range(n.channels))
        html = R.view_html(g, R.Labels(name, "neuron 1", n.source, captions, n.bias, n.relu))
        root = ET.fromstring(html)
        divs = list(root.iter("div"))
        cls = [d.get("class", "") for d in divs]
        assert sum(c.startswith("cv-pair cv-in") for c in cls) == n.channels
        assert cls.count("cv-pair cv-res") == n.channels and cls.count("cv-kernel") == n.channels
        assert cls.count("cv-window") == n.channels and cls.count("cv-cursor") == n.channels + 1
        canvases = list(root.iter("canvas"))
        (h, w), (kh, kw), (oh, ow) = g.input_hw, g.kernel_hw, g.output_hw
        sizes = [(int(c.get("height")), int(c.get("width"))) for c in canvases]
        assert sizes.count((h, w)) >= n.channels and sizes.count((kh, kw)) >= n.channels
        assert sizes.count((oh, ow)) >= n.channels + 1
        bias = [d for d in root.iter("b") if d.get("data-value") is not None]
        assert float(bias[0].get("data-value")) == n.bias
        assert "each input channel has its own kernel" in html and "add up all results" in html
        d = root.find(".//{*}path") if root.find(".//path") is None else root.find(".//path")
        assert d.get("d").count("M") == 3 * n.channels + 2  # channel→kernel→result→"+", bias, "+"→neuron


def test_sum_html_shows_explains_whole_numbers(trace):
    """The sum line's numbers are explain's whole(i, j): Σ channel results + bias = the neuron's value."""
    for name in _convs(trace):
        n = conv_neuron(trace, name, 0)
        oh, ow = n.geometry.output_hw
        for i, j in {(0, 0), (oh // 2, ow // 3), (oh - 1, ow - 1)}:
            w = n.whole(i, j)
            html = R.sum_html(w.position, w.channel_sums, w.bias, w.total, w.relu, w.value)
            root = ET.fromstring(f"<p>{html}</p>")
            terms = [e for e in root.iter("span") if e.get("class") == "cv-term"]
            got = np.array([float(e.get("data-value")) for e in terms])
            np.testing.assert_array_equal(got, w.channel_sums)
            assert [e.text for e in terms] == [R._paren(v) for v in w.channel_sums]
            total = next(e for e in root.iter("b") if e.get("class") == "cv-total")
            assert float(total.get("data-value")) == w.total
            assert w.total == pytest.approx(float(n.output[i, j]), abs=2e-5)
            assert w.total == pytest.approx(float(np.sum(w.channel_sums) + n.bias), abs=1e-12)
            if w.relu:
                act = next(e for e in root.iter("b") if e.get("class") == "cv-activated")
                assert float(act.get("data-value")) == w.value == max(0.0, w.total)
            assert f"at ({i}, {j})" in html


def test_a_whole_sweep_takes_about_the_same_time_whatever_its_size():
    for steps in (3844, 900, 256, 30):
        total = steps * R.step_ms(steps)
        assert 0.9 * R.SWEEP_MS <= total <= 1.1 * R.SWEEP_MS, steps
    assert R.step_ms(4) == R.STEP_MS[1]  # a tiny output does not crawl


def test_panel_html_controls():
    html = R.panel_html("t", "s", "d", "<div></div>", "tutorial-convolution", 2.0, True, "")
    root = ET.fromstring(html)
    buttons = {b.get("class"): b.text for b in root.iter("button")}
    assert buttons["cv-play"] == "Pause" and "cv-replay" in buttons and "cv-ff" in buttons and "cv-close" in buttons
    options = [(o.get("value"), o.get("selected")) for o in root.iter("option")]
    assert ("2", "selected") in [(v, s) for v, s in options if s]
    assert root.find(".//a").get("href") == "#tutorial-convolution"
    assert re.search(r'aria-live="polite"', html)


def test_apart_offsets():
    # the gap at 300..364 (Overview px) at scale 0.5 is 150..182 on screen; a panel at 100..900 needs
    # the left part to move (150 − 84) / 0.5 = 132 px and the right part (916 − 182) / 0.5 = 1468 px
    assert R.apart_offsets(300, 364, 0.5, 100, 900) == (132.0, 1468.0)
    assert R.apart_offsets(10, 2000, 1.0, 100, 900) == (0.0, 0.0)  # already clear


def test_a_non_square_input_keeps_its_proportions():
    g = R.geometry(3, (48, 40), (3, 3), (1, 1), (0, 0, 0, 0), (46, 38))
    for r in g.inputs:
        assert r.w / r.h == pytest.approx(40 / 48)
    for r in (*g.results, g.neuron):
        assert r.w / r.h == pytest.approx(38 / 46)
