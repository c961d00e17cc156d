"""Notebook views of a convolutional neuron: its per-channel breakdown, and one window with its products."""
from __future__ import annotations

from ..explain.conv import ConvNeuron
from ..render.colormap import ACTIVATION, COLORMAPS, WEIGHT
from ..render.svg import block, esc, fmt, grid_cell, legend, marked_heatmap, number_grid, op
from .base import View, row, text


def input_colours(n: ConvNeuron):
    """Colour map and range of the layer's input channels (ConvNeuron.input_colours)."""
    name, lo_hi = n.input_colours
    return COLORMAPS[name], lo_hi


class ConvNeuronView(View):
    """`conv_neuron(trace, layer, f)`: each input channel ⋆ its kernel, the results summed with the bias.

    Numbers: `.kernels` (kh, kw, C), `.results` (out_h, out_w, C), `.bias`, `.pre_activation`,
    `.output`, `.activated`; `.at` is the position whose sum is written out, `.sum_at` its ConvWhole.
    """

    def __init__(self, neuron: ConvNeuron, at: tuple[int, int] | None = None):
        super().__init__(neuron)
        oh, ow = neuron.geometry.output_hw
        self.at = (oh // 2, ow // 2) if at is None else (int(at[0]), int(at[1]))
        self.sum_at = neuron.whole(*self.at)
        self.title = f"{neuron.layer}, neuron {neuron.filter}"

    def note(self) -> str:
        n = self.data
        g = n.geometry
        return (f"Each of the {n.channels} input channels of {n.source} has its own {g.size[0]}×{g.size[1]} kernel "
                f"(stride {g.strides[0]}×{g.strides[1]}, {g.padding} padding). Slide each kernel over its channel, "
                f"add up all results, then add the bias.")

    def body(self) -> str:
        n = self.data
        g = n.geometry
        i, j = self.at
        r0, c0 = g.origin(i, j)
        in_cmap, (in_lo, in_hi) = input_colours(n)
        k_lo, k_hi = n.kernel_range
        r_lo, r_hi = n.result_range
        cell = grid_cell(g.size)
        rows = []
        for c in range(n.channels):
            rows.append(row(
                block(marked_heatmap(n.inputs[:, :, c], in_lo, in_hi, in_cmap, 96, (r0, c0, *g.size),
                                     f"{n.source} channel {c}"), caption=f"{n.source} · channel {c}"),
                op("⋆"),
                block(number_grid(n.kernels[:, :, c], k_lo, k_hi, WEIGHT, 3, cell=cell, name=f"kernel-{c}"),
                      caption=f"kernel {c}"),
                op("="),
                block(marked_heatmap(n.results[:, :, c], r_lo, r_hi, ACTIVATION, 96, (i, j, 1, 1),
                                     f"result of channel {c}"), caption=f"result {c}"),
                text(f"at ({i}, {j}): {fmt(n.results[i, j, c])}", 12, "#495057"),
            ))
        w = self.sum_at
        terms = " + ".join(fmt(s) for s in w.channel_sums)
        total = (f"Σ results + bias at ({i}, {j}) = {terms} + ({fmt(n.bias)}) = {fmt(w.total)}")
        after = f"{n.relu}: max(0, {fmt(w.total)}) = {fmt(w.value)}" if n.relu else ""
        v_lo, v_hi = n.value_range
        final = [block(text("Σ", 22), caption=f"{n.channels} results"), op("+"),
                 block(text(fmt(n.bias), 16, weight=600), caption="bias"), op("="),
                 block(marked_heatmap(n.pre_activation, v_lo, v_hi, ACTIVATION, 120, (i, j, 1, 1), n.layer),
                       caption=f"{n.layer} · neuron {n.filter}")]
        if n.relu:
            final += [op("→"), block(marked_heatmap(n.activated, v_lo, v_hi, ACTIVATION, 120, (i, j, 1, 1), n.relu),
                                     caption=f"{n.relu} · neuron {n.filter}")]
        sums = (f'<p class="sum" style="font:13px ui-monospace,Menlo,monospace;margin:6px 0">{esc(total)}'
                + (f"<br />{esc(after)}" if after else "") + "</p>")
        legends = row(legend(in_lo, in_hi, in_cmap, f"{n.source} values"), legend(k_lo, k_hi, WEIGHT, "kernel weights"),
                      legend(r_lo, r_hi, ACTIVATION, "results"), legend(v_lo, v_hi, ACTIVATION, "neuron"))
        return "".join(rows) + row(*final) + sums + legends


class ConvWindowView(View):
    """`conv_window(..., channel=c)`: the input patch under the kernel, × the kernel, = the products, Σ.

    Numbers: `.patch`, `.padded`, `.kernel`, `.products`, `.sum`, `.input`, `.result`.
    """

    def __init__(self, window, neuron: ConvNeuron):
        super().__init__(window)
        self.neuron = neuron
        self.title = (f"{window.layer}, neuron {window.filter}, input channel {window.channel}, "
                      f"output ({window.position[0]}, {window.position[1]})")

    def note(self) -> str:
        return ("Multiply each input value under the kernel by the kernel weight at the same place, then add the "
                "products: that is one cell of this channel's result." +
                (" Grey cells lie in the padding (zeros)." if self.data.padded.any() else ""))

    def body(self) -> str:
        w, n = self.data, self.neuron
        g = n.geometry
        in_cmap, (in_lo, in_hi) = input_colours(n)
        k_lo, k_hi = n.kernel_range
        p_lo, p_hi = w.product_range
        r_lo, r_hi = n.result_range
        cell = grid_cell(g.size)
        i, j = w.position
        return row(
            block(marked_heatmap(w.input, in_lo, in_hi, in_cmap, 120, (*w.origin, *g.size), "input channel"),
                  caption=f"{n.source} · channel {w.channel}"),
            block(number_grid(w.patch, in_lo, in_hi, in_cmap, 3, padded=w.padded, cell=cell, name="patch"),
                  caption=f"window at ({w.origin[0]}, {w.origin[1]})"),
            op("×"),
            block(number_grid(w.kernel, k_lo, k_hi, WEIGHT, 3, cell=cell, name="kernel"), caption="kernel"),
            op("="),
            block(number_grid(w.products, p_lo, p_hi, ACTIVATION, 3, cell=cell, name="products"), caption="products"),
            op("Σ ="),
            block(text(fmt(w.sum), 18, weight=600), caption="sum"),
            op("→"),
            block(marked_heatmap(w.result, r_lo, r_hi, ACTIVATION, 120, (i, j, 1, 1), "result"),
                  caption=f"result of channel {w.channel} at ({i}, {j})"),
        )


class ConvWholeView(View):
    """`conv_window(..., channel=None)`: every channel's window, Σ over channels, + bias, then the ReLU —
    equal to the neuron's value in the overview.

    Numbers: `.patches`, `.kernels`, `.products` (kh, kw, C), `.channel_sums`, `.bias`, `.total`, `.value`,
    `.trace_value` (the engine's float32 value).
    """

    def __init__(self, whole, neuron: ConvNeuron):
        super().__init__(whole)
        self.neuron = neuron
        self.title = f"{whole.layer}, neuron {whole.filter}, output ({whole.position[0]}, {whole.position[1]}): whole neuron"

    def note(self) -> str:
        return "Every input channel gives one sum of products; add them all and the bias" + \
            (", then apply the ReLU." if self.data.relu else ".")

    def body(self) -> str:
        w, n = self.data, self.neuron
        in_cmap, (in_lo, in_hi) = input_colours(n)
        k_lo, k_hi = n.kernel_range
        p_lo, p_hi = w.product_range
        cell = grid_cell(n.geometry.size)
        rows = []
        for c in range(w.patches.shape[2]):
            rows.append(row(
                block(number_grid(w.patches[:, :, c], in_lo, in_hi, in_cmap, 3, padded=w.padded, cell=cell,
                                  name=f"patch-{c}"), caption=f"{n.source} · channel {c}"),
                op("×"),
                block(number_grid(w.kernels[:, :, c], k_lo, k_hi, WEIGHT, 3, cell=cell, name=f"kernel-{c}"),
                      caption=f"kernel {c}"),
                op("="),
                block(number_grid(w.products[:, :, c], p_lo, p_hi, ACTIVATION, 3, cell=cell, name=f"products-{c}"),
                      caption="products"),
                op("Σ ="),
                f'<span class="channel-sum" data-channel="{c}" style="font:600 15px ui-monospace,monospace">'
                f"{esc(fmt(w.channel_sums[c]))}</span>",
            ))
        terms = " + ".join(fmt(s) for s in w.channel_sums)
        lines = [f"Σ channels + bias = {terms} + ({fmt(w.bias)}) = {fmt(w.total)}"]
        if w.relu:
            lines.append(f"{w.relu}: max(0, {fmt(w.total)}) = {fmt(w.value)}")
        lines.append(f"the engine's value: {fmt(w.trace_value)}")
        total = "<br />".join(esc(s) for s in lines)
        return "".join(rows) + f'<p class="sum" style="font:14px ui-monospace,Menlo,monospace;margin:8px 0">{total}</p>'
