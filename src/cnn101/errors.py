"""The error types a user can cause; each message says what went wrong and what to do."""


class Cnn101Error(ValueError):
    """Base class of every error cnn101 raises on purpose."""


class ModelError(Cnn101Error):
    """A model file or layer list that cnn101 cannot use (the message names the layer or file)."""


class ImageError(Cnn101Error):
    """An image that cannot be read or is unsuitable (not an image, truncated, too large, empty)."""


class PerturbError(Cnn101Error):
    """A change to an input image (perturbation, brush stroke, fill, occlusion patch) whose settings cannot work."""


class InputError(Cnn101Error):
    """An input the model cannot take (wrong shape, NaN or infinite values) or an argument out of range."""


class NameNotFound(Cnn101Error, KeyError):
    """A layer (or trace entry) name the model does not have; also a KeyError, as for any mapping."""

    def __str__(self):  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


class OutOfRange(InputError, IndexError):
    """A channel, neuron, unit or position that does not exist; also an IndexError, as for any sequence."""
