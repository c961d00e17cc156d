"""Loss and accuracy curves as a small SVG (the training panel's chart): one polyline per series, on a
shared step axis (the steps that ran), each series scaled to its own range (accuracy 0–1; loss 0 to its largest value)."""
from __future__ import annotations

import html
import math

COLOURS = {"loss": "#c1121f", "val_loss": "#c1121f", "accuracy": "#1d3557", "val_accuracy": "#1d3557"}
DASHED = {"val_loss", "val_accuracy"}
LABELS = {"loss": "training loss", "val_loss": "held-out loss", "accuracy": "training accuracy",
          "val_accuracy": "held-out accuracy"}


def _points(series, x_max: float, y_max: float, w: int, h: int, pad: int) -> str:
    out = []
    for x, y in series:
        if y is None or not math.isfinite(y):
            continue
        px = pad + (w - 2 * pad) * (x / x_max if x_max else 0.0)
        py = h - pad - (h - 2 * pad) * (min(y, y_max) / y_max if y_max else 0.0)
        out.append(f"{px:.1f},{py:.1f}")
    return " ".join(out)


def curves_svg(series: dict, total_steps: int | None = None, width: int = 320, height: int = 140,
               pad: int = 6) -> str:
    """`series`: name → [(step, value), …] for names in LABELS. Losses share one scale (0 to the largest
    finite loss), accuracies 0–1. The step axis runs to `total_steps`, or by default to the last step that has
    a value: the steps that ran fill the chart (a run stopped early is not squashed at the left)."""
    if total_steps is None:
        total_steps = max((x for pts in series.values() for x, _ in pts), default=1)
    losses = [y for k in ("loss", "val_loss") for _, y in series.get(k, []) if y is not None and math.isfinite(y)]
    loss_max = max(losses) if losses else 1.0
    parts = [f'<svg class="curves" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="loss and accuracy by training step">',
             f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff" stroke="#ccc"/>']
    for name in LABELS:
        pts = _points(series.get(name, []), float(max(1, total_steps)), 1.0 if "accuracy" in name else loss_max,
                      width, height, pad)
        if not pts:
            continue
        dash = ' stroke-dasharray="4 3"' if name in DASHED else ""
        parts.append(f'<polyline data-series="{name}" fill="none" stroke="{COLOURS[name]}" stroke-width="1.5"{dash} '
                     f'points="{pts}"><title>{html.escape(LABELS[name])}</title></polyline>')
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["curves_svg", "LABELS"]
