"""web/app/state.py on CPython: the page's state round-trips through the URL and survives bad input."""
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))
from app.state import SCOPES, State  # noqa: E402

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


@given(level=st.sampled_from([2, 3]), part=st.from_regex(r"[a-z0-9_]{1,12}", fullmatch=True),
       at=st.lists(st.integers(0, 9999), min_size=0, max_size=3).map(tuple),
       speed=st.sampled_from([0.25, 0.5, 1.0, 2.0, 16.0]))
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
