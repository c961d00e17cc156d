"""The JupyterLite site in dist/lite/: the tutorial notebook on the site's own verified Pyodide.

Built with `jupyter lite build` (jupyterlite-core 0.6.4 + jupyterlite-pyodide-kernel 0.6.1) in a work
folder under the cache, and kept there by a key of all its inputs, so a rebuild with nothing changed
runs no JupyterLite at all. The kernel uses the site's Pyodide files in dist/pyodide/ (no second copy):

- `pyodideUrl` is "./../pyodide/pyodide.js". JupyterLite prefixes a value starting with "./" with the
  path of the folder of the jupyter-lite.json that holds it (dist/lite/), whatever the page, so this is
  <site>/pyodide/pyodide.js under any sub-path. A plain "../pyodide/pyodide.js" is NOT rewritten and the
  kernel resolves it against the page (lite/lab/index.html), i.e. lite/pyodide/: wrong.
- `disablePyPIFallback`: piplite never asks PyPI.
- `loadPyodideOptions.lockFileURL` = the lite folder's cnn101-pyodide-lock.json: the official lock,
  unchanged but for one added entry for our wheel (file_name "../wheels/<ours>.whl", relative to
  pyodide/, i.e. the app's own copy), so a bare `import cnn101` loads it (the kernel runs Pyodide's
  loadPackagesFromImports on each cell). The official pyodide/pyodide-lock.json is still served unchanged.
- `--piplite-wheels`: comm 0.2.2 (the kernel hangs without it; pinned by sha256) and our wheel (so
  `%pip install cnn101` works too).
- `loadPyodideOptions.packages`: every package the kernel installs as it starts (KERNEL_PACKAGES). The
  kernel skips its own one-by-one installs (micropip, then piplite, then seven `piplite.install`s) for
  those, and Pyodide loads them all at once while it starts. JupyterLite's piplite, ipykernel shim and
  pyodide_kernel wheels and comm are not in Pyodide's lock: our lock gets entries for them
  (JUPYTERLITE_WHEELS, files of the JupyterLite build).
- The kernel's packages, NumPy and our wheel come with their bytecode inside, from lite/pyc/ (named by our
  lock only; buildsite/kernel_bytecode.py): the kernel no longer compiles IPython & co at each start.

Offline: JupyterLite's own lite/service-worker.js caches nothing (`enableCache` is false) and is
replaced by ours (buildsite/service_worker.py render_lite_sw, written by site.py once every file's hash
is known). JupyterLite's ServiceWorkerManager (@jupyterlite/server, in two chunks under lite/build/)
starts with `_initialize`: when the page is controlled by any worker, it runs
`_unregisterOldServiceWorkers`, which, when `localStorage["<that worker's URL>-version"]` is not
JupyterLite's appVersion (the notebook's first visit, under the app's sw.js), unregistered every worker
of the origin (getRegistrations(), no match on anything), the app's included, so the app was not
offline any more; then it took `getRegistration(<that worker's URL>)`, i.e. the app's registration, for
its own and never registered lite/service-worker.js, so the kernel's drive requests went to the app's
worker. `patch_jupyterlite` makes both steps apply only to JupyterLite's own workers (script name
service-worker.js), and notes the version when it registers its worker (it did not, so the next visit,
offline too, unregistered the worker that was to serve it). The code is checked against the pinned JupyterLite's exact text: another version
stops the build here rather than silently drop offline.

JupyterLite caches its steps in .jupyterlite.doit.db next to the config: with the output deleted, a
stale db silently dropped pyodideUrl once and the kernel went to the CDN. The db and the output are
deleted before every build, and the built config is checked (`check_config`) before it is used.
"""
from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path, PurePosixPath

from . import BuildError
from .bytecode import BytecodeError
from .files import Source, pip_download, sha256_file
from .kernel_bytecode import kernel_wheels, served_path

JUPYTERLITE_CORE = "0.6.4"
PYODIDE_KERNEL = "0.6.1"
COMM_REQUIREMENT = "comm==0.2.2"
COMM_FILE = "comm-0.2.2-py3-none-any.whl"
COMM_SHA256 = "e6fb86cb70ff661ee8c9c14e7d36d6de3b4066f1441be4063df9c5009f0a64d3"

