"""The error types a user can cause; each message says what went wrong and what to do."""


class Cnn101Error(ValueError):
    """Base class of every error cnn101 raises on purpose."""


class ModelError(Cnn101Error):
    """A model file or layer list that cnn101 cannot use (the message names the layer or file)."""


class ImageError(Cnn101Error):
    """An image that cannot be read or is unsuitable (not an image, truncated, too large, empty)."""


class PerturbError(Cnn101Error):
    """A change to an input image (perturbation, brush stroke, fill, occlusion patch) whose settings cannot work."""
