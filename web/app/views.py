"""Which view a clicked neuron opens, and the stack of open views.

REGISTRY maps the view that `cnn101.explain.routing.route(model, layer).view` names to the web/app module
that shows it; `register_all()` (app.py calls it) fills OPENERS with an `open(app, column, neuron)` per view
that imports the module on the first click (so the page's start imports none of them). A new view is one module (a `view.View`, see view.py for what it must
implement) and one line here; the build lists every web/app module in pyscript.json by itself.

In why mode a click opens the backward view of the layer kind instead (BACKWARD, BACK_OPENERS).

Open views form a stack (STACK, innermost last): an opener pushes its view, a level-2 view pushes the
level-3 view it opens, `close_view` (Esc, empty click) closes the innermost one. `restore(state)` opens
the level-3 part and moves the window, as the URL says.
"""
from __future__ import annotations

import importlib

from cnn101.explain.routing import route

REGISTRY = {  # route(model, layer).view → module in web/app
    "input": "input_view",
    "conv": "conv_view",
    "relu": "relu_detail",
    "pool": "pool_detail",
    "flatten": "flatten_view",
    "dense": "dense_detail",
}
BACKWARD = {  # the same, in why mode: the backward view of that layer kind
    "conv": "back_conv",
    "relu": "back_relu",
    "pool": "back_pool",
    "flatten": "back_flatten",
    "dense": "back_dense",
    "softmax": "back_softmax",
}
OPENERS = {}  # view name → open(app, column, neuron), filled by register_all()
BACK_OPENERS = {}  # the same for BACKWARD
STACK = []  # the open views, innermost last


def register_all() -> None:
    """Fill OPENERS and BACK_OPENERS with an `open` per registered view that imports its module on the first
    click (the page's start imports none of them: notes/startup.md), then calls the module's `open`."""
    for registry, openers in ((REGISTRY, OPENERS), (BACKWARD, BACK_OPENERS)):
        for view, module in registry.items():
            if view not in openers:
                openers[view] = _opener(module)


def _opener(module: str):
    def open_(app, column, neuron):
        return load(module).open(app, column, neuron)
    open_.module = module
    return open_


def load(module: str):
    """The web/app view module `module`, imported now if it was not yet."""
    return importlib.import_module(f"{__package__}.{module}")


def view_of(model, column) -> str | None:
    """The view a click on a neuron of `column` opens (the output column: its logits layer's view)."""
    return route(model, column.name).view


def push(view) -> None:
    """A view has opened: it goes on the stack and gets its Save PNG / Save SVG buttons (export.py)."""
    from . import export  # the page only (pyscript); CPython tests import this module too

    STACK.append(view)
    export.attach(view)


def top():
    return STACK[-1] if STACK else None


def opener_of(app, column):
    """The opener of the view a click on `column` opens: in why mode (its gradients on show) the backward
    view of the layer's kind where there is one (the input has none: its view is the forward one)."""
    name = view_of(app.model, column)
    if app.state.why and app.why.gov is not None and name in BACK_OPENERS:
        return BACK_OPENERS[name]
    return OPENERS.get(name)


def open_view(app, column, neuron: int) -> bool:
    """Close every open view, then open the one route() names for `column`; False if it has none."""
    close_all()
    opener = opener_of(app, column)
    if opener is None:
        return False
    opener(app, column, neuron)
    return True


def close_view() -> None:
    """One level up: close the innermost open view."""
    if STACK:
        STACK.pop().close()


def close_all() -> None:
    while STACK:
        STACK.pop().close()


def restore(want) -> None:
    """After the level-2 view of `want` opened: open its level-3 part and move the window, as `want` says."""
    view = top()
    if want.level == 3 and want.part and view is not None:
        view.open_part(want.part)
        view = top()
    if want.at and view is not None:
        view.go_to(tuple(want.at))
