"""replay.Replay: perturb.apply again with the last call's work reused — always the same bytes as perturb.apply."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnn101 import PerturbError, perturb
from cnn101.replay import Replay

RNG = np.random.default_rng(7)
IMAGES = [RNG.random((12, 10, 3)).astype(np.float32), RNG.random((12, 10, 3)).astype(np.float32)]

point = st.lists(st.floats(-3, 14, allow_nan=False).map(lambda v: round(v, 1)), min_size=2, max_size=2)
stroke = st.fixed_dictionaries({"op": st.just("stroke"), "points": st.lists(point, min_size=1, max_size=4),
                                "radius": st.sampled_from([0.5, 1, 1.5, 3]),
                                "colour": st.sampled_from([0, 1, 0.25, [1, 0, 0]])},
                               optional={"channel": st.sampled_from(["red", 2])})
other = st.one_of(
    st.builds(lambda a: {"op": "brightness", "amount": a}, st.sampled_from([-0.3, 0.2, 0.5])),
    st.builds(lambda s: {"op": "blur", "size": s}, st.sampled_from([1, 3])),
    st.builds(lambda t, l: {"op": "occlude", "top": t, "left": l, "size": 4}, st.integers(-2, 10), st.integers(-2, 8)),
    st.builds(lambda d: {"op": "flip", "direction": d}, st.sampled_from(["horizontal", "vertical"])),
    st.just({"op": "fill", "row": 0, "col": 0, "colour": 1, "tolerance": 1}),
)
# one change of the steps between two calls, as the page makes them
change = st.one_of(
    st.tuples(st.just("draw"), stroke, st.lists(st.lists(point, min_size=1, max_size=3), max_size=4)),  # + moves
    st.tuples(st.just("grow"), st.lists(point, min_size=1, max_size=3)),  # the pointer moved again
    st.tuples(st.just("add"), other),
    st.tuples(st.just("set"), st.integers(0, 9), other),  # a slider's step changed in place
    st.tuples(st.just("remove"), st.integers(0, 9)),
    st.tuples(st.just("image"), st.integers(0, 1)),
    st.tuples(st.just("grow-other"), st.sampled_from([0.5, 2])),  # the last stroke, another radius
)


@settings(max_examples=80, deadline=None)
@given(st.lists(change, min_size=1, max_size=14))
def test_every_sequence_of_changes_gives_perturb_apply_s_bytes(changes):
    replay, steps, img = Replay(), [], 0
    def check(what):
        got = replay.apply(IMAGES[img], steps)
        want = perturb.apply(IMAGES[img], steps)
        assert got.dtype == want.dtype and np.array_equal(got, want), (what, steps)
        got[...] = 0  # the caller's copy: changing it leaves the cache alone

    for what, *args in changes:
        if what == "draw":
            steps.append({k: (list(map(list, v)) if k == "points" else v) for k, v in args[0].items()})
            for more in args[1]:
                check(what)
                steps[-1]["points"].extend(more)  # in place, as the pad appends to the step it draws
        elif what == "grow" and steps and steps[-1]["op"] == "stroke":
            steps[-1]["points"].extend(args[0])
        elif what == "add":
            steps.append(args[0])
        elif what == "set" and steps:
            steps[args[0] % len(steps)] = args[1]
        elif what == "remove" and steps:
            del steps[args[0] % len(steps)]
        elif what == "image":
            img = args[0]
        elif what == "grow-other" and steps and steps[-1]["op"] == "stroke":
            steps[-1] = {**steps[-1], "radius": args[0], "points": steps[-1]["points"] + [[1.0, 1.0]]}
        check(what)
    assert replay.apply(IMAGES[img], steps).tobytes() == perturb.apply(IMAGES[img], steps).tobytes()


def test_a_growing_stroke_paints_only_its_new_segments():
    replay = Replay()
    s = {"op": "stroke", "points": [[2.0, 2.0]], "radius": 1.5, "colour": [0, 0, 1]}
    steps = [{"op": "brightness", "amount": 0.1}, s]
    replay.apply(IMAGES[0], steps)
    for p in ([2.0, 5.0], [6.5, 7.0], [10.0, 1.0]):
        s["points"].append(p)
        np.testing.assert_array_equal(replay.apply(IMAGES[0], steps), perturb.apply(IMAGES[0], steps))
        assert replay.reused == -1
    steps.append({"op": "flip", "direction": "vertical"})
    np.testing.assert_array_equal(replay.apply(IMAGES[0], steps), perturb.apply(IMAGES[0], steps))
    assert replay.reused == 2  # brightness and the stroke came from the cache
    np.testing.assert_array_equal(replay.apply(IMAGES[1], steps), perturb.apply(IMAGES[1], steps))
    assert replay.reused == 0  # another image: everything again


def test_types_count_and_errors_are_perturb_s():
    replay = Replay()
    x = IMAGES[0]
    fill = {"op": "fill", "row": 0, "col": 0, "colour": 1}
    replay.apply(x, [fill])
    with pytest.raises(PerturbError):  # True is not a pixel row, though True == 1
        replay.apply(x, [{**fill, "row": True}])
    s = {"op": "stroke", "points": [[1, 1], [2, 2]], "radius": 1}
    np.testing.assert_array_equal(replay.apply(x, [s]), perturb.apply(x, [s]))
    bad = {**s, "points": [[1, 1], [2, 2], [float("nan"), 3]]}
    with pytest.raises(PerturbError) as got:
        replay.apply(x, [bad])
    with pytest.raises(PerturbError) as want:
        perturb.apply(x, [bad])
    assert str(got.value) == str(want.value)
    np.testing.assert_array_equal(replay.apply(x, [s]), perturb.apply(x, [s]))  # the failure changed nothing
    flat = {**s, "points": [1, 1, 2, 2, 3, 3]}  # a flat list pairs up anew: no tail painting
    np.testing.assert_array_equal(replay.apply(x, [flat]), perturb.apply(x, [flat]))
    with pytest.raises(PerturbError):
        replay.apply(np.full((4, 4, 3), 2.0, np.float32), [])
