"""The convolution backward view, for filter f of a conv layer and one input channel c:
- the input channel's gradient (f's share of it) is the upstream gradient map of f convolved with the
  kernel — slide the kernel turned by 180° over the upstream gradient (with the stride's gaps and a border of
  zeros) and sum the products at each input cell; the channel's whole gradient adds every filter's share;
- the kernel's gradient dK[di, dj, c] is the input channel correlated with the upstream gradient: the sum,
  over every output position, of the input value that weight met times the gradient there;
- the bias's gradient is the sum of the upstream gradient over the positions.
Input cell by input cell (hover a kernel-gradient cell for its sum); numbers from explain.conv_backward
and explain.conv_input_gradient."""
from __future__ import annotations

from cnn101.explain import conv_backward, conv_input_gradient, symmetric
from cnn101.explain.backward import TUTORIALS
from cnn101.render.colormap import WEIGHT
from cnn101.render.detail import Matrix, cell, cells, figure, op, word
from cnn101.render.svg import fmt

from .back_common import BackView, gradients, open_panel
from .detail_panel import place


class ConvBackView(BackView):
    kind = "back-conv"
    title = "Convolution, backwards"
    tutorial = TUTORIALS["conv"]

    def __init__(self, trace, grads, layer: str, filter: int, channel: int = 0):
        self.trace, self.grads = trace, grads
        self.d = d = conv_backward(trace, grads, layer, filter)
        g = self.g = d.geometry
        self.kh, self.kw = (int(v) for v in d.kernel.shape[:2])
        self.channels = int(d.input.shape[2])
        self.grid = tuple(int(v) for v in g.input_hw)
        self.lo, self.hi = symmetric(d.upstream)
        self.kgrad = d.kernel_gradient
        self.klo, self.khi = symmetric(self.kgrad)
        self.wlo, self.whi = symmetric(d.kernel)
        self.mu = Matrix.of(d.dilated_upstream, self.lo, self.hi, "upstream",
                            pad=(self.kh - 1, self.kh - 1, self.kw - 1, self.kw - 1), box=200)
        self.set_channel(channel)
        (sh, sw) = g.strides
        self.subtitle = (f"{layer}, filter {d.filter}: {self.kh}×{self.kw} kernel, stride {sh}"
                         + (f"×{sw}" if sw != sh else "") + f"; gradients of {d.layer} → {d.source} "
                         f"({self.channels} channel{'s' if self.channels != 1 else ''})")
        self.description = ("Backwards, a convolution sends its gradient to its input through the same weights: "
                            "turn the kernel by 180°, slide it over the upstream gradient (zeros around it, and "
                            "gaps where the stride skipped cells) and sum the products — that is this filter's "
                            "share of the input channel's gradient. A kernel weight's gradient is the sum, over "
                            "all positions, of the input value it met times the gradient there; the bias's "
                            "gradient is the sum of the upstream gradient. Hover a cell or use the arrow keys.")

    def set_channel(self, c: int) -> None:
        d = self.d
        self.c = int(c)
        self.share = d.input_share(self.c)
        self.total = conv_input_gradient(self.trace, self.grads, d.layer, self.c).total
        self.slo, self.shi = symmetric(self.share, self.total)
        self.ms = Matrix.of(self.share, self.slo, self.shi, "share", pad=self.g.pad, box=200)
        self.kernel_at = (0, 0)

    def body_html(self) -> str:
        opts = "".join(f'<option value="{c}"{" selected" if c == self.c else ""}>{c}</option>'
                       for c in range(self.channels))
        return (f'<label class="bk-pick">input channel <select class="bk-channel">{opts}</select></label>'
                f'<div class="bk-ch dp-body">{self.channel_html()}</div>')

    def channel_html(self) -> str:
        d = self.d
        kcells = cells(self.kgrad[:, :, self.c], self.klo, self.khi, digits=4, name="kernel-gradient")
        return (figure(self.mu.svg(f"d loss / d {d.layer}, filter {d.filter}", windows=("win",)),
                       f"upstream gradient — {d.layer} filter {d.filter}")
                + op("→")
                + figure(self.ms.svg(f"filter {d.filter}'s share of d loss / d {d.source} channel {self.c}",
                                     windows=("win",)), f"share of the gradient — {d.source} ch {self.c}")
                + '<div class="dp-eq-wrap"><div class="dp-eq bk-input" aria-hidden="true"></div>'
                  '<div class="dp-eq-note"></div>'
                  f'<div class="dp-eq bk-kgrad">{word(f"kernel gradient dK[:, :, {self.c}] (hover a cell)")}'
                  f'{kcells}{word("bias gradient Σ gy =")}'
                  f'{cell(d.bias_gradient, self.lo, self.hi, digits=4, name="bias-gradient")}</div>'
                  '<div class="dp-eq bk-kernel"></div></div>')

    def bind(self, root) -> None:
        self.root = root
        self.ch_box = root.querySelector(".bk-ch")
        self._bind_channel()

    def _bind_channel(self) -> None:
        q = self.ch_box.querySelector
        self.win_u = q('svg[data-grid="upstream"] .dp-win')
        self.win_s = q('svg[data-grid="share"] .dp-win')
        self.eq = q(".bk-input")
        self.keq = q(".bk-kernel")
        self.note = q(".dp-eq-note")
        for k, el in enumerate(self.ch_box.querySelectorAll('.bk-kgrad .dp-cell[data-name="kernel-gradient"]')):
            el.dataset.kernel = str(k)
            el.setAttribute("tabindex", "0")
        self.show_kernel(*self.kernel_at)

    def wire(self, panel) -> None:
        def channel(event):
            self.set_channel(int(event.target.value))
            self.ch_box.innerHTML = self.channel_html()
            self._bind_channel()
            panel.go(panel.player.index)

        def kernel(event):
            el = event.target.closest("[data-kernel]") if hasattr(event.target, "closest") else None
            if el is not None:
                self.show_kernel(*divmod(int(el.dataset.kernel), self.kw))

        panel.owner.on(self.root.querySelector(".bk-channel"), "change", channel)
        for ev in ("pointerover", "focusin", "click"):
            panel.owner.on(self.ch_box, ev, kernel)

    def show_kernel(self, di: int, dj: int) -> None:
        self.kernel_at = (int(di), int(dj))
        met, up, total = self.d.kernel_window(di, dj, self.c)
        lo, hi = symmetric(met)
        mm = Matrix.of(met, lo, hi, "met", box=90, numbers=False)
        mg = Matrix.of(up, self.lo, self.hi, "met-gradient", box=90, numbers=False)
        self.keq.innerHTML = (word(f"dK[{di}, {dj}, {self.c}] = Σ")
                              + figure(mm.svg(f"the input values weight ({di}, {dj}) met"), "input it met")
                              + op("×") + figure(mg.svg("the upstream gradient"), "upstream gradient") + op("=")
                              + cell(total, self.klo, self.khi, digits=4, name="kernel-sum", extra="big"))
        self.keq.dataset.kernel = f"{di},{dj}"

    def show(self, k: int) -> None:
        r, c = divmod(int(k), int(self.grid[1]))
        pt, pl = self.g.pad[0], self.g.pad[2]
        place(self.win_u, self.mu.box(r + pt - (self.kh - 1), c + pl - (self.kw - 1), self.kh, self.kw))
        place(self.win_s, self.ms.box(r, c))
        for w in (self.win_u, self.win_s):
            w.setAttribute("visibility", "visible")
        win, flipped, total = self.d.input_window(self.c, r, c)
        self.eq.innerHTML = (word("Σ") + cells(win, self.lo, self.hi, digits=3, name="window") + op("×")
                             + cells(flipped, self.wlo, self.whi, WEIGHT, digits=3, name="flipped") + op("=")
                             + cell(total, self.slo, self.shi, digits=4, name="share", extra="big"))
        self.note.innerHTML = (f"input row {r}, column {c}: this filter's share; with all "
                               f"{self.total_filters()} filters' shares the channel's gradient is "
                               + cell(float(self.total[r, c]), self.slo, self.shi, digits=4, name="channel-gradient"))

    def total_filters(self) -> int:
        return int(self.trace.model.layer(self.d.layer).filters)

    def step_at(self, grid: str, row: int, col: int) -> int | None:
        if grid == "share":
            return int(row) * int(self.grid[1]) + int(col)
        return None

    def say(self, k: int) -> str:
        r, c = divmod(int(k), int(self.grid[1]))
        return (f"Input row {r}, column {c}, channel {self.c}: filter {self.d.filter}'s share "
                f"{fmt(float(self.share[r, c]))}; the channel's gradient {fmt(float(self.total[r, c]))}")

    def data(self) -> dict:
        return {"layer": self.d.layer, "filter": self.d.filter, "channel": self.c, "grid": list(self.grid),
                "kernel_at": list(self.kernel_at)}


def open(app, column, neuron: int) -> None:  # noqa: A001  (the registry's name for a view's opener)
    trace, grads = gradients(app)
    open_panel(app, ConvBackView(trace, grads, column.name, neuron))
