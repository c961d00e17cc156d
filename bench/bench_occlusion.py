"""How long an occlusion map takes: 64×64 input, 8×8 grey patch at stride 4 (15×15 = 225 positions) on the
shipped Tiny VGG, in CPython and in Pyodide under Node; also the per-position loop it replaces.

Run: .venv/bin/python bench/bench_occlusion.py [--quick] [--no-pyodide] [--dist PATH]
Prints rows and writes bench/results-occlusion.json. Targets (issue 13): ≤ 0.3 s CPython, ≤ 1.5 s Pyodide.
Pyodide imports cnn101 from this tree's src/ (mounted), so any built dist/ with the Pyodide files will do.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine_info, measure, print_rows, row, save_json, stats  # noqa: E402

RESULTS = ROOT / "bench" / "results-occlusion.json"
TARGETS_S = {"cpython": 0.3, "pyodide": 1.5}
SIZE, STRIDE = 8, 4

PYODIDE_CODE = """
import sys; sys.path.insert(0, '/src')
import time, numpy as np, cnn101
from cnn101.explain import occlusion
model = cnn101.load_model()
x = np.random.default_rng(0).random(model.input_shape, dtype=np.float32)
k = int(model.predict(x).argmax())
occlusion(model, x, k, SIZE, STRIDE)
out = []
for _ in range(REPEAT):
    t = time.perf_counter(); occ = occlusion(model, x, k, SIZE, STRIDE); out.append((time.perf_counter() - t) * 1e3)
lf = sys.modules["cnn101.explain.local_forward"]
lf.plan = lambda m: None
whole = []
for _ in range(3):
    t = time.perf_counter(); occlusion(model, x, k, SIZE, STRIDE); whole.append((time.perf_counter() - t) * 1e3)
RESULT = {"ms": out, "whole": whole, "positions": int(occ.drops.size), "numpy": np.__version__, "file": cnn101.__file__}
"""


def per_position(st: dict, n: int) -> dict:
    return {k: (v / n if k in ("median", "p25", "p75", "min") else v) for k, v in st.items()}


def cpython_rows(repeat: int) -> list[dict]:
    import cnn101
    from cnn101 import perturb
    from cnn101.explain import occlusion

    model = cnn101.load_model()
    x = np.random.default_rng(0).random(model.input_shape, dtype=np.float32)
    k = int(model.predict(x).argmax())
    n = occlusion(model, x, k, SIZE, STRIDE).drops.size
    st = measure(lambda: occlusion(model, x, k, SIZE, STRIDE), repeat, 2)

    def loop():
        for top in range(0, 64 - SIZE + 1, STRIDE):
            for left in range(0, 64 - SIZE + 1, STRIDE):
                model.predict(perturb.occlude(x, top, left, SIZE))

    naive = measure(loop, max(repeat // 5, 3), 1)
    lf = sys.modules["cnn101.explain.local_forward"]
    plan, lf.plan = lf.plan, (lambda m: None)  # the path for models with layers it cannot localise
    try:
        whole = measure(lambda: occlusion(model, x, k, SIZE, STRIDE), max(repeat // 5, 3), 1)
    finally:
        lf.plan = plan
    return [row("cpython", f"occlusion map, {n} positions (batched, local recomputation)", st, positions=n),
            row("cpython", "  … per position", per_position(st, n)),
            row("cpython", "occlusion map, whole occluded images through predict", whole, positions=n),
            row("cpython", f"naive loop, one predict per position ({n})", naive, positions=n)]


def pyodide_rows(repeat: int, dist: Path) -> tuple[list[dict], dict]:
    sys.path.insert(0, str(ROOT / "tests"))
    from pyodide_node import run_pyodide

    if not (dist / "build-info.json").is_file():
        return [], {"skipped": f"no built site at {dist} (run: python build.py, or pass --dist)"}
    code = PYODIDE_CODE.replace("REPEAT", str(repeat)).replace("SIZE", str(SIZE)).replace("STRIDE", str(STRIDE))
    # src/cnn101/weights is a symlink to ../../weights: mount that folder where the link points.
    run = run_pyodide(code, dist, with_wheel=False, mounts={"/src": ROOT / "src", "/weights": ROOT / "weights"})
    res = run.result
    st = stats(res["ms"])
    n = res["positions"]
    return ([row("pyodide", f"occlusion map, {n} positions (batched, local recomputation), Node", st, positions=n),
             row("pyodide", "  … per position", per_position(st, n)),
             row("pyodide", "occlusion map, whole occluded images through predict, Node", stats(res["whole"]))],
            {"numpy": res["numpy"], "cnn101_from": res["file"], "dist": str(dist)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-pyodide", action="store_true")
    ap.add_argument("--dist", type=Path, default=ROOT / "dist")
    a = ap.parse_args()
    t0 = time.time()
    repeat = 5 if a.quick else 15
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = None
    doc = {"what": f"occlusion map of Tiny VGG, 64×64×3, {SIZE}×{SIZE} patch at stride {STRIDE}; ms (median, p25, p75)",
           "targets_s": TARGETS_S, "machine": machine_info(), "loadavg_at_start": load}
    rows = cpython_rows(repeat)
    if not a.no_pyodide:
        try:
            prows, doc["pyodide"] = pyodide_rows(repeat, a.dist.resolve())
        except Exception as e:  # the bench reports and carries on; tests own correctness
            prows, doc["pyodide"] = [], {"failed": f"{type(e).__name__}: {str(e)[:500]}"}
        rows += prows
    doc["rows"] = rows
    print_rows(rows)
    if "pyodide" in doc:
        print(f"pyodide: {doc['pyodide']}")
    for env, target in TARGETS_S.items():
        r = next((r for r in rows if r["group"] == env and r["name"].startswith("occlusion map")), None)
        if r:
            print(f"target {env}: median {r['median'] / 1e3:.3f} s vs ≤ {target} s → "
                  f"{'met' if r['median'] / 1e3 <= target else 'MISSED'}")
    save_json(RESULTS, doc)
    print(f"wrote {RESULTS.relative_to(ROOT)} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
