"""The process's chooser never measures while a visitor waits: a new shape runs eagerly once, and the
measuring happens on a background thread once no op has run for QUIET_S."""

from __future__ import annotations

import threading
import time

import numpy as np

from cnn_core import chooser as C


def _op(value: float, seconds: float, calls: list, name: str):
    def run():
        calls.append((name, threading.current_thread().name, time.monotonic()))
        time.sleep(seconds)
        return np.full((2, 2), value, np.float32)

    return run


def test_a_new_shape_runs_eagerly_once_and_is_measured_after_the_answer():
    chooser = C.Chooser(background=True)
    calls: list = []
    candidates = {"eager": _op(1.0, 0.01, calls, "eager"), "shifted": _op(1.0, 0.001, calls, "shifted")}
    out = chooser.run(("k",), candidates)
    answered = time.monotonic()
    np.testing.assert_array_equal(out, 1.0)
    here = threading.current_thread().name
    assert [(n, t) for n, t, _ in calls] == [("eager", here)]  # one eager call, nothing else, while waiting
    assert chooser.pending() == [("k",)] and ("k",) not in chooser.choices()
    assert chooser.wait_idle(30)
    choice = chooser.choices()[("k",)]
    assert choice.name == "shifted" and "shifted compile" in choice.seconds
    later = [(n, t, at) for n, t, at in calls[1:]]
    assert later and all(t != here and at >= answered + C.QUIET_S * 0.9 for _, t, at in later), later
    calls.clear()
    chooser.run(("k",), candidates)
    assert [n for n, _, _ in calls] == ["shifted"]  # the measured choice from now on


def test_measuring_waits_while_any_op_runs():
    chooser = C.Chooser(background=True)
    calls: list = []
    chooser._remember(("known",), C.Choice("eager", {"eager": 1.5}, {}))
    slow_done = []

    def other_visitor():  # another visitor's long op on a known shape
        chooser.run(("known",), {"eager": _op(2.0, 1.5, calls, "slow")})
        slow_done.append(time.monotonic())

    t = threading.Thread(target=other_visitor)
    t.start()
    while not calls:  # wait until it is under way
        time.sleep(0.01)
    chooser.run(("new",), {"eager": _op(1.0, 0.01, calls, "eager"), "xla": _op(1.0, 0.001, calls, "xla")})
    t.join()
    assert chooser.wait_idle(30)
    measured = [at for n, _, at in calls if n == "xla"]
    assert measured and min(measured) >= slow_done[0], (measured, slow_done)


def test_quick_or_single_formulation_shapes_are_remembered_at_once():
    chooser = C.Chooser(background=True)
    calls: list = []
    chooser.run(("one",), {"eager": _op(1.0, 0.05, calls, "eager")})
    chooser.run(("quick",), {"eager": _op(1.0, 0.0, calls, "eager"), "xla": _op(1.0, 0.0, calls, "xla")})
    assert set(chooser.choices()) == {("one",), ("quick",)} and chooser.pending() == []
    assert [n for n, _, _ in calls] == ["eager", "eager"]


def test_stop_waits_for_the_measurement_under_way_and_starts_no_other():
    # Python's exit unwinds a daemon thread that is still inside a TensorFlow op by force, and TensorFlow then
    # aborts the process (status 134): `pytest tests/app/test_playground.py` ended so 2 runs of 2. The chooser
    # registers stop() at exit, so its thread is never inside an op when the interpreter goes.
    chooser = C.Chooser(background=True)
    calls: list = []
    slow = {"eager": _op(1.0, 0.01, calls, "eager"), "shifted": _op(1.0, 0.8, calls, "shifted")}
    chooser.run(("a",), slow)
    chooser.run(("b",), {"eager": _op(2.0, 0.01, calls, "eager"), "shifted": _op(2.0, 0.01, calls, "b-shifted")})
    deadline = time.monotonic() + 30
    while not chooser._busy and time.monotonic() < deadline:
        time.sleep(0.005)
    assert chooser._busy, "the background measurement never started"
    worker = chooser._worker
    chooser.stop(timeout=30)
    assert not worker.is_alive()  # it waited for the measurement under way to end...
    assert chooser.pending() == []  # ...dropped the one waiting...
    assert "b-shifted" not in [n for n, _, _ in calls]
    chooser.run(("c",), {"eager": _op(3.0, 0.01, calls, "eager"), "shifted": _op(3.0, 0.01, calls, "c-shifted")})
    assert chooser.pending() == [] and chooser._worker is None  # ...and measures nothing after