PREFIX = "lite/"
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
PYODIDE_URL = "./../pyodide/pyodide.js"   # see the module docstring
LOCK_NAME = "cnn101-pyodide-lock.json"
DB_NAME = ".jupyterlite.doit.db"
PYODIDE_KERNELSPEC = {"name": "python", "display_name": "Python (Pyodide)", "language": "python"}
#: The notebook a visitor is sent to (relative to the site root; see notebook_url()).
TUTORIAL = "cnn101-tutorial.ipynb"
#: Not shipped: source maps (45 MB of the 61 MB JupyterLite writes) and JupyterLite's build state.
_SKIP_SUFFIXES = (".map",)
_SKIP_NAMES = {DB_NAME}
#: JupyterLite's worker, replaced by ours; the sha256 of the one 0.6.4 writes (to notice a change of it).
SERVICE_WORKER = PREFIX + "service-worker.js"
JUPYTERLITE_SW_SHA256 = "04c589404da6460117751131c3ea8786d26be313776ef5be4bd53d4e6cdda772"
_OWN_WORKER = b'new URL(%s.scriptURL).pathname.endsWith("/service-worker.js")'
#: (JupyterLite's code, ours): in _initialize, a page controlled by any worker, then only by its own ...
_CONTROLLED = (b"if(t.controller){const e=t.controller.scriptURL;",
               b"if(t.controller&&" + _OWN_WORKER % b"t.controller" + b"){const e=t.controller.scriptURL;")
#: ... in _unregisterOldServiceWorkers: every registration of the origin, then only JupyterLite's own.
_UNREGISTER = (b"await Promise.all(e.map((e=>e.unregister())))",
               b"await Promise.all(e.filter((e=>[e.active,e.waiting,e.installing].some((w=>w&&"
               + _OWN_WORKER % b"w" + b")))).map((e=>e.unregister())))")
#: ... and on registering its worker, JupyterLite did not note the version it registered, so the next
#: visit (controlled by that worker) took it for an old one and unregistered it: offline, for good.
_REGISTERED = (b's=await t.register(e),console.info("JupyterLite ServiceWorker was sucessfully registered")',
               b's=await t.register(e),localStorage.setItem(`${e}-version`,d),'
               b'console.info("JupyterLite ServiceWorker was sucessfully registered")')
_APP_VERSION = b'd=a.PageConfig.getOption("appVersion")'  # `d` in _REGISTERED
_MANAGER = b"async _unregisterOldServiceWorkers(e){"
#: What pyodide-kernel 0.6.1's worker loads as it starts: micropip (loadPackage), piplite (micropip.install),
#: then ssl, sqlite3, ipykernel, comm, pyodide_kernel, jedi, ipython (piplite.install, one after the
#: other). Those named in loadPyodideOptions.packages it skips, and Pyodide loads them all at once, from
#: our lock (each file checked against its sha256), while it starts.
KERNEL_PACKAGES = ("micropip", "piplite", "ssl", "sqlite3", "ipykernel", "comm", "pyodide_kernel", "jedi", "ipython")
#: Those not in Pyodide's lock: JupyterLite's own wheels (its piplite index) and comm (ours): lock name →
#: (wheel file name, imports, depends), entries of our lock.
JUPYTERLITE_WHEELS = {
    "piplite": ("piplite-0.6.1-py3-none-any.whl", ["piplite"], ["micropip"]),
    "ipykernel": ("ipykernel-6.9.2-py3-none-any.whl", ["ipykernel"], []),
    "pyodide-kernel": ("pyodide_kernel-0.6.1-py3-none-any.whl", ["pyodide_kernel"], ["ipython", "ipykernel", "comm"]),
    "comm": (COMM_FILE, ["comm"], ["traitlets"]),
}


def notebook_url(name: str = TUTORIAL) -> str:
    """The link from the app's page (site root) to a notebook opened in JupyterLab."""
    return f"./lite/lab/index.html?path={name}"


