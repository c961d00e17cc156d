"""Render: values → RGBA pixels (NumPy only; no engine, no browser).

    from cnn101.render import heatmap, ACTIVATION, WEIGHT, INPUT
    rgba = heatmap(trace["conv_1_1"][..., 0], -3.0, 3.0)          # H×W×4 uint8, zero → white
    rgba = heatmap(kernel[..., 0, 0], -0.5, 0.5, WEIGHT)           # brown–green weights
    rgba = heatmap(x[..., 0], 0.0, 1.0, INPUT)                     # greys for an input channel
"""
from .colormap import ACTIVATION, COLORMAPS, INPUT, WEIGHT, Colormap
from .heatmap import heatmap, normalize

__all__ = ["Colormap", "ACTIVATION", "WEIGHT", "INPUT", "COLORMAPS", "heatmap", "normalize"]
