"""The benchmark command runs end to end in quick mode, so it cannot rot (figures are not checked)."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


@pytest.mark.slow
def test_bench_run_quick_writes_every_suite(tmp_path):
    import run as bench_run

    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert set(doc["suites"]) == set(bench_run.SUITES)
    for name, suite in doc["suites"].items():
        assert "error" not in suite, f"{name}: {suite.get('error')}"
        timed = [r for r in suite["rows"] if "median" in r]
        assert timed, f"{name} produced no timed rows"
        assert all(math.isfinite(r["median"]) and r["median"] > 0 for r in timed if r["name"] != "cold start → prerendered snapshot shown (FCP)"), name
    md = out.with_suffix(".md").read_text()
    assert "![trace time against input size and width](scaling.svg)" in md
    import xml.etree.ElementTree as ET

    assert ET.fromstring((tmp_path / "scaling.svg").read_text()).tag.endswith("svg")
    for name in bench_run.SUITES:
        assert f"## {name}" in md
    for r in doc["suites"]["browser"]["rows"]:  # the engines agree on the model's output
        if "max_abs_diff_probs" in r:
            assert r["max_abs_diff_probs"] < 1e-4, r


def test_markdown_table_lists_rows():
    import run as bench_run

    doc = {"quick": True, "machine": {"cpus": 2},
           "suites": {"x": {"seconds": 1.0, "rows": [{"group": "g", "name": "thing", "median": 1.5, "p25": 1.0,
                                                      "p75": 2.0, "n": 3, "unit": "ms"},
                                                     {"group": "g", "name": "size", "value": 9.8, "unit": "MB"}]},
                      "y": {"seconds": 0.5, "error": "Traceback: boom"}}}
    md = bench_run.to_markdown(doc)
    assert "| thing | 1.500 ms | 1.000–2.000 | 3 |" in md
    assert "| size | 9.8 MB |" in md
    assert "boom" in md


def test_a_partial_run_keeps_each_suites_own_date():
    """`run.py --only x` must not make older suites look as if they ran with it (the header used to say one date)."""
    import run as bench_run

    doc = {"quick": False, "machine": {"date": "2026-12-01 04:00:00 UTC"},
           "suites": {"old": {"seconds": 1.0, "date": "2026-11-26 10:00:00 UTC", "loadavg": "0.1/0.2/0.3", "rows": []},
                      "new": {"seconds": 2.0, "date": "2026-12-01 04:00:00 UTC", "loadavg": "3.0/2.0/1.0", "rows": []},
                      "older": {"seconds": 3.0, "date": "2026-11-20 09:00:00 UTC", "rows": []}}}  # no load recorded
    md = bench_run.to_markdown(doc)
    assert "suite by suite" in md and "on 2026-12-01" not in md.splitlines()[2]
    assert "## old (1 s, 2026-11-26 10:00:00 UTC, load 0.1/0.2/0.3)" in md
    assert "## new (2 s, 2026-12-01 04:00:00 UTC, load 3.0/2.0/1.0)" in md
    assert "## older (3 s, 2026-11-20 09:00:00 UTC)" in md


def test_startup_waterfall_from_marks_and_fetches():
    """The page suite's waterfall: FCP, the biggest fetches, the phases between marks; drawn as one bar each."""
    import xml.etree.ElementTree as ET

    import bench_page
    from plot import waterfall_svg

    visit = {"cold_fcp_ms": 200, "cold_marks": {"pyodide-started": 1500, "python": 2400, "imports": 3000,
                                                  "model": 3100, "ready": 3300},
             "cold_resources": [{"name": "/pyodide/pyodide.asm.wasm", "start": 50, "end": 900, "bytes": 2_300_000},
                                {"name": "/favicon.ico", "start": 60, "end": 70, "bytes": 900}]}
    bars = bench_page.waterfall(visit, biggest=1)
    labels = [b["label"] for b in bars]
    assert labels[0].startswith("prerendered") and labels[1] == "fetch pyodide.asm.wasm" and len(bars) == 2 + 5
    assert [(b["start"], b["end"]) for b in bars[2:]] == [(0, 1500), (1500, 2400), (2400, 3000), (3000, 3100),
                                                          (3100, 3300)]
    svg = ET.fromstring(waterfall_svg(bars))
    rects = [e for e in svg.iter() if e.tag.endswith("rect")]
    assert len(rects) == len(bars)
    assert waterfall_svg([]) is None


def test_files_sent_twice_are_counted():
    import bench_page

    sent = [("/a.js", 10), ("/b.wasm", 100), ("/a.js", 0), ("/b.wasm", 100), ("/c", 5)]  # 0: a 304, no body
    assert bench_page.fetched_twice(sent) == {"/b.wasm": 100}
    # the page as / and as /index.html is one file
    assert bench_page.fetched_twice([("/", 7), ("/index.html", 7), ("/lite/", 3)]) == {"/index.html": 7}


def test_scaling_plot_has_one_point_per_row():
    from plot import scaling_svg

    rows = [{"name": f"full trace, input {s}×{s}", "median": m} for s, m in ((32, 0.2), (64, 0.6), (128, 2.5))]
    rows += [{"name": f"full trace, {c} channels per conv", "median": m} for c, m in ((10, 0.5), (20, 1.0))]
    svg = scaling_svg(rows)
    assert svg.count("<circle") == 5
    assert scaling_svg([]) is None
