"""Webcam live mode in headless Chromium with its fake camera: traced frames per second (issue 13's target:
≥ 15) and where a frame's time goes.

    .venv/bin/python bench/bench_webcam.py              # 3 runs of 6 s of live mode
    .venv/bin/python bench/bench_webcam.py --quick      # 1 run of 1.5 s: checks the harness
    .venv/bin/python bench/bench_webcam.py --site dist

The page counts traced frames on `#webcam[data-frames]`; the harness watches that attribute with a
MutationObserver (no call into Python while measuring, which would itself slow the page). Rows
(bench/common.py format; group "webcam"):
- `webcam live: traced frames per second` — frames / seconds of each run (median over the runs);
- `webcam live: frame interval` — ms between traced frames (all runs);
- `webcam live: grab / load_image / trace + repaint` — the page's own timings of one frame's phases
  (`#webcam[data-grab-ms]` …): the camera picture read from a canvas, `cnn101.load_image` (centre crop and
  resize), `App.set_image` (trace, Overview, input, lab).
Figures, not assertions; the machine may be shared with other work (say so when quoting them).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from common import machine_info, print_rows, row, save_json, served_site, stats  # noqa: E402

RESULTS = HERE / "results-webcam.json"
READY = 180_000
TARGET_FPS = 15

# JS: watch #webcam for `ms`; every change of data-frames records the time and the phase timings.
_WATCH = """ms => new Promise(done => { const el = document.getElementById('webcam'); const out = [];
  const seen = () => out.push([performance.now(), Number(el.dataset.frames), Number(el.dataset.grabMs),
                               Number(el.dataset.loadMs), Number(el.dataset.showMs)]);
  const obs = new MutationObserver(seen); obs.observe(el, {attributes: true, attributeFilter: ['data-frames']});
  setTimeout(() => { obs.disconnect(); done(out); }, ms); })"""


def run(quick: bool = False, site: Path | None = None) -> list[dict]:
    import browser as b

    runs, seconds = (1, 1.5) if quick else (3, 6.0)
    fps, gaps, grab, load, show = [], [], [], [], []
    fake_camera = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
    with served_site(site, "webcam", fake_camera) as (_, cam, url):
        ctx = b.guarded_context(cam)
        page = ctx.new_page()
        page.goto(url)
        page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
        page.click("#webcam-start")
        page.wait_for_function("document.getElementById('webcam-video').videoWidth > 0", timeout=30_000)
        size = page.evaluate("(() => { const v = document.getElementById('webcam-video'); return [v.videoWidth, v.videoHeight]; })()")
        page.click("#webcam-capture")  # warm-up: Pillow loaded, first allocations
        page.wait_for_function("Number(document.getElementById('webcam').dataset.frames) > 0", timeout=60_000)
        for _ in range(runs):
            page.check("#webcam-live")
            seen = page.evaluate(_WATCH, seconds * 1000)[2:]  # the first frames warm up
            page.uncheck("#webcam-live")
            page.wait_for_function("!JSON.parse(cnn101_webcam(false)).busy", timeout=30_000)
            if len(seen) > 1:
                fps.append(1000 * (seen[-1][1] - seen[0][1]) / (seen[-1][0] - seen[0][0]))
                gaps += [b_[0] - a[0] for a, b_ in zip(seen, seen[1:])]
                grab += [s[2] for s in seen]
                load += [s[3] for s in seen]
                show += [s[4] for s in seen]
        ctx.close()
    camera = f"fake camera {size[0]}×{size[1]}"
    return [row("webcam", "webcam live: traced frames per second", stats(fps or [float("nan")], unit="fps"),
                target_fps=TARGET_FPS, runs=runs, seconds_per_run=seconds, camera=camera),
            row("webcam", "webcam live: frame interval", stats(gaps or [float("nan")])),
            row("webcam", "webcam live: grab (canvas → NumPy)", stats(grab or [float("nan")])),
            row("webcam", "webcam live: load_image (crop + resize)", stats(load or [float("nan")])),
            row("webcam", "webcam live: set_image (trace + repaint)", stats(show or [float("nan")]))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--site", type=Path)
    args = ap.parse_args()
    rows = run(args.quick, args.site)
    print_rows(rows)
    print(f"median traced fps: {rows[0]['median']:.1f} (target ≥ {TARGET_FPS})")
    save_json(RESULTS, {"machine": machine_info(), "quick": args.quick, "rows": rows})


if __name__ == "__main__":
    main()
