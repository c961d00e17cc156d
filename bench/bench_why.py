"""'Why this class?' in headless Chromium: click → gradient Overview painted, and the attribution methods'
times in the page (Pyodide).

    .venv/bin/python bench/bench_why.py            # 8 toggles, 5 runs per method
    .venv/bin/python bench/bench_why.py --quick    # 2 and 1: checks the harness
    .venv/bin/python bench/bench_why.py --site dist

Rows (bench/common.py format; group "why"):
- `click → gradient Overview painted`: from the click on 'Why this class?' (a capture listener's
  performance.now()) to two animation frames after the page's why-mode paint count (#why's data-count)
  went up (target ≤ 150 ms);
  this includes the default attribution (vanilla gradient) and its overlay;
- `python: gradient Overview` — the Python part of it (gradient_overview + every heatmap repainted), ms;
- `<method>: compute` — the page's own time for the attribution (why_mode.attr_ms: explain call only), and
  `<method>: change → painted` from the select's change to two frames after the overlay was repainted
  (Grad-CAM, SmoothGrad with n = 16, gradient × input, occlusion);
- `click → backward view painted: <layer> (<kind>)`: in why mode, from the click on a neuron to two frames
  after its backward view's panel is in the page (conv, ReLU, max-pool, the output's flatten + dense).
Figures, not assertions. The machine is shared with other workers: quote medians, say so.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from common import machine_info, print_rows, row, save_json, served_site, stats  # noqa: E402

RESULTS = HERE / "results-why.json"
TARGET_MS = 150
WHY = "JSON.parse(cnn101_state()).why"
_ARM = """(ev) => { window.__w = {}; document.addEventListener(ev, () => { window.__w.t = performance.now(); },
          {capture: true, once: true}); }"""
_DONE = """async ([n, method]) => { const t0 = performance.now();
    const panel = document.getElementById('why');
    for (;;) { const d = panel.dataset;  // set by why_mode after each paint (no snapshot in the loop)
      if (d.on && +d.count >= n && d.method === method) break;
      await new Promise(r => setTimeout(r, 1)); if (performance.now() - t0 > 60000) return null; }
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - window.__w.t; }"""


def why(page) -> dict:
    return json.loads(page.evaluate("cnn101_state()"))["why"]


def toggle_rows(page, name: str, n: int) -> list[dict]:
    total, python = [], []
    for _ in range(n):
        count = why(page)["count"]
        page.evaluate(_ARM, "click")
        page.click("#why-toggle")
        total.append(page.evaluate(_DONE, [count + 1, "gradient"]))
        python.append(why(page)["paint_ms"])
        page.click("#why-toggle")  # back to the activations
        page.wait_for_function(f"!{WHY}.on")
    return [row("why", f"{name}: click → gradient Overview painted", stats(total), target_ms=TARGET_MS),
            row("why", f"{name}: python: gradient Overview", stats(python))]


def method_rows(page, name: str, n: int) -> list[dict]:
    rows = []
    page.click("#why-toggle")
    page.wait_for_function(f"{WHY}.on")
    for method in ("gradcam", "smoothgrad", "gradient_x_input", "occlusion"):
        compute, shown = [], []
        for _ in range(n):
            page.select_option("#why-method", "gradient")
            page.wait_for_function(f"{WHY}.method === 'gradient'")
            count = why(page)["count"] + 1
            page.evaluate(_ARM, "change")
            page.select_option("#why-method", method)
            shown.append(page.evaluate(_DONE, [count, method]))
            compute.append(why(page)["attr_ms"])
        label = "smoothgrad (n=16)" if method == "smoothgrad" else method
        rows += [row("why", f"{name}: {label}: compute", stats(compute)),
                 row("why", f"{name}: {label}: change → painted", stats(shown))]
    return rows


_OPENED = """async (panel) => { const t0 = performance.now();
    while (!document.getElementById(panel)) { await new Promise(r => setTimeout(r, 1));
      if (performance.now() - t0 > 60000) return null; }
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - window.__w.t; }"""


def backward_rows(page, name: str, n: int) -> list[dict]:
    """In why mode: click on a neuron → its backward view painted (per layer kind)."""
    if not why(page)["on"]:
        page.click("#why-toggle")
        page.wait_for_function(f"{WHY}.on")
    cols = json.loads(page.evaluate("cnn101_state()"))["columns"]
    kinds = {}
    for c in cols[1:]:
        kinds.setdefault("output" if c is cols[-1] else c["kind"], c)
    rows = []
    for kind, panel in (("conv2d", "dp-back-conv"), ("relu", "dp-back-relu"), ("maxpool2d", "dp-back-pool"),
                        ("output", "dp-back-flatten")):
        col = kinds.get(kind)
        if col is None:
            continue
        times = []
        for k in range(n):
            page.evaluate(_ARM, "click")
            page.click(f'[data-col="{col["index"]}"][data-neuron="{k % 2}"]')
            times.append(page.evaluate(_OPENED, panel))
            page.keyboard.press("Escape")
            page.wait_for_function("JSON.parse(cnn101_views()).length === 0")
        rows.append(row("why", f"{name}: click → backward view painted: {col['name']} ({kind})", stats(times)))
    return rows


def run(quick: bool = False, site: Path | None = None) -> list[dict]:
    from bench_views import open_page

    rows: list[dict] = []
    with served_site(site, "why") as (_, browser, url):
        ctx, page = open_page(browser, url)
        name = json.loads(page.evaluate("cnn101_state()"))["model"]["name"]
        rows += toggle_rows(page, name, 2 if quick else 8)
        rows += method_rows(page, name, 1 if quick else 5)
        rows += backward_rows(page, name, 1 if quick else 5)
        ctx.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--site", type=Path, default=None, help="an existing build (it must hold a model)")
    args = ap.parse_args()
    before = os.getloadavg()
    rows = run(args.quick, args.site)
    print_rows(rows)
    load = {"before": [round(v, 2) for v in before], "after": [round(v, 2) for v in os.getloadavg()]}
    print(f"load average (1, 5, 15 min) before {load['before']}, after {load['after']} on {os.cpu_count()} CPUs")
    save_json(RESULTS, {"machine": machine_info(), "quick": args.quick, "shared_machine": True,
                        "load_average": load, "rows": rows})


if __name__ == "__main__":
    main()
