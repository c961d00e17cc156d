"""Brotli copies (`<file>.br`) of the big compressible files, for the server to send to browsers.

Only when the optional `brotli` package is installed: the 10 MB runtime .wasm goes from 3.2 MB (gzip)
to 2.3 MB. Quality 11 is slow (about 30 s for the .wasm), so each result is kept in the cache by the
sha256 of its input and computed once. The .br files are a transport encoding of assets already listed,
so sw.js does not list them.
"""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from .files import Source, partial_path

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


def _compress(job: tuple[bytes | str, str]) -> None:
    """One brotli copy: read the source (bytes, or a path), write `target` atomically. Runs in a worker process."""
    import brotli
    src, target = job
    data = src if isinstance(src, bytes) else Path(src).read_bytes()
    tmp = partial_path(Path(target))
    tmp.write_bytes(brotli.compress(data, quality=11))
    os.replace(tmp, target)


def _run(jobs: list[tuple[bytes | str, str]]) -> None:
    """Compress on every core (quality 11 is single-threaded; a first build has ≈ 40 MB to compress)."""
    workers = min(len(jobs), os.cpu_count() or 1, 4)
    if workers < 2:
        for job in jobs:
            _compress(job)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    # spawn, not fork: the build also runs inside test processes that have threads (servers, Playwright)
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for _ in pool.map(_compress, jobs):
            pass


def brotli_copies(plan: dict[str, Source], hashes: dict[str, str], cache: Path, log=print) -> dict[str, Path]:
    """'<rel>.br' -> cached brotli file, for every big compressible file of the plan."""
    if not available():
        return {}
    folder = cache / "brotli"
    out, jobs, sizes = {}, {}, {}
    for rel, src in plan.items():
        size = len(src) if isinstance(src, bytes) else src.stat().st_size
        compressible = PurePosixPath(rel).suffix in SUFFIXES or rel.startswith(STORED_ZIPS)
        if not compressible or size < MIN_BYTES:
            continue
        target = folder / f"{hashes[rel]}.br"
        if not target.is_file() and str(target) not in jobs:
            log(f"brotli: compressing {rel} (once)")
            jobs[str(target)] = src if isinstance(src, bytes) else str(src)
            sizes[str(target)] = size
        out[rel + ENCODED_SUFFIX] = target
    if jobs:
        folder.mkdir(parents=True, exist_ok=True)
        # the biggest first, so that one large file does not run alone at the end
        _run([(jobs[t], t) for t in sorted(jobs, key=sizes.__getitem__, reverse=True)])
    return out


def date_after_their_files(out: Path, encoded) -> None:
    """The server sends `<file>.br` only when it is not older than `<file>` (a file edited in the folder after
    the build must not be answered with its old brotli copy). But the build writes a copy with its cached
    source's time, and brotli copies come from a cache keyed by content, made before files written from bytes
    (index.html) or copied from newer sources: those were sent gzip. Date each copy no earlier than its file."""
    for rel in encoded:
        copy, plain = out / rel, out / rel[: -len(ENCODED_SUFFIX)]
        if copy.is_file() and plain.is_file():
            when = plain.stat().st_mtime_ns
            if copy.stat().st_mtime_ns < when:
                os.utime(copy, ns=(when, when))
