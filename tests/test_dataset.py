"""cnn101.dataset: what does not need the dataset folder (the folder itself is used by the golden,
shipped-weights and training tests)."""
from __future__ import annotations

import numpy as np

from cnn101.dataset import Split
from cnn101.engine import Dense, Flatten, Sequential


def test_an_empty_split_has_the_shape_load_image_would_give():
    empty = Split("none", [], np.zeros(0, np.int64))
    assert empty.images(64).shape == (0, 64, 64, 3)
    assert empty.images((40, 30)).shape == (0, 40, 30, 3)
    grey = Sequential([Flatten("f"), Dense("d", np.ones((28 * 28, 2)))], (28, 28, 1), ["a", "b"])
    assert empty.images(grey).shape == (0, 28, 28, 1) and empty.images(grey).dtype == np.float32
