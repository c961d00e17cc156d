"""The build refuses wasm packages whose bytes differ from the official lock, whatever their source."""
from __future__ import annotations

import json
import subprocess
import sys
import tarfile

import pytest

from conftest_build import REPO, built_site, options, quiet  # noqa: F401  (fixture)
from buildsite import BuildError
from buildsite.checks import check_site
from buildsite.site import build

NUMPY = "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"


def official_dist(site, folder):
    """A folder laid out like an official Pyodide distribution, made from the verified files."""
    folder.mkdir(parents=True)
    for p in (site.out / "pyodide").iterdir():
        if p.is_file():  # not pyodide/stored/: the app's own copies (buildsite/stored.py) are no official file
            (folder / p.name).write_bytes(p.read_bytes())
    return folder


def run_build(*args):
    return subprocess.run([sys.executable, str(REPO / "build.py"), *args], capture_output=True, text=True,
                          cwd=REPO, timeout=600)


def test_tampered_wheel_in_pyodide_dist_folder_is_refused(built_site, tmp_path):
    fake = official_dist(built_site, tmp_path / "pyodide")
    wheel = fake / NUMPY
    wheel.write_bytes(wheel.read_bytes() + b"\0")  # one byte more: still a valid zip
    out = tmp_path / "dist"
    run = run_build("--pyodide-dist", str(fake), "--out", str(out), "--data", str(tmp_path / "none"))
    assert run.returncode == 2, run.stdout + run.stderr
    assert NUMPY in run.stderr and "do not match the official lock" in run.stderr
    assert not out.exists()  # nothing written


@pytest.mark.slow  # packs and reads a Pyodide tarball: seconds
def test_tampered_wheel_in_tarball_is_refused(built_site, tmp_path):
    fake = official_dist(built_site, tmp_path / "src" / "pyodide")
    pillow = next(fake.glob("pillow-*.whl"))
    pillow.write_bytes(pillow.read_bytes()[:-10] + b"0123456789")
    tarball = tmp_path / "pyodide-0.27.7.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(fake, arcname="pyodide")
    with pytest.raises(BuildError) as err:
        build(options(tmp_path / "dist", pyodide_dist=tarball, data=None), log=quiet)
    assert pillow.name in str(err.value)
    assert not (tmp_path / "dist").exists()


def test_missing_package_in_pyodide_dist_is_refused(built_site, tmp_path):
    fake = official_dist(built_site, tmp_path / "pyodide")
    (fake / "jedi-0.19.1-py2.py3-none-any.whl").unlink()
    with pytest.raises(BuildError, match=r"jedi-0\.19\.1-py2\.py3-none-any\.whl: missing"):
        build(options(tmp_path / "dist", pyodide_dist=fake, data=None), log=quiet)


@pytest.mark.slow  # packs and reads a Pyodide tarball: seconds
def test_official_dist_folder_and_tarball_build(built_site, tmp_path):
    fake = official_dist(built_site, tmp_path / "rel" / "pyodide")
    tarball = tmp_path / "pyodide-0.27.7.tar.bz2"
    with tarfile.open(tarball, "w:bz2") as tar:
        tar.add(fake, arcname="pyodide")
    for source in (fake.parent, tarball):  # the unpacked release folder holds pyodide/
        result = build(options(tmp_path / f"dist-{source.name}", pyodide_dist=source, data=None), log=quiet)
        info = json.loads((result.out / "build-info.json").read_text())
        assert str(source) in info["wasm_packages_from"]
        for name in info["packages"]["app"]:
            assert (result.out / "pyodide" / name).read_bytes() == (built_site.out / "pyodide" / name).read_bytes()


def test_other_pyodide_version_is_refused(built_site, tmp_path):
    fake = official_dist(built_site, tmp_path / "pyodide")
    lock = json.loads((fake / "pyodide-lock.json").read_text())
    lock["info"]["version"] = "0.26.4"
    (fake / "pyodide-lock.json").write_text(json.dumps(lock))
    with pytest.raises(BuildError, match="is Pyodide 0.26.4"):
        build(options(tmp_path / "dist", pyodide_dist=fake, data=None), log=quiet)


