"""Helpers for the browser tests of the level-2/3 views (detail views, flatten view, keyboard).

Two sites through the same build path: the app's Tiny VGG site (conftest `app_url`/`app_model`) and a
site whose only model is tests/models.py `synthetic_model()` (5×5 kernels, stride 2, 'same' padding,
3 classes, 32×32 input). `site_for(request, which)` gives (url, CPython model) for either; use it from a
module-scoped, parametrized fixture so each module starts one page per site.
"""
from __future__ import annotations

import base64
import json

import numpy as np

import browser as _b

READY = 120_000
_SYNTHETIC = {}


def synthetic_site(tmp_path_factory):
    """(site folder, CPython model): a built site shipping only the synthetic model (cached per session)."""
    if "site" not in _SYNTHETIC:
        import cnn101
        from buildsite.site import BuildOptions, build
        from conftest import DATA, REPO
        from models import synthetic_model

        weights = tmp_path_factory.mktemp("synthetic-weights")
        synthetic_model().save(weights / "synthetic")
        out = tmp_path_factory.mktemp("synthetic-site") / "dist"
        build(BuildOptions(repo=REPO, out=out, cache=REPO / ".cache", data=DATA if DATA.is_dir() else None,
                           weights=weights), log=lambda *a, **k: None)
        _SYNTHETIC["site"] = out
        _SYNTHETIC["model"] = cnn101.load_model(weights / "synthetic.json")
    return _SYNTHETIC["site"], _SYNTHETIC["model"]


def site_for(request, which: str):
    """(base url, CPython model) of the 'tiny' or 'synthetic' site (both served for the whole run: one origin
    per site, so that the modules' pages share the site's warm context)."""
    if which == "tiny":
        return request.getfixturevalue("app_url"), request.getfixturevalue("app_model")
    return request.getfixturevalue("synthetic_url"), synthetic_site(request.getfixturevalue("tmp_path_factory"))[1]


