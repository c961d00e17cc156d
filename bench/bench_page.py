"""The web page in headless Chromium: cold start, reload with the service worker, image switch, bytes.

    .venv/bin/python bench/bench_page.py            # 5 cold starts (+ SW reloads), 12 image switches
    .venv/bin/python bench/bench_page.py --quick    # 1 and 3, to check the harness
    .venv/bin/python bench/bench_page.py --site dist   # an existing build (it must hold a model)

Prints medians and writes bench/results-page.json. Targets on this machine (issue 4): cold ≤ 4 s, warm
(SW reload) ≤ 1.5 s, image switch ≤ 100 ms, first visit ≤ 10 MB compressed. The SW reload is measured
after the page has made its Pyodide memory snapshot (web/pyodide-start.mjs), and once more without it.
Times are from navigation
start (performance.now() in the page) to the live Overview painted (Python up, every heatmap drawn);
"snapshot shown" is the first contentful paint, when the build's prerendered Overview appears.
Bytes: what the server actually sent (gzip on the fly for text and wasm), and the raw / gzip -9 /
brotli -q 11 sizes of the distinct files fetched (brotli via Node's zlib).
"""
from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from common import machine_info, print_rows, row, save_json, stats  # noqa: E402

RESULTS = HERE / "results-page.json"
TARGETS = {"cold_ms": 4000, "warm_ms": 1500, "switch_ms": 100, "first_visit_compressed_mb": 10}
READY = 180_000
SNAPSHOT = "document.documentElement.dataset.pyodideSnapshot"
DATA = ROOT.parent / "shared" / "data" / "tiny-imagenet-10"
REFERENCE = ROOT.parent / "shared" / "reference" / "cnn-explainer"


# --- the site ------------------------------------------------------------------------------------
def build_site(out: Path) -> tuple[Path, str]:
    """A built site with a model: the trained weights if present, else the reference Tiny VGG."""
    import cnn101
    from buildsite.site import BuildOptions, build

    weights, source = None, "trained weights"
    try:
        cnn101.load_model()
    except cnn101.ModelError:
        if not (ROOT / "weights" / "tiny-vgg.json").is_file():
            weights = out.parent / "bench-weights"
            weights.mkdir(parents=True, exist_ok=True)
            cnn101.load_model(REFERENCE / "model.json").save(weights / "tiny-vgg")
            source = "reference Tiny VGG (no trained weights yet)"
    build(BuildOptions(repo=ROOT, out=out, cache=ROOT / ".cache", data=DATA if DATA.is_dir() else None,
                       weights=weights), log=lambda *a, **k: None)
    return out, source


class CountingServer:
    """buildsite.server's server for `root`, counting the body bytes it sends per path."""

    def __init__(self, root: Path):
        from buildsite.server import make_server, url_of

        self.server = make_server(root, port=0, quiet=True)
        base = self.server.RequestHandlerClass
        sent = self.sent = []
        lock = threading.Lock()

        class Counting(base.func):
            def copyfile(self, source, outputfile):
                data = source.read()
                outputfile.write(data)
                with lock:
                    sent.append((self.path.split("?")[0], len(data)))

        self.server.RequestHandlerClass = partial(Counting, **base.keywords)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = url_of(self.server)

    def take(self) -> list[tuple[str, int]]:
        out = list(self.sent)
        self.sent.clear()
        return out

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


_SIZES: dict[tuple[str, int, int], tuple[int, int, int | None]] = {}  # (path, size, mtime) -> raw, gzip, brotli


def _brotli11(files: list[Path]) -> dict[Path, int]:
    """Brotli quality-11 size of each file: the build's own `<file>.br` when it made one (same encoder and
    quality, and quality 11 costs ≈ 30 s for the 10 MB .wasm alone), else compressed here with Node's zlib."""
    out = {}
    todo = []
    for f in files:
        br = f.with_name(f.name + ".br")
        if br.is_file():  # the build writes it from this very file (paired by sha256)
            out[f] = br.stat().st_size
        else:
            todo.append(f)
    node = shutil.which("node")
    if todo and node:
        script = ("const z=require('zlib'),fs=require('fs');console.log(JSON.stringify(JSON.parse(process.argv[1]).map("
                  "f=>z.brotliCompressSync(fs.readFileSync(f),{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length)))")
        r = subprocess.run([node, "-e", script, json.dumps([str(f) for f in todo])], capture_output=True, text=True)
        if r.returncode == 0:
            out.update(zip(todo, json.loads(r.stdout)))
    return out


