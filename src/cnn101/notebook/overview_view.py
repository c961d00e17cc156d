"""The Overview in a notebook: the page's own overview markup (render.overview, heatmaps embedded as PNG)
with a small stylesheet that lays it out without the page's CSS or any script."""
from __future__ import annotations

from ..explain.overview import SCOPES, Overview
from ..render.overview import geometry, overview_html
from ..render.svg import esc
from .base import View

# The layout rules of web/style.css that the overview needs, scoped to the notebook output, with the
# detail mode on (full layer names, shapes and legends).
CSS = """
.cnn101-ov{max-width:100%;overflow-x:auto;overflow-y:hidden}
.cnn101-ov .ov-stage{position:relative;margin:4px 0}
.cnn101-ov .ov-caption{position:absolute;width:48px;text-align:right;font-size:10px;line-height:14px;color:#6c757d}
.cnn101-ov .ov-edges{position:absolute;left:0;top:0}
.cnn101-ov .ov-edge{fill:none;stroke:#b8c2cc;stroke-width:.6;opacity:.75}
.cnn101-ov .ov-edge.one-to-one{stroke-width:.8}
.cnn101-ov .ov-edge-hi{display:none}
.cnn101-ov .ov-neuron{position:absolute;image-rendering:pixelated;outline:1px solid #d5dae0}
.cnn101-ov .ov-label{position:absolute;top:4px;text-align:center;font-size:11px;line-height:1.25;color:#212529;text-decoration:none}
.cnn101-ov .ov-label .short{display:none}
.cnn101-ov .ov-label .full,.cnn101-ov .ov-label .shape{display:block}
.cnn101-ov .ov-label .shape{color:#6c757d;font-size:10px}
.cnn101-ov .ov-class{position:absolute;display:flex;align-items:center;gap:6px;font-size:12px;white-space:nowrap}
.cnn101-ov .ov-bar{display:block;height:100%;background:#edf0f3;border-radius:2px;overflow:hidden;flex:none}
.cnn101-ov .ov-fill{display:block;height:100%;background:#9fb0c4}
.cnn101-ov .ov-class.top .ov-fill{background:#2f6db5}
.cnn101-ov .ov-class.top .ov-name{font-weight:700}
.cnn101-ov .ov-pct{color:#6c757d;font-size:11px}
.cnn101-ov .ov-legend{position:absolute;height:30px;font-size:10px;color:#6c757d}
.cnn101-ov .ov-grad{position:absolute;left:0;right:0;top:0;height:8px;border:1px solid #cfd5dc}
.cnn101-ov .ov-tick{position:absolute;top:11px}
.cnn101-ov .ov-tick.lo{left:0}
.cnn101-ov .ov-tick.mid{left:50%;transform:translateX(-50%)}
.cnn101-ov .ov-tick.hi{right:0}
"""


#: What each colour scope means, in the note under the title.
SCOPE_WORDS = {
    "unit": "one colour range per conv block: a conv layer with the ReLU and pooling layers after it",
    "module": "one colour range per module: the conv blocks up to and including a pooling layer",
    "global": "one colour range shared by all hidden layers",
}


class OverviewView(View):
    """`overview(trace, scope)`: one heatmap per neuron of every layer, coloured per scope.

    Numbers: `.values(name)` ((neurons, H, W) or (neurons,)), `.range(name, scope)`, `.legends(scope)`,
    `.columns`, `.top(k)`; `.scope` is the colour scope shown.
    """

    def __init__(self, ov: Overview, scope: str = "unit"):
        if scope not in SCOPES:
            raise ValueError(f"Unknown colour scope {scope!r}; choose one of {', '.join(SCOPES)}.")
        super().__init__(ov)
        self.scope = scope
        name, p = ov.top(1)[0]
        self.title = f"Overview: {ov.model.name} says {name} ({p:.1%})"

    def note(self) -> str:
        return (f"Each square is one neuron's output; red is negative, white zero, blue positive. Colour scope: "
                f"{self.scope} ({SCOPE_WORDS[self.scope]}).")

    def body(self) -> str:
        ov = self.data
        stage = overview_html(ov, geometry(ov.layout), scope=self.scope, images="png")
        return (f'<div class="cnn101-ov overview detail" data-scope="{esc(self.scope)}"><style>{CSS}</style>'
                f"{stage}</div>")
