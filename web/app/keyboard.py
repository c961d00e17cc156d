"""Keyboard and screen readers across the page.

- Tab order: the input controls, the view options, then the Overview's neurons column by column (they are
  focusable buttons), then the open view's controls; a view takes the focus when it opens and gives it
  back to the neuron that opened it when it closes.
- Enter (or Space) on a focused neuron opens its view (hover.py); Esc goes back one level (hover.py).
- Arrow keys / Home / End move the window of the innermost open detail view (unless the focus is in a
  text field or on a slider, which use the arrows themselves).
- `announce(text)`: a polite live region (#view-status) says which view is open; the detail panels'
  own live regions say the value at the window after a hover, a step or an arrow key; the Overview's
  info line (#info) is live too.
"""
from __future__ import annotations

import json

from pyscript import document, window

from . import dom, views

MOVES = ("ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End")
_installed = []


def _status():
    return dom.ensure("view-status", "p", document.body, "sr-only", role="status", aria_live="polite")


def announce(text: str) -> None:
    """Tell screen readers what just happened (a view opened or closed)."""
    _status().textContent = text


def _uses_arrows(target) -> bool:
    if target is None or not hasattr(target, "tagName"):
        return False
    tag = str(target.tagName).lower()
    if tag in ("textarea", "select"):
        return True
    if tag == "input":
        return str(target.type) in ("text", "range", "number", "search", "url", "email")
    return False


def _keydown(event) -> None:
    if event.key not in MOVES or event.altKey or event.ctrlKey or event.metaKey or event.defaultPrevented:
        return
    top = views.top()
    if _uses_arrows(event.target) or top is None:
        return
    if top.key(event):
        event.preventDefault()


def install() -> None:
    """Listen once for the whole page."""
    if _installed:
        return
    _installed.append(True)
    _status()
    dom.on(document, "keydown", _keydown)
    window.cnn101_views = dom.keep(open_views)


def open_views() -> str:
    """JSON list of the open views, outermost first (each view's .state()), for tests and benchmarks."""
    return json.dumps([v.state() for v in views.STACK])


install()
