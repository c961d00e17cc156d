"""Image preprocessing: the one function that training, the web app and notebooks all use.

Steps: decode (first frame), apply the EXIF orientation, composite transparency on white, convert to RGB,
resize so the shorter side fits the model's input (small images are upscaled), centre-crop, divide by 255.
"""
from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np

from .errors import ImageError

MAX_PIXELS = 40_000_000  # ≈ a 7,300 × 5,500 photo; larger files are refused before decoding
MAX_BYTES = 50 * 1024 * 1024


#: The largest input load_image makes (height × width); a model's own input is bounded by the engine.
MAX_OUTPUT_PIXELS = 16_000_000
#: The largest intermediate image `fit` resizes to before cropping; beyond it (extreme aspect ratios:
#: a 1,000,000×1 strip would become 64,000,000×64) only the part that survives the crop is resampled.
MAX_RESIZE_PIXELS = 16_000_000


def _size_of(size) -> tuple[int, int]:
    """(height, width) from an int, a pair, or a model (its input shape); anything else is an ImageError."""
    shape = getattr(size, "input_shape", None)
    if shape is not None:
        pair = tuple(shape)[:2]
    elif isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        pair = (size, size)
    elif isinstance(size, (tuple, list)) and len(size) == 2:
        pair = tuple(size)
    else:
        raise ImageError(f"size must be a whole number, a (height, width) pair or a model, not {size!r}; "
                         "e.g. load_image(path, 64) or load_image(path, model).")
    if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in pair):
        raise ImageError(f"size must be positive whole numbers of pixels, not {size!r}; e.g. 64 or (64, 48).")
    h, w = int(pair[0]), int(pair[1])
    if h * w > MAX_OUTPUT_PIXELS:
        raise ImageError(f"size {h}×{w} is more than the {MAX_OUTPUT_PIXELS // 1_000_000} million pixels cnn101 "
                         "makes an input of; use a smaller size.")
    return h, w


def open_image(source):
    """A decoded PIL image (first frame) from a path, bytes, a file object or a PIL image."""
    from PIL import Image, ImageFile, UnidentifiedImageError

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    if isinstance(source, Image.Image):
        img = source
    else:
        if isinstance(source, (str, Path)):
            p = Path(source)
            if not p.is_file():
                raise ImageError(f"No image file at {p}.")
            if p.stat().st_size > MAX_BYTES:
                raise ImageError(f"{p.name} is larger than {MAX_BYTES // 2**20} MB; choose a smaller image.")
            data = p.read_bytes()
        elif isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
        elif hasattr(source, "read"):
            data = source.read(MAX_BYTES + 1)
            if not isinstance(data, (bytes, bytearray)):
                raise ImageError("The file object gave text, not bytes; open the image in binary mode ('rb').")
        else:
            raise ImageError(f"Cannot read an image from a {type(source).__name__}; give a path, bytes or a PIL image.")
        if not data:
            raise ImageError("The file is empty; choose an image file (PNG, JPEG, GIF, WebP, BMP or TIFF).")
        if len(data) > MAX_BYTES:
            raise ImageError(f"The file is larger than {MAX_BYTES // 2**20} MB; choose a smaller image.")
        try:
            img = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            raise ImageError("This file is not an image cnn101 can read; use PNG, JPEG, GIF, WebP, BMP or TIFF.") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageError("The image has too many pixels to process safely; choose a smaller image.") from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error) as e:
            raise ImageError(f"The image file is truncated or damaged and cannot be decoded ({e}); choose the "
                             "complete file, or save it again.") from None
    w, h = img.size
    if w < 1 or h < 1:
        raise ImageError("The image has no pixels (zero width or height).")
    if w * h > MAX_PIXELS:
        raise ImageError(f"The image is {w}×{h} pixels, more than the {MAX_PIXELS // 1_000_000} million allowed; "
                         "choose a smaller image.")
    try:
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)
        img.load()
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error, MemoryError,
            Image.DecompressionBombError) as e:
        raise ImageError(f"The image file is truncated or damaged and cannot be decoded ({e}); choose the "
                         "complete file, or save it again.") from None
    return img


def to_rgb(img):
    """EXIF orientation applied, transparency composited on white, any mode converted to RGB."""
    from PIL import Image, ImageOps

    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block should not stop an otherwise readable image
        pass
    if img.mode in ("F", "LAB") or img.mode.startswith("F;"):
        what = "32-bit floating-point pixels have no fixed brightness scale" if img.mode != "LAB" else \
            "CIELAB colours need a colour profile to become RGB"
        raise ImageError(f"This image is in {img.mode} mode: {what}, so cnn101 cannot tell what its pixels look "
                         "like. Save it as an ordinary 8-bit (or 16-bit) RGB or greyscale image, e.g. PNG.")
    try:
        if img.mode == "La":  # premultiplied grey + alpha: undo the premultiplication first, as for RGBa
            a = np.asarray(img).astype(np.float64)
            grey, alpha = a[..., 0], a[..., 1]
            straight = np.where(alpha > 0, np.clip(np.rint(grey * 255 / np.maximum(alpha, 1)), 0, 255), 0)
            img = Image.fromarray(np.stack([straight, alpha], -1).astype(np.uint8), "LA")
        if img.mode in ("RGBA", "RGBa", "LA", "PA") or (img.mode in ("P", "L", "RGB", "1") and "transparency" in img.info):
            rgba = img.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img = Image.alpha_composite(white, rgba)
        elif img.mode.startswith("I"):
            # 16-bit greys (opened as 'I;16', or 'I' by older Pillow): 65535 → 255, so an 8-bit
            # image stored with 16 bits gives the same input; never stretched (a flat grey must stay grey).
            a = np.asarray(img, dtype=np.float64) / 257
            img = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L")
        return img.convert("RGB")
    except (ValueError, OSError, TypeError) as e:
        raise ImageError(f"This image's colour mode ({img.mode}) cannot be converted to RGB ({e}); save it as an "
                         "ordinary RGB or greyscale image, e.g. PNG.") from None


