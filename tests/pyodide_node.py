"""Run Python code inside Pyodide 0.27.7 under Node, using only the verified files of a built dist/.

    from pyodide_node import run_pyodide
    run = run_pyodide("import numpy; RESULT = numpy.__version__", dist=dist)
    run.result  # '2.0.2'

Before starting Node, every package file to be loaded (with its lock `depends`) is checked against the
official lock's sha256 (Node checks none), and our wheel against dist/build-info.json. In Node, the
runner refuses every network fetch, so a package missing from dist/pyodide fails loudly instead of
coming from a CDN. Host folders can be mounted (NODEFS) to read inputs or to write .npy results.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNNER = Path(__file__).with_name("pyodide_runner.mjs")
MARKER = "@@PYODIDE_RESULT@@ "
sys.path.insert(0, str(REPO))

from buildsite.pyodide_lock import PyodideLock  # noqa: E402


class PyodideRunError(AssertionError):
    """The code raised inside Pyodide, a package could not load locally, or something reached for the network."""


@dataclass
class PyodideRun:
    result: object
    stdout: str = ""
    stderr: str = ""
    loaded: dict = field(default_factory=dict)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


#: The app's own lock and stdlib (buildsite/stored.py), relative to dist/.
APP_LOCK, APP_STDLIB = "pyodide/stored/pyodide-lock.json", "pyodide/stored/python_stdlib.zip"


def verified_packages(dist: Path, packages=("numpy",), with_wheel: bool = True, app_runtime: bool = False) -> list[str]:
    """What to pass to loadPackage: lock names, plus the absolute path of our wheel; all checked (against
    the app's own lock, itself checked against build-info.json, with `app_runtime`)."""
    dist = Path(dist).resolve()
    info_path = dist / "build-info.json"
    if not info_path.is_file():
        raise PyodideRunError(f"{dist} is not a built site (no build-info.json): run `python build.py`.")
    info = json.loads(info_path.read_text())
    if app_runtime:
        for rel in (APP_LOCK, APP_STDLIB):
            if rel not in info["files"] or _sha256(dist / rel) != info["files"][rel]["sha256"]:
                raise PyodideRunError(f"{dist / rel} is missing or differs from build-info.json: rebuild dist/.")
    lock = PyodideLock(dist / (APP_LOCK if app_runtime else "pyodide/pyodide-lock.json"), info["pyodide_version"])
    for entry in lock.closure(packages):
        path = dist / "pyodide" / entry.file_name
        if not path.is_file():
            raise PyodideRunError(f"{path} is missing: Pyodide would fetch it from a CDN. Rebuild dist/.")
        if _sha256(path) != entry.sha256:
            raise PyodideRunError(f"{path} does not match its lock's sha256: rebuild dist/.")
    names = list(packages)
    if with_wheel:
        wheel = dist / info["wheel"]
        if _sha256(wheel) != info["files"][info["wheel"]]["sha256"]:
            raise PyodideRunError(f"{wheel} differs from build-info.json: rebuild dist/.")
        names.append(str(wheel))
    return names


def run_pyodide(code: str, dist: Path, *, packages=("numpy",), with_wheel: bool = True,
                mounts: dict[str, Path] | None = None, timeout: float = 300, app_runtime: bool = False) -> PyodideRun:
    """Run `code` (may use top-level await) in a fresh Pyodide; a global RESULT comes back as JSON.
    `app_runtime`: started as the page starts it, with the app's own lock and stdlib (buildsite/stored.py)."""
    node = shutil.which("node")
    if node is None:
        raise PyodideRunError("node is not on PATH (Node 20 is needed to run Pyodide outside a browser)")
    dist = Path(dist).resolve()
    job = {
        "indexURL": str(dist / "pyodide") + "/",
        "packages": verified_packages(dist, packages, with_wheel, app_runtime),
        "lockFileURL": str(dist / APP_LOCK) if app_runtime else None,
        "stdLibURL": str(dist / APP_STDLIB) if app_runtime else None,
        "mounts": {k: str(Path(v).resolve()) for k, v in (mounts or {}).items()},
        "code": code,
    }
    proc = subprocess.run([node, str(RUNNER)], input=json.dumps(job), capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)), None)
    if line is None:
        raise PyodideRunError(f"the Node runner gave no result (exit {proc.returncode}):\n"
                              f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    out = json.loads(line[len(MARKER):])
    if out["blocked"]:
        raise PyodideRunError(f"Pyodide tried to fetch from the network: {out['blocked']}")
    for name, channel in out["loaded"].items():
        if channel != "default channel" and not channel.startswith(str(dist)):
            raise PyodideRunError(f"package {name} came from {channel}, not from {dist}")
    if not out["ok"]:
        raise PyodideRunError(f"inside Pyodide: {out['error']}")
    return PyodideRun(json.loads(out["result"]), out.get("stdout", ""), out.get("stderr", ""), out["loaded"])


if __name__ == "__main__":  # a quick manual check: python tests/pyodide_node.py [dist]
    d = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "dist"
    r = run_pyodide("import sys, numpy, cnn101\nRESULT = [sys.version, numpy.__version__, cnn101.__version__]", d)
    print(r.result, r.loaded)
