"""The hyperparameter playground and the per-layer table in a notebook."""
from __future__ import annotations

from ..explain import symmetric
from ..explain.playground import LayerRow, Playground
from ..render.colormap import ACTIVATION, WEIGHT
from ..render.svg import block, esc, fmt, marked_heatmap, number_grid, op
from .base import View, row, table, text


class PlaygroundView(View):
    """`playground(channel, kernel_size, stride, padding, kernel)`: the channel with its padding and the
    first window, the kernel, the output, and the output-size formula with the numbers filled in.

    Numbers: `.output`, `.kernel`, `.positions`, `.rows` / `.cols` (the arithmetic), `.problems`, `.notes`."""

    def __init__(self, p: Playground, at: tuple[int, int] = (0, 0)):
        super().__init__(p)
        self.at = at
        self.title = "Hyperparameter playground" + ("" if p.valid else ": these settings do not work")

    def note(self) -> str:
        p = self.data
        if not p.valid:
            return ""
        k, s = p.rows.k, p.rows.s
        return (f"A {k}×{k} kernel moves {s} cell{'s' if s > 1 else ''} at a time over the channel"
                f" padded with zeros ({p.padding!s} padding); each position gives one output cell.")

    def body(self) -> str:
        p = self.data
        formula = f'<p class="formula" style="font:14px ui-monospace,Menlo,monospace;margin:6px 0">' \
                  f'output size = ⌊(W − K + 2P) / S⌋ + 1: {esc(p.formula)}</p>'
        words = "".join(f'<p class="{cls}" style="margin:4px 0;color:{colour}">{esc(s)}</p>'
                        for items, cls, colour in ((p.problems, "problem", "#b02a2a"), (p.notes, "note", "#495057"))
                        for s in items)
        if not p.valid:
            return formula + words
        i, j = self.at
        r0, c0 = p.geometry.origin(i, j)
        k = p.rows.k
        pt, pb, pl, pr = p.pad
        c_lo, c_hi = symmetric(p.channel)
        k_lo, k_hi = symmetric(p.kernel)
        o_lo, o_hi = symmetric(p.output)
        win = p.window(i, j)
        parts = row(
            block(marked_heatmap(p.channel, c_lo, c_hi, ACTIVATION, 140, (r0, c0, k, k), "channel"),
                  caption=f"channel {p.channel.shape[0]}×{p.channel.shape[1]}, padding {pt}/{pb} rows, {pl}/{pr} cols"),
            op("⋆"),
            block(number_grid(p.kernel, k_lo, k_hi, WEIGHT, 3, cell=30, name="kernel"), caption=f"kernel {k}×{k}"),
            op("="),
            block(marked_heatmap(p.output, o_lo, o_hi, ACTIVATION, 140, (i, j, 1, 1), "output"),
                  caption=f"output {p.output.shape[0]}×{p.output.shape[1]}"),
        )
        at = text(f"output ({i}, {j}) = Σ window × kernel = {fmt(win['sum'])}", 12, "#495057")
        return formula + words + parts + at


def _rf(r: LayerRow) -> tuple[str, str]:
    if r.whole_input:
        return "the whole input", ""
    return f"{r.receptive_field[0]}×{r.receptive_field[1]}", f"{r.jump[0]}×{r.jump[1]}"


class LayerTableView(View):
    """`layer_table(model)`: per layer its output shape, parameters, multiply–adds and receptive field.
    `.rows` is the list of explain.playground.LayerRow."""

    def __init__(self, model, rows: list[LayerRow]):
        super().__init__(rows)
        self.model, self.rows = model, rows
        self.title = f"{model.name}: what each layer costs and sees"

    def note(self) -> str:
        return ("Multiply–adds are counted for one image. The receptive field is the square of input pixels one "
                "output cell depends on; the jump is how far apart (in input pixels) neighbouring cells look.")

    def body(self) -> str:
        cells = [["input", esc(tuple(self.model.input_shape)), "0", "0", "1×1", "1×1"]]
        for r in self.rows:
            cells.append([f"<code>{esc(r.name)}</code> {esc(r.kind)}", esc(r.output_shape), f"{r.params:,}",
                          f"{r.macs:,}", *map(esc, _rf(r))])
        cells.append(["<b>total</b>", "", f"<b>{sum(r.params for r in self.rows):,}</b>",
                      f"<b>{sum(r.macs for r in self.rows):,}</b>", "", ""])
        return table(["layer", "output shape", "parameters", "multiply–adds", "receptive field", "jump"], cells,
                     "lrrrrr", name="layers")
