"""`<link rel=preload>` / `modulepreload` tags for index.html: everything the page's start needs, requested
from the first bytes of the HTML instead of one after the other.

Without them the browser learns of each file only when the one before it ran: PyScript's core.js, then its
chunks, then pyodide-start.mjs, pyodide.mjs, then the runtime (≈ 0.7 s into a cold start), NumPy only once
the runtime has started (≈ 3 s in), and web/app's modules only after NumPy is in. Each tag must match the
request the page makes later, or the browser downloads the file twice (bench/bench_page.py counts what the
server sends twice): `as="fetch" crossorigin` for a plain fetch(), plus the same `integrity` where the fetch
gives one (Pyodide's packages: the lock's sha256; our wheel and bytecode: what index.html's metas say);
`modulepreload` for modules (Pyodide imports pyodide.asm.js with import() on a page's main thread).
"""
from __future__ import annotations

import base64
import html

#: @pyscript/core 0.6.66's modules that its core.js imports on every page (seen in the page's Resource
#: Timing); the rest (editor, terminal, TOML…) come only when a page uses them.
PYSCRIPT_AT_START = ("core.js", "core-", "deprecations-manager-", "error-", "donkey-", "py-editor-", "py-game-",
                     "py-terminal-")


def sri(sha256_hex: str) -> str:
    return "sha256-" + base64.b64encode(bytes.fromhex(sha256_hex)).decode()


def pyscript_at_start(names) -> list[str]:
    """The @pyscript/core dist files (by name) that every page imports at start."""
    return sorted(n for n in names if n.endswith(".js") and n.startswith(PYSCRIPT_AT_START))


def preload_tags(*, runtime: list[str], packages: dict[str, str], integrity_fetches: dict[str, str],
                 modules: list[str], fetches: list[str]) -> str:
    """The tags, in the order the page needs the files (the largest first within the runtime):
    runtime: Pyodide's own files ('pyodide/…'); packages: 'pyodide/<wheel>' → hex sha256 from the lock;
    integrity_fetches: our files fetched with an integrity ('wheels/…', 'bytecode/…') → hex sha256;
    modules: JavaScript modules to modulepreload; fetches: other files fetched plainly (pyscript.json,
    web/app's modules)."""
    out = []

    def tag(rel: str, kind: str, integrity: str | None = None) -> None:
        href = html.escape("./" + rel, quote=True)
        if kind == "module":
            out.append(f'<link rel="modulepreload" href="{href}">')
        else:
            extra = f' integrity="{sri(integrity)}"' if integrity else ""
            out.append(f'<link rel="preload" as="fetch" crossorigin="anonymous" href="{href}"{extra}>')

    for rel in runtime:
        tag(rel, "module" if rel.endswith((".js", ".mjs")) else "fetch")
    for rel, sha in packages.items():
        tag(rel, "fetch", sha)
    for rel, sha in integrity_fetches.items():
        tag(rel, "fetch", sha)
    for rel in modules:
        tag(rel, "module")
    for rel in fetches:
        tag(rel, "fetch")
    return "".join(f"  {t}\n" for t in out)


MARK = "<!--cnn101:preload-->"


def with_preloads(page: str, tags: str) -> str:
    """index.html with the tags at its marker (in <head>, after the Content-Security-Policy)."""
    if MARK not in page:
        return page
    return page.replace(f"  {MARK}\n", tags, 1) if f"  {MARK}\n" in page else page.replace(MARK, tags, 1)
