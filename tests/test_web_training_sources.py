"""Classes take images from the webcam and from the drawing pad (issues 13 and 14), in headless Chromium with
its fake camera (the flags as in test_web_webcam.py; this module launches its own browser).

A captured webcam frame goes to class 1 with "Add the image on show", the same frame with a red brush stroke
drawn under "Change the image" goes to class 2; the images the worker trains on equal CPython's
`cnn101.load_image` of the frame's pixels and `perturb.apply` of the drawing's steps on it, and training runs.
"""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

import browser as _b
import cnn101
from cnn101 import perturb
from training_page import TRAIN, training
from web_page import READY, open_app, state

pytestmark = [pytest.mark.browser, pytest.mark.slow]
def test_a_webcam_frame_and_a_drawing_become_training_images(playwright_session, app_url, app_model):
    browser = _b.launch(playwright_session, args=["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
    ctx = _b.guarded_context(browser, lean=True)
    page = ctx.new_page()
    problems = _b.track_console(page)
    try:
        open_app(page, app_url)
        page.click("#webcam-start")
        page.wait_for_function("document.getElementById('webcam-video').videoWidth > 0", timeout=30_000)
        page.click("#webcam-capture")
        page.wait_for_function("JSON.parse(cnn101_webcam(false)).frames > 0", timeout=60_000)
        page.click("#webcam-stop")
        c = json.loads(page.evaluate("cnn101_webcam(true)"))
        rgba = np.frombuffer(base64.b64decode(c["rgba"]), np.uint8).reshape(c["shape"])
        frame = cnn101.load_image(rgba, app_model)  # CPython on the same pixels

        page.click("#training summary")
        page.click(".tr-class:nth-child(1) .tr-add-shown")
        page.wait_for_function("JSON.parse(cnn101_training()).counts[0] === 1", timeout=30_000)

        if page.is_hidden("#lab-body"):
            page.click("#lab-toggle")
        page.check('input[name="lab-tool"][value="brush"]')
        page.fill("#lab-colour", "#ff0000")
        box = page.locator("#lab-canvas").bounding_box()
        h, w = app_model.input_shape[:2]

        def at(r, col):
            return box["x"] + (col + 0.5) * box["width"] / w, box["y"] + (r + 0.5) * box["height"] / h

        n = state(page)["lab"]["changes"]
        page.mouse.move(*at(8, 8))
        page.mouse.down()
        page.mouse.move(*at(40, 50), steps=6)
        page.mouse.up()
        page.wait_for_function(f"(l => l.changes > {n} && l.traced === l.changes)(JSON.parse(cnn101_state()).lab)",
                               timeout=30_000)
        steps = state(page)["lab"]["steps"]
        assert [s["op"] for s in steps] == ["stroke"]
        drawn = perturb.apply(frame, steps)
        assert np.abs(drawn - frame).max() > 0.1  # the stroke changed the image
        page.click(".tr-class:nth-child(2) .tr-add-shown")
        page.wait_for_function("JSON.parse(cnn101_training()).counts[1] === 1", timeout=30_000)

        page.fill("#tr-batch", "2")
        page.fill("#tr-epochs", "1")
        page.click("#tr-start")
        page.wait_for_function("(t => t.runs > 0 && ['done', 'nan', 'failed'].includes(t.state))"
                               "(JSON.parse(cnn101_training()))", timeout=TRAIN)
        tr = training(page, weights=True)
        assert tr["state"] == "done", tr["message"]
        xs = np.frombuffer(base64.b64decode(tr["xs"]), "<f4").reshape(tr["xs_shape"])
        assert xs.shape == (2, *app_model.input_shape) and tr["ys"] == [0, 1]
        np.testing.assert_allclose(xs[0], frame, rtol=0, atol=1e-6)  # the webcam frame
        np.testing.assert_allclose(xs[1], drawn, rtol=0, atol=1e-6)  # the drawing on it
        assert not problems, problems
    finally:
        ctx.close()
        browser.close()
    _b.check_offline(ctx)
