"""Our own wheel, built from the repo with pip and kept in the cache until its sources change."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

from . import BuildError

PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE", "setup.cfg", "setup.py", "MANIFEST.in")
_SKIP_PARTS = {"__pycache__", ".pytest_cache"}


def _source_files(repo: Path) -> list[Path]:
    files = [repo / n for n in PROJECT_FILES if (repo / n).is_file()]
    # os.walk with followlinks: src/cnn101/weights is a symlink to the repo's weights/ (Path.rglob does
    # not descend into symlinked folders before Python 3.13, and the wheel would ship without weights).
    found = []
    for folder, dirs, names in os.walk(repo / "src", followlinks=True):
        dirs[:] = [d for d in dirs if d not in _SKIP_PARTS and not d.endswith(".egg-info")]
        found += [Path(folder) / n for n in names if not n.endswith(".pyc")]
    return files + sorted(found)


def source_key(repo: Path) -> str:
    h = hashlib.sha256()
    for p in _source_files(repo):
        h.update(p.relative_to(repo).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _check_wheel(path: Path, is_shipped) -> str:
    """Confirm a pure-Python py3-none-any wheel whose requirements the site ships; return its version."""
    m = re.fullmatch(r"cnn101-([^-]+)-py3-none-any\.whl", path.name)
    if not m:
        raise BuildError(f"built {path.name}, expected cnn101-<version>-py3-none-any.whl (pure Python).")
    with zipfile.ZipFile(path) as z:
        info = next(n for n in z.namelist() if n.endswith(".dist-info/WHEEL"))
        wheel = Parser().parsestr(z.read(info).decode())
        meta = Parser().parsestr(z.read(info.replace("/WHEEL", "/METADATA")).decode())
    if wheel.get("Root-Is-Purelib", "").lower() != "true" or wheel.get_all("Tag") != ["py3-none-any"]:
        raise BuildError(f"{path.name} is not a pure py3-none-any wheel (WHEEL says {wheel.get_all('Tag')}).")
    for req in meta.get_all("Requires-Dist") or []:
        if "extra ==" in req:
            continue
        name = re.match(r"[A-Za-z0-9._-]+", req).group(0)
        if not is_shipped(name):
            raise BuildError(f"cnn101 requires {req!r}, which the site does not ship: in the browser micropip "
                             "would fetch it from PyPI. Make it an optional extra or add it to the shipped packages.")
    return m.group(1)


def build_app_wheel(repo: Path, cache: Path, is_shipped, log=print) -> tuple[Path, str]:
    """(path of cnn101-<ver>-py3-none-any.whl, version), rebuilt only when src/ or pyproject change."""
    folder = cache / "app-wheel" / source_key(repo)
    wheels = sorted(folder.glob("cnn101-*.whl")) if folder.is_dir() else []
    if len(wheels) != 1:
        log("wheel: building cnn101 with pip wheel --no-deps")
        shutil.rmtree(folder, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix="cnn101-wheel-") as tmp:
            # Build from a copy, so setuptools' build/ and egg-info never land in the shared work tree.
            for p in _source_files(repo):
                dest = Path(tmp) / p.relative_to(repo)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(p, dest)
            out = Path(tmp) / "out"
            run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), tmp],
                                 capture_output=True, text=True)
            built = sorted(out.glob("*.whl")) if out.is_dir() else []
            if run.returncode != 0 or len(built) != 1:
                raise BuildError(f"`pip wheel` could not build cnn101:\n{run.stderr.strip()[-2000:]}")
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy2(built[0], folder / built[0].name)
        wheels = sorted(folder.glob("cnn101-*.whl"))
        _prune(folder.parent, keep=4)
    return wheels[0], _check_wheel(wheels[0], is_shipped)


def _prune(parent: Path, keep: int) -> None:
    """Keep the wheels of the last few source states (switching branches back is then instant)."""
    olds = sorted((p for p in parent.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in olds[keep:]:
        shutil.rmtree(old, ignore_errors=True)
