"""The level-2/3 views in headless Chromium: time from a click to the view on screen, and the frame rate
while a view animates (measured with requestAnimationFrame timestamps inside the page).

    .venv/bin/python bench/bench_views.py            # 8 opens per view, 4 s of animation per view
    .venv/bin/python bench/bench_views.py --quick    # 2 opens, 1 s: checks the harness
    .venv/bin/python bench/bench_views.py --site dist

Rows (bench/common.py format; group "views"):
- `conv <layer>: click → view shown` — from the click (a capture listener's performance.now()) to the
  first animation frame after the view's markup is in the page and painted (two rAFs), ms;
- `conv <layer>: sweep fps` — frames per second while the sliding-kernel animation plays (rAF timestamps
  over a window), with the 95th-percentile frame gap and the Python time per frame in `details`;
- the detail views (Engineer B) add their rows through `DETAIL_CASES` / their own functions here.
Targets: ≥ 50 fps during animations. Figures, not assertions.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from common import machine_info, print_rows, row, save_json, served_site, stats  # noqa: E402

RESULTS = HERE / "results-views.json"
READY = 180_000
FPS_TARGET = 50

# JS: remember when a click happened; resolve when `selector` exists, after two animation frames.
_ARM = """() => { window.__cv = {}; document.addEventListener('click', () => { window.__cv.click = performance.now(); },
          {capture: true, once: true}); }"""
_SHOWN = """async (sel) => { const t0 = performance.now();
    while (!document.querySelector(sel)) { await new Promise(r => setTimeout(r, 1));
      if (performance.now() - t0 > 10000) return null; }
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - window.__cv.click; }"""
_FPS = """async (ms) => { const ts = []; const t0 = performance.now();
    await new Promise(done => { function f(t) { ts.push(t); if (t - t0 < ms) requestAnimationFrame(f); else done(); }
                                requestAnimationFrame(f); });
    return ts; }"""


def build_site(out: Path) -> tuple[Path, str]:
    from bench_page import build_site as page_site

    return page_site(out)


def open_page(browser, url: str):
    import browser as b

    ctx = b.guarded_context(browser)
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
    return ctx, page


def conv_columns(page) -> list[dict]:
    st = json.loads(page.evaluate("cnn101_state()"))
    return [c for c in st["columns"] if c["kind"] == "conv2d"]


def click_to_shown(page, col: dict, neuron: int, selector: str = "#conv-view") -> tuple[float, float, int]:
    """(page ms click → shown, the view's own Python ms, input channels) for one open; closes it again."""
    page.evaluate(_ARM)
    page.click(f'.ov-neuron[data-col="{col["index"]}"][data-neuron="{neuron}"]')
    ms = page.evaluate(_SHOWN, selector)
    top = json.loads(page.evaluate("cnn101_views()"))[-1]
    page.keyboard.press("Escape")
    page.wait_for_selector(selector, state="detached", timeout=5_000)
    return float(ms), float(top.get("shown_ms") or 0.0), int(top.get("channels") or 0)


def sweep_fps(page, col: dict, neuron: int, seconds: float) -> dict:
    """Frame rate while the sliding-kernel animation plays (it is restarted if it ends early)."""
    page.click(f'.ov-neuron[data-col="{col["index"]}"][data-neuron="{neuron}"]')
    page.wait_for_selector("#conv-view", timeout=10_000)
    page.select_option("#conv-view .cv-speed", "0.25")  # long enough to measure inside one sweep
    page.wait_for_timeout(300)
    ts = page.evaluate(_FPS, seconds * 1000)
    top = json.loads(page.evaluate("cnn101_views()"))[-1]
    page.select_option("#conv-view .cv-speed", "1")
    page.keyboard.press("Escape")
    page.wait_for_selector("#conv-view", state="detached", timeout=5_000)
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    fps = 1000 * len(gaps) / (ts[-1] - ts[0]) if len(ts) > 1 else 0.0
    cost = top.get("frame_cost") or [0.0]
    return {"fps": fps, "gaps": gaps, "p95_gap": sorted(gaps)[int(0.95 * (len(gaps) - 1))] if gaps else 0.0,
            "python_ms": statistics.median(cost), "python_p95": sorted(cost)[int(0.95 * (len(cost) - 1))],
            "steps_shown": top.get("revealed"), "steps": top.get("steps"), "playing": top.get("playing")}


def conv_rows(page, model_name: str, quick: bool) -> list[dict]:
    rows = []
    opens, seconds = (2, 1.0) if quick else (8, 4.0)
    for col in conv_columns(page):
        neuron = min(1, col["neurons"] - 1)
        click_to_shown(page, col, neuron)  # warm-up (imports, first allocations)
        shown, python, reads = zip(*(click_to_shown(page, col, neuron) for _ in range(opens)))
        rows.append(row("views", f"{model_name} conv {col['name']}: click → view shown", stats(list(shown)),
                        python_ms=round(statistics.median(python), 1), input_channels=reads[0]))
        f = sweep_fps(page, col, neuron, seconds)
        rows.append(row("views", f"{model_name} conv {col['name']}: sweep frame gap", stats(f["gaps"]),
                        fps=round(f["fps"], 1), p95_gap_ms=round(f["p95_gap"], 1),
                        python_per_frame_ms=round(f["python_ms"], 2), python_p95_ms=round(f["python_p95"], 2),
                        target_fps=FPS_TARGET, positions=f["steps"]))
        if quick:
            break
    return rows


def run(quick: bool = False, site: Path | None = None) -> list[dict]:
    rows: list[dict] = []
    with served_site(site, "views") as (_, browser, url):
        ctx, page = open_page(browser, url)
        name = json.loads(page.evaluate("cnn101_state()"))["model"]["name"]
        rows += conv_rows(page, name, quick)
        for fn in DETAIL_CASES:  # the detail views' own measurements (Engineer B)
            rows += fn(page, name, quick)
        ctx.close()
    return rows


# --- the detail views and the flatten view (Engineer B) -------------------------------------------------
def _columns(page, kind: str) -> list[dict]:
    return [c for c in json.loads(page.evaluate("cnn101_state()"))["columns"] if c["kind"] == kind]


def _open_ms(page, click, selector: str, close: bool = True) -> float:
    """Page ms from `click()` to `selector` on screen (two frames after it exists); Esc closes it again."""
    page.evaluate(_ARM)
    click()
    ms = float(page.evaluate(_SHOWN, selector))
    if close:
        page.keyboard.press("Escape")
        page.wait_for_selector(selector, state="detached", timeout=5_000)
    return ms


def _neuron_click(page, col: dict, neuron: int):
    return lambda: page.click(f'[data-col="{col["index"]}"][data-neuron="{neuron}"]')


def detail_open_rows(page, model_name: str, quick: bool) -> list[dict]:
    """Click → shown for the ReLU and pool detail views, the flatten view and the softmax view."""
    opens = 2 if quick else 8
    rows = []
    cases = [(f"relu {c['name']}", "#dp-relu", c) for c in _columns(page, "relu")[:1]]
    cases += [(f"pool {c['name']}", "#dp-pool", c) for c in _columns(page, "maxpool2d")[:1]]
    cases += [("flatten (output class 0)", "#lv-flatten", _columns(page, "output")[0])]
    for name, selector, col in cases:
        _open_ms(page, _neuron_click(page, col, 0), selector)  # warm-up
        ms = [_open_ms(page, _neuron_click(page, col, 0), selector) for _ in range(opens)]
        rows.append(row("views", f"{model_name} {name}: click → view shown", stats(ms)))
    out = _columns(page, "output")[0]
    ms = []
    for _ in range(opens + 1):
        _open_ms(page, _neuron_click(page, out, 0), "#lv-flatten", close=False)
        ms.append(_open_ms(page, lambda: page.click("#lv-flatten .fv-softmax"), "#dp-softmax", close=False))
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
        page.wait_for_selector("#lv-flatten", state="detached", timeout=5_000)
    rows.append(row("views", f"{model_name} softmax (from the flatten view): click → view shown", stats(ms[1:])))
    return rows


def detail_fps_rows(page, model_name: str, quick: bool) -> list[dict]:
    """Frame rate while the ReLU and pool detail views autoplay at 1× and at 16× (a step every ~4 frames)."""
    seconds = 1.0 if quick else 4.0
    rows = []
    for kind, selector in (("relu", "#dp-relu"), ("maxpool2d", "#dp-pool")):
        col = _columns(page, kind)[0]
        page.click(f'[data-col="{col["index"]}"][data-neuron="0"]')
        page.wait_for_selector(selector, timeout=10_000)
        for speed_index, speed in ((2, "1×"), (6, "16×")):
            page.eval_on_selector(f"{selector} .dp-speed", "(e, v) => { e.value = String(v); "
                                  "e.dispatchEvent(new Event('input', {bubbles: true})); }", speed_index)
            page.wait_for_timeout(200)
            before = json.loads(page.evaluate("cnn101_views()"))[-1]
            ts = page.evaluate(_FPS, seconds * 1000)
            top = json.loads(page.evaluate("cnn101_views()"))[-1]
            gaps = [b - a for a, b in zip(ts, ts[1:])]
            fps = 1000 * len(gaps) / (ts[-1] - ts[0]) if len(ts) > 1 else 0.0
            draw = top.get("draw_ms") or [0.0]
            rows.append(row("views", f"{model_name} {kind} {col['name']}: autoplay {speed} frame gap", stats(gaps),
                            fps=round(fps, 1), p95_gap_ms=round(sorted(gaps)[int(0.95 * (len(gaps) - 1))], 1),
                            steps_drawn=top["drawn"] - before["drawn"], playing=top["playing"],
                            python_per_step_ms=round(statistics.median(draw), 2),
                            python_p95_ms=round(sorted(draw)[int(0.95 * (len(draw) - 1))], 2), target_fps=FPS_TARGET))
        page.keyboard.press("Escape")
        page.wait_for_selector(selector, state="detached", timeout=5_000)
    return rows


DETAIL_CASES: list = [detail_open_rows, detail_fps_rows]  # fn(page, model_name, quick) -> rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--site", type=Path, default=None, help="an existing build (it must hold a model)")
    args = ap.parse_args()
    rows = run(args.quick, args.site)
    print_rows(rows)
    save_json(RESULTS, {"machine": machine_info(), "quick": args.quick, "rows": rows})


if __name__ == "__main__":
    main()
