"""The floating detail panel shared by every detail view (ReLU, max pooling, softmax, convolution):
markup from cnn101.render.detail, play/pause, single steps, speed, close, the tutorial link, hover a cell
→ the window moves there and pauses, arrow keys move the window, a live region for screen readers.

A view subclasses DetailView (what to draw, what step k shows); the panel (a view.View) owns the DOM glue,
the listeners (self.owner, released in View.close) and the clock:

    class ReluView(DetailView):
        kind, title, tutorial = "relu", "ReLU", "tutorial-relu"
        def body_html(self): ...               # matrices (render.detail.Matrix.svg) and an equation slot
        def bind(self, root): ...               # find the elements show() updates
        def show(self, k): ...                  # step k: move windows (Matrix.box), fill the equation
        def step_at(self, grid, row, col): ...  # the step a hovered cell of matrix `grid` leads to
        def wire(self, panel): ...              # optional: its own controls (e.g. report to panel.parent)
    views.push(DetailPanel(app, ReluView(...)))  # parent=: the level-2 view that opened it (level 3)

Autoplay: one requestAnimationFrame callback per frame reads the elapsed time (render.clock.Clock);
only a frame where the step changes touches the DOM (a handful of attribute sets and one innerHTML).
`prefers-reduced-motion`: the panel opens paused and moves without transitions (steps are instant).
"""
from __future__ import annotations

from cnn101.render.clock import SPEEDS, Clock, closest_speed, speed_index, speed_label
from cnn101.render.detail import arrow_move, panel_html
from pyscript import document, window
from pyscript.ffi import to_js

from . import dom, keyboard
from .frames import FrameLoop
from .view import View


class DetailView:
    """What a detail view shows. Override the methods; `grid` is the (rows, cols) layout of its steps
    (arrow keys move on it), `steps` = rows · cols."""

    kind = "detail"  # short name: the panel's id is 'dp-<kind>'
    title = "Detail"
    subtitle = ""
    tutorial = "tutorial-how-to-use"
    autoplay = True  # start playing when opened (never with prefers-reduced-motion)
    description = ""  # one or two sentences for screen readers (aria-describedby)
    grid = (1, 1)

    @property
    def steps(self) -> int:
        return int(self.grid[0]) * int(self.grid[1])

    def body_html(self) -> str:
        return ""

    def bind(self, root) -> None:
        """Called once after the markup is in the page: find the elements `show` updates."""

    def show(self, k: int) -> None:
        """Draw step k (move windows, fill the equation)."""

    def step_at(self, grid: str, row: int, col: int) -> int | None:
        """The step that hovering cell (row, col) of matrix `grid` leads to (None: no change)."""
        return None

    def say(self, k: int) -> str:
        """Step k in words (for the live region), e.g. 'row 3, column 4: max(0, −0.21) = 0'."""
        return ""

    def at(self, k: int) -> tuple:
        """Step k as the state's window position (kept in the URL)."""
        return divmod(int(k), int(self.grid[1]))

    def index_of(self, at: tuple) -> int | None:
        """The step of a window position from the URL (None if it does not fit)."""
        rows, cols = self.grid
        if len(at) == 2 and 0 <= at[0] < rows and 0 <= at[1] < cols:
            return int(at[0]) * int(cols) + int(at[1])
        return None

    def data(self) -> dict:
        """Anything a test or benchmark wants to read (JSON-able)."""
        return {}

    def wire(self, panel) -> None:
        """Hook the view's own controls (through panel.owner); called once after bind()."""


def place(rect, box) -> None:
    """Put an SVG window rect on (x, y, w, h) (from Matrix.box)."""
    x, y, w, h = box
    rect.setAttribute("x", f"{x:g}")
    rect.setAttribute("y", f"{y:g}")
    rect.setAttribute("width", f"{w:g}")
    rect.setAttribute("height", f"{h:g}")


def scroll_to_tutorial(anchor: str) -> None:
    """Scroll to a tutorial section and flash it (the URL keeps the state, so no #fragment)."""
    target = dom.el(anchor)
    if target is None:
        return
    target.scrollIntoView(to_js({"behavior": "auto" if reduced_motion() else "smooth"}))
    target.classList.add("flash")
    window.setTimeout(dom.once(lambda *_: target.classList.remove("flash")), 1600)


def reduced_motion() -> bool:
    try:
        return bool(window.matchMedia("(prefers-reduced-motion: reduce)").matches)
    except Exception:
        return False