def lite_config() -> dict:
    settings = {
        "pyodideUrl": PYODIDE_URL,
        "disablePyPIFallback": True,
        "loadPyodideOptions": {"lockFileURL": "./" + LOCK_NAME, "packages": list(KERNEL_PACKAGES)},
    }
    return {"jupyter-lite-schema-version": 0,
            "jupyter-config-data": {
                "appName": "cnn101 notebooks",
                "litePluginSettings": {KERNEL_PLUGIN: settings},
                # JupyterLab attaches only the cells in view by default ("full"): the browser's find
                # (Ctrl+F) then misses most of the tutorial, and so would a test reading the outputs.
                # "none" attaches every cell (fine for a tutorial-sized notebook); "defer" threw a
                # TypeError in JupyterLab's table of contents (cellInViewportChanged) on load.
                "settingsOverrides": {"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}},
            }}


def check_versions() -> None:
    """Stop unless the pinned JupyterLite packages are the ones installed."""
    want = {"jupyterlite-core": JUPYTERLITE_CORE, "jupyterlite-pyodide-kernel": PYODIDE_KERNEL}
    for name, version in want.items():
        try:
            got = metadata.version(name)
        except metadata.PackageNotFoundError:
            got = None
        if got != version:
            raise BuildError(f"the notebook site needs {name}=={version} (found {got or 'none'}): run "
                             "`bash scripts/setup.sh dev`, or build with --no-lite.")


def download_comm(cache: Path, log=print) -> Path:
    """comm 0.2.2 from PyPI with pip, pinned by sha256 (the kernel needs it; no lock has it)."""
    return pip_download(COMM_REQUIREMENT, COMM_SHA256, COMM_FILE, cache / "lite-wheels", log, "lite",
                        "Check the network, or build with --no-lite.")


def kernel_lock(official_lock: Path, wheel: Path, version: str, wheels: dict[str, tuple[str, Path]]) -> dict:
    """The official lock plus entries for our wheel and for the kernel's wheels that Pyodide's lock lacks
    (`wheels`: JUPYTERLITE_WHEELS name → (path relative to the site root, file)), for the notebook kernel."""
    lock = json.loads(official_lock.read_bytes())
    if "cnn101" in lock["packages"]:
        raise BuildError(f"{official_lock} already has a 'cnn101' entry: is it the official lock?")
    lock["packages"]["cnn101"] = {
        "name": "cnn101", "version": version,
        "file_name": f"../wheels/{wheel.name}",  # resolved against pyodide/ (the indexURL)
        "install_dir": "site", "sha256": sha256_file(wheel), "package_type": "package",
        "imports": ["cnn101"], "depends": ["numpy"], "unvendored_tests": False,
    }
    for name, (file, imports, depends) in JUPYTERLITE_WHEELS.items():
        if name in lock["packages"]:
            raise BuildError(f"{official_lock} already has a {name!r} entry: is it the official lock?")
        rel, path = wheels[name]
        lock["packages"][name] = {
            "name": name, "version": file.split("-")[1], "file_name": f"../{rel}", "install_dir": "site",
            "sha256": sha256_file(path), "package_type": "package", "imports": imports, "depends": depends,
            "unvendored_tests": False}
    return lock


def lock_bytes(lock: dict) -> bytes:
    return (json.dumps(lock, separators=(",", ":"), sort_keys=True) + "\n").encode()


def kernel_files(lock: bytes) -> set[str]:
    """The files (relative to the site root) the notebook's lock names: what the kernel may load."""
    names = (e["file_name"] for e in json.loads(lock)["packages"].values())
    return {posixpath.normpath("pyodide/" + n) for n in names}


def for_pyodide_kernel(notebook: bytes) -> bytes:
    """The notebook with the Pyodide kernel's kernelspec. With the CPython one ("python3") JupyterLab
    picks the Pyodide kernel by language, but a cell run before that kernel is up opens a "Select
    Kernel" dialog. The repo's notebook keeps "python3" for CPython Jupyter."""
    nb = json.loads(notebook)
    nb.setdefault("metadata", {})["kernelspec"] = dict(PYODIDE_KERNELSPEC)
    return (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode()


def _contents(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise BuildError(f"{folder} is missing: the notebook site needs the notebooks.")
    files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
             if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)}
    if not any(n.endswith(".ipynb") for n in files):
        raise BuildError(f"{folder} holds no notebook (.ipynb).")
    return files


def _key(config: bytes, contents: dict[str, Path], wheels: list[Path]) -> str:
    h = hashlib.sha256()
    h.update(f"jupyterlite-core {JUPYTERLITE_CORE} pyodide-kernel {PYODIDE_KERNEL} py {sys.version_info[:2]} "
             f"kernelspec {sorted(PYODIDE_KERNELSPEC.items())}\n".encode())
    h.update(config)
    for rel, p in contents.items():
        h.update(rel.encode() + b"\0" + p.read_bytes() + b"\0")
    for w in wheels:
        h.update(w.name.encode() + b"\0" + sha256_file(w).encode())
    return h.hexdigest()[:16]


def check_config(config_path: Path) -> None:
    """Stop unless the built jupyter-lite.json sends the kernel to the site's own Pyodide and never to PyPI."""
    try:
        data = json.loads(config_path.read_text())
        settings = data["jupyter-config-data"]["litePluginSettings"][KERNEL_PLUGIN]
    except (OSError, ValueError, KeyError) as exc:
        raise BuildError(f"the built {config_path} has no Pyodide kernel settings ({exc!r}): "
                         "the kernel would load Pyodide from a CDN.") from None
    problems = []
    if settings.get("pyodideUrl") != PYODIDE_URL:
        problems.append(f"pyodideUrl is {settings.get('pyodideUrl')!r}, not {PYODIDE_URL!r}")
    if settings.get("disablePyPIFallback") is not True:
        problems.append("disablePyPIFallback is not true")
    if settings.get("loadPyodideOptions", {}).get("lockFileURL") != "./" + LOCK_NAME:
        problems.append("loadPyodideOptions.lockFileURL is not our lock")
    for url in settings.get("pipliteUrls", []):
        if not url.startswith("./"):
            problems.append(f"piplite index {url!r} is not local")
    if problems:
        raise BuildError(f"the built {config_path} would not work offline: " + "; ".join(problems) +
                         f". A stale {DB_NAME}? Delete .cache/lite and build again.")


def jupyter_lite_build(work: Path, out: Path, contents: Path, wheels: list[Path], config: bytes, log=print) -> None:
    """`jupyter lite build` with `work` as its lite dir, into `out`; stale state of an earlier run removed."""
    # JupyterLite keeps its task state in <lite dir>/.jupyterlite.doit.db: with the output gone, a stale
    # db makes it skip steps, and the built config silently loses pyodideUrl. Start from nothing.
    work.mkdir(parents=True, exist_ok=True)
    (work / DB_NAME).unlink(missing_ok=True)
    shutil.rmtree(work / ".cache", ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    (work / "jupyter-lite.json").write_bytes(config)
    cmd = [sys.executable, "-m", "jupyterlite_core", "build", "--lite-dir", str(work),
           "--output-dir", str(out), "--contents", str(contents)]
    for w in wheels:
        cmd += ["--piplite-wheels", str(w)]
    log("lite: jupyter lite build (once per change of the notebooks or wheels)")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    run = subprocess.run(cmd, cwd=work, capture_output=True, text=True, env=env)
    if run.returncode != 0 or not (out / "jupyter-lite.json").is_file():
        raise BuildError(f"`jupyter lite build` failed ({run.returncode}):\n"
                         f"{(run.stdout + run.stderr).strip()[-3000:]}")


def patch_jupyterlite(plan: dict[str, Source]) -> list[str]:
    """Make JupyterLite's ServiceWorkerManager (see the module docstring) leave the app's worker alone,
    in the plan's lite/build/*.js; returns the patched paths. Stops unless the pinned code is found."""
    patched = []
    for rel, src in plan.items():
        if not (rel.startswith(PREFIX + "build/") and rel.endswith(".js")):
            continue
        data = src.read_bytes() if isinstance(src, Path) else bytes(src)
        if _MANAGER not in data:
            continue
        for old, new in (_CONTROLLED, _UNREGISTER, _REGISTERED):
            if data.count(old) != 1 or data.count(_APP_VERSION) != 1:
                raise BuildError(f"{rel}: JupyterLite's ServiceWorkerManager is not the one of jupyterlite-core "
                                 f"{JUPYTERLITE_CORE}: check buildsite/lite.py patch_jupyterlite.")
            data = data.replace(old, new)
        plan[rel] = data
        patched.append(rel)
    if not patched:
        raise BuildError("JupyterLite's ServiceWorkerManager was not found in lite/build/: it would unregister "
                         "the app's service worker. Check buildsite/lite.py patch_jupyterlite.")
    return patched


def lite_files(repo: Path, cache: Path, wheel: Path, version: str, official_lock: Path,
               contents: Path | None = None, log=print, *, runtime: dict[str, Path] | None = None,
               packages: dict[str, Path] | None = None) -> dict[str, Source]:
    """'lite/<rel>' -> source for the whole notebook site, built (or taken from the cache) and checked.
    With Pyodide's `runtime` files and the verified lock `packages` (file name → path), the kernel's
    packages get their bytecode (buildsite/kernel_bytecode.py); without, the kernel compiles them."""
    check_versions()
    contents = contents or repo / "notebooks"
    files = _contents(contents)
    comm = download_comm(cache, log)
    wheels = [comm, wheel]
    config = (json.dumps(lite_config(), indent=2, sort_keys=True) + "\n").encode()
    root = cache / "lite"
    key = _key(config, files, wheels)
    out = root / key
    if not (out / ".complete").is_file():
        root.mkdir(parents=True, exist_ok=True)
        # A private folder per build: two builds at once (tests, another engineer) never share state.
        with tempfile.TemporaryDirectory(dir=root, prefix="tmp-") as tmp:
            staging = Path(tmp) / "contents"  # JupyterLite sees exactly the files hashed into the key
            for rel, p in files.items():
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                if rel.endswith(".ipynb"):
                    (staging / rel).write_bytes(for_pyodide_kernel(p.read_bytes()))
                else:
                    shutil.copy2(p, staging / rel)
            built = Path(tmp) / "out"
            jupyter_lite_build(Path(tmp) / "work", built, staging, wheels, config, log)
            check_config(built / "jupyter-lite.json")
            (built / ".complete").write_text(key)
            shutil.rmtree(out, ignore_errors=True)
            try:
                os.replace(built, out)
            except OSError:
                if not (out / ".complete").is_file():  # not a concurrent build's finished copy
                    raise
        _prune(root, keep=3)
    check_config(out / "jupyter-lite.json")
    plan: dict[str, Source] = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        if p.is_file() and p.name != ".complete" and p.name not in _SKIP_NAMES \
                and not rel.endswith(_SKIP_SUFFIXES):
            plan[PREFIX + rel] = p
    found = {PurePosixPath(rel).name: (rel, p) for rel, p in plan.items()
             if rel.endswith(".whl") and "/pypi/" in rel and isinstance(p, Path)}
    missing = [file for file, _, _ in JUPYTERLITE_WHEELS.values() if file not in found]
    if missing:
        raise BuildError(f"the JupyterLite build lacks {missing}: check buildsite/lite.py JUPYTERLITE_WHEELS.")
    jupyterlite = {name: found[file] for name, (file, _, _) in JUPYTERLITE_WHEELS.items()}
    lock = kernel_lock(official_lock, wheel, version, jupyterlite)
    if runtime is not None and packages is not None:
        _with_bytecode(plan, lock, official_lock, wheel, jupyterlite, runtime, packages, cache, log)
    plan[PREFIX + LOCK_NAME] = lock_bytes(lock)
    if SERVICE_WORKER not in plan or sha256_file(plan[SERVICE_WORKER]) != JUPYTERLITE_SW_SHA256:
        raise BuildError(f"{SERVICE_WORKER} is not the one of jupyterlite-core {JUPYTERLITE_CORE}; the build "
                         "replaces it with its own: check its protocol against buildsite/service_worker.py.")
    del plan[SERVICE_WORKER]  # site.py writes ours once every file's hash is known
    patch_jupyterlite(plan)
    missing = [n for n in files if n.endswith(".ipynb") and PREFIX + "files/" + n not in plan]
    if missing:
        raise BuildError(f"the JupyterLite build lacks the notebooks {missing}.")
    return plan


def _with_bytecode(plan: dict[str, Source], lock: dict, official_lock: Path, wheel: Path,
                   jupyterlite: dict[str, tuple[str, Path]], runtime: dict[str, Path], packages: dict[str, Path],
                   cache: Path, log) -> None:
    """The kernel's packages with bytecode (buildsite/kernel_bytecode.py) into the plan, and named by the
    kernel's `lock` (file and sha256); left as they are if Node failed (the kernel then compiles them)."""
    from .pyodide_lock import NOTEBOOK_PACKAGES, PyodideLock

    official = json.loads(official_lock.read_bytes())
    by_file = {v["file_name"]: k for k, v in official["packages"].items()}
    closure = PyodideLock(official_lock, official["info"]["version"]).closure(NOTEBOOK_PACKAGES + ("numpy",))
    names = sorted(by_file[e.file_name] for e in closure)
    wheels = {name: (packages[official["packages"][name]["file_name"]],
                     "stdlib" if official["packages"][name]["install_dir"] == "stdlib" else "site")
              for name in names if official["packages"][name]["file_name"].endswith(".whl")}
    wheels["cnn101"] = (wheel, "site")
    wheels.update({name: (path, "site") for name, (_, path) in jupyterlite.items()})
    try:
        made = kernel_wheels(runtime, packages, names, wheels, cache, log)
    except (BytecodeError, OSError, ValueError, subprocess.SubprocessError) as exc:
        log(f"lite: the kernel's bytecode skipped ({exc})")
        return
    for name, path in made.items():
        rel = served_path(path)
        plan[rel] = path
        lock["packages"][name].update(file_name=f"../{rel}", sha256=sha256_file(path))


def _prune(root: Path, keep: int) -> None:
    builds = sorted((p for p in root.iterdir() if p.is_dir() and (p / ".complete").is_file()),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in builds[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def is_lite(rel: str) -> bool:
    return PurePosixPath(rel).parts[:1] == ("lite",)
