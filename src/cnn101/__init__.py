"""cnn101: see how a convolutional neural network classifies an image.

    import cnn101
    model = cnn101.load_model()                 # the bundled Tiny VGG
    x = cnn101.load_image("cat.jpg", model)     # float32 H×W×3 in [0, 1]
    trace = model.trace(x)                      # every layer's output, by name
    trace.top(3)
"""
from .engine import Sequential, Trace
from .errors import Cnn101Error, ImageError, InputError, ModelError, NameNotFound, PerturbError
from .formats import load_model
from .image import load_image

__version__ = "0.1.0"


def show(obj, **options):
    """Rich display of a model, a trace or an image in a notebook (see cnn101.notebook)."""
    from .notebook import show as _show

    return _show(obj, **options)


__all__ = ["show", "load_model", "load_image", "Sequential", "Trace", "Cnn101Error", "ImageError", "InputError",
           "ModelError", "NameNotFound", "PerturbError", "__version__"]
