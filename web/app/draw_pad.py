"""The drawing pad of 'Change the image' (issue 13): brush, eraser and fill on the enlarged input, at the
model's input size (each input pixel is an integer number of screen pixels), into every channel or one.

A stroke is one `cnn101.draw.stroke` step of the lab (its points grow while the pointer moves, and the lab
re-traces once per animation frame); a fill is one `draw.fill` step; 'Clear' starts a blank white canvas (a
fill of the whole image), 'Start from the current image' removes the drawing. Mouse, pen and touch arrive as
the same pointer events. A drawing too long for the page's address stays in the page's state, and the
page's own 'Download this state' keeps it as a file (state_files.py).
"""
from __future__ import annotations

from . import dom

TOOLS = ("patch", "brush", "eraser", "fill")
RADII = (0.5, 1, 1.5, 2, 3, 4)
DRAWING = ("stroke", "fill")
#: The whole image in one colour: a fill from (0, 0) that takes every pixel (tolerance 1).
BLANK = {"op": "fill", "row": 0, "col": 0, "colour": 1, "tolerance": 1}


def markup(channels: int) -> str:
    names = ("red", "green", "blue") if channels == 3 else tuple(str(i) for i in range(channels))
    tools = "".join(f'<label><input type="radio" name="lab-tool" value="{t}"{" checked" if t == "patch" else ""}> '
                    f'{"grey patch" if t == "patch" else t}</label>' for t in TOOLS)
    radii = "".join(f'<option value="{r}"{" selected" if r == 1.5 else ""}>{2 * r:g} px</option>' for r in RADII)
    chans = '<option value="">all</option>' + "".join(f'<option value="{n}">{n} only</option>' for n in names)
    return f"""
    <fieldset class="lab-draw"><legend>Draw</legend>
      <span class="lab-tools" role="radiogroup" aria-label="What a drag on the image does">{tools}</span>
      <label>brush <select id="lab-radius" aria-label="Brush width">{radii}</select></label>
      <label>colour <input id="lab-colour" type="color" value="#000000"></label>
      <label>paint into <select id="lab-paint-ch" aria-label="Channel to paint into">{chans}</select></label>
      <button type="button" data-lab="blank">Clear (blank canvas)</button>
      <button type="button" data-lab="from-image">Start from the current image</button>
    </fieldset>"""


class DrawPad:
    def __init__(self, lab):
        self.lab = lab
        self.drawing = None  # the stroke step being drawn (its points grow), or None

    @property
    def tool(self) -> str:
        checked = dom.el("lab").querySelector('input[name="lab-tool"]:checked')
        return str(checked.value) if checked is not None else "patch"

    # --- settings -------------------------------------------------------------------------------------
    def _channel(self):
        v = str(dom.el("lab-paint-ch").value)
        return None if v == "" else (v if not v.isdigit() else int(v))

    def _colour(self, eraser: bool):
        c = int(self.lab.app.model.input_shape[-1])
        if eraser:
            return 1
        hexa = str(dom.el("lab-colour").value).lstrip("#")
        rgb = [round(int(hexa[i:i + 2], 16) / 255, 4) for i in (0, 2, 4)] if len(hexa) == 6 else [0, 0, 0]
        return rgb if c == 3 else round(sum(rgb) / 3, 4)

    def _at(self, event) -> tuple[float, float]:
        """(row, col) of the pointer in pixel units, pixel (i, j) centred at (i, j) as cnn101.draw has it."""
        top, left, height, width = self.lab.rect()
        h, w = self.lab.app.model.input_shape[:2]
        row = (float(event.clientY) - top) / height * h - 0.5
        col = (float(event.clientX) - left) / width * w - 0.5
        return round(row, 1), round(col, 1)

    # --- pointer (called by the lab for the drawing tools) ---------------------------------------------
    def down(self, event) -> None:
        tool = self.tool
        row, col = self._at(event)
        channel = self._channel()
        step = {"op": "stroke" if tool != "fill" else "fill"}
        if tool == "fill":
            h, w = self.lab.app.model.input_shape[:2]
            r, c = int(round(row)), int(round(col))
            if not (0 <= r < h and 0 <= c < w):
                return
            step.update(row=r, col=c, colour=self._colour(False))
        else:
            step.update(points=[[row, col]], radius=float(dom.el("lab-radius").value),
                        colour=self._colour(tool == "eraser"))
            self.drawing = step
        if channel is not None:
            step["channel"] = channel
        self.lab.steps.append(step)
        self.lab.changed()

    def move(self, event) -> None:
        if self.drawing is None:
            return
        point = list(self._at(event))
        if self.drawing["points"][-1] != point:
            self.drawing["points"].append(point)
            self.lab.changed()

    def up(self) -> None:
        self.drawing = None

    # --- buttons ---------------------------------------------------------------------------------------
    def blank(self) -> None:
        self.lab.steps = [dict(BLANK)]
        self.lab.changed()

    def from_image(self) -> None:
        self.lab.steps = [s for s in self.lab.steps if s.get("op") not in DRAWING]
        self.lab.changed()
