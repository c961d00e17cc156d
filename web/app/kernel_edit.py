"""Editing a conv neuron from its view (product §5): try a classic kernel (identity, edges, blur, sharpen,
zero) or another bias, and every later layer and the prediction are recomputed at once; 'Reset' puts the
trained values back. The edits live in the App (cnn101.kernels.Edits); the view is redrawn from them."""
from __future__ import annotations

import asyncio
import html
import math

from cnn101.kernels import PRESETS
from cnn101.render.svg import fmt

TRAINED, EDITED = "", "edited"


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
            '<span class="cv-edit-note">every later layer and the prediction are recomputed</span></div>')


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
