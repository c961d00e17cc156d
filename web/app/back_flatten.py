"""The flatten backward view (a dense layer that reads a Flatten, e.g. the output): the dense step backwards
(back_dense: each flatten element's gradient, each weight's), then the gradient vector folds back into the
H×W×C maps the Flatten read, by the same index rule as forwards. Numbers from explain.backward_view
(FlattenDense: dense_backward + flatten_backward)."""
from __future__ import annotations

from cnn101.explain import backward_view
from cnn101.explain.backward import TUTORIALS
from cnn101.render.detail import Matrix, figure

from .back_common import gradients, open_panel
from .back_dense import DenseBackView
from .detail_panel import place


class FlattenBackView(DenseBackView):
    kind = "back-flatten"
    title = "Flatten + dense, backwards"
    tutorial = TUTORIALS["flatten"]

    def __init__(self, trace, grads, layer: str, unit: int):
        both = backward_view(trace, grads, layer, unit)
        self.fold = both.flatten
        super().__init__(trace, grads, layer, unit, both.dense)
        self.maps = self.fold.maps
        self.flo, self.fhi = self.fold.range
        h, w, c = self.fold.mapping.shape
        self.mf = [Matrix.of(self.maps[:, :, ch], self.flo, self.fhi, f"fold-{ch}", box=72, numbers=False)
                   for ch in range(c)]
        self.subtitle += f"; the flatten gradient folds back into {h}×{w}×{c} maps of {self.fold.mapping.source}"

    def extra_html(self) -> str:
        src = self.fold.mapping.source
        figs = "".join(figure(m.svg(f"d loss / d {src}, channel {ch}"), f"ch {ch}")
                       for ch, m in enumerate(self.mf))
        return f'<div class="bk-fold" role="group" aria-label="The gradient folded back into {src}">{figs}</div>'

    def bind(self, root) -> None:
        super().bind(root)
        self.fwins = [root.querySelector(f'svg[data-grid="fold-{ch}"] .dp-win') for ch in range(len(self.mf))]
        self.shown_ch = None

    def show(self, k: int) -> None:
        super().show(k)
        r, c, ch = self.fold.mapping.position(max(0, min(int(k), self.n - 1)))
        if self.shown_ch is not None and self.shown_ch != ch:
            self.fwins[self.shown_ch].setAttribute("visibility", "hidden")
        place(self.fwins[ch], self.mf[ch].box(r, c))
        self.fwins[ch].setAttribute("visibility", "visible")
        self.shown_ch = ch

    def where(self, i: int) -> str:
        r, c, ch = self.fold.mapping.position(i)
        return (f"flatten element {i} of {self.n} = {self.fold.mapping.source} channel {ch}, row {r}, column {c}; "
                f"its gradient goes back there")

    def step_at(self, grid: str, row: int, col: int) -> int | None:
        if grid.startswith("fold-"):
            return self.fold.mapping.index(row, col, int(grid[5:]))
        return super().step_at(grid, row, col)

    def data(self) -> dict:
        return {**super().data(), "fold": list(self.fold.mapping.shape)}


def open(app, column, neuron: int) -> None:  # noqa: A001  (the registry's name for a view's opener)
    trace, grads = gradients(app)
    open_panel(app, FlattenBackView(trace, grads, column.name, neuron))
