"""`build.py serve` under a crowd: N connections opened at once on localhost, each sending one GET of a
small page file and reading the whole answer; wall time, per-request latency, how many were answered
whole. Issue 12 measured socketserver's listen queue of 5 at 1,000 concurrent requests: 44–65 % waited
past 60 s. Localhost only; the machine is shared, so figures are indicative.
"""
from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from common import row, script_main, stats  # noqa: E402

BODY = b"let a = 1;\n" * 500  # 5.5 KB, compressible (the server gzips it for clients that ask)


def crowd(port: int, n: int, timeout: float = 120.0) -> tuple[float, list[float], int]:
    """(wall seconds, latencies in ms, answers that were whole 200s) for n simultaneous requests."""
    results: list[bytes | None] = [None] * n
    lat = [float("nan")] * n
    go = threading.Event()

    def fetch(i: int) -> None:
        go.wait()
        t0 = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
                s.sendall(b"GET /page.js HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                out = b""
                while chunk := s.recv(65536):
                    out += chunk
            results[i] = out
        except OSError:
            results[i] = None
        lat[i] = (time.perf_counter() - t0) * 1e3

    threads = [threading.Thread(target=fetch, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    go.set()
    for t in threads:
        t.join(timeout + 10)
    wall = time.perf_counter() - t0
    whole = sum(1 for r in results if r and r.startswith(b"HTTP/1.1 200") and r.endswith(BODY))
    return wall, [x for x in lat if x == x], whole


def run(quick: bool = False) -> list[dict]:
    from buildsite.server import LISTEN_QUEUE, start_in_thread

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "page.js").write_bytes(BODY)
        server, _ = start_in_thread(Path(tmp))
        port = server.server_address[1]
        try:
            for n in ((50,) if quick else (300, 1000)):
                walls, lats, whole, total = [], [], 0, 0
                for _ in range(1 if quick else 3):
                    wall, lat, ok = crowd(port, n)
                    walls.append(wall * 1e3)
                    lats += lat
                    whole += ok
                    total += n
                rows.append(row("server", f"{n} concurrent requests: wall time", stats(walls),
                                answered_whole=f"{whole}/{total}", listen_queue=LISTEN_QUEUE))
                lat_stats = stats(lats)
                p95 = sorted(lats)[int(0.95 * (len(lats) - 1))]
                rows.append(row("server", f"{n} concurrent requests: latency per request", lat_stats,
                                p95_ms=round(p95, 1), max_ms=round(max(lats), 1)))
        finally:
            server.shutdown()
            server.server_close()
    return rows


if __name__ == "__main__":
    script_main(run)
