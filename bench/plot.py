"""A small SVG line plot of the scaling rows (trace time against input size and against conv width)."""
from __future__ import annotations

import math
import re


def _series(rows: list[dict], pattern: str) -> list[tuple[float, float]]:
    pts = []
    for r in rows:
        m = re.search(pattern, r.get("name", ""))
        if m and "median" in r and math.isfinite(r["median"]):
            pts.append((float(m.group(1)), float(r["median"])))
    return sorted(pts)


def _panel(pts, x0, title, xlabel, w=300, h=200) -> str:
    """One log–log panel at horizontal offset x0."""
    if len(pts) < 2:
        return ""
    lx = [math.log2(x) for x, _ in pts]
    ly = [math.log10(y) for _, y in pts]
    ylo, yhi = math.floor(min(ly)), math.ceil(max(ly))
    yhi = yhi if yhi > ylo else ylo + 1
    left, top, pw, ph = x0 + 48, 28, w - 64, h - 64

    def px(v):
        return left + (v - lx[0]) / (lx[-1] - lx[0]) * pw

    def py(v):
        return top + ph - (v - ylo) / (yhi - ylo) * ph

    out = [f'<text x="{x0 + w / 2}" y="16" text-anchor="middle" font-weight="bold">{title}</text>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>']
    for d in range(ylo, yhi + 1):
        out.append(f'<text x="{left - 4}" y="{py(d) + 4:.1f}" text-anchor="end">{10 ** d:g}</text>')
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(d):.1f}" y2="{py(d):.1f}" stroke="#eee"/>')
    for (x, _), v in zip(pts, lx):
        out.append(f'<text x="{px(v):.1f}" y="{top + ph + 14}" text-anchor="middle">{x:g}</text>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{px(a):.1f},{py(b):.1f}" for i, (a, b) in enumerate(zip(lx, ly)))
    out.append(f'<path d="{path}" fill="none" stroke="#1d3557" stroke-width="2"/>')
    out += [f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="3" fill="#1d3557"/>' for a, b in zip(lx, ly)]
    out.append(f'<text x="{left + pw / 2}" y="{top + ph + 30}" text-anchor="middle">{xlabel}</text>')
    out.append(f'<text x="{x0 + 10}" y="{top + ph / 2}" transform="rotate(-90 {x0 + 10} {top + ph / 2})" '
               'text-anchor="middle">ms (median)</text>')
    return "\n".join(out)


def scaling_svg(rows: list[dict]) -> str | None:
    """Two log–log panels (input size, conv width); None if the rows are missing."""
    size = _series(rows, r"input (\d+)×")
    width = _series(rows, r"(\d+) channels per conv")
    if len(size) < 2 and len(width) < 2:
        return None
    body = _panel(size, 0, "full trace vs input size", "input side (px)") + _panel(
        width, 300, "full trace vs conv width", "channels per conv")
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="600" height="200" font-family="sans-serif" '
            f'font-size="11">\n{body}\n</svg>\n')


def waterfall_svg(bars: list[dict], title: str = "cold start, first visit") -> str | None:
    """Horizontal bars {label, start, end} in ms since navigation (a resource's fetch, or a phase between
    two performance marks), on one time axis; None without bars."""
    bars = [b for b in bars if b.get("end") is not None and b.get("start") is not None]
    if not bars:
        return None
    end = max(b["end"] for b in bars) or 1.0
    step = 10 ** math.floor(math.log10(end)) if end >= 1 else 1
    step = step / 2 if end / step < 4 else step
    left, width, row_h, top = 260, 520, 16, 28
    height = top + row_h * len(bars) + 30

    def px(t):
        return left + t / end * width

    out = [f'<text x="{left + width / 2}" y="16" text-anchor="middle" font-weight="bold">{title}</text>']
    t = 0.0
    while t <= end + 1e-9:
        out.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top - 4}" y2="{height - 26}" stroke="#eee"/>')
        out.append(f'<text x="{px(t):.1f}" y="{height - 12}" text-anchor="middle">{t:g}</text>')
        t += step
    for i, b in enumerate(bars):
        y = top + i * row_h
        colour = "#1d3557" if b.get("kind") == "phase" else "#8da9c4"
        w = max(1.0, px(b["end"]) - px(b["start"]))
        label = str(b["label"])[:44].replace("&", "&amp;").replace("<", "&lt;")
        out.append(f'<text x="{left - 6}" y="{y + 11}" text-anchor="end">{label}</text>')
        out.append(f'<rect x="{px(b["start"]):.1f}" y="{y + 2}" width="{w:.1f}" height="{row_h - 4}" fill="{colour}"/>')
        out.append(f'<text x="{px(b["start"]) + w + 4:.1f}" y="{y + 11}">{b["end"] - b["start"]:.0f} ms</text>')
    out.append(f'<text x="{left + width / 2}" y="{height}" text-anchor="middle">ms since navigation start</text>')
    body = "\n".join(out)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 70}" height="{height + 4}" '
            f'font-family="sans-serif" font-size="11">\n{body}\n</svg>\n')
