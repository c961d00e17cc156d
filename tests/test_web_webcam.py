"""The webcam (web/app/webcam.py) in headless Chromium with its fake camera (--use-fake-device-for-media-stream,
and --use-fake-ui-for-media-stream to answer the permission prompt; only this module's browsers get them):
a captured frame is centre-cropped and resized by CPython `cnn101.load_image` on the same pixels, and the
page's numbers equal the CPython trace (≤ 1e-5); live mode traces frame after frame; a refused permission
gets a plain message and the page keeps working."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

import browser as _b
import cnn101
from web_page import OUTSIDE, assert_matches_engine, open_app, state

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FAKE_DEVICE = "--use-fake-device-for-media-stream"
FAKE_UI = "--use-fake-ui-for-media-stream"


def cam(page, pixels: bool = False) -> dict:
    return json.loads(page.evaluate(f"cnn101_webcam({'true' if pixels else 'false'})"))


@pytest.fixture(scope="module")
def playwright_cam(playwright_session):
    """The session's Playwright: this module launches its own Chromium with the fake-camera flags."""
    return playwright_session


def open_with(pw, url, args):
    browser = _b.launch(pw, args=args)
    ctx = _b.guarded_context(browser, lean=True)
    page = ctx.new_page()
    _b.track_console(page)
    open_app(page, url)
    return browser, ctx, page


def test_capture_and_live_with_the_fake_camera(playwright_cam, app_url, app_model):
    browser, ctx, page = open_with(playwright_cam, app_url, [FAKE_DEVICE, FAKE_UI])
    try:
        page.click("#webcam-start")
        page.wait_for_function("JSON.parse(cnn101_webcam(false)).streaming", timeout=30_000)
        page.wait_for_function("document.getElementById('webcam-video').videoWidth > 0", timeout=30_000)
        page.click("#webcam-capture")
        page.wait_for_function("JSON.parse(cnn101_webcam(false)).frames > 0", timeout=60_000)
        c = cam(page, True)
        rgba = np.frombuffer(base64.b64decode(c["rgba"]), np.uint8).reshape(c["shape"])
        assert rgba.shape[0] != rgba.shape[1]  # the fake camera's frame is not square: it was centre-cropped
        x = cnn101.load_image(rgba, app_model)
        st = state(page)
        assert st["label"] == "webcam frame"
        assert_matches_engine(st, app_model, x)
        _b.screenshot(page, "webcam-capture", full_page=False)

        n = cam(page)["frames"]
        page.check("#webcam-live")
        page.wait_for_function(f"JSON.parse(cnn101_webcam(false)).frames >= {n + 5}", timeout=60_000)
        page.uncheck("#webcam-live")
        page.click("#webcam-stop")
        c = cam(page, True)
        assert not c["streaming"] and not c["live"]
        rgba = np.frombuffer(base64.b64decode(c["rgba"]), np.uint8).reshape(c["shape"])
        assert_matches_engine(state(page), app_model, cnn101.load_image(rgba, app_model))  # the last live frame
        page.click("#webcam-start")
        page.wait_for_function("document.getElementById('webcam-video').videoWidth > 0", timeout=30_000)
        for w, h in ((390, 844), (768, 1024), (1440, 900)):  # the preview and its controls fit every screen
            page.set_viewport_size({"width": w, "height": h})
            _b.wait_settled(page)
            bad = page.evaluate(f"() => ({OUTSIDE})(document.getElementById('webcam'))")
            assert not bad, f"webcam at {w}x{h}: {bad}"
            page.locator("#webcam").scroll_into_view_if_needed()
            _b.screenshot(page, f"webcam-{w}x{h}", full_page=False)
        page.click("#webcam-stop")
        assert _b.console_problems(page) == []
    finally:
        ctx.close()
        browser.close()
    _b.check_offline(ctx)


def test_a_refused_camera_gets_a_plain_message(playwright_cam, app_url, app_model):
    browser, ctx, page = open_with(playwright_cam, app_url, [FAKE_DEVICE])  # no fake UI: the prompt is refused
    try:
        before = state(page)["probs"]
        page.click("#webcam-start")
        page.wait_for_function("document.getElementById('webcam-message').textContent.includes('not allowed')",
                               timeout=30_000)
        assert not cam(page)["streaming"] and page.is_visible("#webcam-start")
        assert state(page)["probs"] == before  # the page keeps its image and works
        assert _b.console_problems(page) == []
    finally:
        ctx.close()
        browser.close()
    _b.check_offline(ctx)
