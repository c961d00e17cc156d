"""The JupyterLite notebook site (dist/lite/): its build, and the tutorial run in headless Chromium.

The browser test opens the tutorial in JupyterLab, runs every cell (menu Run → Run All Cells) on the
site's own Pyodide, and checks the outputs: no error, the engine's prediction for the notebook's example
image, rendered heatmaps, section 10's training (the loss falls; every printed figure equals CPython's);
every request outside localhost is aborted and fails the test.

Until the trained weights exist (weights/tiny-vgg.json, shipped inside our wheel), the site is built
with a copy of the notebook that loads the reference Tiny VGG from a file next to it
(`cnn101.load_model("tiny-vgg.json")`, read through JupyterLite's drive); with the weights, the
notebook runs exactly as committed, bare `cnn101.load_model()` and all.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from buildsite import BuildError
from buildsite import lite

import browser as b
from conftest import REPO

NOTEBOOK = REPO / "notebooks" / lite.TUTORIAL
LOAD = "cnn101.load_model()"
RUN_TIMEOUT_MS = 600_000  # a cold kernel and every cell on a shared 2-core machine; not a speed check


def quiet(*_a, **_k):
    pass


def cell_tagged(nb: dict, tag: str) -> dict:
    cells = [c for c in nb["cells"] if tag in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, tag
    return cells[0]


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.fixture(scope="module")
def lite_url(lite_site):
    server, url = b.serve(lite_site.out)
    yield url
    b.stop(server)


# --- the built site -------------------------------------------------------------------------------------
def kernel_settings(out: Path) -> dict:
    config = json.loads((out / "lite" / "jupyter-lite.json").read_text())
    return config["jupyter-config-data"]["litePluginSettings"][lite.KERNEL_PLUGIN]


def test_config_points_the_kernel_at_the_sites_own_pyodide(lite_site):
    out = lite_site.out
    settings = kernel_settings(out)
    assert settings["pyodideUrl"] == "./../pyodide/pyodide.js"
    # JupyterLite prefixes "./" with the folder of the jupyter-lite.json holding it: lite/ -> pyodide/
    assert (out / "lite" / ".." / "pyodide" / "pyodide.js").resolve() == (out / "pyodide" / "pyodide.js").resolve()
    assert (out / "pyodide" / "pyodide.js").is_file()
    assert settings["disablePyPIFallback"] is True
    assert all(u.startswith("./") for u in settings["pipliteUrls"])
    assert settings["loadPyodideOptions"]["lockFileURL"] == "./" + lite.LOCK_NAME
    # everything the kernel installs as it starts, loaded at once while Pyodide starts (else one by one)
    assert settings["loadPyodideOptions"]["packages"] == ["micropip", "piplite", "ssl", "sqlite3", "ipykernel",
                                                          "comm", "pyodide_kernel", "jedi", "ipython"]


def test_kernel_lock_is_the_official_one_plus_ours_and_jupyterlites_wheels_with_bytecode(lite_site):
    out = lite_site.out
    official = json.loads((out / "pyodide" / "pyodide-lock.json").read_text())
    assert (out / "pyodide" / "pyodide-lock.json").read_bytes() == \
        (REPO / "node_modules/pyodide/pyodide-lock.json").read_bytes()  # the app's lock is untouched
    ours = json.loads((out / "lite" / lite.LOCK_NAME).read_text())
    assert ours["info"] == official["info"]
    jupyterlite = {"piplite", "ipykernel", "pyodide-kernel", "comm"}
    assert set(ours["packages"]) == set(official["packages"]) | {"cnn101"} | jupyterlite
    entry = ours["packages"]["cnn101"]
    assert entry["imports"] == ["cnn101"] and entry["depends"] == ["numpy"]
    assert ours["packages"]["pyodide-kernel"]["imports"] == ["pyodide_kernel"]
    assert all(d in ours["packages"] for n in jupyterlite | {"cnn101"} for d in ours["packages"][n]["depends"])
    # the kernel's packages (and numpy, cnn101 for the first cell) come with bytecode from lite/pyc/;
    # their entries differ from the official ones in file name and sha256 only
    moved = {k for k, v in official["packages"].items() if ours["packages"][k] != v}
    assert {"ipython", "prompt-toolkit", "pygments", "traitlets", "jedi", "micropip", "numpy"} <= moved
    originals = {k: out / "pyodide" / official["packages"][k]["file_name"] for k in moved}
    originals["cnn101"] = out / lite_site.wheel
    pypi = {p.name: p for p in (out / "lite").rglob("*.whl") if p.parent.name == "pypi"}  # JupyterLite's
    for name in jupyterlite:
        original = pypi[lite.JUPYTERLITE_WHEELS[name][0]]
        if ours["packages"][name]["file_name"].startswith("../lite/pyc/"):
            originals[name] = original
        else:  # ipykernel's shim: none of its modules is imported as the kernel starts, so no bytecode
            assert (out / "pyodide" / ours["packages"][name]["file_name"]).resolve() == original.resolve()
            assert ours["packages"][name]["sha256"] == __import__("hashlib").sha256(original.read_bytes()).hexdigest()
    assert {"piplite", "pyodide-kernel", "comm"} <= set(originals)
    for name, original in originals.items():
        entry = dict(ours["packages"][name])
        assert entry["file_name"].startswith("../lite/pyc/"), name
        wheel = (out / "pyodide" / entry.pop("file_name")).resolve()  # file names resolve against pyodide/
        assert wheel.parent.parent == (out / "lite" / "pyc").resolve()
        assert entry.pop("sha256") == __import__("hashlib").sha256(wheel.read_bytes()).hexdigest()
        if name in official["packages"]:
            assert entry == {k: v for k, v in official["packages"][name].items() if k not in ("file_name", "sha256")}
        assert_same_wheel_plus_bytecode(original, wheel)


def assert_same_wheel_plus_bytecode(original: Path, repacked: Path) -> None:
    """`repacked` holds every member of `original` with the same bytes (RECORD: plus a line per .pyc), and
    checked-hash CPython 3.12 .pyc files beside sources, each matching its source (or CPython ignores it)."""
    import _imp
    import zipfile

    old, new = zipfile.ZipFile(original), zipfile.ZipFile(repacked)
    added = sorted(set(new.namelist()) - set(old.namelist()))
    assert added and all(n.endswith(".cpython-312.pyc") and "/__pycache__/" in "/" + n for n in added)
    for n in old.namelist():
        if n.endswith(".dist-info/RECORD"):
            assert new.read(n) == old.read(n).rstrip(b"\n") + b"\n" + b"".join(f"{a},,\n".encode() for a in added)
        else:
            assert new.read(n) == old.read(n), n
    for n in added:
        folder, _, file = n.rpartition("__pycache__/")
        pyc = new.read(n)
        assert pyc[:4] == (3531).to_bytes(2, "little") + b"\r\n", n  # CPython 3.12, whatever runs the build
        flags, key = int.from_bytes(pyc[4:8], "little"), int.from_bytes(pyc[:4], "little")
        source = new.read(folder + file.split(".")[0] + ".py")
        assert flags == 0b11 and pyc[8:16] == _imp.source_hash(key, source), n  # PEP 552, checked hash


def test_piplite_index_has_comm_and_our_wheel(lite_site):
    out = lite_site.out
    index = json.loads((out / "lite" / "pypi" / "all.json").read_text())
    assert set(index) == {"comm", "cnn101"}
    assert list(index["comm"]["releases"]) == ["0.2.2"]
    comm = out / "lite" / "pypi" / lite.COMM_FILE
    assert __import__("hashlib").sha256(comm.read_bytes()).hexdigest() == lite.COMM_SHA256
    assert (out / "lite" / "files" / lite.TUTORIAL).is_file()


def test_shipped_notebook_is_ours_with_the_pyodide_kernelspec(lite_site, lite_contents):
    shipped = json.loads((lite_site.out / "lite" / "files" / lite.TUTORIAL).read_text(encoding="utf-8"))
    source_nb = json.loads((lite_contents / lite.TUTORIAL).read_text(encoding="utf-8"))
    assert shipped["metadata"]["kernelspec"] == {"name": "python", "display_name": "Python (Pyodide)",
                                                 "language": "python"}
    assert source_nb["metadata"]["kernelspec"]["name"] == "python3"  # the repo's copy: CPython Jupyter
    assert shipped["cells"] == source_nb["cells"]


def test_lite_is_outside_the_apps_service_worker(lite_site):
    out = lite_site.out
    sw = (out / "sw.js").read_text()
    precache = json.loads(re.search(r"const PRECACHE = (\{.*?\n\});", sw, re.S).group(1))
    on_demand = json.loads(re.search(r"const ON_DEMAND = new Set\((\[.*?\])\);", sw, re.S).group(1))
    assert precache and on_demand
    # neither precached nor cached on demand: JupyterLite's own service worker runs lite/
    assert not [p for p in [*precache, *on_demand] if p.startswith("lite/")]
    assert 'if (url.pathname.startsWith(SCOPE + "lite/")) return;' in sw
    assert "build-info.json" in precache  # fetched by every page load, offline too
    assert not list((out / "lite").rglob("*.map"))
    info = json.loads((out / "build-info.json").read_text())
    assert info["notebook"] == "./lite/lab/index.html?path=cnn101-tutorial.ipynb"
    assert (out / "lite" / "lab" / "index.html").is_file()


def test_the_notebook_sites_worker_is_ours_and_lists_all_it_may_load(lite_site):
    out = lite_site.out
    info = json.loads((out / "build-info.json").read_text())
    worker = (out / lite.SERVICE_WORKER).read_text()
    assert "const CHANNEL = new BroadcastChannel(\"/sw-api.v1\")" in worker  # JupyterLite's drive protocol
    precache = json.loads(re.search(r"const PRECACHE = (\{.*?\n\});", worker, re.S).group(1))
    lite_files = {p for p in info["files"] if p.startswith("lite/") and not p.endswith(".br")}
    assert set(precache) >= lite_files - {lite.SERVICE_WORKER}
    assert lite.SERVICE_WORKER not in precache
    kernel = lite.kernel_files((out / "lite" / lite.LOCK_NAME).read_bytes()) & set(info["files"])
    assert kernel | {"pyodide/pyodide.js", "pyodide/pyodide.asm.wasm"} <= set(precache)
    assert any(p.startswith("lite/pyc/") for p in kernel)
    # not the originals the kernel takes with bytecode from lite/pyc/ (the notebook never fetches them)
    shipped = {"pyodide/" + n for n in info["packages"]["app"] + info["packages"]["notebook_only"]} | {info["wheel"]}
    assert shipped - kernel and not (shipped - kernel) & set(precache)
    # the kernel starts from the official stdlib and lock; the app's stored copies are not its to fetch
    assert {"pyodide/python_stdlib.zip", "pyodide/pyodide-lock.json"} <= set(precache)
    assert info["app_runtime"] and not [p for p in precache if p.startswith("pyodide/stored/")]
    for path, integrity in precache.items():
        digest = __import__("base64").b64decode(integrity.removeprefix("sha256-")).hex()
        assert digest == info["files"][path]["sha256"], path
    assert f'"@APP_VERSION@"' not in worker and f'+ "{info["service_worker_cache"]}"' in worker


def test_jupyterlite_leaves_the_apps_worker_alone(lite_site):
    chunks = [p for p in (lite_site.out / "lite" / "build").glob("*.js")
              if b"_unregisterOldServiceWorkers" in p.read_bytes()]
    assert chunks
    for chunk in chunks:
        code = chunk.read_bytes()
        assert lite._UNREGISTER[0] not in code and lite._UNREGISTER[1] in code
        assert lite._CONTROLLED[0] not in code and lite._CONTROLLED[1] in code
        assert lite._REGISTERED[1] in code
    plan = {"lite/build/x.js": b"async _unregisterOldServiceWorkers(e){ something else }"}
    with pytest.raises(BuildError, match="not the one of jupyterlite-core"):
        lite.patch_jupyterlite(plan)
    with pytest.raises(BuildError, match="was not found"):
        lite.patch_jupyterlite({"lite/build/y.js": b"nothing here"})


def test_bundled_weights_are_in_our_wheel_when_they_exist(lite_site):
    import zipfile

    names = zipfile.ZipFile(lite_site.out / lite_site.wheel).namelist()
    if not (REPO / "weights" / "tiny-vgg.json").is_file():
        pytest.skip("no trained weights yet (weights/tiny-vgg.json)")
    assert "cnn101/weights/tiny-vgg.json" in names and "cnn101/weights/tiny-vgg.npz" in names


# --- build reproducibility ------------------------------------------------------------------------------
def _comm_into(cache: Path) -> None:
    have = REPO / ".cache" / "lite-wheels" / lite.COMM_FILE
    if have.is_file():  # no second download
        (cache / "lite-wheels").mkdir(parents=True, exist_ok=True)
        shutil.copy2(have, cache / "lite-wheels" / lite.COMM_FILE)


@pytest.mark.slow
def test_a_stale_doit_db_does_not_leak_into_the_build(lite_site, tmp_path):
    cache = tmp_path / "cache"
    _comm_into(cache)
    wheel = lite_site.out / lite_site.wheel
    lock = REPO / "node_modules/pyodide/pyodide-lock.json"
    args = (REPO, cache, wheel, "0.1.0", lock, REPO / "notebooks")
    plan = lite.lite_files(*args, log=quiet)
    assert json.loads(Path(plan["lite/jupyter-lite.json"]).read_text())  # built

    # The hazard is real: JupyterLite's own build, re-run in the same lite dir after its output was
    # deleted, trusts its .jupyterlite.doit.db and writes a config without our pyodideUrl.
    work, out = tmp_path / "plain", tmp_path / "plain-out"
    lite.jupyter_lite_build(work, out, REPO / "notebooks", [cache / "lite-wheels" / lite.COMM_FILE],
                            (json.dumps(lite.lite_config()) + "\n").encode(), log=quiet)
    assert (work / lite.DB_NAME).is_file()
    shutil.rmtree(out)
    subprocess.run([sys.executable, "-m", "jupyterlite_core", "build", "--lite-dir", str(work), "--output-dir",
                    str(out), "--contents", str(REPO / "notebooks")], cwd=work, capture_output=True, check=True)
    stale = json.loads((out / "jupyter-lite.json").read_text())["jupyter-config-data"]
    assert "pyodideUrl" not in stale.get("litePluginSettings", {}).get(lite.KERNEL_PLUGIN, {})
    with pytest.raises(BuildError, match="pyodideUrl"):
        lite.check_config(out / "jupyter-lite.json")

    # Ours: the cached output deleted and stale dbs planted wherever a lite dir could be: still right.
    for folder in (cache / "lite", cache / "lite" / "work"):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(work / lite.DB_NAME, folder / lite.DB_NAME)
    for built in (cache / "lite").iterdir():
        if (built / ".complete").is_file():
            shutil.rmtree(built)
    plan = lite.lite_files(*args, log=quiet)
    config = Path(plan["lite/jupyter-lite.json"])
    lite.check_config(config)
    assert json.loads(config.read_text())["jupyter-config-data"]["litePluginSettings"][lite.KERNEL_PLUGIN][
        "pyodideUrl"] == lite.PYODIDE_URL


def test_check_config_refuses_a_config_without_the_local_pyodide(tmp_path):
    good = lite.lite_config()
    settings = good["jupyter-config-data"]["litePluginSettings"][lite.KERNEL_PLUGIN]
    path = tmp_path / "jupyter-lite.json"
    path.write_text(json.dumps(good))
    lite.check_config(path)
    for key, value in [("pyodideUrl", "https://cdn.example/pyodide/v0.27.6/full/pyodide.js"),
                       ("pyodideUrl", "../pyodide/pyodide.js"), ("disablePyPIFallback", False)]:
        bad = json.loads(json.dumps(good))
        bad["jupyter-config-data"]["litePluginSettings"][lite.KERNEL_PLUGIN][key] = value
        path.write_text(json.dumps(bad))
        with pytest.raises(BuildError):
            lite.check_config(path)
    del settings["pyodideUrl"]
    path.write_text(json.dumps(good))
    with pytest.raises(BuildError, match="pyodideUrl"):
        lite.check_config(path)


# --- the tutorial in the browser -------------------------------------------------------------------------
def expected_prediction(contents: Path, model) -> str:
    """What the engine predicts, in CPython, for the image the notebook draws."""
    nb = json.loads((contents / NOTEBOOK.name).read_text(encoding="utf-8"))
    scope = {"model": model}
    exec("import numpy as np\n" + source(cell_tagged(nb, "image")).replace("nb.image(x)", ""), scope)
    return model.class_names[int(model.trace(scope["x"]).predicted)]


KERNEL_IDLE = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
    .some(e => /\\|\\s*Idle\\s*$/.test(e.textContent))"""
