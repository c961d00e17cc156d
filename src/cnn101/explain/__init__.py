"""Explain: what every view shows, as plain data (dataclasses of NumPy arrays and floats).

One source of numbers for the web page and the notebook, computed from a model and one image's trace,
for any linear CNN (any kernel size, stride, padding, number of classes):

    n = conv_neuron(trace, "conv_1_2", 3)      # kernels, single-channel results, bias, their sum
    n.window(i, j, channel=0)                   # patch × kernel = products, their sum
    n.whole(i, j)                               # Σ channels + bias (+ ReLU) = the neuron's value
    relu_detail(trace, "relu_1_1", 0).at(i, j)  # max(0, x) = y
    pool_channel(trace, "max_pool_1", 0).window(i, j)
    flatten_class(trace, k)                     # x · W[:, k], Σ + bias = logit k
    softmax_detail(trace)                       # exp(l_i) / Σ_j exp(l_j)
    route(model, name).view                     # which view a click on a neuron of `name` opens
    playground(channel_of(trace, 'input', 0), 3, 2, 'same', 'blur').output   # hyperparameters on real data
    layer_table(model)                          # shapes, parameters, multiply–adds, receptive fields
    compare(trace_a, trace_b).values(name)      # B − A per neuron; .changes: every class probability
    occlusion(model, x, target, 8, 4).drops     # how much a grey patch at each position lowers p(target)

Why it decided (gradients of the loss, from the engine's `model.backward`):

    gradient_overview(model, trace, target)     # the Overview's columns as d loss / d activation
    conv_backward(trace, g, "conv_1_2", f)      # each layer's backward view: softmax, dense, flatten, pool, relu
    vanilla_gradient / gradient_x_input / smoothgrad / grad_cam(model, x, target)   # attribution maps
    fgsm(model, x)                              # how fragile the prediction is
"""
from .compare import Comparison, ProbabilityChange, compare
from .conv import ConvNeuron, ConvWhole, ConvWindow, conv_neuron, conv_whole, conv_window, single_channel_results
from .attribution import (Attribution, attribution, class_gradients, grad_cam, gradient_x_input, last_conv_layer,
                          smoothgrad, vanilla_gradient)
from .backward import (FlattenDense, backward_view, ConvBackward, ConvInputGradient, DenseBackward, FlattenBackward, PoolBackward, ReluBackward,
                       SoftmaxBackward, conv_backward, conv_input_gradient, dense_backward, flatten_backward,
                       pool_backward, relu_backward, softmax_backward)
from .fgsm import Fgsm, FgsmStep, fgsm
from .flatten import DenseNeuron, FlattenMap, dense_neuron, flatten_class, flatten_map, logits_layer
from .geometry import WindowGeometry
from .input_channel import InputChannel, Preprocessing, input_channel, preprocessing
from .occlusion import OcclusionMap, occlusion
from .playground import LayerRow, Playground, channel_of, layer_table, playground, trained_kernel
from .gradient_overview import GradientOverview, gradient_overview
from .pooling import PoolChannel, PoolWindow, pool_channel, pool_window
from .relu import ReluCell, ReluDetail, relu_detail
from .ranges import running_sum, symmetric
from .routing import Route, route, routes
from .softmax import SoftmaxDetail, SoftmaxTerm, softmax_detail

__all__ = [
    "WindowGeometry",
    "ConvNeuron", "ConvWindow", "ConvWhole", "conv_neuron", "conv_window", "conv_whole", "single_channel_results",
    "ReluDetail", "ReluCell", "relu_detail",
    "PoolChannel", "PoolWindow", "pool_channel", "pool_window",
    "FlattenMap", "DenseNeuron", "flatten_map", "dense_neuron", "flatten_class", "logits_layer",
    "SoftmaxDetail", "SoftmaxTerm", "softmax_detail",
    "InputChannel", "Preprocessing", "input_channel", "preprocessing",
    "Route", "route", "routes", "symmetric", "running_sum",
    "OcclusionMap", "occlusion",
    "Comparison", "ProbabilityChange", "compare",
    "Playground", "LayerRow", "playground", "layer_table", "channel_of", "trained_kernel",
    "GradientOverview", "gradient_overview",
    "SoftmaxBackward", "DenseBackward", "FlattenBackward", "PoolBackward", "ReluBackward", "ConvBackward",
    "ConvInputGradient", "softmax_backward", "dense_backward", "flatten_backward", "pool_backward", "relu_backward",
    "conv_backward", "conv_input_gradient", "backward_view", "FlattenDense",
    "Attribution", "attribution", "class_gradients", "vanilla_gradient", "gradient_x_input", "smoothgrad", "grad_cam",
    "last_conv_layer",
    "Fgsm", "FgsmStep", "fgsm",
]
