"""Editing a conv neuron from its view (product §5): try a classic kernel (identity, edges, blur, sharpen,
zero) or another bias, and every later layer and the prediction are recomputed at once; 'Reset' puts the
trained values back. A click on a kernel's cell (or the channel / row / column lists, for the keyboard) picks
one weight to type a new value for (cnn101.kernels.Edits.set_kernel with that one weight changed). The edits
live in the App (cnn101.kernels.Edits); the view is redrawn from them."""
from __future__ import annotations

import asyncio
import html
import math

from cnn101.kernels import PRESETS
from cnn101.render.svg import fmt

from . import dom

TRAINED, EDITED = "", "edited"
#: (layer, neuron) → (channel, row, col) of the weight last picked, so the redrawn view shows it again.
PICKED: dict = {}


def weight_html(app, layer: str, neuron: int) -> str:
    """The single-weight editor: which weight (channel, row, column) and its value."""
    conv = app.model.layer(layer)
    kh, kw, cin = (int(d) for d in conv.kernel.shape[:3])
    c, i, j = PICKED.get((layer, int(neuron)), (0, 0, 0))
    value = float(conv.kernel[i, j, c, int(neuron)])

    def sel(cls: str, n: int, at: int, what: str) -> str:
        return (f'<select class="{cls}" aria-label="{what} of the weight">'
                + "".join(f'<option value="{k}"{" selected" if k == at else ""}>{k}</option>' for k in range(n)) + "</select>")

    return (f'<div class="cv-edit cv-edit-weight" role="group" aria-label="Change one weight of this neuron\'s kernels">'
            f'<label>weight: channel {sel("cv-w-c", cin, c, "channel")}</label>'
            f'<label>row {sel("cv-w-i", kh, i, "row")}</label><label>column {sel("cv-w-j", kw, j, "column")}</label>'
            f'<label>= <input class="cv-w-value" type="number" step="0.01" value="{fmt(value, 4)}" '
            f'aria-label="value of the weight"></label>'
            '<span class="cv-edit-note">or click a cell of a kernel</span></div>')


def bar_html(app, layer: str, neuron: int, bias: float) -> str:
    """The edit row of a conv neuron's view, showing what the neuron holds now."""
    key = (layer, int(neuron))
    edited = key in app.edits.edited()
    current = app.edits.presets.get(key, EDITED if edited else TRAINED)
    options = [(TRAINED, "trained kernel")] + [(p, p) for p in PRESETS]
    if current == EDITED:
        options.append((EDITED, "edited by hand"))
    opts = "".join(f'<option value="{html.escape(v)}"{" selected" if v == current else ""}>{html.escape(t)}</option>'
                   for v, t in options)
    return (f'<div class="cv-edit" role="group" aria-label="Edit this neuron">'
            f'<label>Try a kernel <select class="cv-edit-preset">{opts}</select></label>'
            f'<label>bias <input class="cv-edit-bias" type="number" step="0.1" value="{fmt(bias, 4)}" '
            f'aria-label="bias of this neuron"></label>'
            f'<button type="button" class="cv-edit-reset"{"" if edited else " hidden"}>Reset to trained</button>'
            '<span class="cv-edit-note">every later layer and the prediction are recomputed</span></div>'
            + weight_html(app, layer, neuron))


def wire(view) -> None:
    """Hook the row's controls of `view` (a ConvView) to the App's edits."""
    app, layer, neuron = view.app, view.n.layer, view.filter
    q = view._q

    def preset(event) -> None:
        name = str(event.target.value)
        if name == TRAINED:
            asyncio.ensure_future(app.edit_neuron(layer, neuron, reset=True))
        elif name in PRESETS:
            asyncio.ensure_future(app.edit_neuron(layer, neuron, preset=name))

    def bias(event) -> None:
        try:
            value = float(str(event.target.value))
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            asyncio.ensure_future(app.edit_neuron(layer, neuron, bias=value))

    view._on(q(".cv-edit-preset"), "change", preset)
    view._on(q(".cv-edit-bias"), "change", bias)
    view._on(q(".cv-edit-reset"), "click", lambda e: asyncio.ensure_future(app.edit_neuron(layer, neuron, reset=True)))
    wire_weights(view)


def wire_weights(view) -> None:
    """A click on a kernel cell picks that weight; a typed value changes it (every later layer recomputes)."""
    app, layer, neuron = view.app, view.n.layer, view.filter
    q = view._q
    conv = app.model.layer(layer)
    kh, kw = (int(d) for d in conv.kernel.shape[:2])

    def show() -> None:
        c, i, j = PICKED.get((layer, neuron), (0, 0, 0))
        q(".cv-w-c").value, q(".cv-w-i").value, q(".cv-w-j").value = str(c), str(i), str(j)
        q(".cv-w-value").value = fmt(float(conv.kernel[i, j, c, neuron]), 4)

    def picked(event) -> None:
        PICKED[(layer, neuron)] = (int(q(".cv-w-c").value), int(q(".cv-w-i").value), int(q(".cv-w-j").value))
        show()

    def cell(event) -> None:
        kernel = event.target.closest(".cv-kernel") if hasattr(event.target, "closest") else None
        if kernel is None:
            return
        rect = kernel.getBoundingClientRect()
        if float(rect.width) <= 0 or float(rect.height) <= 0:
            return
        i = min(kh - 1, max(0, int((float(event.clientY) - float(rect.top)) / float(rect.height) * kh)))
        j = min(kw - 1, max(0, int((float(event.clientX) - float(rect.left)) / float(rect.width) * kw)))
        PICKED[(layer, neuron)] = (int(kernel.dataset.channel), i, j)
        show()
        q(".cv-w-value").focus()

    def typed(event) -> None:
        try:
            value = float(str(event.target.value))
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or abs(value) > 1e6:
            dom.el("info").textContent = "A weight is a number between −1,000,000 and 1,000,000."
            show()
            return
        c, i, j = PICKED.get((layer, neuron), (0, 0, 0))
        kernel = conv.kernel[:, :, :, neuron].copy()
        kernel[i, j, c] = value
        asyncio.ensure_future(app.edit_neuron(layer, neuron, kernel=kernel))

    for cls in (".cv-w-c", ".cv-w-i", ".cv-w-j"):
        view._on(q(cls), "change", picked)
    view._on(q(".cv-w-value"), "change", typed)
    view._on(view.root, "click", cell)
