"""Brotli copies (`<file>.br`) of the big compressible files, for the server to send to browsers.

Only when the optional `brotli` package is installed: the 10 MB runtime .wasm goes from 3.2 MB (gzip)
to 2.3 MB. Quality 11 is slow (about 30 s for the .wasm), so each result is kept in the cache by the
sha256 of its input and computed once. The .br files are a transport encoding of assets already listed,
so sw.js does not list them.
"""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from .files import Source

SUFFIXES = {".wasm", ".js", ".mjs", ".json", ".css", ".html"}
MIN_BYTES = 100_000
#: Zips the build writes uncompressed so that brotli does better on the wire (buildsite/bytecode.py: `.bin`;
#: buildsite/stored.py: the app's stdlib and wheels).
STORED_ZIPS = ("bytecode/", "pyodide/stored/")
ENCODED_SUFFIX = ".br"


def available() -> bool:
    try:
        import brotli  # noqa: F401
    except ImportError:
        return False
    return True


def brotli_copies(plan: dict[str, Source], hashes: dict[str, str], cache: Path, log=print) -> dict[str, Path]:
    """'<rel>.br' -> cached brotli file, for every big compressible file of the plan."""
    if not available():
        return {}
    import brotli
    folder = cache / "brotli"
    out = {}
    for rel, src in plan.items():
        size = len(src) if isinstance(src, bytes) else src.stat().st_size
        compressible = PurePosixPath(rel).suffix in SUFFIXES or rel.startswith(STORED_ZIPS)
        if not compressible or size < MIN_BYTES:
            continue
        target = folder / f"{hashes[rel]}.br"
        if not target.is_file():
            log(f"brotli: compressing {rel} (once)")
            data = src if isinstance(src, bytes) else src.read_bytes()
            folder.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".partial")
            tmp.write_bytes(brotli.compress(data, quality=11))
            os.replace(tmp, target)
        out[rel + ENCODED_SUFFIX] = target
    return out
