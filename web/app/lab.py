"""'Change the image' (issue 13): channel buttons, brightness and contrast, a grey patch dragged over an
enlarged input (or moved with the arrow keys), blur, seeded noise, rotate, flip, shift.

Every control is a step of `cnn101.perturb.apply` (plain JSON, kept in the URL as `state.steps`); the image
the network sees is always `perturb.apply(the chosen image, steps)`, computed by cnn101 and traced at once.
Single-valued controls (a slider, the patch, 'Only red') keep one step each, changed in place (their
identity value removes it); zero / invert / swap / flip add a step per click. A change is traced at once, in
the event that made it, unless a trace already ran in this animation frame: then once in the next frame,
however many changes came in meanwhile (a slider, the patch or a brush stroke moving). The steps are applied
by a `cnn101.replay.Replay`, so a growing stroke paints only its new segments.
"""
from __future__ import annotations

import html
import json

import cnn101
from cnn101 import perturb
from cnn101.replay import Replay
from pyscript import document, window

from . import dom, draw_pad
from .compare import Compare
from .webcam import Webcam
from .playground_panel import PlaygroundPanel
from .draw_pad import DrawPad
from .state import steps_json

#: Ops with one step each, changed in place: the settings that name 'the same control' (channel ops by op).
SINGLE = ("keep_channel", "brightness", "contrast", "occlude", "blur", "noise", "rotate", "shift")
#: A control's value that changes nothing: its step is removed.
IDENTITY = {"brightness": ("amount", 0.0), "contrast": ("factor", 1.0), "noise": ("amount", 0.0),
            "rotate": ("degrees", 0.0), "blur": ("size", 1)}
COLOURS = ("red", "green", "blue")
PATCH_SIZES = (4, 8, 12, 16)


def describe(step: dict) -> str:
    """A step in words, for the list under the controls."""
    op = step.get("op", "")
    s = {k: v for k, v in step.items() if k != "op"}
    words = {"keep_channel": lambda: f"only {s.get('channel')}",
             "zero_channel": lambda: f"{s.get('channel')} = 0",
             "invert": lambda: f"invert {s.get('channel') or 'all'}",
             "swap_channels": lambda: f"swap {s.get('a')} ⇄ {s.get('b')}",
             "brightness": lambda: f"brightness {s.get('amount', 0):+g}",
             "contrast": lambda: f"contrast ×{s.get('factor', 1):g}",
             "occlude": lambda: f"grey patch {s.get('size')} px at ({s.get('top')}, {s.get('left')})",
             "blur": lambda: f"blur {s.get('size')}×{s.get('size')}",
             "noise": lambda: f"noise {s.get('amount', 0):g} (seed {s.get('seed', 0)})",
             "rotate": lambda: f"rotate {s.get('degrees', 0):g}°",
             "flip": lambda: f"flip {s.get('direction')}",
             "shift": lambda: f"shift {s.get('down', 0)} down, {s.get('right', 0)} right",
             "stroke": lambda: f"brush stroke ({len(s.get('points', []))} points)"
             + (f" into {s['channel']}" if "channel" in s else ""),
             "fill": lambda: "blank canvas" if s.get("tolerance") == 1 else f"fill at ({s.get('row')}, {s.get('col')})"}
    return words.get(op, lambda: op)()


