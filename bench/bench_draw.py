"""The drawing pad in headless Chromium: time from one pointer move of a brush stroke to the Overview
repainted with it (issue 13's target: median ≤ 50 ms).

    .venv/bin/python bench/bench_draw.py            # 80 moves (a new stroke every 16)
    .venv/bin/python bench/bench_draw.py --quick    # 8 moves: checks the harness
    .venv/bin/python bench/bench_draw.py --site dist

Each sample dispatches one `pointermove` on the pad (performance.now() just before it) and waits for the page
to say that change is traced (`#lab[data-traced]`). Rows (bench/common.py format; group "draw"):
- `draw stroke: move → Overview repainted` — to the moment the Python side finished repainting every
  heatmap and the input (`#lab[data-shown-at]`), ms;
- `draw stroke: move → next frame` — to the first animation frame after that (what the eye can see), ms;
- `webcam live: frame interval` — live mode with Chromium's fake camera: ms between traced frames (target
  ≥ 15 traced frames per second, i.e. ≤ 66.7 ms), over `seconds` of live mode.
Figures, not assertions; the machine may be shared with other work (say so when quoting them).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from common import machine_info, print_rows, row, save_json, served_site, stats  # noqa: E402

RESULTS = HERE / "results-draw.json"
READY = 180_000
TARGET_MS = 50

# JS: one pointer event on the pad at pixel (r, c) of an h×w input; a move resolves with
# [ms to the repainted Overview, ms to the next animation frame].
_EVENT = """([type, r, c, h, w]) => { const cv = document.getElementById('lab-canvas'); const b = cv.getBoundingClientRect();
  cv.dispatchEvent(new PointerEvent(type, {clientX: b.left + (c + 0.5) * b.width / w, clientY: b.top + (r + 0.5) * b.height / h,
    pointerId: 1, pointerType: 'mouse', isPrimary: true, buttons: type === 'pointerup' ? 0 : 1, bubbles: true, cancelable: true})); }"""
_MOVE = """async ([r, c, h, w, want]) => { const lab = document.getElementById('lab'); const cv = document.getElementById('lab-canvas');
  const b = cv.getBoundingClientRect(); const t0 = performance.now();
  cv.dispatchEvent(new PointerEvent('pointermove', {clientX: b.left + (c + 0.5) * b.width / w,
    clientY: b.top + (r + 0.5) * b.height / h, pointerId: 1, pointerType: 'mouse', isPrimary: true, buttons: 1,
    bubbles: true, cancelable: true}));
  while (Number(lab.dataset.traced || 0) < want) { await new Promise(f => requestAnimationFrame(f));
    if (performance.now() - t0 > 10000) return null; }
  const shown = Number(lab.dataset.shownAt) - t0;
  await new Promise(f => requestAnimationFrame(f));
  return [shown, performance.now() - t0]; }"""


def lab_changes(page) -> int:
    return int(json.loads(page.evaluate("cnn101_state()"))["lab"]["changes"])


def webcam_row(pw, url: str, seconds: float) -> dict:
    """Live mode for `seconds`: the gaps between traced frames (the page's frame counter, read each rAF)."""
    import browser as b

    cam = b.launch(pw, args=["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
    try:
        ctx = b.guarded_context(cam)
        page = ctx.new_page()
        page.goto(url)
        page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
        page.click("#webcam-start")
        page.wait_for_function("document.getElementById('webcam-video').videoWidth > 0", timeout=30_000)
        page.click("#webcam-capture")  # warm-up: Pillow loaded, first allocations
        page.wait_for_function("JSON.parse(cnn101_webcam(false)).frames > 0", timeout=60_000)
        page.check("#webcam-live")
        times = page.evaluate("""async ms => { const out = []; let last = JSON.parse(cnn101_webcam(false)).frames;
            const t0 = performance.now();
            while (performance.now() - t0 < ms) { await new Promise(f => requestAnimationFrame(f));
              const n = JSON.parse(cnn101_webcam(false)).frames; if (n !== last) { out.push(performance.now()); last = n; } }
            return out; }""", seconds * 1000)
        page.uncheck("#webcam-live")
        ctx.close()
    finally:
        cam.close()
    gaps = [b_ - a for a, b_ in zip(times, times[1:])] or [float("nan")]
    fps = 1000 * (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    return row("draw", "webcam live: frame interval", stats(gaps), traced_fps=round(fps, 1), target_fps=15)


def run(quick: bool = False, site: Path | None = None) -> list[dict]:
    import browser as b

    with served_site(site, "draw") as (pw, browser, url):
        ctx = b.guarded_context(browser)
        page = ctx.new_page()
        page.goto(url)
        page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
        st = json.loads(page.evaluate("cnn101_state()"))
        h, w = st["model"]["input_shape"][:2]
        page.click("#lab-toggle")
        page.check('input[name="lab-tool"][value="brush"]')
        moves, per_stroke = (8, 4) if quick else (80, 16)
        shown, frame = [], []
        k = 0
        while len(shown) < moves + 2:
            r0 = 4 + (k * 7) % (h - 8)
            page.evaluate(_EVENT, ["pointerdown", r0, 2, h, w])
            for j in range(1, per_stroke + 1):
                want = lab_changes(page) + 1
                got = page.evaluate(_MOVE, [r0 + (j % 3), 2 + j * (w - 4) / per_stroke, h, w, want])
                if got is not None:
                    shown.append(got[0])
                    frame.append(got[1])
            page.evaluate(_EVENT, ["pointerup", r0, w - 2, h, w])
            k += 1
        shown, frame = shown[2:], frame[2:]  # the first moves warm up (imports, first allocations)
        rows = [row("draw", f"{st['model']['name']} draw stroke: move → Overview repainted", stats(shown),
                    target_ms=TARGET_MS, moves_per_stroke=per_stroke),
                row("draw", f"{st['model']['name']} draw stroke: move → next frame", stats(frame))]
        ctx.close()
        rows.append(webcam_row(pw, url, 1.0 if quick else 5.0))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--site", type=Path)
    args = ap.parse_args()
    rows = run(args.quick, args.site)
    print_rows(rows)
    save_json(RESULTS, {"machine": machine_info(), "quick": args.quick, "rows": rows})


if __name__ == "__main__":
    main()
