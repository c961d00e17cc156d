"""Notebook views of ReLU, max pooling, the flatten → class-score step, and softmax."""
from __future__ import annotations

import numpy as np

from ..render.colormap import ACTIVATION, WEIGHT
from ..render.svg import block, cell_scale, esc, fmt, heatmap_img, legend, marked_heatmap, number_grid, op
from .base import View, row, table, text


def _around(shape, i: int, j: int, size: int = 5) -> tuple[slice, slice]:
    """A size×size block of cells containing (i, j), kept inside the array."""
    h, w = shape
    r0 = min(max(0, i - size // 2), max(0, h - size))
    c0 = min(max(0, j - size // 2), max(0, w - size))
    return slice(r0, min(h, r0 + size)), slice(c0, min(w, c0 + size))


class ReluView(View):
    """`relu(trace, layer, channel, i, j)`: max(0, x) = y, cell by cell. Numbers: `.x`, `.y`, `.cell`."""

    def __init__(self, detail, at: tuple[int, ...] | None = None):
        super().__init__(detail)
        if at is None:
            at = tuple(int(v) for v in np.unravel_index(int(np.argmin(detail.x)), detail.x.shape))
        self.cell = detail.at(*at)
        where = f"channel {detail.channel}" if detail.channel is not None else "vector"
        self.title = f"{detail.layer}, {where}: ReLU"

    def note(self) -> str:
        return "ReLU keeps positive values and turns every negative value into zero: y = max(0, x)."

    def body(self) -> str:
        d, cell = self.data, self.cell
        lo, hi = d.range
        x2 = d.x if d.x.ndim == 2 else d.x[None, :]
        y2 = d.y if d.y.ndim == 2 else d.y[None, :]
        pos = cell.position if d.x.ndim == 2 else (0, cell.position[0])
        rs, cs = _around(x2.shape, *pos)
        mark = np.zeros(x2.shape, bool)
        mark[pos] = True
        maps = []
        if d.x.ndim == 2:
            maps = [block(marked_heatmap(d.x, lo, hi, ACTIVATION, 120, (*pos, 1, 1), d.source), caption=d.source),
                    op("→")]
        parts = maps + [
            block(number_grid(x2[rs, cs], lo, hi, ACTIVATION, 3, marked=mark[rs, cs], name="x"),
                  caption=f"x, rows {rs.start}–{rs.stop - 1}, columns {cs.start}–{cs.stop - 1}"),
            op("max(0, ·)"),
            block(number_grid(y2[rs, cs], lo, hi, ACTIVATION, 3, marked=mark[rs, cs], name="y"), caption="y"),
        ]
        if d.x.ndim == 2:
            parts += [op("→"), block(marked_heatmap(d.y, lo, hi, ACTIVATION, 120, (*pos, 1, 1), d.layer),
                                     caption=d.layer)]
        where = ", ".join(str(p) for p in cell.position)
        line = f"at ({where}): max(0, {fmt(cell.x)}) = {fmt(cell.y)}"
        return row(*parts) + f'<p class="sum" style="font:14px ui-monospace,monospace">{esc(line)}</p>' + \
            legend(lo, hi, ACTIVATION, "values")


class PoolView(View):
    """`pool_window(trace, layer, channel, i, j)`: the window, its maximum, the output cell.

    Numbers: `.values` (−∞ in padding), `.padded`, `.argmax`, `.source_cell`, `.value`, `.trace_value`.
    """

    def __init__(self, window, channel):
        super().__init__(window)
        self.channel_data = channel
        self.title = (f"{window.layer}, channel {window.channel}, output ({window.position[0]}, "
                      f"{window.position[1]}): max pooling")

    def note(self) -> str:
        g = self.channel_data.geometry
        return (f"A {g.size[0]}×{g.size[1]} window moves with stride {g.strides[0]}×{g.strides[1]}; each output "
                "cell keeps the largest value in its window.")

    def body(self) -> str:
        w, ch = self.data, self.channel_data
        lo, hi = ch.range
        mark = np.zeros(w.values.shape, bool)
        mark[w.argmax] = True
        i, j = w.position
        scale = cell_scale(ch.input.shape, 120)  # the output at the input's scale: pooling shrinks it
        return row(
            block(marked_heatmap(ch.input, lo, hi, ACTIVATION, 120, (*w.origin, *ch.geometry.size), ch.source),
                  caption=f"{ch.source} · channel {w.channel}"),
            block(number_grid(w.values, lo, hi, ACTIVATION, 3, padded=w.padded, marked=mark, name="window"),
                  caption=f"window at ({w.origin[0]}, {w.origin[1]})"),
            op("max ="),
            block(text(fmt(w.value), 18, weight=600), caption=f"from ({w.source_cell[0]}, {w.source_cell[1]})"),
            op("→"),
            block(marked_heatmap(ch.output, lo, hi, ACTIVATION, 120, (i, j, 1, 1), w.layer, scale=scale),
                  caption=f"{w.layer} · channel {w.channel}"),
        ) + legend(lo, hi, ACTIVATION, "values")


class FlattenView(View):
    """`flatten(trace, k)`: every element of the flattened layer × its weight to class k, Σ + bias = logit.

    Numbers: `.inputs`, `.weights`, `.contributions` (flatten order), `.sum`, `.bias`, `.value` (the logit),
    `.trace_value`, `.flatten` (index ↔ (row, col, channel)); `.grid(v)` reshapes to (H, W, C).
    """

    def __init__(self, neuron, top: int = 10):
        super().__init__(neuron)
        self.top_n = top
        self.title = f"{neuron.layer}, {neuron.label}: from the flattened {neuron.source} to one score"

    def note(self) -> str:
        d = self.data
        if d.flatten is None:
            return f"Each of the {d.inputs.size} inputs is multiplied by its weight; the products plus the bias give the score."
        h, w, c = d.flatten.shape
        return (f"Flatten lines up the {h}×{w}×{c} values of {d.flatten.source} (row, column, channel order). "
                f"Each value is multiplied by its weight for '{d.label}'; the sum of all products plus the bias is "
                "the logit.")

    def body(self) -> str:
        d = self.data
        parts = []
        w_lo, w_hi = d.weight_range
        c_lo, c_hi = d.contribution_range
        if d.flatten is not None:
            x, wts, con = d.grid(d.inputs), d.grid(d.weights), d.grid(d.contributions)
            a_lo, a_hi = d.input_range
            cells = []
            for c in range(d.flatten.shape[2]):
                cells.append(block(
                    heatmap_img(x[:, :, c], a_lo, a_hi, ACTIVATION, 56, f"{d.flatten.source} channel {c}"),
                    '<br />', heatmap_img(wts[:, :, c], w_lo, w_hi, WEIGHT, 56, f"weights, channel {c}"),
                    '<br />', heatmap_img(con[:, :, c], c_lo, c_hi, ACTIVATION, 56, f"products, channel {c}"),
                    caption=f"channel {c}"))
            parts.append(row(block(text("value", 11), "<br /><br /><br />", text("weight", 11), "<br /><br /><br />",
                                   text("value × weight", 11)), *cells))
            parts.append(row(legend(a_lo, a_hi, ACTIVATION, "values"), legend(w_lo, w_hi, WEIGHT, "weights"),
                             legend(c_lo, c_hi, ACTIVATION, "value × weight")))
        rows = []
        for n in d.top(self.top_n):
            where = ", ".join(str(v) for v in d.flatten.position(int(n))) if d.flatten is not None else ""
            rows.append([str(int(n)), esc(where), fmt(d.inputs[n]), fmt(d.weights[n]), fmt(d.contributions[n])])
        parts.append(f'<p style="font-size:13px;margin:8px 0 2px">The {len(rows)} largest products:</p>')
        parts.append(table(["flatten index", "(row, col, channel)", "value", "weight", "value × weight"], rows,
                           "rcrrr", name="top"))
        line = (f"Σ of {d.inputs.size} products = {fmt(d.sum)}; + bias ({fmt(d.bias)}) = {fmt(d.value)} "
                f"= logit of '{d.label}' (engine: {fmt(d.trace_value)})")
        parts.append(f'<p class="sum" style="font:14px ui-monospace,monospace;margin:8px 0">{esc(line)}</p>')
        return "".join(parts)


class SoftmaxView(View):
    """`softmax(trace)`: p_i = exp(l_i) / Σ_j exp(l_j). Numbers: `.logits`, `.exp`, `.total`, `.probs`."""

    title = "Softmax: from scores to probabilities"

    def note(self) -> str:
        return ("Raise e to the power of each logit, add all these up, and divide each one by the sum: the results "
                "are positive and add up to 1.")

    def body(self) -> str:
        d = self.data
        best = d.predicted
        rows = []
        for k in d.order:
            k = int(k)
            name = esc(d.class_names[k])
            bar = (f'<span style="display:inline-block;width:120px;height:10px;background:#e9ecef">'
                   f'<span style="display:block;height:10px;width:{100 * d.probs[k]:.2f}%;background:#4a6fa5">'
                   "</span></span>")
            rows.append([f"<b>{name}</b>" if k == best else name, fmt(d.logits[k]), f"{d.exp[k]:.6g}",
                         f"{d.exp[k]:.6g} / {d.total:.6g}", fmt(d.probs[k], 4), f"{d.probs[k]:.1%}", bar])
        line = f"Σ exp(logits) = {d.total:.6g}; the largest probability: {d.class_names[best]} ({d.probs[best]:.1%})"
        return (table(["class", "logit l", "exp(l)", "exp(l) / Σ", "p", "%", ""], rows, "lrrrrrl", name="softmax")
                + f'<p class="sum" style="font:13px ui-monospace,monospace;margin:8px 0">{esc(line)}</p>')
