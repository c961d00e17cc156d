"""The webcam as an image source (issue 13): a live preview, 'Capture' traces one frame, 'Live' traces frames
continuously (one at a time, as fast as the trace allows). A frame is centre-cropped and resized by the one
preprocessing function, `cnn101.load_image`, exactly as an upload; nothing leaves the page. A refused
permission, a missing camera or a camera in use get a plain message."""
from __future__ import annotations

import asyncio
import base64

import cnn101
import numpy as np
from pyscript import document, window

from . import decode, dom

MESSAGES = {
    "NotAllowedError": "The browser was not allowed to use the camera. Allow it in the site's settings (the camera "
                       "icon in the address bar), then press 'Use the webcam' again.",
    "SecurityError": "The browser does not allow the camera on this page (it needs https or localhost).",
    "NotFoundError": "No camera was found. Connect one, or upload an image instead.",
    "OverconstrainedError": "No camera was found. Connect one, or upload an image instead.",
    "NotReadableError": "The camera is in use by another program or tab, or it does not answer. Close the other "
                        "program and try again.",
    "AbortError": "The camera could not be started. Try again, or upload an image instead.",
}


def message_for(exc) -> str:
    text = str(exc)
    for name, message in MESSAGES.items():
        if name in text:
            return message
    return f"The camera could not be used ({text[:120]}). Upload an image instead."


