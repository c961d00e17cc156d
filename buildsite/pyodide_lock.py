"""The official pyodide-lock.json: which wasm packages the site ships, and the sha256 each must have."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from . import BuildError

#: What the page loads: numpy and our wheel at start (PyScript config "packages"), pillow on the first
#: upload or once the page is ready (app/decode.py). All precached by sw.js, as the app's stored copies
#: (buildsite/stored.py) when the build makes them.
APP_PACKAGES = ("numpy", "pillow")
#: What the JupyterLite Pyodide kernel 0.6.1 loads when it starts: `loadPackage(["micropip"])`, then
#: `piplite.install` of ssl, sqlite3, ipykernel, comm, pyodide_kernel, jedi, ipython (ipykernel,
#: comm, pyodide_kernel and piplite come as wheels from JupyterLite itself, not from the lock).
#: Their `depends` closure is 19 lock packages beyond numpy/Pillow. Fetched by the service worker on
#: first use only, so a learner who never opens the notebook does not download them.
NOTEBOOK_PACKAGES = ("micropip", "ssl", "sqlite3", "jedi", "ipython")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class LockEntry:
    name: str
    file_name: str
    sha256: str


class PyodideLock:
    def __init__(self, path: Path, expect_version: str):
        self.path = path
        self.raw = path.read_bytes()
        data = json.loads(self.raw)
        self.version = data.get("info", {}).get("version")
        if self.version != expect_version:
            raise BuildError(f"{path} is for Pyodide {self.version}, not {expect_version}: run `npm ci`.")
        self._packages = {canonical(k): v for k, v in data["packages"].items()}

    def entry(self, name: str) -> LockEntry:
        try:
            p = self._packages[canonical(name)]
        except KeyError:
            raise BuildError(f"package {name!r} is not in Pyodide {self.version}'s lock ({self.path}).") from None
        return LockEntry(p["name"], p["file_name"], p["sha256"])

    def closure(self, names) -> list[LockEntry]:
        """The packages named and everything their lock entries `depends` on, sorted by file name."""
        seen: dict[str, LockEntry] = {}
        stack = [canonical(n) for n in names]
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen[key] = self.entry(key)
            stack.extend(canonical(d) for d in self._packages[key]["depends"])
        return sorted(seen.values(), key=lambda e: e.file_name)

    def has(self, name: str) -> bool:
        return canonical(name) in self._packages
