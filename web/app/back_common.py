"""What every backward view shares: the image's trace and its gradients (those the 'why' Overview shows),
the panel that lets a backward view open a level-3 part, and the words of its equations.

The numbers come from `cnn101.explain.backward_view` and friends; nothing here computes one.
"""
from __future__ import annotations

from cnn101.explain.backward import TUTORIAL

from . import views
from .detail_panel import DetailPanel, DetailView

__all__ = ["TUTORIAL", "BackView", "BackPanel", "gradients", "open_panel"]


def gradients(app):
    """(trace, grads) of the image on show, for the class why mode explains."""
    return app.ov.trace, app.why.gov.grads


class BackView(DetailView):
    """A DetailView of the backward pass: links to the backpropagation tutorial; may open a level-3 part."""

    tutorial = TUTORIAL

    def open_part(self, panel, part: str) -> None:
        """Open level-3 view `part` above `panel` (most backward views have none)."""

    def shown(self, root) -> dict:
        """{name: [data-value of every .dp-cell of that name]} in the panel: what the tests compare."""
        out = {}
        for el in root.querySelectorAll(".dp-cell[data-name]"):
            out.setdefault(str(el.dataset.name), []).append(float(el.dataset.value))
        return out


class BackPanel(DetailPanel):
    """A DetailPanel whose view may open a level-3 part (state.part) and hears when it closes."""

    def open_part(self, part: str) -> None:
        if not self.closed and views.top() is self:
            self.view.open_part(self, part)

    def child_closed(self, child) -> None:
        if not self.closed and self.root is not None:
            self.root.classList.remove("expanded")

    def state(self) -> dict:
        out = super().state()
        out["backward"] = True
        out["shown"] = self.view.shown(self.root)
        return out


def open_panel(app, view: BackView, start: int = 0) -> None:
    views.push(BackPanel(app, view, start=start))
