"""The engine: layers, the sequential model and its trace. Imports only NumPy."""
from .layers import LAYER_TYPES, Conv2D, Dense, Flatten, Layer, MaxPool2D, ReLU, Softmax, softmax
from .gradients import Gradients, TargetError
from .model import LayerInfo, Sequential, Trace

__all__ = ["Layer", "Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense", "Softmax", "softmax",
           "LAYER_TYPES", "Sequential", "Trace", "LayerInfo", "Gradients", "TargetError"]