def compressed_sizes(root: Path, paths: set[str]) -> dict:
    """Raw, gzip -9 and brotli sizes of the distinct files fetched (each file compressed once per run)."""
    files = [root / p.lstrip("/") for p in sorted(paths)]
    files = [f / "index.html" if f.is_dir() else f for f in files]
    files = [f for f in files if f.is_file()]
    key = {f: (str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files}
    new = [f for f in files if key[f] not in _SIZES]
    br = _brotli11(new)
    for f in new:
        data = f.read_bytes()
        _SIZES[key[f]] = (len(data), len(gzip.compress(data, 9)), br.get(f))
    sizes = [_SIZES[key[f]] for f in files]
    brs = [s[2] for s in sizes]
    return {"files": len(files), "raw": sum(s[0] for s in sizes), "gzip9": sum(s[1] for s in sizes),
            "brotli11": None if None in brs else sum(brs)}


# --- the page ------------------------------------------------------------------------------------
def state(page) -> dict:
    return json.loads(page.evaluate("cnn101_state()"))


def ready_ms(page) -> float:
    page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
    return float(page.evaluate("document.documentElement.dataset.readyMs"))


def fcp_ms(page) -> float | None:
    v = page.evaluate("(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime")
    return float(v) if v is not None else None


def marks(page) -> dict:
    """The page's start-up phases (performance.mark 'cnn101:…'), ms since navigation start."""
    return page.evaluate("Object.fromEntries(performance.getEntriesByType('mark')"
                         ".filter(m => m.name.startsWith('cnn101:')).map(m => [m.name.slice(7), Math.round(m.startTime)]))")


# The cold start's phases, between consecutive performance marks (web/pyodide-start.mjs, web/app/main.py).
PHASES = [("runtime: fetch + compile Pyodide, start CPython", None, "pyodide-started"),
          ("NumPy: loadPackage (unpack, load its WebAssembly)", "pyodide-started", "packages-loaded"),
          ("our wheel + precompiled bytecode unpacked", "packages-loaded", "bytecode"),
          ("PyScript hands over (its files, its modules, main.py)", "bytecode", "python"),
          ("imports (cnn101, app modules)", "python", "imports"),
          ("model + examples loaded", "imports", "model"),
          ("first trace + Overview painted", "model", "ready")]


def resources(page) -> list[dict]:
    """Resource Timing of the page: every fetch with its start and end, ms since navigation start."""
    return page.evaluate("performance.getEntriesByType('resource').map(r => ({name: new URL(r.name).pathname, "
                         "start: Math.round(r.startTime), end: Math.round(r.responseEnd), bytes: r.transferSize}))")


def waterfall(first_visit: dict, biggest: int = 8) -> list[dict]:
    """Bars for bench/plot.waterfall_svg: FCP, the `biggest` fetches by size, then the phases."""
    bars = []
    if first_visit.get("cold_fcp_ms") is not None:
        bars.append({"label": "prerendered Overview painted (FCP)", "start": 0, "end": first_visit["cold_fcp_ms"],
                     "kind": "phase"})
    fetched = sorted(first_visit.get("cold_resources", []), key=lambda r: -(r.get("bytes") or 0))[:biggest]
    for r in sorted(fetched, key=lambda r: r["start"]):
        bars.append({"label": "fetch " + r["name"].rsplit("/", 1)[-1], "start": r["start"], "end": r["end"],
                     "kind": "fetch"})
    for label, start, end in phase_spans(first_visit.get("cold_marks", {}), PHASES):
        bars.append({"label": label, "start": start, "end": end, "kind": "phase"})
    return bars


def phase_spans(marks: dict, phases) -> list[tuple[str, float, float]]:
    """(label, start, end) of each phase whose end mark the page set; a phase whose start mark is missing
    (a page without precompiled bytecode sets no 'bytecode' mark) starts where the last one ended."""
    out, last = [], 0
    for label, a, b in phases:
        start = 0 if a is None else marks.get(a, last)
        if b in marks:
            out.append((label, start, marks[b]))
            last = marks[b]
    return out


def fetched_twice(sent: list[tuple[str, int]]) -> dict[str, int]:
    """Files the server sent more than once (with a body), and the bytes of the repeats. A folder's path is
    its index.html (the page asked for as / and as /index.html is one file sent twice)."""
    seen, again = {}, {}
    for path, n in sent:
        if n == 0:
            continue
        if path.endswith("/"):
            path += "index.html"
        if path in seen:
            again[path] = again.get(path, 0) + n
        seen[path] = n
    return again


# wait_for_function does not await a promise: each poll starts a look-up and reads the last one's answer
KEPT_POLL = """() => { const m = document.querySelector('meta[name="cnn101-bytecode"]');
    caches.match(new URL(m.content, document.baseURI).href).then(r => { window.__cnn101Kept = !!r; });
    return window.__cnn101Kept === true; }"""


def has_bytecode(site: Path) -> bool:
    return 'name="cnn101-bytecode"' in (Path(site) / "index.html").read_text(encoding="utf-8")


def visit(browser, server: CountingServer, site: Path) -> dict:
    """One cold visit in a fresh context, then a reload served by the service worker. Without Playwright's
    routing, which would switch the HTTP cache off (tests/browser.py): requests leaving localhost are still
    recorded and fail the run, and the launch flags make them unresolvable."""
    import browser as b

    ctx = b.guarded_context(browser, route=False)
    page = ctx.new_page()
    server.take()
    page.goto(server.url)
    cold = ready_ms(page)
    fcp = fcp_ms(page)
    cold_marks = marks(page)
    cold_resources = resources(page)
    page_files = server.take()  # fetched by the page itself up to the live Overview
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=60_000)
    # the page makes its Pyodide memory snapshot in a worker once it is ready (≈ 1–2 s): a second visit
    # comes later than that
    page.wait_for_function(f"['made', 'failed'].includes({SNAPSHOT})", timeout=READY)
    snapshot = page.evaluate(SNAPSHOT)
    time.sleep(0.5)
    sw_files = server.take()  # what the service worker's precache added
    page.reload()
    warm = ready_ms(page)
    warm_fcp = fcp_ms(page)
    warm_marks = marks(page)
    warm_snapshot = page.evaluate(SNAPSHOT)
    # from this second visit on, the service worker keeps the precompiled bytecode (in the background, once
    # the page is ready: pyodide-start.mjs); a returning learner's third and later visits start with it
    kept = page.wait_for_function(KEPT_POLL, timeout=60_000, polling=100) is not None if has_bytecode(site) else False
    time.sleep(0.3)
    after = server.take()
    page.reload()
    third = ready_ms(page)
    third_marks = marks(page)
    after += server.take()
    # the same reload without a snapshot (a browser that has not made one yet, or whose was dropped)
    page.evaluate("caches.delete('cnn101-pyodide-snapshot')")
    page.reload()
    warm_plain = ready_ms(page)
    warm_plain_marks = marks(page)
    after += server.take()
    ctx.close()
    b.check_offline(ctx)
    return {"cold_ms": cold, "cold_fcp_ms": fcp, "warm_ms": warm, "warm_fcp_ms": warm_fcp,
            "warm_no_snapshot_ms": warm_plain, "snapshot_after_first_visit": snapshot,
            "third_ms": third, "third_marks": third_marks, "bytecode_kept": kept,
            "warm_snapshot": warm_snapshot, "cold_marks": cold_marks, "warm_marks": warm_marks,
            "warm_no_snapshot_marks": warm_plain_marks, "cold_resources": cold_resources,
            "twice": fetched_twice(page_files + sw_files),
            "page_bytes": sum(n for _, n in page_files), "page_paths": sorted({p for p, _ in page_files}),
            "sw_bytes": sum(n for _, n in sw_files), "sw_paths": sorted({p for p, _ in sw_files}),
            "reload_bytes_from_server": sum(n for _, n in after)}


