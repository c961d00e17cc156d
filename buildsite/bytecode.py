"""The page's Python compiled ahead of time: one zip of CPython 3.12 bytecode (`.pyc`) for the modules the
page imports, unpacked by web/pyodide-start.mjs next to their sources before the first import.

Why: Pyodide's NumPy wheel and ours hold sources only, so every visit (the warm one from the memory
snapshot too) compiled each imported module again — about 2 s of the cold start's imports in Pyodide
under Node, 0.4 s with the bytecode present (notes/startup.md). The `.pyc` files are "checked-hash" ones
(PEP 552): CPython uses one only if the hash of the source beside it matches, so a stale or mismatched
file costs a compile, never wrong code.

They are made by the runtime that runs them — Pyodide 0.27.7 under Node, from the verified files the site
ships — and kept in the cache by the hash of everything that goes in. Layout of the zip:
`site-packages/<package>/__pycache__/<module>.cpython-312.pyc` (NumPy: the modules `import numpy` and
cnn101 load; cnn101: all of it) and `app/__pycache__/<module>.cpython-312.pyc` (web/app, but main.py,
which PyScript runs as a script).
"""
from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .files import partial_path, sha256_file

RUNNER = Path(__file__).with_name("bytecode.mjs")
MARKER = "@@BYTECODE@@ "
PREFIX = "bytecode/"
#: Bumped when the way the zip is made changes (a new key for the cache).
RECIPE = "1"

# Run inside Pyodide: import what the page imports (numpy, every cnn101 module), compile each of those
# modules' sources and every web/app module, and write them into a zip with fixed dates (the same input
# gives the same bytes).
_CODE = r'''
import importlib, os, pkgutil, py_compile, site, sys, zipfile
sp = site.getsitepackages()[0]
import numpy
for name in OURS:
    importlib.import_module(name)
sources = set()
for mod in list(sys.modules.values()):
    f = getattr(mod, "__file__", None) or ""
    if f.endswith(".py") and (f.startswith(sp + "/numpy/") or f.startswith(sp + "/cnn101/")):
        sources.add(f)
MODE = py_compile.PycInvalidationMode.CHECKED_HASH
entries = []
for f in sorted(sources):
    arc = "site-packages/" + os.path.relpath(importlib.util.cache_from_source(f), sp)
    entries.append((f, arc))
app = "/tmp/app-src/app"
for n in sorted(os.listdir(app)):
    f = os.path.join(app, n)
    entries.append((f, "app/" + os.path.relpath(importlib.util.cache_from_source(f), app)))
with zipfile.ZipFile("/tmp/bytecode.zip", "w", zipfile.ZIP_STORED) as z:
    for f, arc in entries:
        cfile = "/tmp/pyc/" + arc
        py_compile.compile(f, cfile=cfile, doraise=True, invalidation_mode=MODE)
        info = zipfile.ZipInfo(arc, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        with open(cfile, "rb") as fh:
            z.writestr(info, fh.read())
'''


class BytecodeError(RuntimeError):
    """The bytecode could not be made (no Node, Pyodide failed); the site works without it, only slower."""


def _module_level_imports(tree: ast.Module, package: str) -> set[str]:
    """Absolute names of what a module imports when it runs (its body and class bodies, not functions)."""
    found: set[str] = set()

    def visit(nodes):
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
                if node.level:
                    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    mod = f"{base}.{node.module}" if node.module else base
                else:
                    mod = node.module
                found.add(mod)
                found.update(f"{mod}.{a.name}" for a in node.names)  # a name may be a submodule
            visit(ast.iter_child_nodes(node))

    visit(tree.body)
    return found


def startup_modules(web: Path, src: Path) -> tuple[list[str], list[str]]:
    """(web/app modules, cnn101 modules): every web/app module, and what they and main.py import as they
    run, followed through every module-level import (an import inside a function is not followed)."""
    def path_of(name: str) -> Path | None:
        top, *rest = name.split(".")
        root = {"app": web / "app", "cnn101": src / "cnn101"}.get(top)
        if root is None:
            return None
        base = root.joinpath(*rest)
        for p in (base / "__init__.py", base.with_suffix(".py")):
            if p.is_file():
                return p
        return None

    seen: dict[str, Path] = {}
    # main.py, and every other module too: the lazily imported views and panels run from bytecode on their
    # first click as well (a few hundred kB more, brotli ≈ 0.1 MB)
    modules = [(f"app.{p.stem}", p) for p in sorted((web / "app").glob("*.py")) if p.name not in ("main.py", "__init__.py")]
    seen.update(modules)
    todo = modules + ([("__main__", web / "app" / "main.py")] if (web / "app" / "main.py").is_file() else [])
    while todo:
        name, path = todo.pop()
        is_package = path.name == "__init__.py"
        package = name if is_package else name.rpartition(".")[0]
        for imported in _module_level_imports(ast.parse(path.read_text(encoding="utf-8")), package):
            parts = imported.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c runs a, a.b and a.b.c
                sub = ".".join(parts[:i])
                p = path_of(sub)
                if p is not None and sub not in seen:
                    seen[sub] = p
                    todo.append((sub, p))
    app = sorted(n for n in seen if n.startswith("app."))
    ours = sorted(n for n in seen if n == "cnn101" or n.startswith("cnn101."))
    return app, ours


