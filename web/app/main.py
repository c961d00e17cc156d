"""Entry point of the page (run by PyScript): load the model and examples, then start the app."""
import time

_t0 = time.perf_counter()

from pyscript import document, window  # noqa: E402
from pyscript.ffi import create_proxy  # noqa: E402

status = document.getElementById("status")
status.textContent = "Python is up; loading the engine…"

import cnn101  # noqa: E402

from app import inputs, model_source  # noqa: E402
from app.app import App  # noqa: E402


async def main():
    examples, classes = await inputs.load_examples()
    try:
        model = await model_source.load_model(classes or None)
    except cnn101.ModelError as exc:
        status.textContent = str(exc)
        status.classList.add("error")
        document.documentElement.dataset.ready = "error"
        return
    app = App(model, examples)
    window.cnn101_state = create_proxy(app.snapshot)
    window.cnn101_app_ready = True
    await app.start()
    ms = (time.perf_counter() - _t0) * 1000
    status.textContent = (f"Ready: {model.name}, {len(model.layers)} layers, {model.param_count:,} parameters "
                          f"— computed by NumPy in your browser (engine up in {ms:.0f} ms).")
    status.classList.add("ready")
    document.documentElement.dataset.ready = "1"


await main()  # noqa: F704 (PyScript runs this script with top-level await)
