"""The dist/ server: MIME types the browser insists on, gzip for the runtime, revalidation."""
from __future__ import annotations

import gzip
import urllib.error
import urllib.request

import pytest

from conftest_build import built_site  # noqa: F401  (fixture)
from buildsite.server import start_in_thread


def get(url, **headers):
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture()
def site(tmp_path):
    (tmp_path / "sub").mkdir()
    files = {
        "index.html": b"<!doctype html><title>x</title>" + b" " * 2000,
        "m.mjs": b"export const x = 1;" + b" " * 2000,
        "s.js": b"console.log(1)",
        "r.wasm": b"\0asm\1\0\0\0" + bytes(range(256)) * 40,
        "d.json": b"{}",
        "p.whl": b"PK",
        "z.zip": b"PK",
        "manifest.webmanifest": b"{}",
        "sub/index.html": b"<p>sub</p>",
        "big.js": b"let a = 1;\n" * 500,
        "big.js.br": b"pretend-brotli",  # the build writes these when the brotli package is installed
    }
    for rel, data in files.items():
        (tmp_path / rel).write_bytes(data)
    (tmp_path.parent / "secret.txt").write_text("outside the root")
    server, url = start_in_thread(tmp_path)
    yield url, files
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path, mime", [
    ("r.wasm", "application/wasm"), ("m.mjs", "text/javascript"), ("s.js", "text/javascript"),
    ("d.json", "application/json"), ("p.whl", "application/zip"), ("z.zip", "application/zip"),
    ("manifest.webmanifest", "application/manifest+json"), ("index.html", "text/html"),
])
def test_mime_types(site, path, mime):
    url, files = site
    status, headers, body = get(url + path)
    assert status == 200 and headers["Content-Type"].split(";")[0] == mime and body == files[path]
    assert headers["Cache-Control"] == "no-cache"  # revalidate; never "no-store", which would defeat caching
    assert "Content-Encoding" not in headers


def test_gzip_when_accepted(site):
    url, files = site
    status, headers, body = get(url + "r.wasm", **{"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200 and headers["Content-Encoding"] == "gzip" and headers["Vary"] == "Accept-Encoding"
    assert int(headers["Content-Length"]) == len(body) < len(files["r.wasm"])
    assert gzip.decompress(body) == files["r.wasm"]
    assert headers["Content-Type"] == "application/wasm"
    status, headers, body = get(url + "p.whl", **{"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in headers and body == files["p.whl"]  # already compressed


def test_brotli_copy_when_accepted(site):
    url, files = site
    status, headers, body = get(url + "big.js", **{"Accept-Encoding": "gzip, deflate, br"})
    assert headers["Content-Encoding"] == "br" and body == files["big.js.br"]
    assert headers["Content-Type"].startswith("text/javascript")
    _, headers, body = get(url + "big.js", **{"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == files["big.js"]
    status, _, _ = get(url + "big.js", **{"Accept-Encoding": "gzip", "If-None-Match": headers["ETag"]})
    assert status == 304


def test_etag_revalidation_and_index(site):
    url, files = site
    _, headers, _ = get(url + "m.mjs")
    status, _, body = get(url + "m.mjs", **{"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""
    assert get(url)[2] == files["index.html"]
    assert get(url + "sub/")[2] == files["sub/index.html"]
    assert get(url + "missing.js")[0] == 404
    assert get(url + "../secret.txt")[0] == 404
    assert get(url + "%2e%2e/secret.txt")[0] == 404


def test_serves_the_built_runtime(built_site):
    server, url = start_in_thread(built_site.out)
    try:
        for path, mime in [("pyodide/pyodide.asm.wasm", "application/wasm"), ("pyodide/pyodide.mjs", "text/javascript"),
                           ("pyscript/core.js", "text/javascript"), ("sw.js", "text/javascript"),
                           ("pyodide/pyodide-lock.json", "application/json"), (built_site.wheel, "application/zip")]:
            req = urllib.request.Request(url + path, method="HEAD")
            with urllib.request.urlopen(req, timeout=30) as r:
                assert r.status == 200 and r.headers["Content-Type"].split(";")[0] == mime, path
    finally:
        server.shutdown()
        server.server_close()
