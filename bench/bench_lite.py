"""The JupyterLite notebook site (dist/lite/): cold start and bytes of a first visit to the tutorial.

Each run launches headless Chromium with a fresh profile (empty HTTP cache, no service worker), opens
lite/lab/index.html?path=cnn101-tutorial.ipynb on a local server, runs the first code cell (import
cnn101, load the model, show its summary) as soon as it can, and times:
  - the notebook shown (JupyterLab up, cells rendered),
  - the kernel idle (Pyodide and the kernel's packages loaded; JupyterLab ignores a cell run before
    the session has a kernel, so the first cell is run at that moment),
  - the first cell's output (numpy and our wheel loaded, the bundled model loaded, its summary shown).
Bytes: every file the first visit fetched up to that output, as stored (raw), gzip -6 (what the server
sends without .br copies), brotli (the build's .br copy, else quality 11), and what our server sent.

Builds a bench site with the notebook site into a temporary folder (uses the build cache). Until the
trained weights exist, the notebook loads the reference Tiny VGG from a file next to it.
Run: .venv/bin/python bench/bench_lite.py [--quick] [--runs N] [--site DIST] (--site: measure an already
built site, e.g. an older build for an old-vs-new comparison, instead of building one)
"""
from __future__ import annotations

import gzip
import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, print_rows, row, stats  # noqa: E402

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

REFERENCE = ROOT.parent / "shared" / "reference" / "cnn-explainer" / "model.json"
TIMEOUT_MS = 600_000
KERNEL_IDLE = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
    .some(e => /\\|\\s*Idle\\s*$/.test(e.textContent))"""
FIRST_OUTPUT = """() => {
  const cell = document.querySelector('.jp-Notebook .jp-CodeCell');
  return !!cell && cell.querySelectorAll('.jp-OutputArea-output').length > 0;
}"""


def _contents(tmp: Path) -> Path | None:
    """None for the repo's notebooks (bundled weights exist), else a copy loading the reference model."""
    import cnn101
    from buildsite import lite

    try:
        cnn101.load_model()
        return None
    except cnn101.ModelError:
        pass
    folder = tmp / "contents"
    folder.mkdir()
    nb = json.loads((ROOT / "notebooks" / lite.TUTORIAL).read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "model" in c.get("metadata", {}).get("tags", []))
    cell["source"] = "".join(cell["source"]).replace("cnn101.load_model()", 'cnn101.load_model("tiny-vgg.json")')
    (folder / lite.TUTORIAL).write_text(json.dumps(nb, indent=1), encoding="utf-8")
    cnn101.load_model(REFERENCE).save(folder / "tiny-vgg")
    return folder


def _site(tmp: Path) -> Path:
    from buildsite.site import BuildOptions, build

    out = tmp / "dist"
    build(BuildOptions(repo=ROOT, out=out, cache=ROOT / ".cache", data=None, lite=True,
                       notebooks=_contents(tmp)), log=lambda *a, **k: None)
    return out


def _sizes(site: Path, paths: set[str]) -> dict[str, int]:
    import brotli

    from buildsite.server import COMPRESSIBLE

    raw = gz = br = served = 0
    parts: dict[str, list[int]] = {}  # first folder -> [raw, served]
    for rel in sorted(paths):
        f = site / rel
        if f.is_dir():
            f = f / "index.html"
        if not f.is_file():
            continue
        data = f.read_bytes()
        compressible = f.suffix.lower() in COMPRESSIBLE
        g = len(gzip.compress(data, 6, mtime=0)) if compressible and len(data) >= 1024 else len(data)
        pre = f.with_name(f.name + ".br")
        b = pre.stat().st_size if compressible and pre.is_file() else \
            (len(brotli.compress(data, quality=11)) if compressible else len(data))
        raw, gz, br = raw + len(data), gz + g, br + b
        sent = pre.stat().st_size if compressible and pre.is_file() else g
        served += sent
        part = parts.setdefault(rel.split("/", 1)[0] if "/" in rel else "(root)", [0, 0])
        part[0] += len(data)
        part[1] += sent
    return {"files": len(paths), "raw": raw, "gzip": gz, "brotli": br, "served": served, "parts": parts}


def _one_run(pw, url: str, site: Path, record: bool) -> tuple[float, float, float, dict | None]:
    import browser as b

    browser = b.launch(pw)  # a new browser: a fresh profile each run
    try:
        context = b.guarded_context(browser)
        page = context.new_page()
        fetched: set[str] = set()
        if record:
            def on_response(resp):
                parts = urlsplit(resp.url)
                if resp.status == 200 and b.is_local(resp.url) and parts.scheme.startswith("http"):
                    fetched.add(unquote(parts.path).lstrip("/"))
            page.on("response", on_response)
            context.on("response", on_response)  # the kernel's Web Worker too
        t0 = time.perf_counter()
        page.goto(url + "lite/lab/index.html?path=cnn101-tutorial.ipynb")
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
        shown = time.perf_counter() - t0
        # JupyterLab ignores a cell run before the session has a kernel: run it once the kernel is idle.
        page.wait_for_function(KERNEL_IDLE, timeout=TIMEOUT_MS, polling=100)
        ready = time.perf_counter() - t0
        page.locator(".jp-Notebook .jp-CodeCell").first.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function(FIRST_OUTPUT, timeout=TIMEOUT_MS, polling=100)
        except Exception:
            b.screenshot(page, "bench-lite-timeout", full_page=False)
            raise
        first = time.perf_counter() - t0
        b.check_offline(context)
        sizes = _sizes(site, fetched) if record else None
        context.close()
        return shown, ready, first, sizes
    finally:
        browser.close()


def run(quick: bool = False, site: Path | None = None, runs: int | None = None) -> list[dict]:
    import browser as b
    from playwright.sync_api import sync_playwright

    if not b.chromium_available():
        raise SystemExit(f"{b.CHROMIUM} is missing (apt-get install chromium)")
    runs = runs or (1 if quick else 5)
    with tempfile.TemporaryDirectory(prefix="cnn101-bench-lite-") as tmp:
        site = site or _site(Path(tmp))
        server, url = b.serve(site)
        try:
            shown, ready, first, sizes = [], [], [], None
            with sync_playwright() as pw:
                for i in range(runs):
                    s, r, f, z = _one_run(pw, url, site, record=(i == 0))
                    shown.append(s)
                    ready.append(r)
                    first.append(f)
                    sizes = sizes or z
        finally:
            b.stop(server)
    rows = [
        row("lite", "cold start (fresh profile): notebook shown", stats(shown, "s")),
        row("lite", "cold start (fresh profile): kernel idle (Pyodide + ipykernel shim)", stats(ready, "s")),
        row("lite", "cold start (fresh profile): first cell's output (+ numpy, cnn101, model, summary)",
            stats(first, "s")),
    ]
    for key in ("raw", "gzip", "brotli", "served"):
        rows.append({"group": "lite", "name": f"first notebook visit bytes, {key}", "value": round(sizes[key] / 1e6, 2),
                     "unit": "MB", "files": sizes["files"]})
    for part, (raw, sent) in sorted(sizes["parts"].items()):
        rows.append({"group": "lite", "name": f"first notebook visit bytes, {part}/ served", "value":
                     round(sent / 1e6, 2), "unit": "MB", "raw_mb": round(raw / 1e6, 2)})
    return rows


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--site", type=Path, help="a built site (default: build one from this checkout)")
    parser.add_argument("--runs", type=int)
    args = parser.parse_args()
    print_rows(run(args.quick, args.site.resolve() if args.site else None, args.runs))


if __name__ == "__main__":
    main()
