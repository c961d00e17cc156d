"""Shared by the build tests: one site built per test session, into a temporary folder.

Import the fixture into a test module with `from conftest_build import built_site`. The download
cache is the repo's .cache/ (the carrier wheel is fetched from PyPI once, then reused).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from buildsite.site import BuildOptions, BuildResult, build  # noqa: E402

CACHE = REPO / ".cache"
DATA = REPO.parent / "shared" / "data" / "tiny-imagenet-10"
_built: dict[str, BuildResult] = {}


def options(out: Path, **kw) -> BuildOptions:
    kw.setdefault("data", DATA)
    return BuildOptions(repo=REPO, out=out, cache=CACHE, **kw)


def quiet(*_args, **_kw):
    pass


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> BuildResult:
    """A site built from the repo as it is (examples from the shared dataset when it is there)."""
    if "site" not in _built:  # a module-level cache: several test modules import this fixture
        _built["site"] = build(options(tmp_path_factory.mktemp("site") / "dist"), log=quiet)
    return _built["site"]
