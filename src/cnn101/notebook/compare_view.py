"""Two images compared in a notebook: B − A for every neuron of the Overview's columns, coloured with a
symmetric range per scope, and a table of how every class probability changed."""
from __future__ import annotations

from ..explain.compare import Comparison
from ..explain.overview import SCOPES
from ..render.colormap import ACTIVATION
from ..render.svg import block, esc, fmt, heatmap_img, legend
from .base import View, row, table, text


class CompareView(View):
    """`compare(trace_a, trace_b, scope)`: per-neuron difference maps and the change of every class.

    Numbers: `.values(name)` (B − A), `.range(name, scope)`, `.legends(scope)`, `.changes`, `.difference`
    (the difference as a trace), `.a` / `.b` (each image's Overview)."""

    def __init__(self, comparison: Comparison, scope: str = "unit", box: int = 48):
        if scope not in SCOPES:
            raise ValueError(f"Unknown colour scope {scope!r}; choose one of {', '.join(SCOPES)}.")
        super().__init__(comparison)
        self.scope, self.box = scope, box
        (na, pa), (nb, pb) = comparison.a.top(1)[0], comparison.b.top(1)[0]
        self.title = f"Compare: A is {na} ({pa:.1%}), B is {nb} ({pb:.1%})"

    def note(self) -> str:
        return ("Each square shows how a neuron's output changed from image A to image B (B − A): blue where it "
                "grew, red where it shrank, white where it stayed the same.")

    def body(self) -> str:
        c = self.data
        legend_of = {i: lg for lg in c.legends(self.scope) for i in lg.columns[:1]}
        parts = []
        for col in c.columns:
            if col.kind == "output":
                continue
            lo, hi = c.range(col.index, self.scope)
            v = c.values(col.index)
            cells = [block(heatmap_img(v[k] if col.is_grid else v[k:k + 1, None], lo, hi, ACTIVATION, self.box,
                                       f"{col.name}, {col.neuron_labels[k]}: B − A"),
                           caption=col.neuron_labels[k] if col.kind == "input" else "")
                     for k in range(col.neurons)]
            lg = legend_of.get(col.index)
            key = legend(lg.lo, lg.hi, ACTIVATION, f"B − A, {lg.scope} range") if lg else ""
            parts.append(f'<div data-col="{col.index}" style="margin:6px 0">'
                         + text(f"{col.name} {tuple(col.shape)}", 12, weight=600) + row(*cells) + key + "</div>")
        rows = [[esc(ch.name), fmt(ch.a, 4), fmt(ch.b, 4), _signed(ch.change)] for ch in c.changes]
        parts.append(table(["class", "A", "B", "B − A"], rows, "lrrr", name="changes"))
        return "".join(parts)


def _signed(v: float) -> str:
    colour = "#1f5fa8" if v > 0 else "#b02a2a" if v < 0 else "#495057"
    return f'<span style="color:{colour}">{esc(("+" if v > 0 else "") + fmt(v, 4))}</span>'
