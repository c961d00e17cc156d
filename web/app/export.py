"""Save PNG / Save SVG for slides (issue 13): the Overview and every open view.

One mechanism for all views: `views.push` calls `attach(view)`, which puts a labelled "Save PNG" /
"Save SVG" pair in the view's header (ordinary buttons: Tab reaches them, Enter presses them) wired
through the view's own Owner (released when it closes). What is saved is `view.export_svg()`:
by default the view's live markup with its computed styles inline (web/export.js), so the file shows
exactly the numbers the page shows; a view may override it.

The Overview is saved from the package's own renderer (`cnn101.render.overview_svg`, the one the
notebook can call too): a pure SVG; its PNG is that SVG rasterised by the browser with the neuron maps
put on top as `map_rasters` pixels, so they equal CPython's rendering of the same trace exactly.

Files are Blobs handed to an `<a download>` through an object URL: nothing goes over the network.
"""
from __future__ import annotations

import re

import numpy as np
from cnn101.page import input_caption, prediction_text
from cnn101.render.overview_svg import map_rasters, overview_svg, png_scale, sample, svg_size
from cnn101.render.picture_svg import picture_svg
from pyscript import document, window
from pyscript.ffi import to_js

from . import dom

SVG_TYPE = "image/svg+xml"
VIEW_SCALE = 2  # PNG px per CSS px of a view (sharp on a projector / retina slide)
BAR_HTML = ('<span class="export-bar" role="group" aria-label="Save this view for slides" data-export="skip">'
            '<button type="button" class="export-png" title="Save this view as a PNG picture">Save PNG</button>'
            '<button type="button" class="export-svg" title="Save this view as an SVG drawing">Save SVG</button>'
            '</span>')
saved = []  # (name, kind) of every file handed over (tests and the info line)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-") or "view"


def _failed(message) -> None:
    dom.el("info").textContent = f"Could not save the picture: {message}. Try Save SVG instead."


_on_error = None


def _error_proxy():
    global _on_error
    if _on_error is None:
        _on_error = dom.keep(_failed)
    return _on_error


def file_name(app, view=None, ext: str = "png") -> str:
    """cnn101-<image>-<layer>-<neuron>-<view>.<ext> (the Overview: cnn101-<image>-overview)."""
    st = app.state
    parts = ["cnn101", st.image or "image"]
    if view is None:
        parts.append("overview")
    else:
        parts += [st.column, str(st.neuron), getattr(view, "kind", "view")]
        if st.part and st.level >= 3:
            parts.append(st.part)
    return _slug("-".join(p for p in parts if p)) + "." + ext


# --- views ---------------------------------------------------------------------------------------------
def attach(view) -> None:
    """Put Save PNG / Save SVG in the view's header (before its close button), wired through view.owner."""
    root = view.root
    if root is None or root.querySelector(":scope > header .export-bar, :scope > .export-bar") is not None:
        return
    head = root.querySelector(":scope > header") or root
    holder = document.createElement("span")
    holder.innerHTML = BAR_HTML
    bar = holder.firstElementChild
    close = head.querySelector(":scope > .dp-close, :scope > .cv-close")
    head.insertBefore(bar, close)
    if close is not None:
        close.dataset.export = "skip"

    def save(kind):
        def handler(event):
            event.stopPropagation()
            save_view(view, kind)
        return handler

    view.owner.on(bar.querySelector(".export-png"), "click", save("png"))
    view.owner.on(bar.querySelector(".export-svg"), "click", save("svg"))


def view_svg(view) -> tuple[str, int, int]:
    """(svg text, width, height) of a view: its own export_svg() if it has one, else its live markup."""
    own = getattr(view, "export_svg", None)
    if own is not None:
        return own()
    title = str(view.root.getAttribute("aria-label") or "")
    heading = view.root.querySelector("h2")
    if heading is not None:
        title = str(heading.textContent)
    out = window.cnn101Export.domSvg(view.root, f"cnn101 · {title}")
    return str(out.svg), int(out.width), int(out.height)