class Session:
    """One page on one site, reused by a module's tests: in the site's shared warm context (`pool`, browser.py
    WarmContexts) or, with context options or without a pool, in a guarded context of its own (lean: no
    service worker and no Pyodide snapshot, browser.py LEAN; lean=False for the real start)."""

    def __init__(self, browser, url: str, model, which: str, lean: bool = True, pool=None, **context_kwargs):
        """pool: conftest's `warm_contexts` — the page opens in the site's shared warm context (only without
        context options), and `close()` hands it back clean."""
        self.url, self.model, self.which = url, model, which
        self.dirty = False  # opened at a URL of its own (a query): `clean()` reloads the plain page
        self.opened: str | None = None  # the query of the last load, while no test has used the page since
        self.pool = pool if pool is not None and not context_kwargs else None
        self.context = self.pool.acquire(url) if self.pool else _b.guarded_context(browser, lean=lean, **context_kwargs)
        self.page = self.context.new_page()
        _b.track_console(self.page)

    def open(self, query: str = "") -> None:
        self.page.goto(self.url + query)
        try:
            self.page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
        except Exception as e:  # say what the page showed (seen twice in CI: a reload never became ready)
            raise AssertionError(_b.not_ready_report(self.page, query, f"not-ready-{self.which}")) from e
        _b.note_restart(self.page)
        assert self.page.evaluate("document.documentElement.dataset.ready") == "1", self.page.text_content("#status")
        name = self.state()["model"]["name"]
        assert name == self.model.name, f"the page shows model {name!r}, expected {self.model.name!r}"
        self.dirty = bool(query)
        self.opened = query  # conftest's `_sessions_used` forgets it once a test has run on the page

    def at(self, query: str = "") -> None:
        """The page freshly loaded at `query`: a reload, unless it was just loaded there and no test has used
        it since (a module's first test on a page its fixture opened at the same URL)."""
        if self.opened != query:
            self.open(query)

    def clean(self) -> None:
        """The page as a test of the module expects it: reloaded without a query if the last test opened it at
        a URL of its own (a reload costs a Python start, so a test that opens its own URL skips this and a
        test after it pays for one reload instead of each URL test reloading twice)."""
        if self.dirty:
            self.open("")

    def close(self) -> None:
        problems = _b.console_problems(self.page)
        if self.pool:
            self.pool.release(self.context, self.url, self.page)
        else:
            self.context.close()
            _b.check_offline(self.context)
        assert not problems, problems

    # --- reading the page ----------------------------------------------------------------------------
    def state(self) -> dict:
        return json.loads(self.page.evaluate("cnn101_state()"))

    def views(self) -> list[dict]:
        return json.loads(self.page.evaluate("cnn101_views()"))

    def top(self) -> dict:
        v = self.views()
        assert v, "no view is open"
        return v[-1]

    def query(self) -> str:
        return self.page.evaluate("location.search")

    def trace(self):
        """The CPython trace of exactly the image the page shows."""
        st = self.state()
        x = np.frombuffer(base64.b64decode(st["input"]), "<f4").reshape(st["model"]["input_shape"])
        return self.model.trace(x)

    def columns(self) -> list[dict]:
        return self.state()["columns"]

    def column(self, kind: str, nth: int = 0) -> dict:
        return [c for c in self.columns() if c["kind"] == kind][nth]

    def values(self, selector: str) -> list[float]:
        """data-value of every element matching `selector` (the exact numbers behind the printed ones)."""
        return [float(v) for v in self.page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.value)")]

    def value(self, selector: str) -> float:
        v = self.values(selector)
        assert len(v) == 1, (selector, v)
        return v[0]

    # --- acting ---------------------------------------------------------------------------------------
    def click_neuron(self, col: int, neuron: int) -> None:
        self.page.click(f'[data-col="{col}"][data-neuron="{neuron}"]')

    def cell_point(self, svg: str, row: int, col: int) -> tuple[float, float]:
        """Client (x, y) of the centre of cell (row, col) of a detail matrix (`svg` selector)."""
        return tuple(self.page.eval_on_selector(svg, """(s, [r, c]) => {
            const b = s.getBoundingClientRect(), k = b.width / parseFloat(s.getAttribute('width'));
            const p = parseFloat(s.dataset.pitch);
            return [b.left + (parseFloat(s.dataset.x0) + (c + .5) * p) * k,
                    b.top + (parseFloat(s.dataset.y0) + (r + .5) * p) * k]; }""", [row, col]))

    def settle(self, selector: str, tries: int = 40) -> None:
        """Wait until `selector` stops moving (a smooth scroll or an opening transition can still be
        carrying it when a view has just opened): the same box two animation frames apart."""
        box = """(sel) => new Promise((done) => { const at = () => { const r = document.querySelector(sel)
            .getBoundingClientRect(); return [r.left, r.top, r.width, r.height].join(); };
            const a = at(); requestAnimationFrame(() => requestAnimationFrame(() => done(a === at()))); })"""
        for _ in range(tries):
            if self.page.evaluate(box, selector):
                return
        raise AssertionError(f"{selector} kept moving")

    def hover_cell(self, svg: str, row: int, col: int) -> None:
        # a view can open partly below the window (the controls above it grew): a pointer moved to a point
        # outside the viewport hovers nothing, so bring the cell into view first
        self.page.eval_on_selector(svg, """(s, [r, c]) => {
            const b = s.getBoundingClientRect(), k = b.width / parseFloat(s.getAttribute('width'));
            const y = b.top + (parseFloat(s.dataset.y0) + (r + .5) * parseFloat(s.dataset.pitch)) * k;
            if (y < 0 || y > innerHeight) s.scrollIntoView({block: 'center', behavior: 'instant'}); }""", [row, col])
        self.settle(svg)
        x, y = self.cell_point(svg, row, col)
        self.page.mouse.move(x, y)

    def escape_all(self) -> None:
        for _ in range(4):
            if not self.views():
                break
            self.page.keyboard.press("Escape")
        assert self.views() == []

    def shot(self, name: str) -> None:
        _b.screenshot(self.page, name, full_page=False)


def close_to(a, b, tol=1e-5) -> bool:
    return bool(np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=0, atol=tol))


def open_session(request, browser, query: str = ""):
    """A Session on the site named by request.param, opened (at `query`); closed after.

    For module fixtures: `yield from open_session(request, browser)`.
    """
    url, model = site_for(request, request.param)
    session = Session(browser, url, model, request.param, lean=_b.lean_for(request), pool=_b.warm_pool(request))
    session.open(query)
    yield session
    session.close()
