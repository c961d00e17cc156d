"""A picture with a title, a caption and its colour legend as one self-contained SVG file (for slides):
why mode's attribution over the input image is saved this way.

    svg, (w, h), box = picture_svg(rgba, "Grad-CAM for koala", "colour range 0 … 0.42", (0, 0.42, ATTRIBUTION))
    px = sample(rgba, box[2] * s, box[3] * s)   # the picture's pixels in a PNG at s px per SVG px, exactly

The picture is drawn nearest-neighbour (every input pixel a square), as a PNG data URI: no external
reference, no script.
"""
from __future__ import annotations

import numpy as np

from .colormap import Colormap
from .overview_svg import FONT, INK, MUTED, linear_gradient
from .png import data_uri
from .svg import esc, fmt

PAD, TITLE, LEGEND = 12, 26, 34  # px: margin, title line, legend band


def picture_size(shape, least: int = 256) -> tuple[int, int]:
    """(width, height) in SVG px of an H×W picture: an integer number of px per pixel, the longer side ≥ `least`."""
    h, w = int(shape[0]), int(shape[1])
    k = max(1, -(-least // max(h, w)))
    return w * k, h * k


def picture_svg(rgba: np.ndarray, title: str, caption: str = "", legend: tuple | None = None,
                least: int = 256) -> tuple[str, tuple[int, int], tuple[int, int, int, int]]:
    """(svg text, (width, height), (x, y, w, h) of the picture) for an (H, W, 3|4) uint8 picture.
    `legend`: (lo, hi, Colormap) drawn as a bar under the picture, with its end values."""
    rgba = np.asarray(rgba, np.uint8)
    pw, ph = picture_size(rgba.shape, least)
    # wide enough for the title and the caption (an upper estimate of their width: no font metrics here)
    width = max(pw + 2 * PAD, 320, int(len(title) * 8.6) + 2 * PAD, int(len(caption) * 7.0) + 2 * PAD)
    x, y = (width - pw) // 2, PAD + TITLE
    height = y + ph + (LEGEND if legend is not None else 0) + (22 if caption else 0) + PAD
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="{FONT}">', f"<title>{esc(title)}</title>",
           '<rect width="100%" height="100%" fill="#ffffff"/>',
           f'<text class="title" x="{PAD}" y="{PAD + 14}" font-size="14" font-weight="bold" fill="{INK}">{esc(title)}</text>',
           f'<image class="picture" href="{data_uri(rgba)}" x="{x}" y="{y}" width="{pw}" height="{ph}" '
           'preserveAspectRatio="none" style="image-rendering:pixelated"/>',
           f'<rect x="{x}" y="{y}" width="{pw}" height="{ph}" fill="none" stroke="#c3c9d1" stroke-width="1"/>']
    below = y + ph
    if legend is not None:
        lo, hi, cmap = legend
        out.append(_legend(x, below + 10, pw, float(lo), float(hi), cmap))
        below += LEGEND
    if caption:
        out.append(f'<text class="caption" x="{width / 2:g}" y="{below + 18}" font-size="12" fill="{MUTED}" '
                   f'text-anchor="middle">{esc(caption)}</text>')
    out.append("</svg>")
    return "".join(out), (width, height), (x, y, pw, ph)


def _legend(x: int, y: int, width: int, lo: float, hi: float, cmap: Colormap) -> str:
    return (f'<defs>{linear_gradient("legend", cmap.stops(11))}</defs>'
            f'<g class="legend"><rect x="{x}" y="{y}" width="{width}" height="8" fill="url(#legend)" stroke="#cfd5dc"/>'
            f'<text x="{x}" y="{y + 20}" font-size="10" fill="{MUTED}">{esc(fmt(lo))}</text>'
            f'<text x="{x + width}" y="{y + 20}" font-size="10" fill="{MUTED}" text-anchor="end">{esc(fmt(hi))}</text></g>')


__all__ = ["picture_size", "picture_svg"]
