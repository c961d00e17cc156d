"""Notebook display objects: the markup is valid (balanced HTML, well-formed XML/SVG) and every number
printed in it equals the engine's, on the reference Tiny VGG and on the synthetic model."""
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pytest

import cnn101.notebook as nb
from cnn101.engine import Conv2D, MaxPool2D, ReLU
from cnn101.explain import logits_layer
from models import both_traces

VOID = {"img", "br", "hr", "meta", "input", "link", "col", "area", "base", "wbr", "source", "image", "rect", "path"}
HALF = 5e-4 + 2e-5  # a number printed with 3 decimals, against the engine's float32


class Balanced(HTMLParser):
    """Fails on a closing tag that does not match the open one; collects text and img sources."""

    def __init__(self):
        super().__init__()
        self.stack, self.imgs, self.text, self.tags = [], [], [], {}

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "img":
            self.imgs.append(dict(attrs))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "img":
            self.imgs.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse_html(html: str) -> Balanced:
    p = Balanced()
    p.feed(html)
    p.close()
    assert not p.stack, f"unclosed tags {p.stack}"
    return p


def xml(view) -> ET.Element:
    html = view._repr_html_()
    parse_html(html)
    return ET.fromstring(html)


def grid(root, name) -> np.ndarray:
    table = root.find(f".//table[@data-name='{name}']")
    assert table is not None, name
    rows = {}
    for td in table.iter("td"):
        rows.setdefault(int(td.get("data-row")), {})[int(td.get("data-col"))] = td.text
    return np.array([[_num(rows[i][j]) for j in sorted(rows[i])] for i in sorted(rows)])


def _num(s: str) -> float:
    s = s.strip().replace("−∞", "-inf").replace("−", "-")
    return float(s)


def numbers_after(text: str, label: str) -> list[float]:
    m = re.search(re.escape(label) + r"(.*)", text)
    assert m, label
    return [float(v) for v in re.findall(r"-?\d+\.\d+", m.group(1))]


@pytest.fixture(params=both_traces())
def trace(request):
    return request.param()


