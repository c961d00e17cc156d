"""Entry point of the page (run by PyScript): load the model and examples, then start the app.

Phases are marked with performance.mark('cnn101:…') so benchmarks can see where start-up time goes.
"""
import asyncio
import sys

from pyscript import document, window
from pyscript.ffi import create_proxy


def mark(name: str) -> None:
    window.performance.mark("cnn101:" + name)


mark("python")
status = document.getElementById("status")
status.textContent = "Python is up; loading the engine…"

import cnn101  # noqa: E402

from app import decode, inputs, model_source  # noqa: E402
from app.app import App  # noqa: E402
from app.model_panel import ready_text  # noqa: E402

mark("imports")


async def main():
    examples, classes = await inputs.load_examples()
    try:
        model = await model_source.load_model(classes or None)
    except cnn101.ModelError as exc:
        status.textContent = str(exc)
        status.classList.add("error")
        document.documentElement.dataset.ready = "error"
        return
    mark("model")
    app = App(model, examples)
    window.cnn101_state = create_proxy(app.snapshot)
    window.cnn101_url_limit = create_proxy(app.set_url_limit)  # tests: reach a state too big for a link
    await app.start()
    mark("ready")
    status.textContent = ready_text(app.model) + app.models.note  # a model kept before a reload may be on show
    status.classList.add("ready")
    root = document.documentElement
    root.dataset.readyMs = f"{float(window.performance.now()):.1f}"  # since navigation start (benchmarks)
    root.dataset.ready = "1"
    root.dataset.pillowAtReady = "yes" if "PIL" in sys.modules else "no"  # started without it (tests)
    at_ready = sorted(sys.modules)
    window.cnn101_startup = create_proxy(lambda: startup_report(at_ready))  # tests: what the start imported
    window.dispatchEvent(window.Event.new("cnn101:ready"))
    asyncio.ensure_future(after_ready(app))


def startup_report(at_ready) -> str:
    """JSON for tests: the modules imported when the page became ready, and which of our, NumPy's and
    web/app's modules ran from the build's precompiled bytecode (a checked-hash .pyc, PEP 552) rather
    than from bytecode compiled in the page (a timestamp .pyc, or none)."""
    import json

    precompiled, compiled_here = [], []
    for name in at_ready:
        mod = sys.modules.get(name)
        cached = getattr(mod, "__cached__", None)
        if name.split(".")[0] not in ("app", "cnn101", "numpy") or not cached or not str(getattr(mod, "__file__", "")).endswith(".py"):
            continue
        try:
            with open(cached, "rb") as f:
                flags = int.from_bytes(f.read(8)[4:8], "little")
        except OSError:
            flags = 0
        (precompiled if flags == 0b11 else compiled_here).append(name)
    return json.dumps({"modules": at_ready, "precompiled": precompiled, "compiled_here": compiled_here})


async def after_ready(app):
    """Background work once the Overview is live: decode every example, load Pillow, import the view
    modules, so that a click on an example, a first upload or a first neuron does not wait for them."""
    await app.inputs.prepare_examples()
    try:
        await decode.ensure_pillow()
    except Exception:
        pass  # an upload will try again and say what went wrong
    from app import views

    for module in [*views.REGISTRY.values(), *views.BACKWARD.values()]:  # imported on a first click otherwise
        await asyncio.sleep(0)  # a click or a hover meanwhile goes first
        try:
            views.load(module)
        except Exception:
            pass  # the click will import it again and show what went wrong


await main()  # noqa: F704 (PyScript runs this script with top-level await)
