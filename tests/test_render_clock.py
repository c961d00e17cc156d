"""cnn101.render.clock: one clock for every animated view (a loop for the detail panels, a sweep for the
convolutional view), driven by elapsed time; one speed ladder."""
import numpy as np
import pytest

from cnn101.render import conv_view as R
from cnn101.render.clock import BASE_MS, SPEEDS, Clock, closest_speed, speed_index, speed_label


def test_loop_steps_by_elapsed_time_and_loops():
    p = Clock(5, playing=True)
    assert p.interval == BASE_MS
    assert not p.advance(1000.0)  # the first frame only starts the clock
    assert not p.advance(1000.0 + BASE_MS - 1)
    assert p.advance(1000.0 + BASE_MS) and p.index == 1
    assert p.advance(1000.0 + 3 * BASE_MS + 10) and p.index == 3
    assert p.advance(1000.0 + 5 * BASE_MS) and p.index == 0  # wrapped around
    p.speed = 4.0
    assert p.interval == BASE_MS / 4
    p.pause()
    assert not p.advance(99_999.0) and p.index == 0
    p.play(100_000.0)
    assert p.advance(100_000.0 + BASE_MS / 4) and p.index == 1
    # far behind (a hidden tab): one jump to where the time says, no burst of catch-up steps later
    assert p.advance(200_000.0)
    assert not p.advance(200_000.0 + BASE_MS / 8)
    assert p.index == int((200_000.0 - 100_000.0) // (BASE_MS / 4)) % 5


def test_loop_frame_rate_does_not_change_the_pace():
    fast, slow = Clock(10_000, playing=True), Clock(10_000, playing=True)
    for t in np.arange(0, 5000, 1000 / 144):
        fast.advance(float(t))
    for t in np.arange(0, 5000, 1000 / 30):
        slow.advance(float(t))
    assert abs(fast.index - slow.index) <= 1 and fast.index in (19, 20)


def test_speeds():
    assert SPEEDS[speed_index(1.0)] == 1.0 and SPEEDS[speed_index(3.0)] in (2.0, 4.0)
    assert SPEEDS[speed_index(100)] == SPEEDS[-1] and SPEEDS[speed_index(0.01)] == SPEEDS[0]
    assert speed_label(2.0) == "2× (125 ms per step)"


def test_one_ladder_for_every_view():
    assert SPEEDS[-1] == 16.0 and closest_speed(16) == 16.0  # the conv view too (it stopped at 8×)
    assert closest_speed(3.1) == 4.0 and closest_speed(0.3) == 0.25
    html = R.panel_html("t", "s", "d", "<div></div>", "tutorial-convolution", 16.0, True, "")
    assert 'value="16" selected' in html


def test_sweep_clock_by_elapsed_time():
    s = Clock(100, speed=1.0, step_ms=R.step_ms(100), loop=False)
    per = s.ms_per_step
    assert per == pytest.approx(R.step_ms(100)) and R.STEP_MS[0] <= per <= R.STEP_MS[1]
    assert not s.advance(0.0) and s.revealed == -1  # not playing
    s.play()
    assert s.advance(1000.0) and s.revealed == 0  # the first frame shows the first step
    assert not s.advance(1000.0 + per * 0.5)
    assert s.advance(1000.0 + per * 10.2) and s.revealed == 10
    s.pause()
    assert not s.advance(1e9) and s.revealed == 10
    s.play()  # continues where it was
    s.advance(5000.0)
    assert s.revealed == 11
    s.set_speed(4.0)  # faster from now on, no jump
    assert s.ms_per_step == pytest.approx(per / 4)
    s.advance(6000.0)
    assert s.revealed == 12
    s.advance(6000.0 + per / 4 * 3.5)
    assert s.revealed == 15
    s.advance(1e9)  # the end: everything shown, stopped
    assert s.done and not s.playing and s.revealed == 99
    s.play()  # after the end, play starts over
    assert s.revealed == -1 and s.playing
    s.finish()
    assert s.done and not s.playing
    s.replay()
    assert s.revealed == -1 and s.playing
