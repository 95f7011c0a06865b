"""First-use work is locked per key: one shape's measuring or compiling never waits for another's, and two
callers of the same shape do it once."""

from __future__ import annotations

import threading
import time

import numpy as np

from cnn_core import chooser as C
from cnn_core.locks import KeyedLocks

WAIT_S = 20  # far longer than any step here takes, even on a loaded machine; a global lock would never let go


def test_different_keys_never_wait_for_each_other():
    locks = KeyedLocks()
    b_ran = threading.Event()
    a_saw_b = []

    def a():
        with locks.hold(("conv", 3)):
            a_saw_b.append(b_ran.wait(WAIT_S))  # holds its key until b has run under its own

    def b():
        with locks.hold(("conv", 5)):
            b_ran.set()

    ta = threading.Thread(target=a)
    ta.start()
    time.sleep(0.05)
    tb = threading.Thread(target=b)
    tb.start()
    ta.join(WAIT_S + 5)
    tb.join(WAIT_S + 5)
    assert a_saw_b == [True]
    assert len(locks) == 0  # nothing kept once nobody holds or waits


def test_the_same_key_is_held_by_one_thread_at_a_time_and_is_reentrant():
    locks = KeyedLocks()
    inside, most = [0], [0]
    guard = threading.Lock()

    def work():
        with locks.hold("k"):
            with locks.hold("k"):  # re-entrant: a fused block measures its own layers' keys
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.01)
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S)
    assert most[0] == 1
    assert len(locks) == 0


def test_the_chooser_measures_two_shapes_side_by_side():
    # Shape A's candidate waits until shape B's measuring has started. With one lock for the process (before),
    # B waited for A, A for B, and A gave up after WAIT_S and was rejected.
    chooser = C.Chooser()
    b_started = threading.Event()
    seen = {}

    def xla_a():
        seen["a waited"] = b_started.wait(WAIT_S)
        return np.ones((2, 2), np.float32)

    def slow_eager():
        time.sleep(C.MEASURE_FLOOR_S * 2)  # slow enough to be worth measuring the other formulation
        return np.ones((2, 2), np.float32)

    def xla_b():
        b_started.set()
        return np.ones((2, 2), np.float32)

    ta = threading.Thread(target=lambda: chooser.run(("a",), {"eager": slow_eager, "xla": xla_a}))
    ta.start()
    tb = threading.Thread(target=lambda: chooser.run(("b",), {"eager": slow_eager, "xla": xla_b}))
    tb.start()
    ta.join(WAIT_S + 10)
    tb.join(WAIT_S + 10)
    assert seen == {"a waited": True}
    assert set(chooser.choices()) == {("a",), ("b",)}


def test_the_chooser_measures_one_shape_once_for_two_callers():
    chooser = C.Chooser()
    calls = []

    def eager():
        calls.append("eager")
        time.sleep(C.MEASURE_FLOOR_S * 2)
        return np.zeros((2, 2), np.float32)

    def xla():
        calls.append("xla")
        return np.zeros((2, 2), np.float32)

    threads = [threading.Thread(target=lambda: chooser.run(("same",), {"eager": eager, "xla": xla})) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S)
    # One measurement (eager 1 + 3 timed, xla compile + 2 timed), then the second caller runs the choice once.
    assert calls.count("xla") + calls.count("eager") == 4 + 3 + 1
