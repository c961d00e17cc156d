"""Animated level changes: the Overview's columns slide apart to open space for a level-2 view, and slide
back when it closes. CSS transitions do the motion (no per-frame Python); with
`prefers-reduced-motion: reduce` everything happens at once.

    transitions.spread(app.view, column_index, neuron, panel)   # open the gap around the panel
    transitions.together(app.view)                             # close it again
"""
from __future__ import annotations

from cnn101.render.conv_view import apart_offsets
from pyscript import window

from . import dom

MS = 380  # the slide's duration (conv.css: --tr-ms)
_ALL = ("tr-l", "tr-r", "tr-gone", "tr-chosen", "tr-source")


def reduced_motion() -> bool:
    try:
        return bool(window.matchMedia("(prefers-reduced-motion: reduce)").matches)
    except Exception:
        return False


def _clear(stage) -> None:
    for name in _ALL:
        for el in list(stage.querySelectorAll("." + name)):
            el.classList.remove(name)


def spread(ov_view, col: int, neuron: int | None, panel) -> tuple[float, float]:
    """Slide the Overview's columns left of `col` to the left and the rest to the right until `panel`
    (an element over the stage) fits between them, and fade them; returns the offsets (Overview px).
    The chosen neuron and its source column stay brighter than the rest."""
    stage = ov_view.stage
    if stage is None or col < 1:
        return 0.0, 0.0
    geo = ov_view.geo
    _clear(stage)
    frame = ov_view.frame.getBoundingClientRect()
    box = panel.getBoundingClientRect()
    scale = float(stage.getBoundingClientRect().width) / geo.width if geo.width else 1.0
    prev = geo.columns[col - 1]
    dl, dr = apart_offsets(prev.x + prev.width, geo.columns[col].x, scale,
                           float(box.left) - float(frame.left), float(box.right) - float(frame.left))
    stage.style.setProperty("--tr-left", f"{-dl:.1f}px")
    stage.style.setProperty("--tr-right", f"{dr:.1f}px")
    for el in stage.querySelectorAll("[data-col]"):
        c = int(el.dataset.col)
        el.classList.add("tr-l" if c < col else "tr-r")
        if c == col - 1 and el.classList.contains("ov-neuron"):
            el.classList.add("tr-source")
        if c == col and neuron is not None and el.getAttribute("data-neuron") == str(neuron):
            el.classList.add("tr-chosen")
    for el in stage.querySelectorAll(".ov-caption"):
        el.classList.add("tr-l")
    for el in stage.querySelectorAll("path.ov-edge"):
        t = int(el.dataset.target)
        el.classList.add("tr-gone" if t == col else ("tr-l" if t < col else "tr-r"))
    animate = not reduced_motion()
    stage.classList.toggle("tr-anim", animate)
    stage.classList.add("tr-apart")
    return dl, dr


def together(ov_view) -> None:
    """Undo `spread`: the columns slide back and brighten."""
    stage = ov_view.stage
    if stage is None or not stage.classList.contains("tr-apart"):
        return
    stage.classList.toggle("tr-anim", not reduced_motion())
    stage.classList.remove("tr-apart")

    def done(*_):
        if not stage.classList.contains("tr-apart"):  # not re-opened meanwhile
            stage.classList.remove("tr-anim")
            _clear(stage)

    window.setTimeout(dom.once(done), MS + 50)


def fade_out_and_remove(element) -> None:
    """Fade an element out (CSS class 'leaving'), then remove it; at once with reduced motion."""
    if reduced_motion():
        element.remove()
        return
    element.classList.add("leaving")
    window.setTimeout(dom.once(lambda *_: element.remove()), 260)