ALL_RUN = """(n) => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')];
  return prompts.length === n && prompts.every(p => /^\\[\\d+\\]:$/.test(p.textContent.trim()));
}"""
ALL_RUN_OR_DIALOG = """(n) => document.querySelector('.jp-Dialog') !== null || (""" + ALL_RUN + """)(n)"""
CELL_OUTPUTS = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].map(c => ({
  source: c.querySelector('.jp-InputArea-editor').textContent,
  text: [...c.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText).join('\\n'),
  errors: [...c.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
            .map(o => o.innerText),
  pngs: [...c.querySelectorAll('.jp-OutputArea-output img, .jp-OutputArea-output svg image')]
          .filter(i => (i.getAttribute('src') || i.getAttribute('href') || '').startsWith('data:image/png')).length,
  svgs: c.querySelectorAll('.jp-OutputArea-output svg').length,
}))"""


OVERVIEW_BOXES = """() => [...document.querySelectorAll('.cnn101-ov')].map((ov) => {
  const box = (e) => { const r = e.getBoundingClientRect(); return {l: r.left, t: r.top, r: r.right, b: r.bottom}; };
  const style = getComputedStyle(ov);
  return {
    frame: box(ov), scrollWidth: ov.scrollWidth, clientWidth: ov.clientWidth, overflowX: style.overflowX,
    area: box(ov.closest('.jp-OutputArea-output')),
    parts: [...ov.querySelectorAll('.ov-class, .ov-label, .ov-legend')].map(box),
    inputs: [...ov.querySelectorAll('.ov-neuron[data-col="0"]')].map(box),
    captions: [...ov.querySelectorAll('.ov-caption')].map(box),
    inputLabel: box(ov.querySelector('.ov-label[data-col="0"]')),
  };
})"""


def check_overview_fits(page) -> None:
    """At 1440 px, every part of each notebook Overview is on screen or in a frame the learner can scroll,
    and each input channel's caption sits beside its own heatmap, clear of the column label."""
    shown = page.evaluate(OVERVIEW_BOXES)
    assert shown
    for ov in shown:
        f = ov["frame"]
        assert f["r"] <= ov["area"]["r"] + 1  # the frame itself fits the output area
        scrolls = ov["scrollWidth"] > ov["clientWidth"] and ov["overflowX"] in ("auto", "scroll")
        for p in ov["parts"]:
            assert p["r"] <= f["l"] + ov["scrollWidth"] + 1, (p, ov["scrollWidth"])
            assert p["r"] <= f["r"] + 1 or scrolls, (p, f, ov["overflowX"])
        assert len(ov["captions"]) == len(ov["inputs"]) == 3
        for cap, img in zip(ov["captions"], ov["inputs"]):
            assert img["t"] <= (cap["t"] + cap["b"]) / 2 <= img["b"] and cap["r"] <= img["l"] + 1, (cap, img)
            lab = ov["inputLabel"]
            assert cap["b"] <= lab["t"] or cap["t"] >= lab["b"] or cap["r"] <= lab["l"], (cap, lab)


def expected_learn_lines(contents: Path, model) -> list[str]:
    """What sections 10's cells print when run in CPython on the same model ("Teach it your own classes":
    cnn101.learn trains a new output layer with a fixed seed)."""
    import contextlib
    import io

    nb = json.loads((contents / NOTEBOOK.name).read_text(encoding="utf-8"))
    scope = {"model": model}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec("import numpy as np\n" + source(cell_tagged(nb, "image")).replace("nb.image(x)", ""), scope)
        exec(source(cell_tagged(nb, "learn")), scope)
        exec(source(cell_tagged(nb, "learn-try")).replace("nb.overview(", "(lambda *a, **k: None)("), scope)
    return printed_learn_lines(out.getvalue())


def printed_learn_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if re.match(r"\s*(epoch|held-out accuracy after|peel)", line)]