def fit(img, size) -> "object":
    """Resize so the image covers (height, width), then crop the centre; no resampling if it already fits."""
    from PIL import Image

    th, tw = _size_of(size)
    w, h = img.size
    if (w, h) == (tw, th):
        return img
    scale = max(th / h, tw / w)
    nw, nh = max(tw, round(w * scale)), max(th, round(h * scale))
    if nw * nh > MAX_RESIZE_PIXELS:
        # Resample only the centre box that the crop keeps: the output is th×tw whatever the aspect ratio.
        bw, bh = tw / scale, th / scale
        box = ((w - bw) / 2, (h - bh) / 2, (w + bw) / 2, (h + bh) / 2)
        return img.resize((tw, th), Image.Resampling.BILINEAR, box=box)
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), Image.Resampling.BILINEAR)
    left, top = (nw - tw) // 2, (nh - th) // 2
    return img.crop((left, top, left + tw, top + th))


def pixels(a) -> np.ndarray | None:
    """Decoded pixels as the RGB uint8 array (H, W, 3) that `to_rgb` would give, when that needs no Pillow:
    uint8 RGB, grey (H, W) or (H, W, 1), or RGBA/grey-alpha whose alpha is 255 everywhere. None when
    Pillow must composite (any transparency). Refuses what is not pixels."""
    a = np.asarray(a)
    if a.dtype != np.uint8:
        raise ImageError(f"Pixels must be uint8 (0–255), got {a.dtype}; decode the image or pass a path, bytes or a PIL image.")
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4):
        raise ImageError(f"Pixels must be an array (height, width[, 1–4 channels]), got shape {a.shape}.")
    h, w, c = a.shape
    if h < 1 or w < 1:
        raise ImageError("The image has no pixels (zero width or height).")
    if h * w > MAX_PIXELS:
        raise ImageError(f"The image is {w}×{h} pixels, more than the {MAX_PIXELS // 1_000_000} million allowed; "
                         "choose a smaller image.")
    if c in (2, 4):
        if not np.all(a[:, :, -1] == 255):
            return None
        a = a[:, :, :-1]
    return np.ascontiguousarray(np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a)


def _pil_from_pixels(a):
    from PIL import Image

    a = np.asarray(a)
    a = a[:, :, None] if a.ndim == 2 else a
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[a.shape[2]]
    return Image.fromarray(np.ascontiguousarray(a if a.shape[2] > 1 else a[:, :, 0]), mode)


def load_image(source, size=64) -> np.ndarray:
    """Any image → float32 array (height, width, 3) in [0, 1], ready for the model.

    `source`: a path, bytes, a file object, a PIL image, or already decoded pixels (a uint8 array
    (H, W), (H, W, 3) or (H, W, 4) — RGBA composited on white as for a file). Pixels of exactly the
    model's size that are opaque need no Pillow at all (the web page decodes its example images with
    the browser and starts without Pillow); anything else goes through Pillow, as files do.
    `size` is an int, (height, width), or a model (its input size is used, and a model that takes one
    channel gets the image's luma, as Pillow's convert('L'): shape (height, width, 1)).
    Raises ImageError with a plain message for anything that is not a usable image.
    """
    if isinstance(source, np.ndarray):
        rgb = pixels(source)
        if rgb is not None and rgb.shape[:2] == _size_of(size):
            return _scaled(rgb, size)
        source = _pil_from_pixels(source)
    return _scaled(np.asarray(fit(to_rgb(open_image(source)), size)), size)


def _channels_of(size) -> int:
    shape = getattr(size, "input_shape", None)
    return int(shape[2]) if shape is not None and len(shape) == 3 else 3


def input_shape(size) -> tuple[int, int, int]:
    """(height, width, channels) of what load_image gives for `size` (an int, a pair or a model)."""
    return (*_size_of(size), 1 if _channels_of(size) == 1 else 3)


def grey(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB (H, W, 3) → uint8 luma (H, W, 1), bit for bit as Pillow's convert('L') (ITU-R 601-2:
    L = R·299/1000 + G·587/1000 + B·114/1000, in Pillow's 16-bit fixed point, rounded)."""
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)[..., None]


def _scaled(rgb: np.ndarray, size) -> np.ndarray:
    """uint8 RGB → the model's input: /255, as one grey channel for a model that takes one."""
    channels = _channels_of(size)
    if channels == 1:
        rgb = grey(rgb)
    elif channels != 3:
        raise ImageError(f"The model takes {channels} input channels, and an image gives 3 (RGB) or 1 (grey): "
                         "use a model made for RGB or greyscale images, or pass the input array to the model yourself.")
    return rgb.astype(np.float32) / np.float32(255)


def to_uint8(x: np.ndarray) -> np.ndarray:
    """The inverse for display: [0, 1] floats → uint8 pixels."""
    return np.clip(np.rint(np.asarray(x) * 255), 0, 255).astype(np.uint8)
