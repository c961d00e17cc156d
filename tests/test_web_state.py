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