def open_tutorial(page, url: str) -> None:
    """Open the tutorial; return as soon as its cells are shown (the kernel may still be starting)."""
    page.goto(url + lite.notebook_url().removeprefix("./"))
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)


def run_all(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.real_start  # the notebook site's own service worker carries JupyterLite's drive (sw-api.v1)
def test_the_tutorial_runs_in_jupyterlite(page, lite_url, lite_contents, app_model):
    code_cells = sum(c["cell_type"] == "code"
                     for c in json.loads((lite_contents / NOTEBOOK.name).read_text(encoding="utf-8"))["cells"])
    page.set_viewport_size({"width": 1440, "height": 900})  # the Overview's fit is checked at this width
    open_tutorial(page, lite_url)
    # Wait for the kernel: JupyterLab silently skips a cell run before the session has a kernel at all
    # (its prompt stays "[ ]"), which would leave this test waiting; a learner just runs it again.
    page.wait_for_function(KERNEL_IDLE, timeout=RUN_TIMEOUT_MS, polling=500)
    run_all(page)
    page.wait_for_function(ALL_RUN_OR_DIALOG, arg=code_cells, timeout=RUN_TIMEOUT_MS, polling=1000)
    assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").inner_text()
    page.wait_for_function(KERNEL_IDLE, timeout=RUN_TIMEOUT_MS)
    b.screenshot(page, "lite-tutorial-run", full_page=False)
    cells = page.evaluate(CELL_OUTPUTS)
    assert len(cells) == code_cells

    for c in cells:
        assert not c["errors"] or not any(re.search(r"Traceback|Error\b", e) for e in c["errors"]), \
            (c["source"][:200], c["errors"])
    predicted = [c for c in cells if 'print("predicted:"' in c["source"]]
    assert len(predicted) == 1
    assert f"predicted: {expected_prediction(lite_contents, app_model)}" in predicted[0]["text"]
    overview = [c for c in cells if 'nb.overview(trace, scope="unit")' in c["source"]]
    assert overview and overview[0]["pngs"] >= 3, overview  # heatmaps, as PNG images in the HTML output
    check_overview_fits(page)
    conv = [c for c in cells if "nb.conv_neuron(" in c["source"]]
    assert conv and conv[0]["svgs"] >= 1 and conv[0]["pngs"] >= 1
    # Section 10 ("Teach it your own classes") trained the head in the JupyterLite kernel: the loss falls and
    # every figure it prints equals CPython's run of the same cells (same model, same seeds), to the digit.
    learned = [c for c in cells if "learn.fit(" in c["source"] or "mine.trace(" in c["source"]]
    assert len(learned) == 2, [c["source"][:60] for c in learned]
    lines = printed_learn_lines("\n".join(c["text"] for c in learned))
    losses = [float(v) for v in re.findall(r"loss (\d+\.\d+)", "\n".join(lines))]
    assert len(losses) == 5 and losses[-1] < losses[0] / 4, lines
    assert lines == expected_learn_lines(lite_contents, app_model)
    by_hand = [c for c in cells if "by_hand = " in c["source"]][0]["text"]
    values = [float(v) for v in re.findall(r"(?:by hand|engine):\s+(-?\d+\.\d+)", by_hand)]
    assert len(values) == 2 and abs(values[0] - values[1]) < 1e-4

    # The link back to the app: left to the browser, resolved against the lab page to the site root.
    link = page.locator(".jp-RenderedMarkdown a", has_text="Open the cnn101 app")
    assert link.count() == 1
    assert link.evaluate("a => a.href") == lite_url + "index.html#%"
    problems = [p for p in b.console_problems(page) if p.startswith("pageerror")]
    assert not problems, problems