class Lab:
    """The panel; `apply(base)` gives the image the network sees (App.set_image calls it)."""

    def __init__(self, app):
        self.app = app
        self.steps = json.loads(app.state.steps) if app.state.steps else []
        self.changes = 0  # step changes made on the page (tests wait for `traced` to catch up)
        self.traced = 0  # the value of `changes` the shown trace was made with
        self.pending = False  # a trace waits for the next animation frame
        self.framed = False  # a trace ran in this animation frame
        self.replay = Replay()  # perturb.apply, reusing the last call's work
        self.dragging = False
        self.canvas_rect = None  # rect(): the canvas's place on screen during a drag
        self.patch = PATCH_SIZES[1]
        self.root = None
        self.listed = None  # the step list's markup on screen
        self.pad = DrawPad(self)
        self.compare = Compare(app)
        self.webcam = Webcam(app)
        self.playground = PlaygroundPanel(app)

    # --- the image ---------------------------------------------------------------------------------
    def apply(self, base):
        """perturb.apply(base, steps); with steps this model cannot take (e.g. a colour channel of a one-channel
        model) the steps are dropped with a message and the chosen image is shown as it is."""
        self.traced = self.changes
        if not self.steps:
            return base
        try:
            return self.replay.apply(base, self.steps)
        except cnn101.PerturbError as exc:
            self.steps = []
            self.app.update(steps="")  # (was a call of a method Lab never had: an AttributeError)
            if self.root is not None:
                self.sync()
            self.say(f"The image changes were removed: {exc}")
            return base

    def shown(self, x, pixels=None) -> None:
        """Paint the enlarged copy of the network's input (the patch is dragged over it); `pixels`: x as
        RGBA bytes, when the caller has them."""
        if self.root is None:
            return
        self.compare.shown(self.app.ov)  # B − A over the Overview just painted, when an image A is pinned
        dom.paint(dom.el("lab-canvas"), dom.rgb_to_rgba(x) if pixels is None else pixels)
        self.root.dataset.traced = str(self.traced)  # for bench/bench_draw.py: which change is on screen, and when
        self.root.dataset.shownAt = f"{dom.now():.2f}"
        self._draw_patch()
        self._list()

    # --- markup ------------------------------------------------------------------------------------
    def mount(self) -> None:
        self.root = root = dom.el("lab")
        if root is None:
            return
        c = int(self.app.model.input_shape[-1])
        names = COLOURS if c == 3 else tuple(str(i) for i in range(c))
        opts = "".join(f'<option value="{n}">{n}</option>' for n in names)
        only = "".join(f'<button type="button" data-lab="only" data-ch="{n}">Only {n}</button>' for n in names)
        h, w = self.app.model.input_shape[:2]
        root.innerHTML = f"""
<button type="button" id="lab-toggle" class="lab-toggle" aria-expanded="false" aria-controls="lab-body">Change the image…</button>
<div id="lab-body" class="lab-body" hidden>
  <figure class="lab-figure">
    <div class="lab-frame"><canvas id="lab-canvas" width="{w}" height="{h}" tabindex="0"
      aria-label="The network's input, enlarged. Drag to use the tool chosen under Draw (grey patch, brush, eraser, fill); arrow keys move the grey patch (Shift: 4 pixels), Delete removes it."></canvas>
      <div id="lab-patch" class="lab-patch" hidden></div></div>
    <figcaption>Drag here with the tool chosen under Draw (the grey patch first); arrow keys move the patch</figcaption>
  </figure>
  <div class="lab-controls">
    <fieldset><legend>Channels</legend>{only}
      <label>channel <select id="lab-ch" aria-label="Channel to change">{opts}</select></label>
      <button type="button" data-lab="zero">Set to 0</button><button type="button" data-lab="invert">Invert</button>
      <label>swap with <select id="lab-ch2" aria-label="Channel to swap with">{opts}</select></label>
      <button type="button" data-lab="swap">Swap</button></fieldset>
    <fieldset><legend>Tone</legend>
      <label>brightness <input id="lab-brightness" type="range" min="-1" max="1" step="0.05" value="0"></label>
      <label>contrast <input id="lab-contrast" type="range" min="0" max="3" step="0.05" value="1"></label></fieldset>
    <fieldset><legend>Patch, blur, noise</legend>
      <label>patch <select id="lab-patch-size" aria-label="Patch size in pixels">{''.join(f'<option value="{p}"{" selected" if p == self.patch else ""}>{p}×{p}</option>' for p in PATCH_SIZES)}</select></label>
      <button type="button" data-lab="patch-off">Remove patch</button>
      <label>blur <select id="lab-blur" aria-label="Blur size">{''.join(f'<option value="{k}">{"none" if k == 1 else f"{k}×{k}"}</option>' for k in (1, 3, 5, 7))}</select></label>
      <label>noise <input id="lab-noise" type="range" min="0" max="0.5" step="0.01" value="0"></label>
      <label>seed <input id="lab-seed" type="number" min="0" max="999999" step="1" value="0" class="lab-num"></label></fieldset>
    <fieldset><legend>Geometry</legend>
      <label>rotate <input id="lab-rotate" type="range" min="-180" max="180" step="5" value="0"></label>
      <button type="button" data-lab="flip" data-dir="horizontal">Flip ↔</button>
      <button type="button" data-lab="flip" data-dir="vertical">Flip ↕</button>
      <label>down <input id="lab-down" type="number" min="-{h}" max="{h}" step="1" value="0" class="lab-num"></label>
      <label>right <input id="lab-right" type="number" min="-{w}" max="{w}" step="1" value="0" class="lab-num"></label></fieldset>
    {draw_pad.markup(c)}
    <ol id="lab-steps" class="lab-steps" aria-label="Changes, in order"></ol>
    <button type="button" data-lab="clear">Undo all changes</button>
    <p id="lab-message" class="lab-message" role="status" aria-live="polite"></p>
  </div>
</div>"""
        scale = max(1, round(192 / max(h, w)))  # pixel-exact: a whole number of screen pixels per input pixel
        frame = root.querySelector(".lab-frame")
        frame.style.width, frame.style.height = f"{w * scale + 2}px", f"{h * scale + 2}px"  # + the 1 px border
        dom.on(dom.el("lab-toggle"), "click", lambda e: self.open(dom.el("lab-body").hidden))
        dom.on(root, "click", self._clicked)
        for name, op, key in (("brightness", "brightness", "amount"), ("contrast", "contrast", "factor"),
                              ("rotate", "rotate", "degrees")):
            dom.on(dom.el("lab-" + name), "input", self._slider(op, key))
        dom.on(dom.el("lab-noise"), "input", lambda e: self._noise())
        dom.on(dom.el("lab-seed"), "change", lambda e: self._noise())
        dom.on(dom.el("lab-blur"), "change", lambda e: self.single("blur", size=int(e.target.value)))
        dom.on(dom.el("lab-down"), "change", lambda e: self._shift())
        dom.on(dom.el("lab-right"), "change", lambda e: self._shift())
        dom.on(dom.el("lab-patch-size"), "change", self._patch_size)
        canvas = dom.el("lab-canvas")
        dom.on(canvas, "pointerdown", self._down)
        dom.on(canvas, "pointermove", self._move)
        dom.on(canvas, "pointerup", self._up)
        dom.on(canvas, "pointercancel", self._up)
        dom.on(canvas, "lostpointercapture", self._up)
        dom.on(canvas, "keydown", self._key)
        window.addEventListener("scroll", dom.keep(self._moved), True)  # any scroll (capture) or resize during a
        dom.on(window, "resize", self._moved)  # drag moves the canvas on screen
        dom.on(document, "click", self._tutorial_link)
        self.compare.mount(root)
        self.webcam.mount(root.querySelector(".compare-bar"))
        self.playground.mount(root.querySelector(".compare-bar"))
        self.sync()
        if self.steps:
            self.open(True)
            self.tell()  # steps from a state file may be too long for the address

    def open(self, visible: bool) -> None:
        dom.show(dom.el("lab-body"), visible)
        dom.el("lab-toggle").setAttribute("aria-expanded", "true" if visible else "false")

    # --- steps -------------------------------------------------------------------------------------
    def single(self, op: str, **settings) -> None:
        """Set the one step of a single-valued control (its identity value removes it)."""
        step = {"op": op, **settings}
        at = next((i for i, s in enumerate(self.steps) if s.get("op") == op), None)
        ident = IDENTITY.get(op)
        if ident is not None and settings.get(ident[0]) == ident[1]:
            if at is not None:
                del self.steps[at]
        elif at is None:
            self.steps.append(step)
        else:
            self.steps[at] = step
        self.changed()

    def add(self, op: str, **settings) -> None:
        self.steps.append({"op": op, **settings})
        self.changed()

    def remove(self, i: int) -> None:
        if 0 <= i < len(self.steps):
            del self.steps[i]
            self.sync()
            self.changed()

    def clear(self) -> None:
        self.steps = []
        self.sync()
        self.changed()

    def changed(self) -> None:
        self.changes += 1
        self.app.update(steps=steps_json(self.steps))  # the URL leaves them out when they are too long
        self.tell()
        self._schedule()

    @property
    def too_long(self) -> bool:
        """The address leaves the steps out (too long for a link; the page's state keeps them)."""
        return bool(self.steps) and "steps" in self.app.files.left_out

    def tell(self) -> None:
        """The line under the controls: clipped values, and steps a copied link would lose."""
        clipped = sorted({s["op"] for s in self.steps if s["op"] in perturb.CLIPS})
        said = [f"Values pushed past 0 or 1 by {', '.join(clipped)} are clipped."] if clipped else []
        if self.too_long:
            said.append("These changes are too long for the page's address, so a copied link shows the image without "
                        "them: use 'Download this state' to keep them as a file, and 'Open a state file' to come back "
                        "to them.")
        self.say(" ".join(said))

    def _schedule(self) -> None:
        """Trace now, in the event that changed the steps (its frame shows the result), unless a trace already
        ran in this animation frame: then once in the next one, however many changes came in meanwhile."""
        if self.pending:
            return
        if not self.framed:
            self._retrace()
            return
        self.pending = True
        window.requestAnimationFrame(dom.once(lambda t: self._retrace()))

    def _retrace(self) -> None:
        self.pending = False
        if not self.framed:  # the next animation frame ends this frame's trace
            self.framed = True
            window.requestAnimationFrame(dom.once(self._next_frame))
        app = self.app
        if app.base_x is not None:
            try:
                app.show_image(app.base_x, app.image_label, app.state.image)
            except Exception:  # as a failed task did before: said in the console, the caller's handler goes on
                import traceback

                window.console.error(traceback.format_exc())

    def _next_frame(self, *_args) -> None:
        self.framed = False

    def say(self, text: str) -> None:
        el = dom.el("lab-message")
        if el is not None:
            el.textContent = text

    # --- controls ----------------------------------------------------------------------------------
    def _clicked(self, event) -> None:
        b = event.target.closest("button[data-lab]")
        if b is None:
            return
        what = str(b.dataset.lab)
        ch = self._channel("lab-ch")
        if what == "only":
            self.single("keep_channel", channel=self._name(str(b.dataset.ch)))
        elif what == "zero":
            self.add("zero_channel", channel=ch)
        elif what == "invert":
            self.add("invert", channel=ch)
        elif what == "swap":
            other = self._channel("lab-ch2")
            if other == ch:
                self.say("Choose two different channels to swap.")
                return
            self.add("swap_channels", a=ch, b=other)
        elif what == "flip":
            self.add("flip", direction=str(b.dataset.dir))
        elif what == "patch-off":
            self._drop_patch()
        elif what == "clear":
            self.clear()
        elif what == "blank":
            self.pad.blank()
        elif what == "from-image":
            self.pad.from_image()
        elif what == "remove":
            self.remove(int(b.dataset.i))

    def _name(self, v: str):
        return v if v in COLOURS else int(v)

    def _channel(self, element_id: str):
        return self._name(str(dom.el(element_id).value))

    def _slider(self, op: str, key: str):
        def changed(event):
            self.single(op, **{key: float(event.target.value)})
        return changed

    def _noise(self) -> None:
        seed = str(dom.el("lab-seed").value)
        seed = int(seed) if seed.isdigit() and len(seed) <= 6 else 0
        self.single("noise", amount=float(dom.el("lab-noise").value), seed=seed)

    def _shift(self) -> None:
        h, w = self.app.model.input_shape[:2]
        down, right = (self._int_in("lab-down", h), self._int_in("lab-right", w))
        if down == 0 and right == 0:
            at = next((i for i, s in enumerate(self.steps) if s["op"] == "shift"), None)
            if at is not None:
                del self.steps[at]
                self.changed()
            return
        self.single("shift", down=down, right=right)

    def _int_in(self, element_id: str, limit: int) -> int:
        el = dom.el(element_id)
        try:
            v = int(float(str(el.value)))
        except ValueError:
            v = 0
        v = max(-limit, min(limit, v))  # clamped, and the field shows what is used
        el.value = str(v)
        return v

    def sync(self) -> None:
        """The controls show the steps (after a shared link, a removal or 'Undo all')."""
        first = {s["op"]: s for s in reversed(self.steps)}
        dom.el("lab-brightness").value = str(first.get("brightness", {}).get("amount", 0))
        dom.el("lab-contrast").value = str(first.get("contrast", {}).get("factor", 1))
        dom.el("lab-rotate").value = str(first.get("rotate", {}).get("degrees", 0))
        dom.el("lab-noise").value = str(first.get("noise", {}).get("amount", 0))
        dom.el("lab-seed").value = str(first.get("noise", {}).get("seed", 0))
        dom.el("lab-blur").value = str(first.get("blur", {}).get("size", 1))
        dom.el("lab-down").value = str(first.get("shift", {}).get("down", 0))
        dom.el("lab-right").value = str(first.get("shift", {}).get("right", 0))
        if "occlude" in first and isinstance(first["occlude"].get("size"), int):
            self.patch = first["occlude"]["size"]
            dom.el("lab-patch-size").value = str(self.patch)

    def _list(self) -> None:
        items = "".join(
            f'<li>{html.escape(describe(s))} <button type="button" data-lab="remove" data-i="{i}" '
            f'aria-label="Remove: {html.escape(describe(s))}">×</button></li>' for i, s in enumerate(self.steps))
        if items != self.listed:  # (a brush stroke's line changes with every point; a slider's does not)
            dom.el("lab-steps").innerHTML = self.listed = items

    # --- the patch -----------------------------------------------------------------------------------
    def _occlude(self):
        return next((s for s in self.steps if s["op"] == "occlude"), None)

    def _place(self, top: int, left: int) -> None:
        h, w = self.app.model.input_shape[:2]
        top = max(-self.patch + 1, min(h - 1, top))  # at least one pixel of the patch stays on the image
        left = max(-self.patch + 1, min(w - 1, left))
        self.single("occlude", top=top, left=left, size=self.patch)
        self._draw_patch()

    def _drop_patch(self) -> None:
        at = next((i for i, s in enumerate(self.steps) if s["op"] == "occlude"), None)
        if at is not None:
            del self.steps[at]
            self.changed()
        self._draw_patch()

    def _patch_size(self, event) -> None:
        self.patch = int(event.target.value)
        p = self._occlude()
        if p is not None:
            self._place(p["top"], p["left"])

    def rect(self) -> tuple[float, float, float, float]:
        """(top, left, height, width) of the enlarged input on screen, read once per drag (or after a scroll
        or resize): reading it after a repaint makes the browser lay the page out again, on every move."""
        if self.canvas_rect is None:
            r = dom.el("lab-canvas").getBoundingClientRect()
            self.canvas_rect = (float(r.top), float(r.left), max(float(r.height), 1), max(float(r.width), 1))
        return self.canvas_rect

    def _moved(self, _event=None) -> None:
        self.canvas_rect = None

    def _pixel(self, event) -> tuple[int, int]:
        top, left, height, width = self.rect()
        h, w = self.app.model.input_shape[:2]
        row = int((float(event.clientY) - top) / height * h)
        col = int((float(event.clientX) - left) / width * w)
        return row, col

    def _down(self, event) -> None:
        event.preventDefault()
        self.dragging = True
        self.canvas_rect = None  # where the canvas is now (the page may have scrolled since the last drag)
        self.app.hold_url(True)  # every move changes the steps: the address is written when the drag ends
        try:
            event.target.setPointerCapture(event.pointerId)
        except Exception:
            pass
        if self.pad.tool != "patch":
            self.pad.down(event)
            return
        row, col = self._pixel(event)
        self._place(row - self.patch // 2, col - self.patch // 2)

    def _move(self, event) -> None:
        if self.dragging and self.pad.tool != "patch":
            self.pad.move(event)
        elif self.dragging:
            row, col = self._pixel(event)
            self._place(row - self.patch // 2, col - self.patch // 2)

    def _up(self, event) -> None:
        self.dragging = False
        self.pad.up()
        self.app.hold_url(False)

    def _key(self, event) -> None:
        moves = {"ArrowUp": (-1, 0), "ArrowDown": (1, 0), "ArrowLeft": (0, -1), "ArrowRight": (0, 1)}
        key = str(event.key)
        if key in ("Delete", "Backspace"):
            event.preventDefault()
            self._drop_patch()
            return
        if key not in moves:
            return
        event.preventDefault()
        step = 4 if event.shiftKey else 1
        p = self._occlude()
        if p is None:
            h, w = self.app.model.input_shape[:2]
            self._place((h - self.patch) // 2, (w - self.patch) // 2)
            return
        dr, dc = moves[key]
        self._place(p["top"] + dr * step, p["left"] + dc * step)

    def _draw_patch(self) -> None:
        el = dom.el("lab-patch")
        p = self._occlude()
        dom.show(el, p is not None)
        if p is None:
            return
        h, w = self.app.model.input_shape[:2]
        size = p.get("size", self.patch)
        el.style.top = f"{100 * p['top'] / h}%"
        el.style.left = f"{100 * p['left'] / w}%"
        el.style.height = f"{100 * size / h}%"
        el.style.width = f"{100 * size / w}%"

    # --- the tutorial's red-channel step -------------------------------------------------------------
    def _tutorial_link(self, event) -> None:
        link = event.target.closest('a[href="#lab-only-red"]')
        if link is None:
            return
        event.preventDefault()
        self.open(True)
        if int(self.app.model.input_shape[-1]) == 3:
            self.single("keep_channel", channel="red")
        dom.el("lab").scrollIntoView()

    def snapshot(self) -> dict:
        return {"changes": self.changes, "traced": self.traced, "steps": self.steps, "too_long": self.too_long}
