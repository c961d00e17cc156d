"""web/app/state.py on CPython: the page's state round-trips through the URL and survives bad input."""
import json
import sys
from urllib.parse import urlencode
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))
from app.state import ATTRIBUTIONS, FIELDS, PRESETS, SCOPES, Edit, State  # noqa: E402

names = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)


@given(image=st.one_of(st.just(""), st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)),
       scope=st.sampled_from(SCOPES), detail=st.booleans(),
       selected=st.one_of(st.none(), st.tuples(names, st.integers(0, 500), st.sampled_from([1, 2]))))
def test_round_trip(image, scope, detail, selected):
    s = State(image=image, scope=scope, detail=detail)
    if selected:
        s = s.open(selected[0], selected[1]).with_(level=selected[2])
    assert State.from_query(s.to_query()) == s


def test_defaults_make_an_empty_query():
    assert State().to_query() == ""
    assert State.from_query("") == State()


def test_bad_values_fall_back_to_defaults():
    s = State.from_query("?scope=local&detail=maybe&image=../../etc/passwd&neuron=conv.x&level=9")
    assert s == State()
    s = State.from_query("?neuron=conv_1_1.3&level=7")
    assert s.selected == ("conv_1_1", 3) and s.level == 1


def test_open_and_back():
    s = State(image="koala-1").open("conv_1_2", 4)
    assert s.level == 2 and s.selected == ("conv_1_2", 4)
    assert "neuron=conv_1_2.4" in s.to_query() and "level=2" in s.to_query()
    b = s.back()
    assert b.level == 1 and b.selected is None and b.image == "koala-1"
    assert b.back() == b


@given(level=st.sampled_from([2, 3]), part=st.from_regex(r"[A-Za-z0-9_]{1,40}", fullmatch=True),
       at=st.lists(st.integers(0, 9999), min_size=0, max_size=3).map(tuple),
       speed=st.one_of(st.sampled_from([0.25, 0.5, 1.0, 2.0, 16.0]), st.floats(1 / 64, 64)))
def test_levels_window_and_speed_round_trip(level, part, at, speed):
    s = State(image="koala-1", speed=speed).open("relu_1_1", 3)
    if level == 3:
        s = s.deeper(part)
    s = s.with_(at=at)
    assert State.from_query(s.to_query()) == s


def test_deeper_and_back_through_three_levels():
    s = State().open("output", 2).with_(at=(17,), speed=2.0)
    d = s.deeper("softmax").with_(at=(1,))
    assert d.level == 3 and d.part == "softmax" and "part=softmax" in d.to_query() and "at=1" in d.to_query()
    b = d.back()
    assert b.level == 2 and b.part == "" and b.at == () and b.selected == ("output", 2) and b.speed == 2.0
    assert b.back().level == 1 and b.back().selected is None and b.back().speed == 2.0


def test_bad_level_3_part_window_and_speed_fall_back():
    assert State.from_query("?neuron=conv.1&level=3").level == 2  # level 3 without a part
    assert State.from_query("?neuron=conv.1&level=3&part=<x>").level == 2
    assert State.from_query("?neuron=conv.1&level=2&at=1.x").at == ()
    assert State.from_query("?neuron=conv.1&level=2&at=1.2.3.4.5").at == ()
    assert State.from_query("?at=3.4").at == ()  # no neuron, no window
    for bad in ("0", "-2", "nan", "inf", "1e9", "fast"):
        assert State.from_query(f"?speed={bad}").speed == 1.0


edits = st.lists(
    st.builds(Edit, layer=st.from_regex(r"[A-Za-z0-9_.\-/]{1,30}", fullmatch=True), neuron=st.integers(0, 4096),
              preset=st.sampled_from(("",) + PRESETS),
              bias=st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)),
              weights=st.dictionaries(st.tuples(*[st.integers(0, 9999)] * 3), st.floats(-1e6, 1e6, width=32),
                                      max_size=4).map(lambda d: tuple((*k, d[k]) for k in sorted(d))))
    .filter(lambda e: e.preset or e.bias is not None or e.weights),
    max_size=6, unique_by=lambda e: (e.layer, e.neuron)).map(tuple)


@given(image=st.one_of(st.just(""), st.from_regex(r"[A-Za-z0-9_-]{1,30}", fullmatch=True)),
       scope=st.sampled_from(SCOPES), detail=st.booleans(),
       column=names, neuron=st.integers(0, 500), level=st.sampled_from([1, 2, 3]),
       part=st.from_regex(r"[A-Za-z0-9_]{1,40}", fullmatch=True),
       at=st.lists(st.integers(0, 999999), max_size=4).map(tuple),
       speed=st.floats(1 / 64, 64), edits=edits)