def kinds(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


def test_summary_lists_every_layer_with_shape_and_parameters(trace):
    model = trace.model
    root = xml(nb.summary(model))
    rows = root.findall(".//table[@data-name='summary']/tbody/tr")
    assert len(rows) == len(model.layers) + 2
    for tr, layer in zip(rows[1:], model.layers):
        cells = ["".join(td.itertext()) for td in tr.findall("td")]
        assert cells[0] == layer.name and cells[1] == layer.kind
        assert cells[3] == str(tuple(model.shapes[layer.name]))
        assert int(cells[4].replace(",", "")) == layer.param_count
    assert int("".join(rows[-1].itertext()).replace("total", "").replace(",", "")) == model.param_count
    assert nb.summary(model).rows[0]["params"] == model.layers[0].param_count


def test_conv_neuron_shows_kernels_results_and_the_sum(trace):
    model = trace.model
    conv = kinds(model, Conv2D)[-1]
    f = conv.filters - 1
    view = nb.conv_neuron(trace, conv.name, f, at=(1, 2))
    root = xml(view)
    src = trace[model.previous(conv.name)]
    for c in range(src.shape[2]):
        np.testing.assert_allclose(grid(root, f"kernel-{c}"), conv.kernel[:, :, c, f], atol=HALF)
    np.testing.assert_array_equal(view.kernels, conv.kernel[:, :, :, f])
    text = "\n".join(root.find(".//p[@class='sum']").itertext())
    nums = numbers_after(text, "=")
    assert len(nums) == src.shape[2] + 2
    assert nums[-1] == pytest.approx(float(trace[conv.name][1, 2, f]), abs=HALF)
    assert nums[-2] == pytest.approx(float(conv.bias[f]), abs=HALF)
    # 1 image per input channel, 1 per result, the sum (+ the ReLU output if any)
    images = root.findall(".//{http://www.w3.org/2000/svg}image")
    relu_after = any(layer.name == view.relu for layer in kinds(model, ReLU))
    assert len(images) == 2 * src.shape[2] + 1 + relu_after


def test_conv_window_products_and_sum(trace):
    model = trace.model
    conv = kinds(model, Conv2D)[0]
    x = trace[model.previous(conv.name)]
    oh, ow = model.shapes[conv.name][:2]
    for (i, j, c) in ((0, 0, 0), (oh - 1, ow - 1, x.shape[2] - 1)):
        view = nb.conv_window(trace, conv.name, 1, i, j, channel=c)
        root = xml(view)
        kh, kw = conv.kernel_size
        (_, pt, _), (_, pl, _) = conv.geometry(x.shape)
        r0, c0 = i * conv.strides[0] - pt, j * conv.strides[1] - pl
        patch = np.zeros((kh, kw))
        for di in range(kh):
            for dj in range(kw):
                if 0 <= r0 + di < x.shape[0] and 0 <= c0 + dj < x.shape[1]:
                    patch[di, dj] = x[r0 + di, c0 + dj, c]
        k = conv.kernel[:, :, c, 1]
        np.testing.assert_allclose(grid(root, "patch"), patch, atol=HALF)
        np.testing.assert_allclose(grid(root, "kernel"), k, atol=HALF)
        np.testing.assert_allclose(grid(root, "products"), patch * k, atol=HALF)
        shown = [float(t) for t in re.findall(r"-?\d+\.\d{3}", "".join(root.itertext()))]
        assert any(abs(v - float((patch * k).sum())) <= HALF for v in shown)
        assert view.sum == pytest.approx(float((patch * k).sum()), abs=1e-9)


def test_whole_neuron_ends_at_the_overview_value(trace):
    model = trace.model
    for conv in kinds(model, Conv2D):
        oh, ow = model.shapes[conv.name][:2]
        i, j = oh // 2, ow - 1
        view = nb.conv_window(trace, conv.name, 0, i, j)
        root = xml(view)
        text = "\n".join(root.find(".//p[@class='sum']").itertext())
        shown_value = numbers_after(text, "engine's value:")[0]
        name = view.relu or conv.name
        assert shown_value == pytest.approx(float(trace[name][i, j, 0]), abs=HALF)
        total = numbers_after(text, "Σ channels + bias =")[-1]
        assert total == pytest.approx(float(trace[conv.name][i, j, 0]), abs=HALF)
        sums = [_num(s.text) for s in root.iter("span") if s.get("class") == "channel-sum"]
        assert len(sums) == trace[model.previous(conv.name)].shape[2]
        assert sum(sums) + view.bias == pytest.approx(total, abs=HALF * (len(sums) + 1))


def test_relu_and_pool_views(trace):
    model = trace.model
    relu = kinds(model, ReLU)[0]
    x = trace[model.previous(relu.name)][:, :, 0]
    view = nb.relu(trace, relu.name, 0, 2, 3)
    root = xml(view)
    xs, ys = grid(root, "x"), grid(root, "y")
    np.testing.assert_allclose(ys, np.maximum(xs, 0), atol=1e-12)
    np.testing.assert_allclose(xs, x[0:5, 1:6], atol=HALF)
    assert view.cell.y == float(trace[relu.name][2, 3, 0])
    for pool in kinds(model, MaxPool2D):
        oh, ow, ch = model.shapes[pool.name]
        view = nb.pool_window(trace, pool.name, ch - 1, oh - 1, ow - 1)
        root = xml(view)
        win = grid(root, "window")
        shown = numbers_after("".join(root.itertext()), "max =")[0]
        assert shown == pytest.approx(float(trace[pool.name][oh - 1, ow - 1, ch - 1]), abs=HALF)
        assert np.max(win) == pytest.approx(shown, abs=HALF)
        marked = root.find(".//table[@data-name='window']//td[@class='mark']")
        assert _num(marked.text) == pytest.approx(shown, abs=1e-9)


def test_flatten_and_softmax_views(trace):
    model = trace.model
    k = int(trace.predicted)
    view = nb.flatten(trace)
    root = xml(view)
    text = "\n".join(root.find(".//p[@class='sum']").itertext())
    logit = numbers_after(text, "+ bias")[-1]
    assert logit == pytest.approx(float(trace.logits[k]), abs=HALF)
    dense = model.layer(logits_layer(model))
    x = trace[model.previous(dense.name)]
    for tr in root.findall(".//table[@data-name='top']/tbody/tr"):
        cells = ["".join(td.itertext()) for td in tr.findall("td")]
        n = int(cells[0])
        assert _num(cells[2]) == pytest.approx(float(x[n]), abs=HALF)
        assert _num(cells[3]) == pytest.approx(float(dense.kernel[n, k]), abs=HALF)
    root = xml(nb.softmax(trace))
    rows = root.findall(".//table[@data-name='softmax']/tbody/tr")
    assert len(rows) == model.num_classes
    seen = set()
    for tr in rows:
        cells = ["".join(td.itertext()) for td in tr.findall("td")]
        c = model.class_names.index(cells[0])
        seen.add(c)
        assert _num(cells[1]) == pytest.approx(float(trace.logits[c]), abs=HALF)
        assert _num(cells[4]) == pytest.approx(float(trace.probs[c]), abs=5e-5 + 1e-6)
    assert seen == set(range(model.num_classes))
    first = "".join(rows[0].find("td").itertext())
    assert first == model.class_names[k]


@pytest.mark.parametrize("scope", ["unit", "module", "global"])
def test_overview_embeds_a_heatmap_per_neuron_and_the_probabilities(trace, scope):
    model = trace.model
    view = nb.overview(trace, scope)
    p = parse_html(view._repr_html_())
    grid_neurons = 3 + sum(model.shapes[layer.name][2] for layer in model.layers
                           if len(model.shapes[layer.name]) == 3)
    pngs = [a for a in p.imgs if a.get("src", "").startswith("data:image/png;base64,")]
    assert len(pngs) == grid_neurons
    text = " ".join(p.text)
    for k, name in enumerate(model.class_names):
        assert f"{trace.probs[k]:.1%}" in text and name in text
    assert "<script" not in view._repr_html_()
    note = view.note()
    assert "per global" not in note and "per unit" not in note  # was "one range per global ..."
    assert {"unit": "per conv block", "module": "per module", "global": "shared by all hidden layers"}[scope] in note
    css = view._repr_html_()
    assert ".cnn101-ov .ov-caption{position:absolute" in css  # else "redgreenblue" runs into the label
    if scope == "unit":
        lo, hi = view.range(model.units[0][0], scope)
        assert -lo == hi == pytest.approx(max(float(np.abs(trace[n]).max()) for n in model.units[0]))
        assert f"{hi:.3g}" in text  # its legend


def test_show_and_attribute_forwarding(trace):
    assert type(nb.show(trace)).__name__ == "OverviewView"
    assert type(nb.show(trace.model)).__name__ == "Summary"
    v = nb.softmax(trace)
    assert nb.show(v) is v and v.probs.shape == (trace.model.num_classes,)
    assert "probs" in dir(v)
    with pytest.raises(AttributeError):
        v.no_such_thing
    with pytest.raises(TypeError):
        nb.show(42)


def test_image_view_shows_the_input_and_its_channels(trace):
    root = xml(nb.image(trace.input))
    imgs = root.findall(".//img")
    assert len(imgs) == 1 + trace.input.shape[2]
    assert all(i.get("src").startswith("data:image/png;base64,") for i in imgs)
    import base64
    from cnn101.render.png import read_png
    rgb = read_png(base64.b64decode(imgs[0].get("src").split(",", 1)[1]))
    np.testing.assert_array_equal(rgb, np.clip(np.rint(trace.input * 255), 0, 255).astype(np.uint8))
    with pytest.raises(ValueError, match="H×W×3"):
        nb.image(np.zeros((4, 4)))


def test_pool_view_draws_its_output_at_the_inputs_scale_and_non_square_maps_in_proportion():
    """A 48×40 model: every map keeps its aspect, and the pooled map is drawn half the size of its input."""
    from cnn101.engine import Dense, Flatten, Sequential, Softmax

    rng = np.random.default_rng(0)
    conv = Conv2D("c1", rng.normal(0, .3, (3, 3, 3, 2)).astype(np.float32), np.zeros(2, np.float32))
    model = Sequential([conv, ReLU("r1"), MaxPool2D("p1", 2, 2, "valid"), Flatten("f"),
                        Dense("d", rng.normal(0, .1, (23 * 19 * 2, 3)).astype(np.float32), np.zeros(3, np.float32)),
                        Softmax("s")], (48, 40, 3), ["a", "b", "c"], name="wide")
    trace = model.trace(rng.random((48, 40, 3)).astype(np.float32))
    html = nb.pool_window(trace, "p1", 0, 2, 3)._repr_html_()
    sizes = [(float(w), float(h)) for w, h in re.findall(r'<image [^>]*?width="([\d.]+)" height="([\d.]+)"', html)]
    assert len(sizes) == 2
    (iw, ih), (ow, oh) = sizes  # the input (46×38) and the output (23×19)
    assert iw / ih == pytest.approx(38 / 46) and ow / oh == pytest.approx(19 / 23)
    assert (ow, oh) == (iw / 2, ih / 2)
