"""render.png: our encoder's output decoded by Pillow and by our own reader, pixel for pixel."""
import base64
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnn101.render.png import data_uri, png_bytes, read_png

PIL = pytest.importorskip("PIL.Image")
MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4).flatmap(lambda c: arrays(np.uint8, st.tuples(st.integers(1, 17), st.integers(1, 17),
                                                                       st.just(c)))))
def test_pillow_reads_back_every_pixel(a):
    data = png_bytes(a)
    img = PIL.open(io.BytesIO(data))
    img.load()
    assert img.mode == MODES[a.shape[2]] and img.size == (a.shape[1], a.shape[0])
    back = np.asarray(img).reshape(a.shape)
    np.testing.assert_array_equal(back, a)
    np.testing.assert_array_equal(read_png(data), a)


def test_grey_2d_and_data_uri():
    a = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    uri = data_uri(a)
    assert uri.startswith("data:image/png;base64,")
    data = base64.b64decode(uri.split(",", 1)[1])
    np.testing.assert_array_equal(np.asarray(PIL.open(io.BytesIO(data))), a)


def test_refuses_what_it_cannot_encode():
    with pytest.raises(ValueError, match="uint8"):
        png_bytes(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(ValueError, match="shape|array"):
        png_bytes(np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(ValueError, match="at least one pixel"):
        png_bytes(np.zeros((0, 2, 3), np.uint8))
    bad = bytearray(png_bytes(np.zeros((2, 2, 3), np.uint8)))
    bad[-20] ^= 1
    with pytest.raises(ValueError):
        read_png(bytes(bad))
