"""Image preprocessing: every common format and mode → float32 H×W×3 in [0, 1]; bad input → ImageError."""
from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

import cnn101
from cnn101 import ImageError
from cnn101.image import MAX_PIXELS, to_uint8

RNG = np.random.default_rng(11)
NOISE = RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def check(x, shape=(64, 64, 3)):
    assert isinstance(x, np.ndarray) and x.dtype == np.float32 and x.shape == shape
    assert 0 <= x.min() and x.max() <= 1
    return x


# --- formats ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, kw", [("PNG", {}), ("BMP", {}), ("TIFF", {}), ("WEBP", {"lossless": True}),
                                     ("TIFF", {"compression": "tiff_lzw"})])
def test_lossless_formats_give_the_exact_pixels(fmt, kw):
    x = check(cnn101.load_image(encode(Image.fromarray(NOISE), fmt, **kw), 64))
    np.testing.assert_array_equal(x, NOISE.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(to_uint8(x), NOISE)


def test_jpeg_decodes_like_pillow():
    data = encode(Image.fromarray(NOISE), "JPEG", quality=90)
    x = check(cnn101.load_image(data, 64))
    np.testing.assert_array_equal(to_uint8(x), np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


def test_gif_first_frame():
    frames = [Image.new("RGB", (64, 64), c) for c in [(255, 0, 0), (0, 0, 255), (0, 255, 0)]]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    x = check(cnn101.load_image(data, 64))
    np.testing.assert_array_equal(x[0, 0], [1, 0, 0])
    assert np.all(x == x[0, 0])


@pytest.mark.parametrize("kind", ["path", "bytes", "bytearray", "memoryview", "file", "pil"])
def test_sources(tmp_path, kind):
    data = encode(Image.fromarray(NOISE), "PNG")
    (tmp_path / "a.png").write_bytes(data)
    src = {"path": str(tmp_path / "a.png"), "bytes": data, "bytearray": bytearray(data), "memoryview": memoryview(data),
           "file": io.BytesIO(data), "pil": Image.fromarray(NOISE)}[kind]
    np.testing.assert_array_equal(to_uint8(cnn101.load_image(src, 64)), NOISE)


def test_size_as_int_pair_or_model(tmp_path):
    from cnn101.engine import Dense, Flatten, Sequential

    data = encode(Image.fromarray(NOISE), "PNG")
    model = Sequential([Flatten("f"), Dense("d", np.zeros((40 * 24 * 3, 2)))], (40, 24, 3))
    assert cnn101.load_image(data, model).shape == (40, 24, 3)
    assert cnn101.load_image(data, (40, 24)).shape == (40, 24, 3)
    assert cnn101.load_image(data, 32).shape == (32, 32, 3)
    assert cnn101.load_image(data).shape == (64, 64, 3)


# --- orientation, modes ------------------------------------------------------------------------------

def test_exif_orientation_6_is_applied():
    """Stored 40 wide × 20 high, left red and right blue; orientation 6 = rotate 90° clockwise to display."""
    a = np.zeros((20, 40, 3), np.uint8)
    a[:, :20] = (255, 0, 0)
    a[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(Image.fromarray(a), "JPEG", quality=95, exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif()[0x0112] == 6
    x = check(cnn101.load_image(data, (40, 20)), (40, 20, 3))  # upright: 20 wide × 40 high, no resampling
    top, bottom = x[2:18].mean(axis=(0, 1)), x[22:38].mean(axis=(0, 1))
    assert top[0] > 0.9 and top[2] < 0.1, top  # red on top
    assert bottom[2] > 0.9 and bottom[0] < 0.1, bottom


def test_rgba_composited_on_white():
    a = np.zeros((64, 64, 4), np.uint8)
    a[..., :3] = (200, 40, 0)
    a[:, :16, 3] = 0      # fully transparent → white
    a[:, 16:32, 3] = 255  # opaque → its colour
    a[:, 32:, 3] = 128    # half → halfway to white
    x = check(cnn101.load_image(encode(Image.fromarray(a, "RGBA"), "PNG"), 64))
    np.testing.assert_array_equal(to_uint8(x[:, :16]), np.full((64, 16, 3), 255))
    np.testing.assert_array_equal(to_uint8(x[:, 16:32]), np.broadcast_to([200, 40, 0], (64, 16, 3)))
    want = np.array([200, 40, 0]) * 128 / 255 + 255 * (1 - 128 / 255)
    assert np.abs(to_uint8(x[:, 32:]).astype(int) - want).max() <= 1


def test_la_composited_on_white():
    a = np.zeros((64, 64, 2), np.uint8)
    a[..., 0] = 50
    a[:32, :, 1] = 255
    x = check(cnn101.load_image(encode(Image.fromarray(a, "LA"), "PNG"), 64))
    assert np.all(to_uint8(x[:32]) == 50) and np.all(to_uint8(x[32:]) == 255)


def test_palette_with_transparency():
    p = Image.new("P", (64, 64), 0)
    p.putpalette([10, 200, 30] + [250, 0, 250] + [0, 0, 0] * 254)
    p.paste(1, (0, 0, 32, 64))  # left half: index 1, declared transparent
    data = encode(p, "PNG", transparency=1)
    x = check(cnn101.load_image(data, 64))
    np.testing.assert_array_equal(to_uint8(x[:, :32]), np.full((64, 32, 3), 255))
    np.testing.assert_array_equal(to_uint8(x[:, 32:]), np.broadcast_to([10, 200, 30], (64, 32, 3)))
    gif = check(cnn101.load_image(encode(p, "GIF", transparency=1), 64))
    np.testing.assert_array_equal(gif, x)


def test_rgb_with_colour_key_transparency():
    a = np.zeros((64, 64, 3), np.uint8)
    a[:32] = (10, 20, 30)
    x = check(cnn101.load_image(encode(Image.fromarray(a), "PNG", transparency=(10, 20, 30)), 64))
    assert np.all(x[:32] == 1) and np.all(x[32:] == 0)


def test_grayscale_to_rgb():
    g = NOISE[..., 0]
    x = check(cnn101.load_image(encode(Image.fromarray(g, "L"), "PNG"), 64))
    for c in range(3):
        np.testing.assert_array_equal(to_uint8(x[..., c]), g)
    one_bit = check(cnn101.load_image(encode(Image.fromarray(g > 127), "PNG"), 64))
    np.testing.assert_array_equal(one_bit[..., 0], (g > 127).astype(np.float32))


def test_cmyk_jpeg_to_rgb():
    x = check(cnn101.load_image(encode(Image.new("CMYK", (64, 64), (0, 255, 255, 0)), "JPEG", quality=95), 64))
    assert x[..., 0].mean() > 0.9 and x[..., 1].mean() < 0.1  # red


def test_16_bit_grey_equals_its_8_bit_version():
    g8 = NOISE[..., 1]
    x16 = check(cnn101.load_image(encode(Image.fromarray(g8.astype(np.uint16) * 257), "PNG"), 64))
    x8 = cnn101.load_image(encode(Image.fromarray(g8), "PNG"), 64)
    np.testing.assert_array_equal(x16, x8)
    # a flat mid grey stays mid grey (not stretched to black), and 'I' mode (older Pillow) agrees with 'I;16'
    flat = np.full((64, 64), 32768, np.uint16)
    xf = check(cnn101.load_image(encode(Image.fromarray(flat), "PNG"), 64))
    assert np.all(to_uint8(xf) == 128)
    xi = cnn101.load_image(Image.fromarray(flat.astype(np.int32), "I"), 64)
    np.testing.assert_array_equal(xi, xf)


# --- resizing and cropping ------------------------------------------------------------------------------

def test_exact_size_is_not_resampled():
    img = Image.fromarray(NOISE)
    np.testing.assert_array_equal(to_uint8(cnn101.load_image(img, 64)), NOISE)


def test_wide_image_is_centre_cropped_without_resampling():
    wide = RNG.integers(0, 256, (64, 128, 3), dtype=np.uint8)
    x = cnn101.load_image(Image.fromarray(wide), 64)
    np.testing.assert_array_equal(to_uint8(x), wide[:, 32:96])
    tall = RNG.integers(0, 256, (101, 64, 3), dtype=np.uint8)  # odd excess: 37 rows, 18 above
    np.testing.assert_array_equal(to_uint8(cnn101.load_image(Image.fromarray(tall), 64)), tall[18:82])


def test_non_square_is_resized_on_the_shorter_side_then_centre_cropped():
    """200×100 (w×h) → 128×64 bilinear → columns 32…95; the result shows the middle, not the edges."""
    a = np.zeros((100, 200, 3), np.uint8)
    a[:, :50] = (255, 0, 0)    # left quarter red
    a[:, 50:150] = (0, 255, 0)  # middle half green
    a[:, 150:] = (0, 0, 255)   # right quarter blue
    img = Image.fromarray(a)
    x = check(cnn101.load_image(img, 64))
    want = np.asarray(img.resize((128, 64), Image.Resampling.BILINEAR))[:, 32:96]
    np.testing.assert_array_equal(to_uint8(x), want)
    assert np.all(x[:, 2:-2, 1] == 1) and np.all(x[:, 2:-2, [0, 2]] == 0)


def test_small_image_is_upscaled():
    small = RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    x = check(cnn101.load_image(Image.fromarray(small), 64))
    np.testing.assert_array_equal(to_uint8(x), np.asarray(Image.fromarray(small).resize((64, 64), Image.Resampling.BILINEAR)))
    flat = check(cnn101.load_image(Image.new("RGB", (16, 16), (30, 60, 90)), 64))
    assert np.all(to_uint8(flat) == [30, 60, 90])
    tiny = check(cnn101.load_image(Image.new("RGB", (1, 3), (9, 9, 9)), 64))  # 1 pixel wide still fills 64×64
    assert np.all(to_uint8(tiny) == 9)


# --- refusals ----------------------------------------------------------------------------------------------

def png_header(w: int, h: int) -> bytes:
    """A PNG whose header declares w×h pixels (the pixel data is a few bytes: a decompression bomb's shape)."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def refused(source, *words):
    with pytest.raises(ImageError) as e:
        cnn101.load_image(source, 64)
    msg = str(e.value)
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    assert "Traceback" not in msg and len(msg) < 300
    return msg


def test_not_an_image():
    refused(b"hello, this is text", "not an image")
    refused(b"%PDF-1.4\n" + b"\0" * 100, "not an image")


def test_empty():
    refused(b"", "empty")
    refused(io.BytesIO(b""), "empty")


def test_missing_file(tmp_path):
    refused(tmp_path / "nope.png", "No image file")
    refused(str(tmp_path), "No image file")


def test_wrong_source_type():
    refused(12345, "int")


def test_truncated_jpeg():
    data = encode(Image.fromarray(NOISE), "JPEG", quality=90)
    for cut in (len(data) // 2, len(data) - 100):
        refused(data[:cut], "truncated or damaged")
    refused(data[:20], "not an image")  # only the start of a header


def test_truncated_png():
    data = encode(Image.fromarray(NOISE), "PNG")
    refused(data[: len(data) // 2], "truncated or damaged")


@pytest.mark.parametrize("w, h, words", [
    (100_000, 100_000, ["too many pixels"]),   # Pillow's own bomb check (> 2 × 89 M) fires at open
    (12_000, 9_000, ["12000×9000", "million"]),  # over Pillow's warning limit, under its error: ours
    (8_000, 8_000, ["8000×8000", "million"]),   # under Pillow's warning limit: ours
])
def test_decompression_bombs(w, h, words):
    assert w * h > MAX_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        refused(png_header(w, h), *words)


def test_zero_size():
    refused(png_header(0, 10), "not an image")
    refused(png_header(10, 0), "not an image")
    refused(Image.new("RGB", (0, 0)), "no pixels")
    refused(Image.new("RGB", (5, 0)), "no pixels")


def test_image_error_is_a_value_error():
    assert issubclass(ImageError, ValueError) and issubclass(ImageError, cnn101.Cnn101Error)


# --- decoded pixels (what the web page gets from the browser) ------------------------------------------

def _no_pillow(monkeypatch):
    """Make any use of Pillow fail, to show a path does not need it."""
    import builtins

    real = builtins.__import__

    def guarded(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise AssertionError("Pillow was used")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", guarded)


@pytest.mark.parametrize("channels", ["rgb", "grey", "grey1", "rgba-opaque", "la-opaque"])
def test_pixels_of_the_model_size_need_no_pillow_and_equal_the_file_path(monkeypatch, channels):
    grey = NOISE[:, :, 0]
    arrays = {"rgb": (NOISE, Image.fromarray(NOISE)), "grey": (grey, Image.fromarray(grey, "L")),
              "grey1": (grey[:, :, None], Image.fromarray(grey, "L")),
              "rgba-opaque": (np.dstack([NOISE, np.full((64, 64), 255, np.uint8)]), Image.fromarray(NOISE)),
              "la-opaque": (np.dstack([grey, np.full((64, 64), 255, np.uint8)]), Image.fromarray(grey, "L"))}
    a, img = arrays[channels]
    want = cnn101.load_image(encode(img, "PNG"), 64)  # the same picture as a file
    _no_pillow(monkeypatch)
    got = check(cnn101.load_image(a, 64))
    np.testing.assert_array_equal(got, want)


def test_pixels_with_transparency_or_another_size_go_through_pillow_like_a_file():
    rgba = np.dstack([NOISE, RNG.integers(0, 256, (64, 64), dtype=np.uint8)])
    np.testing.assert_array_equal(cnn101.load_image(rgba, 64), cnn101.load_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"), 64))
    big = RNG.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    got = check(cnn101.load_image(big, 64))
    np.testing.assert_array_equal(got, cnn101.load_image(encode(Image.fromarray(big), "PNG"), 64))


@pytest.mark.parametrize("a, words", [
    (np.zeros((64, 64, 3), np.float32), ["uint8"]),
    (np.zeros((64, 64, 5), np.uint8), ["shape", "(64, 64, 5)"]),
    (np.zeros(64, np.uint8), ["shape"]),
    (np.zeros((0, 64, 3), np.uint8), ["no pixels"]),
])
def test_bad_pixels_are_refused_plainly(a, words):
    with pytest.raises(ImageError) as e:
        cnn101.load_image(a, 64)
    assert all(w in str(e.value) for w in words), str(e.value)


def test_grey_equals_pillows_luma_bit_for_bit():
    from cnn101.image import grey

    rgb = RNG.integers(0, 256, (97, 83, 3), dtype=np.uint8)
    want = np.asarray(Image.fromarray(rgb).convert("L"))
    np.testing.assert_array_equal(grey(rgb)[..., 0], want)
    corners = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [1, 2, 3]]], np.uint8)
    np.testing.assert_array_equal(grey(corners)[..., 0], np.asarray(Image.fromarray(corners).convert("L")))


def test_a_one_channel_model_gets_the_luma_from_files_and_pixels(monkeypatch):
    model = cnn101.Sequential([cnn101.engine.Flatten("f"), cnn101.engine.Dense("d", np.ones((28 * 28, 2)), [0, 0])],
                              (28, 28, 1), ["a", "b"])
    rgb = RNG.integers(0, 256, (28, 28, 3), dtype=np.uint8)
    want = np.asarray(Image.fromarray(rgb).convert("L"), np.float32)[..., None] / 255
    from_file = check(cnn101.load_image(encode(Image.fromarray(rgb), "PNG"), model), (28, 28, 1))
    np.testing.assert_array_equal(from_file, want)
    _no_pillow(monkeypatch)
    np.testing.assert_array_equal(cnn101.load_image(rgb, model), want)
    model.trace(from_file)  # the model takes it as it is


def test_a_model_with_other_channel_counts_is_refused_plainly():
    model = cnn101.Sequential([cnn101.engine.Flatten("f"), cnn101.engine.Dense("d", np.ones((8 * 8 * 2, 2)), [0, 0])],
                              (8, 8, 2), ["a", "b"])
    with pytest.raises(ImageError, match="2 input channels.*use a model made for RGB or greyscale"):
        cnn101.load_image(NOISE, model)