def save_view(view, kind: str) -> None:
    svg, width, height = view_svg(view)
    name = file_name(view.app, view, kind)
    if kind == "svg":
        window.cnn101Export.saveText(svg, name, SVG_TYPE)
    else:
        window.cnn101Export.savePng(svg, width, height, VIEW_SCALE, name, to_js([]), None, _error_proxy())
    saved.append((name, kind))


# --- the Overview ------------------------------------------------------------------------------------
def comparison(app):
    """The Comparison the Overview shows now (an image pinned as A, out of why mode), else None."""
    lab = getattr(app, "lab", None)
    cmp = getattr(getattr(lab, "compare", None), "cmp", None)
    return cmp if cmp is not None and lab.compare.a is not None and app.why.gov is None else None


def overview_title(app) -> str:
    title = f"{input_caption(app.image_label, app.model)} · {prediction_text(app.ov)}"
    gov = app.why.gov
    if gov is not None:
        title += f" · why {app.model.class_names[gov.target]}: d loss / d every value"
    elif comparison(app) is not None:
        title = f"B − A · A = {app.lab.compare.a_label} · B = {title}"
    return title


def overview_shown(app):
    """What the Overview shows now: a Comparison (B − A), the gradients (why mode) or the activations."""
    return comparison(app) or app.why.shown()


def overview_file(app) -> str:
    """The Overview as the page shows it now (scope, detail, image; the gradients in why mode, B − A when
    comparing), from the package's renderer."""
    cmp = comparison(app)
    return overview_svg(cmp or app.why.shown(), app.view.geo, app.state.scope, app.state.detail, overview_title(app),
                        gradient=app.why.gov is not None, compare=cmp is not None)


def save_overview(app, kind: str) -> None:
    if app.ov is None:
        return
    name = file_name(app, None, kind)
    svg = overview_file(app)
    if kind == "svg":
        window.cnn101Export.saveText(svg, name, SVG_TYPE)
    else:
        geo = app.view.geo
        scale = png_scale(geo, app.ov)
        rasters = map_rasters(overview_shown(app), geo, app.state.scope, scale)
        patches, offset = [], 0
        for x, y, px in rasters:
            h, w = int(px.shape[0]), int(px.shape[1])
            patches.append([int(x), int(y), w, h, offset])
            offset += h * w * 4
        pixels = dom.js_bytes(np.concatenate([px.reshape(-1) for _, _, px in rasters]) if rasters
                              else np.zeros(0, np.uint8))
        width, height = svg_size(geo, comparison(app) is not None)
        window.cnn101Export.savePng(svg, width, height, scale, name, to_js(patches), pixels,
                                    _error_proxy())
    saved.append((name, kind))


# --- why mode's attribution over the image -------------------------------------------------------------
def attribution_file(app) -> tuple[str, tuple[int, int], tuple[int, int, int, int]]:
    """(svg, size, picture box) of the attribution over the input as the why panel shows it."""
    why = app.why
    _, lo, hi, cmap = why.map
    title = f"{app.image_label or 'the image'} · why {app.model.class_names[why.target()]}?"
    return picture_svg(why.rgba, title, why.caption(), (lo, hi, cmap))


def save_attribution(app, kind: str) -> None:
    if app.why.rgba is None:
        return
    st = app.state
    name = _slug("-".join(["cnn101", st.image or "image", "why", app.model.class_names[app.why.target()], st.method]))
    name += "." + kind
    svg, (width, height), (x, y, w, h) = attribution_file(app)
    if kind == "svg":
        window.cnn101Export.saveText(svg, name, SVG_TYPE)
    else:
        s = VIEW_SCALE
        px = sample(app.why.rgba, w * s, h * s)
        window.cnn101Export.savePng(svg, width, height, s, name, to_js([[x * s, y * s, w * s, h * s, 0]]),
                                    dom.js_bytes(np.ascontiguousarray(px).reshape(-1)), _error_proxy())
    saved.append((name, kind))


def mount_overview(app) -> None:
    """Wire the Overview's Save PNG / Save SVG buttons (static in index.html, enabled once live)."""
    for kind in ("png", "svg"):
        button = dom.el(f"save-overview-{kind}")
        if button is None:
            continue
        dom.on(button, "click", lambda e, k=kind: save_overview(app, k))
        button.disabled = False
