"""The experiment functions inside Pyodide (Python 3.12, NumPy 2.0.2, under Node, from the built site's
wheel) give CPython's numbers: perturbations, drawing, the occlusion map of the shipped model, a comparison
and the playground (≤ 1e-5)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest_build import built_site  # noqa: F401  (fixture)
from pyodide_node import run_pyodide

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("node") is None, reason="needs Node to run Pyodide"),
]

# Run on both sides on the same input file; every array is saved for comparison.
CODE = """
import numpy as np
import cnn101
from cnn101 import draw, perturb
from cnn101.explain import compare, occlusion, playground

def numbers(x):
    model = cnn101.load_model()
    out = {
        "keep_red": perturb.keep_channel(x, "red"),
        "occlude": perturb.occlude(x, -3, 60, 8),
        "box_blur": perturb.box_blur(x, 4),
        "gaussian_blur": perturb.gaussian_blur(x, 1.3),
        "noise": perturb.noise(x, 0.1, seed=42),
        "noise_uniform": perturb.noise(x, 0.2, seed=7, kind="uniform"),
        "rotate_30": perturb.rotate(x, 30, fill=(1.0, 0.5, 0.0)),
        "rotate_90": perturb.rotate(x, 90),
        "flip": perturb.flip(x, "vertical"),
        "shift": perturb.shift(x, 5, -7),
        "swap": perturb.swap_channels(x, "red", "blue"),
        "invert": perturb.invert(x, 1),
        "brightness": perturb.brightness(x, -0.2),
        "contrast": perturb.contrast(x, 1.7),
        "stroke": draw.stroke(x, [(3, 3), (40.5, 50), (60, 10)], 2.5, (1.0, 0.0, 0.0)),
        "stroke_red": draw.stroke(x, [(10, 10)], 4, 1.0, channel="red"),
        "fill": draw.fill(draw.stroke(np.ones_like(x), [(0, 32), (63, 32)], 1.5, 0.0), 5, 5, (0.0, 0.0, 1.0)),
    }
    k = int(model.predict(x).argmax())
    occ = occlusion(model, x, k, 8, 4)
    out["occlusion"], out["occlusion_pixels"] = occ.drops, occ.pixels
    c = compare(model.trace(x), model.trace(perturb.keep_channel(x, "red")))
    for col in c.columns:
        out["compare/" + col.name] = c.values(col.index)
    out["compare/ranges"] = np.array([c.range(col.index, s) for col in c.columns for s in ("unit", "module", "global")])
    out["compare/changes"] = np.array([[r.index, r.a, r.b] for r in c.changes])
    p = playground(x[:, :, 0], 5, 3, "same", "edges (vertical)")
    out["playground"], out["playground/positions"] = p.output, p.positions
    return out
"""

PYODIDE = CODE + """
out = numbers(np.load("/io/x.npy"))
np.savez("/io/pyodide.npz", **out)
RESULT = sorted(out)
"""


@pytest.fixture(scope="module")
def both(built_site, tmp_path_factory):  # noqa: F811
    io = tmp_path_factory.mktemp("experiments-io")
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:64, 0:64] / 64
    x = np.clip(np.stack([np.sin(7 * xx) * yy, np.cos(5 * yy), xx * yy], -1) * 0.5 + 0.5
                + rng.normal(0, 0.05, (64, 64, 3)), 0, 1).astype(np.float32)
    np.save(io / "x.npy", x)
    run = run_pyodide(PYODIDE, built_site.out, mounts={"/io": io})
    scope = {}
    exec(CODE, scope)
    return run, scope["numbers"](x), io


def test_experiments_in_pyodide_equal_cpython(both):
    run, want, io = both
    assert run.result == sorted(want)
    with np.load(io / "pyodide.npz", allow_pickle=False) as got:
        for key, value in want.items():
            np.testing.assert_allclose(got[key], value, rtol=0, atol=1e-5, err_msg=key)
    assert not np.array_equal(want["noise"], want["noise_uniform"])  # the comparison is not of empty arrays
    assert np.abs(want["occlusion"]).max() > 1e-3