def app_sources(web: Path, modules) -> dict[str, str]:
    """The sources of these web/app modules (plus the package's __init__.py), by file name."""
    names = {"__init__.py"} | {m.split(".", 1)[1] + ".py" for m in modules if m != "app"}
    return {n: (web / "app" / n).read_text(encoding="utf-8") for n in sorted(names) if (web / "app" / n).is_file()}


def _key(runtime: dict[str, Path], packages: dict[str, Path], wheel: Path, app: dict[str, str], ours) -> str:
    h = hashlib.sha256(f"recipe {RECIPE}\n{' '.join(ours)}\n".encode())
    for name, path in sorted({**runtime, **packages}.items()):
        h.update(f"{name} {sha256_file(path)}\n".encode())
    h.update(f"wheel {sha256_file(wheel)}\n".encode())
    for name, text in app.items():
        h.update(f"app {name} {hashlib.sha256(text.encode()).hexdigest()}\n".encode())
    return h.hexdigest()[:16]


def build_bytecode(runtime: dict[str, Path], packages: dict[str, Path], wheel: Path, web: Path, src: Path,
                   cache: Path, log=print) -> Path:
    """The zip of `.pyc` files for this runtime, NumPy, our wheel and web/app (made once per input, then
    taken from the cache). `runtime`: Pyodide's own files (pyodide.mjs, the lock, …); `packages`: the
    verified package files the app loads (file name → path), NumPy among them."""
    app_modules, ours = startup_modules(web, src)
    app = app_sources(web, app_modules)
    target = cache / "bytecode" / f"{_key(runtime, packages, wheel, app, ours)}.zip"
    if target.is_file():
        return target
    log("bytecode: compiling the page's Python with Pyodide under Node (once per change)")
    job = {"packages": ["numpy", str(wheel.resolve())], "app": app, "code": f"OURS = {ours!r}\n" + _CODE}
    with run_in_node(runtime, packages, job, prefix="cnn101-bytecode-") as out:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = partial_path(target)
        shutil.copyfile(out, partial)
        os.replace(partial, target)
    return target


@contextmanager
def run_in_node(runtime: dict[str, Path], packages: dict[str, Path], job: dict, prefix: str) -> Iterator[Path]:
    """Run `job` (bytecode.mjs's input, without its indexURL and out) in Pyodide 0.27.7 under Node, over a
    temporary index folder of `runtime` and `packages` (file name → verified path); yields the zip the job
    wrote, removed on exit. Raises BytecodeError if Node is missing, gave no result, or Pyodide tried to
    fetch anything from the network."""
    node = shutil.which("node")
    if node is None:
        raise BytecodeError("node is not on PATH")
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        index = Path(tmp) / "pyodide"
        index.mkdir()
        for name, path in {**runtime, **packages}.items():
            os.symlink(path.resolve(), index / name)
        out = Path(tmp) / "out.zip"
        job = {**job, "indexURL": str(index) + "/", "out": str(out)}
        proc = subprocess.run([node, str(RUNNER)], input=json.dumps(job), capture_output=True, text=True,
                              timeout=600, cwd=Path(__file__).resolve().parent.parent)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)), None)
        if line is None:
            raise BytecodeError(f"Node gave no result (exit {proc.returncode}): {proc.stderr[-1000:]}")
        result = json.loads(line[len(MARKER):])
        if result["blocked"]:
            raise BytecodeError(f"Pyodide tried to fetch from the network: {result['blocked']}")
        if not result["ok"]:
            raise BytecodeError(result["error"])
        yield out


def integrity(path: Path) -> str:
    """Subresource Integrity of a file (sha256)."""
    return "sha256-" + base64.b64encode(bytes.fromhex(sha256_file(path))).decode()
