"""The web app manifest (installable app) and its icons, drawn with Pillow at build time."""
from __future__ import annotations

import io
import json

ICON_SIZES = (32, 192, 512)
THEME = "#1d3557"


def _diverging(v: float) -> tuple[int, int, int]:
    """Red-white-blue, zero white: the colour map of the Overview's heatmaps."""
    v = max(-1.0, min(1.0, v))
    t = abs(v)
    target = (202, 0, 32) if v < 0 else (5, 113, 176)
    return tuple(round(255 + (c - 255) * t) for c in target)


def icon_png(size: int, maskable: bool = False) -> bytes:
    """A 4x4 activation map on the theme colour: the app's mark. Deterministic bytes for a Pillow version."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (size, size), THEME)
    draw = ImageDraw.Draw(img)
    n = 4
    margin = size * (0.2 if maskable else 0.12)  # maskable icons keep content in the central 80 %
    cell = (size - 2 * margin) / n
    gap = max(1, round(cell * 0.08))
    for r in range(n):
        for c in range(n):
            v = ((r * 5 + c * 3) % 9 - 4) / 4
            x0, y0 = margin + c * cell, margin + r * cell
            draw.rectangle([round(x0) + gap, round(y0) + gap, round(x0 + cell) - gap, round(y0 + cell) - gap],
                           fill=_diverging(v))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def favicon_ico(png: bytes, size: int) -> bytes:
    """An ICO file holding one PNG image (the form every current browser reads)."""
    import struct
    header = struct.pack("<HHH", 0, 1, 1)  # reserved, type 1 = icon, one image
    entry = struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), 6 + 16)
    return header + entry + png


def manifest_files() -> dict[str, bytes]:
    """'manifest.webmanifest', 'icons/*.png' and 'favicon.ico' -> bytes. The app's page names its icon;
    favicon.ico is for pages that name none (JupyterLite's, before JupyterLab sets its own), which
    otherwise ask for /favicon.ico and log a 404."""
    files = {f"icons/icon-{s}.png": icon_png(s) for s in ICON_SIZES}
    files["favicon.ico"] = favicon_ico(files["icons/icon-32.png"], 32)
    files["icons/icon-maskable-512.png"] = icon_png(512, maskable=True)
    manifest = {
        "name": "cnn101: how a CNN classifies an image",
        "short_name": "cnn101",
        "description": "See every neuron of a small convolutional network at work on an image, "
                       "computed in your browser, offline.",
        "id": "./",
        "start_url": "./",
        "scope": "./",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": [
            {"src": "icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": "icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": "icons/icon-maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ],
    }
    files["manifest.webmanifest"] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    return files
