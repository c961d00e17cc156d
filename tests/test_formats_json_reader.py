"""The one JSON reader: its depth scan against the parsed structure, and its refusals."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnn101.errors import ModelError
from cnn101.formats.json_reader import MAX_DEPTH, nesting_depth, read_json

tricky = st.text(alphabet=st.sampled_from(list('[]{}"\\,:ab \n\u00e9')), max_size=12)
values = st.recursive(st.none() | st.booleans() | st.integers() | tricky,
                      lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky, inner, max_size=4),
                      max_leaves=40)


def depth(v) -> int:
    if isinstance(v, list):
        return 1 + max((depth(x) for x in v), default=0)
    if isinstance(v, dict):
        return 1 + max((depth(x) for x in v.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(values, st.booleans())
def test_depth_scan_matches_the_parsed_structure(v, ascii_only):
    text = json.dumps(v, ensure_ascii=ascii_only).encode()
    assert nesting_depth(text) == depth(v)
    if depth(v) <= MAX_DEPTH:
        assert read_json(text, "x") == v


@pytest.mark.parametrize("data, words", [
    (b"[" * 100_000 + b"]" * 100_000, ["levels deep"]),
    (b'{"a": ' * 65 + b"1" + b"}" * 65, ["65 levels"]),
    (b"\xff\xfe{}", ["not valid JSON", "UTF-8"]),
    (b'{"a": NaN}', ["not a number"]),
    (b'{"a": Infinity}', ["not a number"]),
    (b"{oops", ["not valid JSON"]),
    (b"", ["not valid JSON"]),
])
def test_refusals(data, words):
    with pytest.raises(ModelError) as e:
        read_json(data, "model.json")
    assert all(w in str(e.value) for w in words) and "model.json" in str(e.value)


def test_size_limit_comes_first():
    with pytest.raises(ModelError, match="MB"):
        read_json(b" " * 101, "x", max_bytes=100)
    assert read_json('{"é": [1, 2]}', "x") == {"é": [1, 2]}  # text is accepted too
    assert read_json(b'\xef\xbb\xbf{"bom": true}', "x") == {"bom": True}