PAGE = '<script type="module" src="./pyscript/core.js"></script>\n'
SITE = {"pyscript/core.js": b"", "pyodide/pyodide.mjs": b"", "wheels/cnn101-0.1.0-py3-none-any.whl": b""}


@pytest.mark.parametrize("config, problem", [
    (None, "without a config"),
    ('{"packages": ["numpy"]}', '"interpreter" is None'),
    ('{"interpreter": "0.27.7"}', "CDN"),
    ('{"interpreter": "./pyodide/pyodide.mjs", "packages": ["scipy"]}', "micropip would fetch it from PyPI"),
    ('{"interpreter": "./pyodide/pyodide.mjs", "packages": ["./wheels/other.whl"]}', "not in the site"),
])
def test_pyscript_configs_that_would_go_online_are_refused(config, problem):
    attr = f" config='{config}'" if config else ""
    page = PAGE + f'<script type="py"{attr}>import numpy</script>'
    with pytest.raises(BuildError, match=problem):
        check_site({"index.html": page.encode(), **SITE}, {"numpy", "pillow"})


@pytest.mark.parametrize("shim, problem", [
    ('import * as p from "pyodide";', "loads pyodide, which is not a file of the site"),
    ('import * as p from "./pyodide/pyodide.js";', "loads ./pyodide/pyodide.js, which is not in the site"),
    ('import * as p from "./pyodide/pyodide.mjs"; new Worker(new URL("./gone.mjs", import.meta.url));',
     "loads ./gone.mjs, which is not in the site"),
    ('import * as p from "./pyodide/pyodide.mjs"; import("./helper.mjs");', "helper.mjs loads ./nowhere.mjs"),
])
def test_interpreter_shim_must_load_only_files_of_the_site(shim, problem):
    page = PAGE + '<script type="py" config=\'{"interpreter": "./start.mjs"}\'>import numpy</script>'
    site = {"index.html": page.encode(), **SITE, "start.mjs": shim.encode(),
            "helper.mjs": b'import "./nowhere.mjs";'}
    with pytest.raises(BuildError, match=problem):
        check_site(site, {"numpy"})
    good = 'import * as p from "./pyodide/pyodide.mjs"; new Worker(new URL("./w.mjs", import.meta.url));'
    check_site({**site, "start.mjs": good.encode(), "w.mjs": b'import { x } from "./pyodide/pyodide.mjs";'}, {"numpy"})


def test_outside_urls_in_our_files_are_refused_links_are_not():
    ok = PAGE + ('<script type="py" config=\'{"interpreter": "./pyodide/pyodide.mjs", "packages": '
                 '["numpy", "./wheels/cnn101-0.1.0-py3-none-any.whl"]}\'></script>'
                 '<a href="https://poloclub.github.io/cnn-explainer/">CNN Explainer</a>')
    theirs = check_site({"index.html": ok.encode(), **SITE,
                         "pyscript/x.js": b"import('https://cdn.example/x.js')"}, {"numpy"})
    assert theirs == {"pyscript/x.js": ["https://cdn.example/x.js"]}  # recorded, not refused
    bad = ok + '<img src="https://example.org/cat.jpg">'
    with pytest.raises(BuildError, match="outside URL https://example.org/cat.jpg"):
        check_site({"index.html": bad.encode(), **SITE}, {"numpy"})


