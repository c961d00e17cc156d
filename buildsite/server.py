"""A static server for dist/ on 127.0.0.1: right MIME types, gzip on the fly, revalidating caches.

Python stdlib only. Start it in a thread from tests with `start_in_thread(root)`.
"""
from __future__ import annotations

import email.utils
import gzip
import io
import os
import posixpath
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".whl": "application/zip",   # what Pyodide's own server and PyPI-like indexes send
    ".zip": "application/zip",
    ".tar": "application/x-tar",
    ".py": "text/x-python; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".toml": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".npz": "application/octet-stream",
    ".bin": "application/octet-stream",
    ".ipynb": "application/json",
}
#: Worth compressing; wheels, zips and images are compressed already.
COMPRESSIBLE = {".html", ".js", ".mjs", ".css", ".json", ".map", ".webmanifest", ".wasm", ".py", ".txt",
                ".toml", ".svg", ".ipynb", ".bin"}
_MIN_GZIP = 1024


class _GzipCache:
    """Compressed bodies by (path, size, mtime): each file is compressed once per change."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items: dict[str, tuple[tuple[int, int], bytes]] = {}

    def get(self, path: str, stat: os.stat_result) -> bytes:
        key = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            hit = self._items.get(path)
        if hit and hit[0] == key:
            return hit[1]
        with open(path, "rb") as f:
            body = gzip.compress(f.read(), compresslevel=6, mtime=0)
        with self._lock:
            self._items[path] = (key, body)
        return body


class SiteHandler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the page fetches dozens of files
    extensions_map = {"": "application/octet-stream", **MIME_TYPES}
    isolate = False  # send COOP/COEP (needed only by PyScript workers with synchronous calls)
    quiet = False
    gzip_cache: _GzipCache

    def log_message(self, format, *args):
        if not self.quiet:
            super().log_message(format, *args)

    def end_headers(self):
        # Revalidate every time (ETag/Last-Modified make that cheap); the service worker does the caching.
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        if self.isolate:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def guess_type(self, path):
        return self.extensions_map.get(posixpath.splitext(path)[1].lower(), "application/octet-stream")

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            if not urlsplit(self.path).path.endswith("/"):
                return super().send_head()  # redirects to the slash form
            path = os.path.join(path, "index.html")
        if not os.path.isfile(path):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        stat = os.stat(path)
        suffix = posixpath.splitext(path)[1].lower()
        accept = [a.split(";")[0].strip() for a in self.headers.get("Accept-Encoding", "").split(",")]
        br_path = path + ".br"  # written by the build when the optional brotli package is installed
        encoding = None
        if suffix in COMPRESSIBLE and "br" in accept and os.path.isfile(br_path) \
                and os.stat(br_path).st_mtime_ns >= stat.st_mtime_ns:
            encoding = "br"
        elif suffix in COMPRESSIBLE and stat.st_size >= _MIN_GZIP and "gzip" in accept:
            encoding = "gzip"
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}{"-" + encoding if encoding else ""}"'
        if etag in [t.strip() for t in self.headers.get("If-None-Match", "").split(",")]:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            if suffix in COMPRESSIBLE:
                self.send_header("Vary", "Accept-Encoding")
            self.end_headers()
            return None
        if encoding == "br":
            f = open(br_path, "rb")
            length = os.fstat(f.fileno()).st_size
        elif encoding == "gzip":
            body = self.gzip_cache.get(path, stat)
            f, length = io.BytesIO(body), len(body)
        else:
            f = open(path, "rb")
            length = stat.st_size
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Length", str(length))
        self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
        self.send_header("ETag", etag)
        if suffix in COMPRESSIBLE:
            self.send_header("Vary", "Accept-Encoding")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.end_headers()
        return f

    def translate_path(self, path):
        # Like the stdlib's, but never outside the root even with odd encodings.
        path = unquote(urlsplit(path).path)
        parts = [p for p in posixpath.normpath(path).split("/") if p and p not in (".", "..")]
        return os.path.join(self.directory, *parts)


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8101, *, isolate: bool = False,
                quiet: bool = False) -> ThreadingHTTPServer:
    """A server for `root` (port 0: any free port). Call serve_forever(); shutdown() to stop."""
    cache = _GzipCache()
    handler = type("Handler", (SiteHandler,), {"isolate": isolate, "quiet": quiet, "gzip_cache": cache})
    server = ThreadingHTTPServer((host, port), partial(handler, directory=str(Path(root).resolve())))
    server.daemon_threads = True
    server.gzip_cache = cache
    server.root = Path(root).resolve()
    return server


def warm_gzip(server: ThreadingHTTPServer, min_bytes: int = 100_000) -> threading.Thread:
    """Compress the big compressible files (the runtime) in the background, so no visitor waits for it."""
    def run():
        for p in sorted(server.root.rglob("*")):
            if p.is_file() and p.suffix.lower() in COMPRESSIBLE and p.stat().st_size >= min_bytes:
                server.gzip_cache.get(str(p), p.stat())
    t = threading.Thread(target=run, name="cnn101-gzip", daemon=True)
    t.start()
    return t


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"


def start_in_thread(root: Path, port: int = 0, **kwargs) -> tuple[ThreadingHTTPServer, str]:
    """Serve `root` from a daemon thread; returns (server, base URL). Stop with server.shutdown()."""
    server = make_server(root, port=port, quiet=kwargs.pop("quiet", True), **kwargs)
    threading.Thread(target=server.serve_forever, name="cnn101-site", daemon=True).start()
    return server, url_of(server)
