"""The one lifecycle of every view on the page, and the one owner of its JS callbacks.

A view is what a click on a neuron opens (level 2) or what a level-2 view opens inside itself (level 3).
Every view is a `View`:

    open()            put the markup in the page, wire it (through self.owner), paint, take the focus
    paint()           draw the numbers (again); the page calls open() once, a view may repaint itself
    key(event)        an arrow / Home / End key while it is the innermost view; True if it used the key
    go_to(at)         move its window to a state position (from the URL), e.g. (row, col) or (class,)
    at()              its window position now (kept in the URL as `at`)
    open_part(part)   open its level-3 view `part` (an input channel, 'whole', 'softmax'); most have none
    child_closed(v)   a level-3 view `v` it opened was closed (the parent tidies up)
    state()           what it shows, JSON-able, for tests and benchmarks
    close()           take it away; releases every listener and proxy in one place (self.owner)

A level-3 view reports to its parent through calls (`self.parent.open_part(...)`,
`self.parent.child_closed(self)`), never through a document-wide listener.

Adding a view: one module in web/app with `open(app, column, neuron)` (which pushes a View on
views.STACK) and one line in views.REGISTRY (route(model, layer).view → module name).
"""
from __future__ import annotations

from pyscript import window
from pyscript.ffi import create_proxy

from . import dom


class Owner:
    """Every JS callback and event listener of one view. `owner(fn)` → a proxy kept until release;
    `owner.on(target, event, fn)` adds a listener that release() removes."""

    def __init__(self):
        self._proxies = []
        self._listeners = []

    def __call__(self, fn):
        p = create_proxy(fn)
        self._proxies.append(p)
        return p

    def on(self, target, event: str, fn) -> None:
        if target is None:
            return
        p = self(fn)
        target.addEventListener(event, p)
        self._listeners.append((target, event, p))

    def release(self, later_ms: int = 0) -> None:
        """Remove every listener now; destroy the proxies after `later_ms` (a queued animation frame or a
        fading transition may still call one)."""
        for target, event, p in self._listeners:
            try:
                target.removeEventListener(event, p)
            except Exception:  # the element may already be gone
                pass
        self._listeners = []
        kept, self._proxies = self._proxies, []
        if not kept:
            return
        if later_ms <= 0:
            for p in kept:
                p.destroy()
        else:
            window.setTimeout(dom.once(lambda *_: [p.destroy() for p in kept]), later_ms)


class View:
    """Base of every view; see the module's docstring for the lifecycle."""

    kind = "view"
    release_ms = 100  # how long the proxies outlive close() (a pending frame or transition)

    def __init__(self, app, parent: "View | None" = None):
        self.app = app
        self.parent = parent
        self.owner = Owner()
        self.closed = False
        self.root = None

    def open(self) -> None:
        raise NotImplementedError

    def paint(self) -> None:
        """Draw the numbers (views that draw everything in open() need nothing here)."""

    def key(self, event) -> bool:
        return False

    def go_to(self, at: tuple) -> None:
        """Move the window to `at` (ignored when it does not fit)."""

    def at(self) -> tuple:
        return ()

    def open_part(self, part: str) -> None:
        """Open level-3 view `part` (views without one ignore it)."""

    def child_closed(self, child: "View") -> None:
        """A level-3 view this view opened has closed."""

    def state(self) -> dict:
        return {"kind": self.kind}

    def teardown(self) -> None:
        """Take the markup away (called once by close())."""
        if self.root is not None:
            self.root.remove()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.teardown()
        self.owner.release(self.release_ms)
        if self.parent is not None:
            self.parent.child_closed(self)