class Webcam:
    def __init__(self, app):
        self.app = app
        self.stream = None
        self.live = False
        self.busy = False
        self.frames = 0  # frames traced
        self.last = None  # the last frame's RGBA pixels (for tests: the same pixels in CPython; alpha as read)
        self.grab = self.grab_ctx = None  # the canvas a camera picture is read through (kept between frames)
        self.fresh = False  # live mode: a camera picture not traced yet is on screen
        self.watching = False  # a requestVideoFrameCallback is waiting
        self.rvfc = False  # the browser says when a new picture is on screen (requestVideoFrameCallback)

    def mount(self, after) -> None:
        after.insertAdjacentHTML("afterend", """
<section id="webcam" class="webcam" aria-label="Webcam">
  <button type="button" id="webcam-start">Use the webcam…</button>
  <span id="webcam-controls" hidden>
    <button type="button" id="webcam-capture">Capture</button>
    <label><input type="checkbox" id="webcam-live"> live</label>
    <button type="button" id="webcam-stop">Stop the camera</button></span>
  <video id="webcam-video" class="webcam-video" muted playsinline hidden aria-label="Camera preview"></video>
  <span id="webcam-message" class="webcam-message" role="status" aria-live="polite"></span>
</section>""")
        dom.on(dom.el("webcam-start"), "click", lambda e: asyncio.ensure_future(self.start()))
        dom.on(dom.el("webcam-capture"), "click", lambda e: asyncio.ensure_future(self.capture()))
        dom.on(dom.el("webcam-stop"), "click", lambda e: self.stop())
        dom.on(dom.el("webcam-live"), "change", self._live)
        window.cnn101_webcam = dom.keep(self.snapshot)

    def say(self, text: str) -> None:
        dom.el("webcam-message").textContent = text

    async def start(self) -> None:
        media = window.navigator.mediaDevices
        if media is None or not hasattr(media, "getUserMedia"):
            self.say("This browser gives no access to a camera here. Upload an image instead.")
            return
        self.say("Asking for the camera…")
        try:
            self.stream = await media.getUserMedia(dom.js_object({"video": {"facingMode": "user"}, "audio": False}))
        except Exception as exc:  # a rejected promise: NotAllowedError, NotFoundError, NotReadableError, …
            self.say(message_for(exc))
            return
        video = dom.el("webcam-video")
        video.srcObject = self.stream
        dom.show(video, True)
        dom.show(dom.el("webcam-controls"), True)
        dom.show(dom.el("webcam-start"), False)
        try:
            await video.play()
        except Exception as exc:
            self.say(message_for(exc))
            return
        self.say("The preview stays in this page; 'Capture' gives the network one frame.")

    def stop(self) -> None:
        self.live = False
        self.watching = False  # a callback waiting on the stopped stream never comes
        dom.el("webcam-live").checked = False
        if self.stream is not None:
            for track in self.stream.getTracks():
                track.stop()
        self.stream = None
        video = dom.el("webcam-video")
        video.srcObject = None
        dom.show(video, False)
        dom.show(dom.el("webcam-controls"), False)
        dom.show(dom.el("webcam-start"), True)
        self.say("")

    def _frame(self) -> np.ndarray | None:
        video = dom.el("webcam-video")
        w, h = int(video.videoWidth), int(video.videoHeight)
        if w < 1 or h < 1:
            return None
        if self.grab is None or (int(self.grab.width), int(self.grab.height)) != (w, h):  # one canvas, reused
            canvas = document.createElement("canvas")
            canvas.width, canvas.height = w, h
            self.grab = canvas
            self.grab_ctx = canvas.getContext("2d", dom.js_object({"willReadFrequently": True}))
        ctx = self.grab_ctx
        ctx.drawImage(video, 0, 0, w, h)
        data = ctx.getImageData(0, 0, w, h).data
        return np.frombuffer(data.to_bytes(), np.uint8).reshape(h, w, 4)

    async def capture(self) -> bool:
        if self.busy:
            return False
        self.busy = True
        try:
            t0 = dom.now()
            rgba = self._frame()
            if rgba is None:
                self.say("The camera has not sent a picture yet; try again in a moment.")
                return False
            await decode.ensure_pillow()
            t1 = dom.now()
            # centre crop and resize, as for an upload (the opaque frame as RGB: the same pixels, no compositing)
            x = cnn101.load_image(np.ascontiguousarray(rgba[:, :, :3]), self.app.model)
            t2 = dom.now()
            self.last = rgba  # (read-only, as the canvas gave it; its alpha is set when a test asks for it)
            await self.app.set_image(x, "webcam frame", "", fade=not self.live)
            self.frames += 1
            d = dom.el("webcam").dataset  # for bench/bench_webcam.py: read without calling into Python
            d.grabMs, d.loadMs, d.showMs = f"{t1 - t0:.2f}", f"{t2 - t1:.2f}", f"{dom.now() - t2:.2f}"
            d.frames = str(self.frames)
            return True
        except cnn101.Cnn101Error as exc:
            self.say(str(exc))
            return False
        finally:
            self.busy = False

    # --- live mode: trace each new camera picture; one that comes while a trace runs waits for its end, and
    # the pictures in between are skipped (requestVideoFrameCallback says when a new one is on screen)
    def _live(self, event) -> None:
        self.live = bool(event.target.checked)
        if self.live:
            self.fresh = True
            video = dom.el("webcam-video")
            self.rvfc = hasattr(video, "requestVideoFrameCallback")
            if self.rvfc:
                self._watch()
            self._kick()

    def _watch(self) -> None:
        if self.live and self.stream is not None and not self.watching:  # one callback waiting at a time
            self.watching = True
            dom.el("webcam-video").requestVideoFrameCallback(dom.once(self._new_picture))

    def _new_picture(self, *_args) -> None:
        self.watching = False
        self.fresh = True
        self._watch()
        self._kick()

    def _kick(self, *_args) -> None:
        if self.live and self.stream is not None and not self.busy and self.fresh:
            self.fresh = not self.rvfc  # without the callback: every animation frame is taken as new
            asyncio.ensure_future(self._tick())

    async def _tick(self) -> None:
        await self.capture()
        if self.rvfc:
            window.setTimeout(dom.once(self._kick), 0)  # a picture that came meanwhile: at once
        else:
            window.requestAnimationFrame(dom.once(self._kick))

    def snapshot(self, with_pixels: bool = False) -> str:
        import json

        d = {"frames": self.frames, "streaming": self.stream is not None, "live": self.live, "busy": self.busy,
             "message": str(dom.el("webcam-message").textContent)}
        if with_pixels and self.last is not None:
            rgba = self.last.copy()
            rgba[:, :, 3] = 255  # a camera frame is opaque
            d["shape"] = list(rgba.shape)
            d["rgba"] = base64.b64encode(rgba.tobytes()).decode("ascii")
        return json.dumps(d)
