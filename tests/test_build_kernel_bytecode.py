"""buildsite/kernel_bytecode.py: repacking a wheel with .pyc beside its sources (no Node here; the built
site's wheels are checked in tests/test_lite_notebook.py, the kernel running them in its browser test)."""
from __future__ import annotations

import io
import zipfile

from buildsite.kernel_bytecode import cache_path, repack

RECORD = "pkg-1.0.dist-info/RECORD"


def _wheel(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_cache_path_is_importlibs():
    assert cache_path("pkg/mod.py") == "pkg/__pycache__/mod.cpython-312.pyc"
    assert cache_path("pkg/sub/__init__.py") == "pkg/sub/__pycache__/__init__.cpython-312.pyc"
    assert cache_path("six.py") == "__pycache__/six.cpython-312.pyc"


def test_repack_adds_the_pyc_of_its_own_sources_beside_them_and_in_record(tmp_path):
    members = {"pkg/__init__.py": b"x = 1\n", "pkg/mod.py": b"y = 2\n", "pkg/data.txt": b"d",
               RECORD: b"pkg/__init__.py,sha256=a,6\npkg/mod.py,sha256=b,6\n"}
    wheel = _wheel(tmp_path / "pkg-1.0-py3-none-any.whl", members)
    pyc = {"site/pkg/__pycache__/__init__.cpython-312.pyc": b"PYC-INIT",
           "site/other/__pycache__/mod.cpython-312.pyc": b"NOT-OURS",       # another wheel's
           "stdlib/pkg/__pycache__/mod.cpython-312.pyc": b"OTHER-ROOT"}     # same path, other install root
    data = repack(wheel, "site", pyc)
    z = zipfile.ZipFile(io.BytesIO(data))
    assert set(z.namelist()) == set(members) | {"pkg/__pycache__/__init__.cpython-312.pyc"}
    assert z.read("pkg/__pycache__/__init__.cpython-312.pyc") == b"PYC-INIT"
    for name, content in members.items():
        if name != RECORD:
            assert z.read(name) == content
    assert z.read(RECORD) == members[RECORD] + b"pkg/__pycache__/__init__.cpython-312.pyc,,\n"
    assert z.testzip() is None
    assert repack(wheel, "site", pyc) == data  # the same input, the same bytes


def test_repack_leaves_a_wheel_without_compiled_sources_alone(tmp_path):
    wheel = _wheel(tmp_path / "pkg-1.0-py3-none-any.whl", {"pkg/__init__.py": b"", RECORD: b""})
    assert repack(wheel, "site", {}) is None
    assert repack(wheel, "site", {"stdlib/pkg/__pycache__/__init__.cpython-312.pyc": b"x"}) is None
    # a wheel that already carries a .pyc keeps its own
    shipped = _wheel(tmp_path / "q-1.0-py3-none-any.whl",
                     {"q.py": b"", "__pycache__/q.cpython-312.pyc": b"THEIRS", "q-1.0.dist-info/RECORD": b""})
    assert repack(shipped, "site", {"site/__pycache__/q.cpython-312.pyc": b"OURS"}) is None
