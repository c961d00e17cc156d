"""Cumulative layout shift of the page's start-up (issue 17), in headless Chromium.

    .venv/bin/python bench/bench_layout_shift.py            # 5 cold visits at 1440×900, 768×1024, 390×844
    .venv/bin/python bench/bench_layout_shift.py --quick    # 1 visit per size, to check the harness
    .venv/bin/python bench/bench_layout_shift.py --site dist

A PerformanceObserver('layout-shift', buffered) registered before the page's own scripts adds up every
shift without recent input, from navigation until Python is up, the live Overview is painted and the
example thumbnails have loaded (plus two animation frames). Prints the median per window size and writes
bench/results-layout-shift.json. Target (issue 17): ≤ 0.05 (Google's "good" is ≤ 0.1).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from bench_page import build_site  # noqa: E402
from common import machine_info, print_rows, row, save_json, stats  # noqa: E402

RESULTS = HERE / "results-layout-shift.json"
TARGET = 0.05
SIZES = [(1440, 900), (768, 1024), (390, 844)]
READY = 180_000
OBSERVE = """window.__cls = 0; window.__shifts = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) { if (e.hadRecentInput) continue;
  window.__cls += e.value; window.__shifts.push([Math.round(e.startTime), e.value,
  (e.sources || []).map((s) => s.node && s.node.nodeType === 1 ? (s.node.id || s.node.className || s.node.tagName)
                                                               : String(s.node && s.node.nodeName))]); } })
  .observe({type: 'layout-shift', buffered: true});"""
SETTLED = """() => document.documentElement.dataset.ready === '1' &&
  [...document.querySelectorAll('#examples img')].every((i) => i.complete)"""


def visit(browser, url: str, size: tuple[int, int]) -> tuple[float, list]:
    import browser as b

    ctx = b.guarded_context(browser, viewport={"width": size[0], "height": size[1]})
    try:
        ctx.add_init_script(OBSERVE)
        page = ctx.new_page()
        page.goto(url)
        page.wait_for_function(SETTLED, timeout=READY)
        b.wait_frames(page, 2)
        return page.evaluate("window.__cls"), page.evaluate("window.__shifts")
    finally:
        ctx.close()


def measure(quick: bool = False, site: Path | None = None) -> dict:
    import browser as b
    from playwright.sync_api import sync_playwright

    n = 1 if quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        source = "given site"
        if site is None:
            site, source = build_site(Path(tmp) / "dist")
        server, url = b.serve(site)
        try:
            with sync_playwright() as pw:
                browser = b.launch(pw)
                rows, worst = [], {}
                for size in SIZES:
                    runs = [visit(browser, url, size) for _ in range(n)]
                    values = [v for v, _ in runs]
                    worst[f"{size[0]}x{size[1]}"] = max(runs, key=lambda r: r[0])[1][:12]
                    rows.append(row("startup", f"layout shift at {size[0]}×{size[1]}", stats(values, "CLS"),
                                    target=TARGET))
                browser.close()
        finally:
            b.stop(server)
    return {"machine": machine_info(), "model": source, "rows": rows, "largest_run_shifts": worst,
            "note": "the machine was shared with other work while this ran"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--site", type=Path)
    args = ap.parse_args()
    doc = measure(args.quick, args.site)
    print_rows(doc["rows"])
    for size, shifts in doc["largest_run_shifts"].items():
        print(size, shifts)
    if not args.quick:
        save_json(RESULTS, doc)


if __name__ == "__main__":
    main()
