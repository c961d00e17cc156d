"""Shared benchmark helpers: timing statistics, machine facts and the results file.

Every bench script exposes `run(quick: bool = False) -> list[dict]` (rows) and a `main()` that prints them.
A row: {"group", "name", "median", "p25", "p75", "n", "unit", ...extra}. Medians, never means: the machines are noisy.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"


def stats(samples: list[float], unit: str = "ms") -> dict:
    """Median and quartiles of samples (already in `unit`)."""
    s = sorted(samples)
    q = statistics.quantiles(s, n=4) if len(s) >= 2 else [s[0], s[0], s[0]]
    return {"median": statistics.median(s), "p25": q[0], "p75": q[2], "min": s[0], "n": len(s), "unit": unit}


def measure(fn, repeat: int = 50, warmup: int = 5) -> dict:
    """Time fn() `repeat` times after `warmup` calls; statistics in milliseconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
    return stats(samples)


def row(group: str, name: str, st: dict, **extra) -> dict:
    return {"group": group, "name": name, **st, **extra}


def _version(cmd: list[str]) -> str | None:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info() -> dict:
    import numpy

    info = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "chromium": _version(["/usr/bin/chromium", "--version"]),
        "node": _version(["node", "--version"]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    from importlib import metadata

    for dist in ("tensorflow-cpu", "keras", "playwright", "pillow", "jupyterlite-core", "jupyterlite-pyodide-kernel"):
        try:
            info[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[dist] = None
    try:
        lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
        for name in ("pyodide", "@pyscript/core", "@tensorflow/tfjs"):
            info[f"npm {name}"] = lock.get(f"node_modules/{name}", {}).get("version")
    except (OSError, ValueError, KeyError):
        pass
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        info["cpu_model"] = next((ln.split(":", 1)[1].strip() for ln in cpu.splitlines() if ln.startswith("model name")), None)
    except OSError:
        pass
    return info


def print_rows(rows: list[dict]) -> None:
    for r in rows:
        if "median" in r:
            print(f"{r['group']:<12} {r['name']:<58} {r['median']:>10.3f} {r.get('unit', 'ms'):<5} "
                  f"(p25 {r['p25']:.3f}, p75 {r['p75']:.3f}, n={r['n']})")
        else:
            print(f"{r['group']:<12} {r['name']:<58} {r.get('value')} {r.get('unit', '')}")


def save_json(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n")


def script_main(run) -> list[dict]:
    """`python bench/<suite>.py [--quick]`: run one suite and print its rows."""
    import sys

    rows = run(quick="--quick" in sys.argv)
    print_rows(rows)
    return rows


@contextmanager
def served_site(site: Path | None, prefix: str, args: tuple = ()):
    """For the page benchmarks: (playwright, a launched Chromium, the site's URL) — the site given, or one
    built into a temporary folder (bench_page.build_site) — served from localhost; everything is closed
    and the temporary site removed afterwards. `args`: extra Chromium flags (e.g. the fake camera)."""
    import tempfile

    from playwright.sync_api import sync_playwright

    import browser as b
    from bench_page import build_site

    tmp = None
    if site is None:
        tmp = tempfile.TemporaryDirectory(prefix=f"bench-{prefix}-")
        site, _ = build_site(Path(tmp.name) / "dist")
    server, url = b.serve(site)
    pw = sync_playwright().start()
    chromium = b.launch(pw, args=list(args))
    try:
        yield pw, chromium, url
    finally:
        chromium.close()
        pw.stop()
        b.stop(server)
        if tmp is not None:
            tmp.cleanup()