@settings(deadline=None)  # a shared machine took 254 ms for one example: no timing in tests
def test_every_field_round_trips(image, scope, detail, column, neuron, level, part, at, speed, edits):
    s = State(image=image, scope=scope, detail=detail, speed=speed, edits=edits)
    if level >= 2:
        s = s.open(column, neuron)
        s = s.deeper(part) if level == 3 else s
        s = s.with_(at=at)
    assert State.from_query(s.to_query()) == s


def test_every_attribute_has_one_field():
    attrs = [a for f in FIELDS for a in f.attrs]
    assert sorted(attrs) == sorted(State.__dataclass_fields__) and len(set(f.key for f in FIELDS)) == len(FIELDS)


def test_deeper_writes_only_parts_it_can_read_back():
    s = State().open("conv_1_1", 0).deeper("_")
    assert State.from_query(s.to_query()) == s
    with pytest.raises(ValueError):
        State().open("conv_1_1", 0).deeper("<x>")


def test_edits_are_in_the_url():
    s = State(edits=(Edit("conv_1_1", 0, "edges (vertical)"), Edit("conv_1_2", 3, "", 0.25)))
    q = s.to_query()
    assert "edits=conv_1_1%3A0%3Aedges-vertical%3A%2Cconv_1_2%3A3%3A%3A0.25" in q
    assert State.from_query(q) == s


def test_typed_weights_are_in_the_url():
    s = State(edits=(Edit("conv_1_1", 2, "", None, ((0, 2, 0, 0.75), (1, 0, 2, -2.0))),
                     Edit("conv_1_2", 0, "blur", 0.5, ((3, 1, 1, 0.10000000149011612),))))
    q = s.to_query()
    assert "conv_1_1%3A2%3A%3A%3A0.2.0%3D0.75%3B1.0.2%3D-2.0" in q
    assert State.from_query(q) == s
    old = State.from_query("?edits=conv_1_1%3A0%3Ablur%3A")  # links written before weights were kept
    assert old.edits == (Edit("conv_1_1", 0, "blur"),)


@pytest.mark.parametrize("bad", ["conv:0:::", "conv:0:::0.1.2", "conv:0:::0.1=2", "conv:0:::0.1.x=2",
                                 "conv:0:::0.1.2=nan", "conv:0:::0.1.2=1e9", "conv:0:::0.1.2=1;0.1.2=3",
                                 "conv:0:blur::0.1.2=1:extra", "conv:0:::12345.0.0=1",
                                 "conv:0:::" + ";".join(f"{k}.0.0=1" for k in range(4097))])
def test_bad_typed_weights_fall_back_to_none(bad):
    assert State.from_query("?" + urlencode({"edits": bad})).edits == ()


@pytest.mark.parametrize("bad", ["conv:0:blurry:", "conv:x:blur:", "conv:0::", "conv:0:blur:nan", "conv:0::inf",
                                 "conv:0:blur", "conv:0:blur:,conv:0::1", "<b>:0:blur:"])
def test_bad_edits_fall_back_to_none(bad):
    assert State.from_query("?" + urlencode({"edits": bad})).edits == ()


@given(why=st.booleans(), target=st.integers(-1, 999), method=st.sampled_from(ATTRIBUTIONS),
       opacity=st.sampled_from([0.0, 0.05, 0.6, 1.0]))
def test_why_mode_round_trips(why, target, method, opacity):
    s = State(why=why, target=target, method=method, opacity=opacity)
    back = State.from_query(s.to_query())
    if why:
        assert back == s
    else:  # class, method and opacity only belong to why mode
        assert back == State()


def test_why_mode_bad_values_fall_back():
    s = State.from_query("?why=1&class=-3&method=lime&opacity=2")
    assert s == State(why=True)
    assert State.from_query("?class=2&method=gradcam").target == -1  # not in why mode: ignored
    assert State.from_query("?why=1&class=2&method=gradcam&opacity=0.25") == State(why=True, target=2,
                                                                                    method="gradcam", opacity=0.25)


def test_perturb_steps_round_trip_compressed():
    from app.state import steps_json

    steps = steps_json([{"op": "keep_channel", "channel": "red"}, {"op": "occlude", "top": -3, "left": 60, "size": 8},
                        {"op": "noise", "amount": 0.1, "seed": 7}])
    s = State(image="koala-1", steps=steps)
    q = s.to_query()
    assert "steps=" in q and "keep_channel" not in q  # deflated
    assert State.from_query(q) == s
    assert json.loads(State.from_query(q).steps)[1] == {"op": "occlude", "top": -3, "left": 60, "size": 8}


