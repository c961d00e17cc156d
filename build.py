#!/usr/bin/env python3
"""Build the offline site into dist/ and serve it.

    .venv/bin/python build.py                  # build (or update) dist/
    .venv/bin/python build.py serve            # build if needed, serve on http://127.0.0.1:8101/
    .venv/bin/python build.py --pyodide-dist ~/pyodide-0.27.7.tar.bz2   # wasm wheels from an official release
    .venv/bin/python build.py --no-lite        # without the JupyterLite notebook site (dist/lite/)

The work is in buildsite/; this file is the command line only.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))

from buildsite import BuildError  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "tiny-imagenet-10"
ENV_DATA = os.environ.get("CNN101_DATA")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="build.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", nargs="?", choices=("build", "serve"), default="build")
    p.add_argument("--out", type=Path, default=REPO / "dist", help="site folder (default: dist/)")
    p.add_argument("--cache", type=Path, default=REPO / ".cache", help="download and build cache (default: .cache/)")
    p.add_argument("--data", type=Path, default=None,
                   help="dataset folder with val/<class>/*.JPEG for the example images (default: $CNN101_DATA, "
                        f"else {DEFAULT_DATA}, skipped when absent)")
    p.add_argument("--examples-per-class", type=int, default=4, metavar="N")
    p.add_argument("--pyodide-dist", type=Path, default=None, metavar="PATH",
                   help="official Pyodide 0.27.7 distribution (folder or .tar.bz2/.tar.gz) to take the wasm "
                        "packages from instead of the pinned PyPI carrier; verified against the same lock")
    p.add_argument("--no-lite", action="store_true",
                   help="skip the JupyterLite notebook site in lite/ (faster; the app does not need it)")
    p.add_argument("--notebooks", type=Path, default=None, metavar="DIR",
                   help="the notebook site's contents (default: notebooks/)")
    s = p.add_argument_group("serve")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8101)
    s.add_argument("--no-build", action="store_true", help="serve dist/ as it is")
    s.add_argument("--isolate", action="store_true",
                   help="send COOP/COEP headers (only PyScript workers with synchronous calls need them)")
    s.add_argument("--quiet", action="store_true", help="do not log requests")
    return p


def run_build(args) -> None:
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise BuildError("Pillow is missing: run build.py with .venv/bin/python (bash scripts/setup.sh app).")
    from buildsite.site import BuildOptions, build
    t0 = time.perf_counter()
    result = build(BuildOptions(
        repo=REPO, out=args.out, cache=args.cache,
        data=Path(args.data or ENV_DATA or DEFAULT_DATA).resolve(),
        data_explicit=bool(args.data or ENV_DATA),
        pyodide_dist=args.pyodide_dist, examples_per_class=args.examples_per_class,
        lite=not args.no_lite, notebooks=args.notebooks))
    steps = ", ".join(f"{k} {v:.2f}s" for k, v in result.seconds.items())
    print(f"build: {result.out} ready in {time.perf_counter() - t0:.2f} s: {result.files} files, "
          f"{result.total_bytes / 1e6:.1f} MB, {result.written} written, {result.removed} removed; "
          f"cache {result.cache_name}\n  ({steps})")


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "build" or not args.no_build:
            run_build(args)
    except BuildError as exc:
        print(f"build: error: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        from buildsite.server import make_server, url_of, warm_gzip
        if not (args.out / "index.html").is_file():
            print(f"serve: {args.out} has no index.html: build first.", file=sys.stderr)
            return 2
        try:
            server = make_server(args.out, args.host, args.port, isolate=args.isolate, quiet=args.quiet)
        except OSError as exc:
            print(f"serve: cannot listen on {args.host}:{args.port} ({exc.strerror}); try --port.", file=sys.stderr)
            return 2
        warm_gzip(server)
        print(f"serving {args.out} at {url_of(server)}  (Ctrl-C to stop)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
