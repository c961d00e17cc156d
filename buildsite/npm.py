"""The pinned npm packages: the Pyodide runtime with its official lock, and PyScript."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import BuildError

#: sha256 of each shipped node_modules file, from the registry tarballs that match package-lock.json's
#: integrity (npm checks a tarball only when it installs it; a file edited in node_modules afterwards
#: would otherwise be shipped as it is).
RECORDED = Path(__file__).with_name("npm_files.json")

PYODIDE_VERSION = "0.27.7"
PYSCRIPT_VERSION = "0.6.66"

#: Files of npm `pyodide` that a browser (and Node) needs at run time, besides the packages.
PYODIDE_RUNTIME_FILES = ("pyodide.mjs", "pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm",
                         "python_stdlib.zip", "pyodide-lock.json")
#: Files of @pyscript/core's dist/ shipped: its modules and styles; not source maps nor the empty
#: service-worker.js placeholder.
PYSCRIPT_SUFFIXES = (".js", ".css")
PYSCRIPT_SKIP = ("service-worker.js",)
#: @pyscript/core chunks that PyScript imports only for features the app does not use (<py-editor>'s
#: CodeMirror, the py-terminal's xterm, TOML configs, MicroPython, zip archives in `files`): shipped, so a
#: page that uses them still works, but fetched on first use instead of precached on every first visit
#: (≈ 1 MB raw, 0.25 MB brotli, seen in bench_page's first-visit bytes).
PYSCRIPT_ON_DEMAND = ("codemirror", "xterm", "toml-", "mpy-", "zip-")


def pyscript_on_demand(name: str) -> bool:
    """True for a @pyscript/core dist file that the app's service worker fetches when asked for, not before."""
    return name.startswith(PYSCRIPT_ON_DEMAND)


@dataclass(frozen=True)
class NpmPackages:
    pyodide_dir: Path
    pyscript_dist: Path

    @property
    def lock_path(self) -> Path:
        return self.pyodide_dir / "pyodide-lock.json"

    def runtime_files(self) -> dict[str, Path]:
        return {name: self.pyodide_dir / name for name in PYODIDE_RUNTIME_FILES}

    def pyscript_files(self) -> dict[str, Path]:
        return {p.name: p for p in sorted(self.pyscript_dist.iterdir())
                if p.is_file() and p.suffix in PYSCRIPT_SUFFIXES and p.name not in PYSCRIPT_SKIP}


def _installed_version(package_dir: Path) -> str | None:
    try:
        return json.loads((package_dir / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def _problems(repo: Path) -> list[str]:
    wanted = {"pyodide": PYODIDE_VERSION, "@pyscript/core": PYSCRIPT_VERSION}
    out = []
    for name, version in wanted.items():
        got = _installed_version(repo / "node_modules" / name)
        if got != version:
            out.append(f"{name}: want {version}, found {got or 'nothing'}")
    return out


def ensure_npm_packages(repo: Path, log=print) -> NpmPackages:
    """Check node_modules holds the pinned versions; run `npm ci` once if it does not."""
    problems = _problems(repo)
    if problems:
        if not (repo / "package-lock.json").is_file() or shutil.which("npm") is None:
            raise BuildError("node_modules lacks the pinned packages (" + "; ".join(problems) +
                             ") and npm or package-lock.json is missing: run `bash scripts/setup.sh app`.")
        log("npm: " + "; ".join(problems) + " -> npm ci")
        run = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=repo,
                             capture_output=True, text=True)
        if run.returncode != 0 or _problems(repo):
            raise BuildError(f"`npm ci` failed in {repo}:\n{run.stderr.strip()[-2000:]}")
    packages = NpmPackages(repo / "node_modules" / "pyodide", repo / "node_modules" / "@pyscript" / "core" / "dist")
    missing = [n for n, p in packages.runtime_files().items() if not p.is_file()]
    if missing:
        raise BuildError(f"npm pyodide@{PYODIDE_VERSION} is incomplete (missing {', '.join(missing)}): "
                         "delete node_modules and run `npm ci`.")
    if "core.js" not in packages.pyscript_files():
        raise BuildError(f"@pyscript/core@{PYSCRIPT_VERSION} has no dist/core.js: delete node_modules and run `npm ci`.")
    verify_shipped(packages)
    return packages


def shipped_files(packages: NpmPackages) -> dict[str, Path]:
    """'pyodide/<file>' and '@pyscript/core/dist/<file>' → path, for every node_modules file shipped."""
    return {**{f"pyodide/{n}": p for n, p in packages.runtime_files().items()},
            **{f"@pyscript/core/dist/{n}": p for n, p in packages.pyscript_files().items()}}


def verify_shipped(packages: NpmPackages) -> None:
    """Every shipped node_modules file has the recorded sha256; none is unrecorded."""
    recorded = json.loads(RECORDED.read_text())["files"]
    bad = []
    for key, path in shipped_files(packages).items():
        want = recorded.get(key)
        if want is None:
            bad.append(f"{key} (not a file of the pinned release)")
            continue
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        if h.hexdigest() != want:
            bad.append(f"{key} (sha256 {h.hexdigest()[:16]}…, recorded {want[:16]}…)")
    if bad:
        raise BuildError("node_modules differs from the pinned npm releases in: " + "; ".join(bad) +
                         ". Delete node_modules and run `npm ci` (it checks package-lock.json's integrity).")