@pytest.mark.parametrize("bad", ["%%%", "abc", "eJzLSM3JyVcozy_KSQEAGgQEXQ",  # text, not a JSON list
                                 State(steps='[{"op":"blur"}]').to_query()[len("?steps="):][:-6]])
def test_bad_steps_fall_back_to_none(bad):
    assert State.from_query(urlencode({"steps": bad})).steps == ""


def test_unknown_op_and_huge_steps_are_refused():
    import zlib, base64
    from app.state import _write_steps
    assert State.from_query("?steps=" + _write_steps('[{"op":"format_disk"}]')).steps == ""
    bomb = base64.urlsafe_b64encode(zlib.compress(b"[" + b" " * 10_000_000 + b"]")).decode().rstrip("=")
    assert State.from_query("?steps=" + bomb).steps == ""
# --- too big for a link: the state file (issue 13) -----------------------------------------------------
from app.state import MAX_QUERY, MAX_STATE_FILE, link_query, read_state_file, state_file  # noqa: E402
from cnn101 import Cnn101Error  # noqa: E402
from cnn101.errors import InputError  # noqa: E402

BIG = State(image="koala-2", scope="module").open("conv_1_2", 3).with_(
    edits=tuple(Edit(f"layer_with_a_long_name_{i:02d}", 1000000 + i, "", 0.1234567890123 + i) for i in range(64)))


def test_link_query_keeps_a_small_state_whole_and_leaves_out_the_longest_field_of_a_big_one():
    small = State(image="koala-2").open("conv_1_2", 3)
    assert link_query(small) == (small.to_query(), ())
    assert len(BIG.to_query()) > 3000
    q, left = link_query(BIG, limit=200)
    assert left == ("edits",) and len(q) <= 200
    back = State.from_query(q)
    assert back == BIG.with_(edits=()) and back.selected == ("conv_1_2", 3)
    q, left = link_query(BIG, limit=5)
    assert q == "" and set(left) == set(BIG.to_fields())
    assert MAX_QUERY == 8000


@given(image=st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True), scope=st.sampled_from(SCOPES),
       why=st.booleans(), opacity=st.sampled_from([0.0, 0.25, 1.0]), n=st.integers(0, 64))
def test_state_file_round_trips_every_field(image, scope, why, opacity, n):
    s = BIG.with_(image=image, scope=scope, why=why, opacity=opacity if why else 0.6, edits=BIG.edits[:n])
    assert read_state_file(state_file(s)) == s
    assert len(state_file(BIG)) < MAX_STATE_FILE // 100  # a small file


def test_state_file_is_generic_over_the_table():
    """Every key of FIELDS is in the file of a state where every field differs from the default."""
    s = BIG.with_(detail=True, speed=2.0, why=True, target=3, method="smoothgrad", opacity=0.25).deeper("4")
    from app.state import steps_json
    s = s.with_(at=(1, 2), steps=steps_json([{"op": "keep_channel", "channel": "red"}]))
    assert set(json.loads(state_file(s))["fields"]) == {f.key for f in FIELDS}
    assert read_state_file(state_file(s)) == s


@pytest.mark.parametrize("data,words", [
    (b"", "not JSON"), (b"\x89PNG\r\n\x1a\n\x00\x00", "not JSON"), (b"[1, 2]", "format"),
    (b'{"format": "cnn101-state", "version": 1, "fields": []}', "format"),
    (b'{"format": "cnn101-state", "version": 2, "fields": {}}', "version"),
    (b'{"format": "cnn101-state", "version": 1, "fields": {"image": 5}}', "text values"),
    (b'{"format": "cnn101-state", "version": 1, "fields": {"image": {"a": "b"}}}', "text values"),
    (b'{"format": "cnn101-state", "version": 1, "fields": {"x": [[[[[[1]]]]]]}}', "nests"),
    (b"[" * 100000 + b"]" * 100000, "nests"),
    (b'{"format": "cnn101-state", "version": 1, "fields": {"a": NaN}}', "text values"),
    (b" " * (MAX_STATE_FILE + 1), "at most"),
])
def test_hostile_state_files_are_refused_in_plain_words(data, words):
    with pytest.raises(InputError) as e:
        read_state_file(data, "state.json")
    assert isinstance(e.value, Cnn101Error) and words in str(e.value) and "state.json" in str(e.value)


def test_bad_values_in_a_state_file_fall_back_like_a_url():
    data = b'{"format": "cnn101-state", "version": 1, "fields": {"scope": "local", "image": "koala-2", "zzz": "1"}}'
    assert read_state_file(data) == State(image="koala-2")
