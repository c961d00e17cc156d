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
    window.dispatchEvent(window.Event.new("cnn101:ready"))
    asyncio.ensure_future(after_ready(app))


async def after_ready(app):
    """Background work once the Overview is live: decode every example, then load Pillow, so that a click
    on an example or a first upload does not wait for either."""
    await app.inputs.prepare_examples()
    try:
        await decode.ensure_pillow()
    except Exception:
        pass  # an upload will try again and say what went wrong


await main()  # noqa: F704 (PyScript runs this script with top-level await)