def switches(browser, server: CountingServer, site: Path, n: int, settle: bool = True) -> tuple[list[float], list[float]]:
    """Image switches: click → every heatmap repainted (page clock), and trace+paint inside Python. settle=False
    (--quick: figures meaningless) does not wait for the page to decode every example first."""
    import browser as b

    ids = [e["id"] for e in json.loads((site / "examples" / "index.json").read_text())["examples"]]
    if len(ids) < 2:
        return [], []
    ctx = b.guarded_context(browser)
    page = ctx.new_page()
    page.goto(server.url)
    ready_ms(page)
    # the page decodes every example in the background after start; a learner clicks later than that
    if settle:
        page.wait_for_function("(s => s.examples_prepared >= s.examples)(JSON.parse(cnn101_state()))", timeout=120_000)
    end_to_end, inside = [], []
    for i in range(n + 2):
        target = ids[(i + 1) % len(ids)]
        before = state(page)["paints"]
        t0 = page.evaluate(f"""() => {{ const t = performance.now();
            document.querySelector('button.example[data-id="{target}"]').click(); return t; }}""")
        page.wait_for_function(f"JSON.parse(cnn101_state()).paints > {before}", timeout=30_000, polling=5)
        st = state(page)
        if i >= 2:  # the first two warm up caches
            end_to_end.append(st["paint_end"] - t0)
            inside.append(st["switch_ms"])
    ctx.close()
    b.check_offline(ctx)
    return end_to_end, inside