def test_a_downloaded_wheel_is_checked_against_its_pin(tmp_path):
    """buildsite.files.pip_download (the carrier and comm): a file already there is not fetched again,
    and is refused when its sha256 is not the pinned one."""
    import hashlib

    from buildsite.files import pip_download

    (tmp_path / "x-1.0-py3-none-any.whl").write_bytes(b"wheel bytes")
    good = hashlib.sha256(b"wheel bytes").hexdigest()
    args = ("x==1.0", good, "x-1.0-py3-none-any.whl", tmp_path, quiet, "test", "no remedy")
    assert pip_download(*args) == tmp_path / "x-1.0-py3-none-any.whl"
    with pytest.raises(BuildError, match="not the pinned"):
        pip_download("x==1.0", "0" * 64, *args[2:])


# --- node_modules and dist/ by content (issue 12) ------------------------------------------------------

def test_tampered_node_modules_file_is_refused(tmp_path):
    """Every shipped file of npm pyodide / @pyscript/core has the sha256 of the registry tarball that
    package-lock.json's integrity names; one changed byte in pyodide.asm.wasm (after npm ci) stops the build."""
    from buildsite.npm import NpmPackages, ensure_npm_packages, verify_shipped

    real = ensure_npm_packages(REPO, log=quiet)
    verify_shipped(real)  # the installed files are the recorded ones
    copy = NpmPackages(tmp_path / "pyodide", tmp_path / "dist")
    for folder, files in ((copy.pyodide_dir, real.runtime_files()), (copy.pyscript_dist, real.pyscript_files())):
        folder.mkdir()
        for name, path in files.items():
            (folder / name).write_bytes(path.read_bytes())
    verify_shipped(copy)
    wasm = copy.pyodide_dir / "pyodide.asm.wasm"
    data = bytearray(wasm.read_bytes())
    data[len(data) // 2] ^= 1
    wasm.write_bytes(bytes(data))
    with pytest.raises(BuildError, match="pyodide.asm.wasm"):
        verify_shipped(copy)
    wasm.write_bytes(real.runtime_files()["pyodide.asm.wasm"].read_bytes())
    (copy.pyscript_dist / "extra.js").write_text("alert(1)")
    with pytest.raises(BuildError, match="extra.js"):
        verify_shipped(copy)


def test_sync_compares_content_not_size_and_mtime(tmp_path):
    import os

    from buildsite.files import sync_tree

    src = tmp_path / "src.js"
    src.write_bytes(b"console.log(1);")
    out = tmp_path / "out"
    plan = {"build-info.json": b"{}", "a.js": src, "b.txt": b"bytes"}
    assert sync_tree(plan, out, "build-info.json") == (3, 0)
    assert sync_tree(plan, out, "build-info.json") == (0, 0)  # nothing changed: nothing written
    dest = out / "a.js"
    st = dest.stat()
    dest.write_bytes(b"console.log(2);")  # same size, and the old mtime put back
    os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert sync_tree(plan, out, "build-info.json") == (1, 0)
    assert dest.read_bytes() == b"console.log(1);"


# --- the page's Content-Security-Policy (issue 12) -----------------------------------------------------

def test_the_built_page_carries_a_strict_csp(built_site):
    from buildsite.checks import csp_problems

    html = (built_site.out / "index.html").read_text()
    assert csp_problems(html) == []
    assert 'http-equiv="Content-Security-Policy"' in html and "'wasm-unsafe-eval'" in html


@pytest.mark.parametrize("policy, problem", [
    (None, "one Content-Security-Policy"),
    ("default-src 'self'; script-src 'self' https://cdn.example; connect-src 'self'; object-src 'none'; base-uri 'none'",
     "script-src allows https://cdn.example"),
    ("default-src *; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'", "default-src"),
    ("default-src 'self'; script-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'none'",
     "'unsafe-inline'"),
    ("default-src 'self'; script-src 'self'; connect-src 'self' https:; object-src 'none'; base-uri 'none'",
     "connect-src allows https:"),
    ("default-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'", "lacks object-src"),
])
def test_loose_or_missing_csp_is_named(policy, problem):
    from buildsite.checks import csp_problems

    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">' if policy else ""
    problems = csp_problems(f"<html><head>{meta}</head></html>")
    assert any(problem in p for p in problems), problems
