"""web/app/views.py on CPython: every view a click can open is registered, once, by one module with an
`open(app, column, neuron)`; which view opens is explain.routing's answer (no second decision in the page).
The browser tests of each view (tests/test_web_*_view.py) drive the real page."""
import ast
import sys
from pathlib import Path

import numpy as np
import pytest

from cnn101.engine import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Softmax
from cnn101.explain.overview import layout
from cnn101.explain.routing import route
from models import synthetic_model

APP = Path(__file__).resolve().parent.parent / "web" / "app"
sys.path.insert(0, str(APP.parent))
from app.views import BACKWARD, REGISTRY, view_of  # noqa: E402


def mlp_head() -> Sequential:
    rng = np.random.default_rng(0)
    return Sequential([Conv2D("c", rng.normal(size=(3, 3, 1, 2)).astype("f4"), np.zeros(2, "f4")), ReLU("r"),
                       MaxPool2D("p", 2, 2, "valid"), Flatten("f"),
                       Dense("hidden", rng.normal(size=(8, 5)).astype("f4"), np.zeros(5, "f4")), ReLU("hr"),
                       Dense("out", rng.normal(size=(5, 3)).astype("f4"), np.zeros(3, "f4")), Softmax("s")],
                      (6, 6, 1), ["a", "b", "c"])


def tiny_vgg():
    import cnn101

    return cnn101.load_model()


@pytest.mark.parametrize("make", [synthetic_model, mlp_head, tiny_vgg])
def test_every_column_opens_a_registered_view(make):
    model = make()
    for col in layout(model).columns:
        view = view_of(model, col)
        assert view == route(model, col.name).view and view in REGISTRY, (col.name, view)
    assert view_of(model, layout(model).columns[0]) == "input"


@pytest.mark.parametrize("make", [synthetic_model, mlp_head, tiny_vgg])
def test_every_layer_but_the_input_has_a_backward_view(make):
    """In why mode a click opens BACKWARD[view]: every column but the input's has one (as has the softmax,
    the output view's level 3), and backward_view gives its data."""
    from cnn101.explain import backward_view

    model = make()
    trace = model.trace(np.zeros(model.input_shape, "f4"))
    grads = model.backward(trace, 0)
    for col in layout(model).columns[1:]:
        assert view_of(model, col) in BACKWARD, col.name
        assert backward_view(trace, grads, col.name, 0) is not None
    assert "input" not in BACKWARD and "softmax" in BACKWARD


def test_a_backward_view_is_one_module_with_open():
    assert len(set(BACKWARD.values())) == len(BACKWARD) and not set(BACKWARD.values()) & set(REGISTRY.values())
    for module in BACKWARD.values():
        tree = ast.parse((APP / f"{module}.py").read_text())
        opens = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "open"]
        assert len(opens) == 1 and [a.arg for a in opens[0].args.args] == ["app", "column", "neuron"], module


def test_a_view_is_one_module_with_open():
    assert len(set(REGISTRY.values())) == len(REGISTRY)
    for view, module in REGISTRY.items():
        tree = ast.parse((APP / f"{module}.py").read_text())
        opens = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "open"]
        assert len(opens) == 1 and [a.arg for a in opens[0].args.args] == ["app", "column", "neuron"], module
    text = (APP / "app.py").read_text()
    assert "register_all()" in text
    assert not any(f"import {m}" in text or f", {m}" in text for m in REGISTRY.values())  # no side-effect imports


def test_no_placeholder_and_no_private_explain_in_the_page():
    for path in APP.glob("*.py"):
        text = path.read_text()
        assert "coming next" not in text and "explain._" not in text and "_symmetric" not in text, path.name
