"""An image as the network sees it (H×W×3 in [0, 1]), enlarged with crisp pixels, plus its channels."""
from __future__ import annotations

import numpy as np

from ..render.colormap import INPUT
from ..render.svg import block, heatmap_img, img
from .base import View, row


class ImageView(View):
    """`image(x)`: the input picture and its red, green and blue channels. `.data` is the array itself."""

    def __init__(self, x, box: int = 192, title: str = "The network's input"):
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 3 or x.shape[2] not in (1, 3):
            raise ValueError(f"image() shows an H×W×3 (or H×W×1) array in [0, 1], got shape {x.shape}.")
        super().__init__(x)
        self.box = box
        self.title = f"{title}: {x.shape[0]}×{x.shape[1]} pixels"

    def note(self) -> str:
        return "Each pixel is three numbers between 0 and 1: how much red, green and blue it holds."

    def body(self) -> str:
        x = self.data
        rgb = np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)
        if rgb.shape[2] == 1:
            rgb = np.repeat(rgb, 3, axis=2)
        names = ("red", "green", "blue") if x.shape[2] == 3 else ("grey",)
        channels = [block(heatmap_img(x[:, :, c], 0.0, 1.0, INPUT, self.box // 2, f"{n} channel"), caption=n)
                    for c, n in enumerate(names)]
        return row(block(img(rgb, self.box, "input image"), caption="the image"), *channels)