def run(quick: bool = False, site: Path | None = None) -> dict:
    doc = measure(quick, site)
    return {"rows": doc["rows"], "waterfall": doc["waterfall"]}


def measure(quick: bool = False, site: Path | None = None) -> dict:
    import browser as b
    from playwright.sync_api import sync_playwright

    tmp = None
    if site is None:
        tmp = Path(tempfile.mkdtemp(prefix="cnn101-bench-page-"))
        site, source = build_site(tmp / "dist")
    else:
        source = f"given site {site}"
    server = CountingServer(site)
    visits, n_switch = (1, 3) if quick else (5, 12)
    try:
        with sync_playwright() as pw:
            browser = b.launch(pw)
            runs = [visit(browser, server, site) for _ in range(visits)]
            e2e, inside = switches(browser, server, site, n_switch, settle=not quick)
            browser.close()
    finally:
        server.stop()
    first = runs[0]
    fetched = set(first["page_paths"]) | set(first["sw_paths"])
    sizes_all = compressed_sizes(site, fetched)
    sizes_page = compressed_sizes(site, set(first["page_paths"]))
    rows = [
        row("page", "cold start → live Overview painted", stats([r["cold_ms"] for r in runs]), target_ms=TARGETS["cold_ms"]),
        row("page", "cold start → prerendered snapshot shown (FCP)",
            stats([r["cold_fcp_ms"] for r in runs if r["cold_fcp_ms"] is not None] or [float("nan")])),
        row("page", "reload with service worker → live Overview (Pyodide from its memory snapshot)",
            stats([r["warm_ms"] for r in runs]), target_ms=TARGETS["warm_ms"],
            note="snapshot " + "/".join(sorted({str(r["warm_snapshot"]) for r in runs}))),
        row("page", "third visit on (SW + snapshot + precompiled bytecode) → live Overview",
            stats([r["third_ms"] for r in runs]), target_ms=TARGETS["warm_ms"],
            note="bytecode kept: " + "/".join(sorted({str(r["bytecode_kept"]) for r in runs}))),
        row("page", "reload with service worker, no snapshot (bytecode kept) → live Overview",
            stats([r["warm_no_snapshot_ms"] for r in runs])),
        row("page", "cold start → Python running (runtime + NumPy + wheel loaded)",
            stats([r["cold_marks"].get("python", float("nan")) for r in runs])),
        row("page", "reload with SW + snapshot → Python running",
            stats([r["warm_marks"].get("python", float("nan")) for r in runs])),
        row("page", "reload with SW, no snapshot → Python running",
            stats([r["warm_no_snapshot_marks"].get("python", float("nan")) for r in runs])),
        row("page", "image switch: click on an example → all heatmaps repainted", stats(e2e or [float("nan")]),
            target_ms=TARGETS["switch_ms"], note="examples decoded in the background after start"),
        row("page", "image switch: set_image inside Python (trace, repaint, input, URL)", stats(inside or [float("nan")])),
        {"group": "page", "name": "first visit: bytes sent by the server (page + SW precache)",
         "value": round((first["page_bytes"] + first["sw_bytes"]) / 1e6, 2), "unit": "MB"},
        {"group": "page", "name": "first visit: distinct files fetched, raw", "value": round(sizes_all["raw"] / 1e6, 2),
         "unit": "MB", "files": sizes_all["files"]},
        {"group": "page", "name": "first visit: same files, gzip -9", "value": round(sizes_all["gzip9"] / 1e6, 2), "unit": "MB"},
        {"group": "page", "name": "first visit: same files, brotli -q 11",
         "value": round(sizes_all["brotli11"] / 1e6, 2) if sizes_all["brotli11"] else None, "unit": "MB",
         "target_mb": TARGETS["first_visit_compressed_mb"]},
        {"group": "page", "name": "page alone (before the SW precache): raw / brotli",
         "value": f"{sizes_page['raw'] / 1e6:.2f} / {(sizes_page['brotli11'] or 0) / 1e6:.2f}", "unit": "MB"},
        {"group": "page", "name": "later visits: bytes from the server (the bytecode, kept once on the 2nd)",
         "value": max(r["reload_bytes_from_server"] for r in runs), "unit": "B"},
        {"group": "page", "name": "first visit: files the server sent twice (page, then SW precache)",
         "value": len(first["twice"]), "unit": "files", "bytes_again": sum(first["twice"].values()),
         "largest": ", ".join(sorted(first["twice"], key=first["twice"].get, reverse=True)[:4])},
    ]
    # the cold start's waterfall, phase by phase (medians over the visits), for bench/startup.svg; the same
    # for the reload with the service worker and the snapshot (its first phase restores the snapshot)
    warm_phases = [("runtime from its memory snapshot", None, "pyodide-from-snapshot")] + PHASES[1:]
    warm_phases[1] = (warm_phases[1][0], "pyodide-from-snapshot", warm_phases[1][2])
    for what, key, phases in (("cold start", "cold_marks", PHASES), ("reload with SW + snapshot", "warm_marks", warm_phases),
                              ("third visit on (+ bytecode)", "third_marks", warm_phases)):
        spans = {}
        for r in runs:
            for label, start, end in phase_spans(r[key], phases):
                spans.setdefault(label, []).append(end - start)
        for label, _, _ in phases:
            if label in spans:
                rows.append(row("page", f"{what} phase: {label}", stats(spans[label])))
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"what": "cnn101 web page in headless Debian Chromium, served from localhost", "model": source,
            "targets": TARGETS, "machine": machine_info(), "rows": rows,
            "waterfall": waterfall(first),
            "raw": {"visits": runs, "switch_end_to_end_ms": e2e, "switch_inside_ms": inside,
                    "sizes_all": sizes_all, "sizes_page": sizes_page}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one visit, three switches")
    ap.add_argument("--site", type=Path, help="an existing built site (default: build one into a temp folder)")
    a = ap.parse_args()
    t0 = time.time()
    doc = measure(a.quick, a.site)
    print(f"model: {doc['model']}")
    print_rows(doc["rows"])
    save_json(RESULTS, doc)
    print(f"wrote {RESULTS.relative_to(ROOT)} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
