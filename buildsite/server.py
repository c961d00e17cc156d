"""A static server for dist/ on 127.0.0.1: right MIME types, gzip on the fly, revalidating caches.

Python stdlib only. Start it in a thread from tests with `start_in_thread(root)`. Hardened for a
crowd and for odd clients: a listen queue of 1,024 (socketserver's default of 5 left hundreds of
simultaneous requests waiting for a minute), a timeout on every connection (an idle keep-alive or a
half-sent request is closed after IDLE_TIMEOUT_S instead of holding a thread for ever), HTTP/0.9
requests answered with 505 and closed, Accept-Encoding q-values honoured (q=0: not acceptable), and
single byte ranges served (206, or 416 when unsatisfiable).
"""
from __future__ import annotations

import email.utils
import gzip
import io
import os
import posixpath
import re
import threading
import time
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
LISTEN_QUEUE = 1024
IDLE_TIMEOUT_S = 15
#: A request line and its headers must arrive within this (a client dripping a byte at a time is closed).
HEADER_DEADLINE_S = 30
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def accepted_encodings(header: str) -> dict[str, float]:
    """Accept-Encoding as {coding: q}: 'gzip;q=0' means gzip is not acceptable; '*' stands for the rest."""
    out: dict[str, float] = {}
    for part in header.split(","):
        coding, *params = [p.strip() for p in part.split(";")]
        if not coding:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(1.0, max(0.0, float(value)))
                except ValueError:
                    q = 0.0
        out[coding.lower()] = q
    return out


def accepts(codings: dict[str, float], coding: str) -> bool:
    q = codings.get(coding, codings.get("*", 0.0))
    return q > 0


def byte_range(header: str, size: int) -> tuple[int, int] | None | str:
    """(first, last) of a single 'bytes=' range; None to ignore the header (send it all); 'unsatisfiable'."""
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None  # multiple ranges or another unit: a server may answer with the whole file
    if not m.group(1):  # the last n bytes
        n = int(m.group(2))
        return (max(0, size - n), size - 1) if n > 0 and size > 0 else "unsatisfiable"
    first = int(m.group(1))
    last = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    if first >= size or (m.group(2) and int(m.group(2)) < first):
        return "unsatisfiable" if first >= size else None
    return first, last


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


class _HeaderDeadline:
    """The request's input, whose line reads (the request line and headers) share one deadline."""

    def __init__(self, raw, sock):
        self._raw, self._sock, self._deadline = raw, sock, None

    def start(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds

    def readline(self, *args):
        left = self._deadline - time.monotonic() if self._deadline else IDLE_TIMEOUT_S
        if left <= 0:
            raise TimeoutError("the request's headers took too long")
        self._sock.settimeout(min(IDLE_TIMEOUT_S, left))
        return self._raw.readline(*args)

    def __getattr__(self, name):
        return getattr(self._raw, name)


class SiteServer(ThreadingHTTPServer):
    request_queue_size = LISTEN_QUEUE
    daemon_threads = True

    def handle_error(self, request, client_address):
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # a client that went away or stalled: nothing to report
        super().handle_error(request, client_address)


class SiteHandler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the page fetches dozens of files
    timeout = IDLE_TIMEOUT_S  # per socket operation: an idle or half-sent request is dropped
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

    def setup(self):
        super().setup()
        self.rfile = _HeaderDeadline(self.rfile, self.connection)

    def handle_one_request(self):
        self.rfile.start(HEADER_DEADLINE_S)
        super().handle_one_request()

    def parse_request(self):
        words = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n").split()
        if len(words) == 2:
            # HTTP/0.9 ('GET /' alone): the stdlib would wait for headers such a client never sends, then
            # answer without a status line. Say plainly that only HTTP/1.x is spoken, and close.
            self.command, self.path, self.request_version = words[0], words[1], "HTTP/1.0"
            self.requestline = " ".join(words)
            self.close_connection = True
            self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "Send an HTTP/1.0 or HTTP/1.1 request")
            return False
        ok = super().parse_request()
        self.connection.settimeout(IDLE_TIMEOUT_S)  # the headers are in: sending gets the usual timeout
        return ok

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
        codings = accepted_encodings(self.headers.get("Accept-Encoding", ""))
        ranged = self.headers.get("Range") is not None
        br_path = path + ".br"  # written by the build when the optional brotli package is installed
        has_br = os.path.isfile(br_path)
        # a file the build made a .br copy of is compressible whatever its suffix (stored zips and wheels)
        compressible = suffix in COMPRESSIBLE or has_br
        encoding = None
        if ranged:
            pass  # byte ranges are of the file itself: never compressed
        elif compressible and accepts(codings, "br") and has_br \
                and os.stat(br_path).st_mtime_ns >= stat.st_mtime_ns:
            encoding = "br"
        elif compressible and stat.st_size >= _MIN_GZIP and accepts(codings, "gzip"):
            encoding = "gzip"
        plain_etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        etag = f'{plain_etag[:-1]}{"-" + encoding if encoding else ""}"'
        if etag in [t.strip() for t in self.headers.get("If-None-Match", "").split(",")]:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            if compressible:
                self.send_header("Vary", "Accept-Encoding")
            self.end_headers()
            return None
        span = None
        if ranged:
            if_range = self.headers.get("If-Range")
            if if_range is None or if_range.strip() == plain_etag:
                span = byte_range(self.headers["Range"], stat.st_size)
            if span == "unsatisfiable":
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{stat.st_size}")
                self.send_header("Content-Length", "0")
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
        if span:
            first, last = span
            f.seek(first)
            f = io.BytesIO(f.read(last - first + 1))
            length = last - first + 1
            self.send_response(HTTPStatus.PARTIAL_CONTENT)
            self.send_header("Content-Range", f"bytes {first}-{last}/{stat.st_size}")
        else:
            self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Length", str(length))
        self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
        self.send_header("ETag", etag)
        if not encoding:
            self.send_header("Accept-Ranges", "bytes")
        if compressible:
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
    server = SiteServer((host, port), partial(handler, directory=str(Path(root).resolve())))
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