def host():
    """The layer the panels float in (created on first use, inside <main>)."""
    return dom.ensure("views-layer", "div", document.querySelector("main"), "views-layer")


def refocus(element) -> None:
    """Give the focus back to `element` (the control that opened a view), or to the view under it."""
    if element is not None and bool(element.isConnected):
        element.focus(to_js({"preventScroll": True}))
        if document.activeElement == element:
            return
    under = document.querySelector("#views-layer > :last-child")
    if under is not None:
        under.focus(to_js({"preventScroll": True}))


def fit_host() -> None:
    """Make <main> tall enough for the open views, so they never cover the tutorial below it."""
    layer = dom.el("views-layer")
    if layer is None:
        return
    bottom = 0.0
    for child in layer.children:
        bottom = max(bottom, float(child.offsetTop) + float(child.offsetHeight))
    main = layer.parentElement
    main.style.minHeight = f"{bottom + 24:.0f}px" if bottom > 0 else ""


class DetailPanel(View):
    """One open detail view in its floating panel (a View: close() takes it away and releases it)."""

    def __init__(self, app, view: DetailView, parent: View | None = None, start: int = 0, into=None):
        super().__init__(app, parent)
        self.view = view
        self.kind = view.kind
        self.panel_id = f"dp-{view.kind}"
        self.player = Clock(view.steps, speed=closest_speed(app.state.speed),
                            playing=view.steps > 1 and view.autoplay and not reduced_motion())
        self.player.go(start)
        self.frames = 0  # rAF callbacks run (benchmarks)
        self.step_count = 0  # steps drawn
        self.draw_ms = []  # Python time of the last autoplay steps (benchmarks)
        self._animation = FrameLoop(self.owner, self._step, lambda: not self.closed and self.player.playing)
        self._opener = document.activeElement  # focus goes back there on close
        self.open(into)

    def open(self, into=None) -> None:
        view = self.view
        old = dom.el(self.panel_id)
        if old is not None:
            old.remove()
        html = panel_html(self.panel_id, view.title, view.tutorial, view.body_html(), view.description,
                          view.subtitle, view.steps, self.player.speed, self.player.playing)
        (into or host()).insertAdjacentHTML("beforeend", html)
        self.root = dom.el(self.panel_id)
        self._wire()
        view.bind(self.root)
        view.wire(self)
        self._draw()
        fit_host()
        self.root.focus(to_js({"preventScroll": True}))
        dom.reveal(self.root)  # its top in the window (by layout: the opening animation moves its box)
        keyboard.announce(f"{view.title} view opened. {view.subtitle}. Arrow keys move the window; "
                          "Esc goes back.")
        if self.player.playing:
            self._loop()

    # --- wiring ---------------------------------------------------------------------------------------
    def _on(self, target, event: str, fn) -> None:
        self.owner.on(target, event, fn)

    def _q(self, selector: str):
        return self.root.querySelector(selector)

    def _wire(self) -> None:
        self._on(self._q(".dp-close"), "click", lambda e: self.app.back())
        self._on(self._q(".dp-play"), "click", lambda e: self.toggle())
        self._on(self._q(".dp-prev"), "click", lambda e: self.step(-1))
        self._on(self._q(".dp-next"), "click", lambda e: self.step(1))
        self._on(self._q(".dp-speed"), "input", self._speed_input)
        self._on(self._q(".dp-tutorial"), "click", self._tutorial)
        self._on(self.root, "pointermove", self._pointer)
        self._on(self.root, "pointerdown", self._pointer)  # a tap does what a hover does
        self._on(self.root, "click", lambda e: e.stopPropagation())  # clicks inside are not "empty space"

    # --- controls ----------------------------------------------------------------------------------------
    def toggle(self) -> None:
        if self.player.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if self.closed or self.player.n <= 1:
            return
        self.player.play(None)
        self._controls()
        self._loop()

    def pause(self) -> None:
        if self.player.playing:
            self.player.pause()
            self._controls()
            self._remember()

    def step(self, by: int) -> None:
        """One step back or forward (pauses)."""
        self.go(self.player.index + by, say=True)

    def go(self, index: int, say: bool = False) -> None:
        """Show step `index` now and pause there."""
        self.pause()
        self.player.go(index)
        self._draw()
        self._remember()
        if say:
            self._say()

    def at(self) -> tuple:
        return tuple(int(v) for v in self.view.at(self.player.index))

    def go_to(self, at: tuple) -> None:
        """Move the window to a state position (from the URL)."""
        k = self.view.index_of(tuple(at))
        if k is not None:
            self.go(k)

    def set_speed(self, speed: float) -> None:
        k = speed_index(speed)
        self.player.speed = SPEEDS[k]
        slider = self._q(".dp-speed")
        if slider is not None:
            slider.value = str(k)
            slider.setAttribute("aria-valuetext", speed_label(SPEEDS[k]))
            self._q(".dp-speed-out").textContent = speed_label(SPEEDS[k])
        self.app.update(speed=SPEEDS[k])

    def _speed_input(self, event) -> None:
        self.set_speed(SPEEDS[int(event.target.value)])

    def _tutorial(self, event) -> None:
        """Scroll to the tutorial section without changing the URL (it holds the state)."""
        event.preventDefault()
        scroll_to_tutorial(self.view.tutorial)

    def key(self, event) -> bool:
        """Arrow keys move the window (and pause), Home/End jump; True if the key was used."""
        k = str(event.key)
        if k in ("ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"):
            rows, cols = self.view.grid
            self.go(arrow_move(self.player.index, k, int(rows), int(cols)), say=True)
            return True
        return False

    def _pointer(self, event) -> None:
        if not hasattr(event.target, "closest"):
            return
        node = event.target.closest("[data-step]")  # an element standing for one step (e.g. a class row)
        if node is not None:
            k = int(node.dataset.step)
            if k != self.player.index or self.player.playing:
                self.go(k, say=True)
            return
        svg = event.target.closest("svg.dp-matrix")
        if svg is None:
            return
        rect = svg.getBoundingClientRect()
        width = float(svg.getAttribute("width") or 0)
        if float(rect.width) <= 0 or width <= 0:
            return
        scale = float(rect.width) / width
        x = (float(event.clientX) - float(rect.left)) / scale - float(svg.dataset.x0)
        y = (float(event.clientY) - float(rect.top)) / scale - float(svg.dataset.y0)
        p = float(svg.dataset.pitch)
        rows, cols = int(svg.dataset.rows), int(svg.dataset.cols)
        r, c = min(rows - 1, max(0, int(y // p))), min(cols - 1, max(0, int(x // p)))
        k = self.view.step_at(str(svg.dataset.grid), r, c)
        if k is not None and (k != self.player.index or self.player.playing):
            self.go(k, say=True)

    # --- drawing and the clock ------------------------------------------------------------------------
    def _draw(self) -> None:
        k = self.player.index
        self.view.show(k)
        self.step_count += 1
        pos = self._q(".dp-pos")
        if pos is not None:
            pos.textContent = f"step {k + 1} of {self.player.n}"

    def _controls(self) -> None:
        button = self._q(".dp-play")
        if button is not None:
            button.textContent = "Pause" if self.player.playing else "Play"
            button.setAttribute("aria-pressed", "true" if self.player.playing else "false")

    def _say(self) -> None:
        live = self._q(".dp-live")
        if live is not None:
            live.textContent = self.view.say(self.player.index)

    def _remember(self) -> None:
        if self.player.n > 1:
            self.app.update(at=tuple(int(v) for v in self.view.at(self.player.index)))

    def _loop(self) -> None:
        self._animation.start()

    def _step(self, t: float) -> None:
        """One animation frame of autoplay: draw when the player moved on."""
        self.frames += 1
        if self.player.advance(t):
            t0 = dom.now()
            self._draw()
            self.draw_ms.append(dom.now() - t0)
            if len(self.draw_ms) > 600:
                del self.draw_ms[:300]

    # --- closing --------------------------------------------------------------------------------------
    def teardown(self) -> None:
        self.player.pause()
        self._animation.stop()
        had_focus = self.root.contains(document.activeElement)
        self.root.remove()
        if self.parent is not None:
            self.parent.child_closed(self)  # first: the view underneath may show again what the focus returns to
            self.parent = None
        fit_host()
        keyboard.announce(f"{self.view.title} view closed.")
        if had_focus:
            refocus(self._opener)

    def state(self) -> dict:
        """What the panel shows, for tests and benchmarks."""
        return {"id": self.panel_id, "kind": self.view.kind, "index": self.player.index, "steps": self.player.n,
                "playing": self.player.playing, "speed": self.player.speed, "frames": self.frames,
                "drawn": self.step_count, "draw_ms": [round(v, 3) for v in self.draw_ms[-200:]],
                "at": list(self.at()), **self.view.data()}
