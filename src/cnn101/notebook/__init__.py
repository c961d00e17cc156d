"""cnn101 in notebooks: objects that display themselves (static HTML/SVG, no JavaScript) and keep the
numbers they show as attributes.

    import cnn101, cnn101.notebook as nb
    model = cnn101.load_model()
    trace = model.trace(cnn101.load_image("cat.jpg", model))
    nb.image(trace.input)                      # the picture the network sees
    nb.summary(model)                          # layers, shapes, parameters
    nb.overview(trace, scope="unit")           # every neuron as a heatmap ('unit', 'module', 'global')
    v = nb.conv_neuron(trace, "conv_1_2", 3)   # kernels, per-channel results, Σ + bias
    v.kernels, v.results, v.bias               # … the same numbers as NumPy arrays
    nb.conv_window(trace, "conv_1_2", 3, 10, 20, channel=0)   # patch × kernel = products, Σ
    nb.conv_window(trace, "conv_1_2", 3, 10, 20)              # whole neuron: Σ channels + bias, ReLU
    nb.relu(trace, "relu_1_1", 0, 5, 5); nb.pool_window(trace, "max_pool_1", 0, 3, 4)
    nb.flatten(trace, k); nb.softmax(trace)
    nb.playground(trace["input"][..., 0], 5, 2, "same")   # a kernel swept over a real channel, formula filled in
    nb.layer_table(model)                      # shapes, parameters, multiply–adds, receptive fields
    nb.compare(trace_a, trace_b)               # B − A for every neuron, and every class probability's change
    nb.attribution(model, x, "gradcam", opacity=0.5)   # why: an attribution map over the image
    nb.gradient_overview(trace, "koala")       # d loss / d every neuron
    nb.fgsm(model, x)                          # how fragile the prediction is
"""
from __future__ import annotations

from .. import explain
from .base import View
from .conv import ConvNeuronView, ConvWholeView, ConvWindowView
from .layers import FlattenView, PoolView, ReluView, SoftmaxView
from .picture import ImageView
from .summary import Summary


def image(x, box: int = 192) -> ImageView:
    """An input image (H×W×3 floats in [0, 1]) enlarged, with its colour channels."""
    return ImageView(x, box)


def summary(model) -> Summary:
    """The model's layers, their settings, output shapes and parameter counts."""
    return Summary(model)


def overview(trace, scope: str = "unit"):
    """Every layer's neurons as heatmaps, coloured with one range per unit, module or globally."""
    from ..explain.overview import overview as _overview
    from .overview_view import OverviewView

    explain._common.single(trace)
    return OverviewView(_overview(trace.model, trace), scope)


def conv_neuron(trace, layer: str, neuron: int, at: tuple[int, int] | None = None) -> ConvNeuronView:
    """Conv neuron `neuron` of `layer`: each input channel, its kernel and result; Σ + bias (sum written out at `at`)."""
    return ConvNeuronView(explain.conv_neuron(trace, layer, neuron), at)


def conv_window(trace, layer: str, neuron: int, i: int, j: int, channel: int | None = None):
    """Output (i, j) of a conv neuron: for one input `channel`, the patch × kernel products and their sum;
    with channel=None, the whole neuron (every channel, Σ + bias, ReLU)."""
    n = explain.conv_neuron(trace, layer, neuron)
    if channel is None:
        return ConvWholeView(n.whole(i, j), n)
    return ConvWindowView(n.window(i, j, channel), n)


def relu(trace, layer: str, channel: int | None = None, *at: int) -> ReluView:
    """A ReLU layer, one channel: max(0, x) = y (written out at position `at`, default the most negative x)."""
    return ReluView(explain.relu_detail(trace, layer, channel), tuple(at) or None)


def pool_window(trace, layer: str, channel: int, i: int, j: int) -> PoolView:
    """A max-pooling window at output (i, j) of one channel: which cell is the maximum."""
    ch = explain.pool_channel(trace, layer, channel)
    return PoolView(ch.window(i, j), ch)


def flatten(trace, k: int | None = None, top: int = 10) -> FlattenView:
    """The flatten view of class k (default: the predicted class): values × weights, Σ + bias = logit."""
    k = int(trace.predicted) if k is None else k
    return FlattenView(explain.flatten_class(trace, k), top)


def softmax(trace) -> SoftmaxView:
    """Logits → exp → ÷ Σ → probabilities, for every class."""
    return SoftmaxView(explain.softmax_detail(trace))


def compare(trace_a, trace_b, scope: str = "unit"):
    """Image B against image A: every neuron's B − A as a heatmap (one symmetric range per scope) and how
    every class probability changed."""
    from ..explain.compare import compare as _compare
    from .compare_view import CompareView

    return CompareView(_compare(trace_a, trace_b), scope)


def playground(channel, kernel_size=3, stride=1, padding="valid", kernel="identity", at=(0, 0)):
    """A kernel swept over a real 2-D channel (e.g. explain.playground.channel_of(trace, "input", 0)) with the
    chosen size, stride and padding: the output size formula with numbers, problems in words, the result."""
    from ..explain.playground import playground as _playground
    from .playground_view import PlaygroundView

    return PlaygroundView(_playground(channel, kernel_size, stride, padding, kernel), at)


def layer_table(model):
    """Every layer's output shape, parameters, multiply–adds and receptive field."""
    from ..explain.playground import layer_table as _layer_table
    from .playground_view import LayerTableView

    return LayerTableView(model, _layer_table(model))
def attribution(model, x, method: str = "gradient", target=None, opacity: float = 0.6, **options):
    """An attribution map ('gradient', 'gradient_x_input', 'smoothgrad', 'gradcam') over the image."""
    from .why import AttributionView

    a = explain.attribution(model, x, method, target, **options)
    image = x.input if hasattr(x, "input") else x
    return AttributionView(a, image, opacity)


def gradient_overview(trace, target=None, scope: str = "unit"):
    """d loss / d every neuron for `target` (default: the prediction), coloured per scope."""
    from ..explain.gradient_overview import gradient_overview as _gov
    from .why import GradientOverviewView

    explain._common.single(trace)
    return GradientOverviewView(_gov(trace.model, trace, target), scope)


def fgsm(model, x, target=None, **options):
    """FGSM steps along the gradient's sign: the perturbed images, the differences, the new predictions."""
    from .why import FgsmView

    return FgsmView(explain.fgsm(model, x, target, **options))


def show(obj, **kwargs):
    """Something to display: a Trace → its overview, a model → its summary, a comparison → its view, a view → itself."""
    from ..engine import Sequential, Trace

    if isinstance(obj, Trace):
        return overview(obj, **kwargs)
    if isinstance(obj, Sequential):
        return summary(obj)
    from ..explain.compare import Comparison
    from .compare_view import CompareView

    if isinstance(obj, Comparison):
        return CompareView(obj, **kwargs)
    if isinstance(obj, View):
        return obj
    raise TypeError(f"cnn101.notebook.show() takes a trace, a model or a view, not a {type(obj).__name__}.")


__all__ = ["View", "image", "summary", "overview", "conv_neuron", "conv_window", "relu", "pool_window", "flatten",
           "softmax", "compare", "playground", "layer_table", "attribution", "gradient_overview", "fgsm", "show"]
