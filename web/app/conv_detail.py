"""The convolution detail view (level 3), on the shared detail panel, opened from the intermediate view.

One channel: the input channel (with its padding) and the kernel's window on it, the window's values ×
the kernel's weights = each product, their sum, and the channel's result matrix. Whole neuron: every
channel's window × kernel = its sum, then Σ over channels + bias (then ReLU) = the neuron's value, which
equals the activation the Overview shows. Numbers from `ConvNeuron.window(i, j, c)` / `.whole(i, j)`.
"""
from __future__ import annotations

from cnn101.render import ACTIVATION, WEIGHT
from cnn101.render import conv_view as R
from cnn101.render.detail import Matrix, cell, cells, figure, op, word
from cnn101.render.svg import esc, fmt

from .detail_panel import DetailPanel, DetailView, place


class ConvDetail(DetailView):
    """`channel` None = the whole-neuron mode."""

    kind = "conv"
    tutorial = "tutorial-convolution"

    def __init__(self, neuron, channel: int | None, captions, in_colours):
        n = self.n = neuron
        self.channel = channel
        self.captions = tuple(captions)
        geo = n.geometry
        self.rg = R.geometry(n.channels, geo.input_hw, geo.size, geo.strides, geo.pad, geo.output_hw)
        self.grid = tuple(geo.output_hw)
        self.in_cmap, (self.in_lo, self.in_hi) = in_colours
        self.k_lo, self.k_hi = n.kernel_range
        self.r_lo, self.r_hi = n.result_range
        self.v_lo, self.v_hi = n.value_range
        (kh, kw), (sh, sw), (oh, ow) = geo.size, geo.strides, geo.output_hw
        where = f"{n.layer}, neuron {n.filter}"
        if channel is None:
            self.title = "Convolution: the whole neuron"
            self.subtitle = (f"{where}: all {n.channels} channels of {n.source}, {kh}×{kw} kernels, stride {sh}×{sw}, "
                             f"{geo.padding} padding → {oh}×{ow}")
            self.description = ("For each input channel, multiply the values under the kernel by its weights and add "
                                "them up; then add the sums of all channels and the bias" +
                                (f", and apply {n.relu} (negative → 0)" if n.relu else "") +
                                ". The result is this neuron's value at the highlighted position, the number the "
                                "Overview shows. Hover the output or use the arrow keys to move the window.")
            self.out = Matrix.of(n.output, self.v_lo, self.v_hi, "output", box=260)
            self.act = (Matrix.of(n.activated, self.v_lo, self.v_hi, "activated", box=260)
                        if n.activated is not None else None)
        else:
            c = int(channel)
            self.title = "Convolution"
            self.subtitle = (f"{where}, input channel {self.captions[c]} of {n.source}: {kh}×{kw} kernel, "
                             f"stride {sh}×{sw}, {geo.padding} padding → {oh}×{ow}")
            self.description = ("The kernel's window slides over the input channel. At each position, every value "
                                "under the window is multiplied by the kernel weight at the same place; the sum of the "
                                "products is one cell of this channel's result." +
                                (" Grey cells lie in the padding and count as 0." if any(geo.pad) else "") +
                                " Hover a cell or use the arrow keys to move the window.")
            self.inp = Matrix.of(n.inputs[:, :, c], self.in_lo, self.in_hi, "input", pad=geo.pad, box=290,
                                 cmap=self.in_cmap)
            self.res = Matrix.of(n.results[:, :, c], self.r_lo, self.r_hi, "result", box=290)

    # --- markup ------------------------------------------------------------------------------------------
    def _modes(self) -> str:
        """A selector between the channels and the whole neuron (wire() reports a choice to the parent view)."""
        here = "whole" if self.channel is None else str(self.channel)
        options = [("whole", "the whole neuron (all channels + bias)")]
        options += [(str(c), f"input {name}" if name.startswith("channel") else f"input channel {name}")
                    for c, name in enumerate(self.captions)]
        opts = "".join(f'<option value="{v}"{" selected" if v == here else ""}>{esc(t)}</option>' for v, t in options)
        return f'<label class="cvd-mode-label">show <select class="cvd-mode">{opts}</select></label>'

    def body_html(self) -> str:
        n = self.n
        eq = ('<div class="dp-eq-wrap cvd-eq-wrap"><div class="dp-eq cvd-eq" aria-hidden="true"></div>'
              '<div class="dp-eq-note"></div></div>')
        if self.channel is None:
            figs = figure(self.out.svg(f"{n.layer}, neuron {n.filter}", windows=("out",)),
                          f"{n.layer} · neuron {n.filter} (before ReLU)" if n.relu else f"{n.layer} · neuron {n.filter}")
            if self.act is not None:
                figs += op("→") + figure(self.act.svg(f"{n.relu}, neuron {n.filter}", windows=("out",)),
                                         f"{n.relu} · neuron {n.filter}")
            rows = '<div class="cvd-rows" tabindex="0" aria-label="every channel at the window"></div>'
            return self._modes() + figs + eq.replace('<div class="dp-eq-wrap cvd-eq-wrap">',
                                     '<div class="dp-eq-wrap cvd-eq-wrap">' + rows, 1)
        c = int(self.channel)
        from_image = getattr(self, "from_image", False)  # the network's input: 'input · red', said once
        return (self._modes() + figure(self.inp.svg(f"{n.source}, channel {self.captions[c]}"),
                       f"{n.source} · {self.captions[c]}" if from_image else f"input — {n.source} · {self.captions[c]}")
                + op("⋆") + figure(self._kernel_svg(), "kernel")
                + op("=")
                + figure(self.res.svg(f"result of channel {self.captions[c]}", windows=("out",)),
                         f"result of {self.captions[c]}")
                + eq)

    def _kernel_svg(self) -> str:
        c = int(self.channel)
        kh, kw = self.n.geometry.size
        m = Matrix.of(self.n.kernels[:, :, c], self.k_lo, self.k_hi, "kernel", box=min(260, 48 * max(kh, kw)),
                      largest=48, cmap=WEIGHT, digits=2)
        return m.svg("kernel weights", windows=())

    def wire(self, panel) -> None:
        """The mode selector asks the view that opened this panel (the ConvView) to open another part."""
        select = self.root.querySelector(".cvd-mode")
        if select is not None and panel.parent is not None:
            panel.owner.on(select, "change", lambda e: panel.parent.open_part(str(e.target.value)))

    def bind(self, root) -> None:
        self.root = root
        root.classList.add("cvd")
        self.eq = root.querySelector(".cvd-eq")
        self.note = root.querySelector(".dp-eq-note")
        if self.channel is None:
            self.win_out = root.querySelector('svg[data-grid="output"] .dp-out')
            self.win_act = root.querySelector('svg[data-grid="activated"] .dp-out')
            self.rows = root.querySelector(".cvd-rows")
        else:
            self.win_in = root.querySelector('svg[data-grid="input"] .dp-win')
            self.win_out = root.querySelector('svg[data-grid="result"] .dp-out')

    # --- one step ------------------------------------------------------------------------------------------
    def show(self, k: int) -> None:
        i, j = divmod(int(k), int(self.grid[1]))
        if self.channel is None:
            self._show_whole(i, j)
        else:
            self._show_channel(i, j)

    def _show_channel(self, i: int, j: int) -> None:
        w = self.n.window(i, j, int(self.channel))
        kh, kw = self.n.geometry.size
        place(self.win_in, self.inp.box(w.origin[0], w.origin[1], kh, kw))
        place(self.win_out, self.res.box(i, j))
        self.last = w
        self.eq.innerHTML = (
            '<span class="cvd-term">' + cells(w.patch, self.in_lo, self.in_hi, self.in_cmap, 3, "patch", w.padded)
            + '<span class="cvd-lab">window</span></span>' + op("×")
            + '<span class="cvd-term">' + cells(w.kernel, self.k_lo, self.k_hi, WEIGHT, 3, "kernel")
            + '<span class="cvd-lab">kernel</span></span>' + op("=")
            + '<span class="cvd-term">' + cells(w.products, *w.product_range, ACTIVATION, 3, "product")
            + '<span class="cvd-lab">products</span></span>' + op("→") + word("Σ") + op("=")
            + cell(w.sum, self.r_lo, self.r_hi, digits=3, name="sum", extra="big"))
        pad = int(w.padded.sum())
        self.note.textContent = (f"output ({i}, {j}): window at row {w.origin[0]}, column {w.origin[1]} of the input"
                                 + (f" — {pad} cell{'s' * (pad != 1)} in the padding" if pad else ""))

    def _show_whole(self, i: int, j: int) -> None:
        w = self.n.whole(i, j)
        self.last = w
        place(self.win_out, self.out.box(i, j))
        if self.win_act is not None:
            place(self.win_act, self.act.box(i, j))
        rows = []
        for c in range(self.n.channels):
            rows.append(
                f'<div class="cvd-row" data-channel="{c}"><span class="cvd-ch">{esc(self.captions[c])}</span>'
                + cells(w.patches[:, :, c], self.in_lo, self.in_hi, self.in_cmap, 2, f"patch-{c}", w.padded)
                + op("×") + cells(w.kernels[:, :, c], self.k_lo, self.k_hi, WEIGHT, 2, f"kernel-{c}")
                + op("→") + word("Σ") + op("=")
                + cell(w.channel_sums[c], self.r_lo, self.r_hi, digits=3, name="channel-sum") + "</div>")
        self.rows.innerHTML = "".join(rows)
        terms = "".join((op("+") if c else "") + cell(s, self.r_lo, self.r_hi, digits=3, name="term")
                        for c, s in enumerate(w.channel_sums))
        eq = (word("Σ") + op("(") + terms + op(")") + op("+")
              + cell(w.bias, self.v_lo, self.v_hi, digits=3, name="bias") + op("=")
              + cell(w.total, self.v_lo, self.v_hi, digits=3, name="total", extra="big"))
        if w.relu:
            eq += (op("→") + word("max(0,") + cell(w.total, self.v_lo, self.v_hi, digits=3, name="relu-in")
                   + word(")") + op("=") + cell(w.value, self.v_lo, self.v_hi, digits=3, name="value", extra="big"))
        self.eq.innerHTML = eq
        self.note.innerHTML = (f"output ({i}, {j}): the engine's value of {esc(w.relu or w.layer)} here is "
                               f'<b class="cvd-engine" data-value="{w.trace_value!r}">{esc(fmt(w.trace_value))}</b> '
                               "— the Overview shows this number")

    # --- hover, words, state --------------------------------------------------------------------------------
    def step_at(self, grid: str, row: int, col: int) -> int | None:
        if grid == "input":
            i, j = R.output_for_input(self.rg, row, col)
        elif grid in ("result", "output", "activated"):
            i, j = row, col
        else:
            return None
        return int(i) * int(self.grid[1]) + int(j)

    def say(self, k: int) -> str:
        i, j = divmod(int(k), int(self.grid[1]))
        if self.channel is None:
            w = self.n.whole(i, j)
            s = f"Row {i}, column {j}: sum of {self.n.channels} channels plus bias = {fmt(w.total)}"
            return s + (f", after ReLU {fmt(w.value)}" if w.relu else "")
        w = self.n.window(i, j, int(self.channel))
        return f"Row {i}, column {j}: sum of {w.products.size} products = {fmt(w.sum)}"

    def data(self) -> dict:
        return {"layer": self.n.layer, "filter": self.n.filter,
                "channel": None if self.channel is None else int(self.channel),
                "mode": "whole" if self.channel is None else "channel", "grid": list(self.grid)}


def open_detail(conv_view, part: str, start, autoplay: bool = True) -> DetailPanel:
    """The level-3 panel for `part` ('whole' or a channel index) of an open ConvView, at output `start`
    (paused there unless `autoplay`)."""
    channel = None if part == "whole" else int(part)
    view = ConvDetail(conv_view.n, channel, conv_view.captions, conv_view._input_colours())
    view.autoplay = bool(autoplay)
    view.from_image = conv_view.n.source == conv_view.app.layout.columns[0].name
    i, j = start
    return DetailPanel(conv_view.app, view, parent=conv_view, start=int(i) * int(view.grid[1]) + int(j))
