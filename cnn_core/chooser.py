"""Choosing the quickest formulation of an operation, once per shape, and remembering it for the process.

``Chooser.run`` times each formulation once for a new set of shapes and settings on a device (best of a
few calls), checks that it gives the eager op's values (``agrees``), and remembers the quickest.

The process's chooser (``CHOOSER``) never measures while a visitor waits: a new shape runs the eager op
once, which is what the compute budget's estimate describes, and the measuring and compiling (several
times the op's own time) happen on one background thread after the answer, once nothing has asked for an
op for QUIET_S. Until then the shape keeps running eagerly. So the budget holds on a view's first run as
on later ones. A ``Chooser()`` made without ``background=True`` measures inline, as tests need. ``Chooser.run_fused`` makes the same choice between a fused conv → activation → pool call
and its layers run one at a time. ``forcing`` (per thread) or ``CNN_CORE_FORMULATION`` in the
environment forces one formulation, for benchmarks and comparisons. The formulations themselves are in
``formulations.py``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .locks import KeyedLocks

# A first call quicker than this is not worth measuring: compiling costs far more than it could save.
MEASURE_FLOOR_S = 0.004
# Layers that take less than this together (their own first-use timings) are not worth compiling as one
# call (see Chooser.run_fused): on 2 cores fusing saved 0.1–0.2 ms below it, for a compile of about 0.1 s.
FUSED_MEASURE_FLOOR_S = 0.001
# The background measurer starts only after this long without a foreground op (the answer is out), and
# holds at most MAX_PENDING shapes waiting (each keeps its input alive until measured).
QUIET_S = 0.5
MAX_PENDING = 2
# Two formulations "agree" when |a - b| <= RTOL * |b| + RTOL * max|b| (the benchmark's rule).
RTOL = 1e-5
FORMULATIONS = ("eager", "xla", "shifted", "fused")


# Set by ``forcing``, per thread (each Streamlit session runs in its own thread); wins over the environment.
_FORCED = threading.local()


def _candidate_failures() -> tuple[type[Exception], ...]:
    """What a formulation that can't run here raises: TensorFlow refusing the op or its compile (an OpError),
    or a trace Keras/TensorFlow can't build. Anything else is a bug and goes up."""
    import tensorflow as tf  # loaded by then: a candidate has just run

    return (tf.errors.OpError, ValueError, TypeError, NotImplementedError, RuntimeError)


def _forced_stack() -> list[str]:
    stack = getattr(_FORCED, "stack", None)
    if stack is None:
        stack = _FORCED.stack = []
    return stack


def forced() -> str:
    """The formulation forced by ``forcing`` or by ``CNN_CORE_FORMULATION`` ("auto" when neither)."""
    stack = _forced_stack()
    v = stack[-1] if stack else os.environ.get("CNN_CORE_FORMULATION", "auto").strip().lower() or "auto"
    return v if v in (*FORMULATIONS, "auto") else "auto"


@contextlib.contextmanager
def forcing(name: str):
    """Run every op as ``name`` ("eager", "xla", "shifted", "fused") where it has that form, for comparisons.

    Forcing "fused" runs conv → activation → pool blocks as one call and every other op eagerly; forcing
    anything else runs no fused call.
    """
    if name not in (*FORMULATIONS, "auto"):
        raise ValueError(f"unknown formulation {name!r}; choose from {', '.join(FORMULATIONS)} or auto")
    stack = _forced_stack()
    stack.append(name)
    try:
        yield
    finally:
        stack.pop()


def agrees(got, ref, rtol: float = RTOL) -> bool:
    """True when every value is within ``rtol * |ref| + rtol * max|ref|`` (NaN only where ref has NaN).

    ``got`` and ``ref`` are arrays, or tuples of arrays compared one by one (the stages of a fused call),
    each against its own largest magnitude.
    """
    if isinstance(ref, tuple):
        return isinstance(got, tuple) and len(got) == len(ref) and all(agrees(g, r, rtol) for g, r in zip(got, ref))
    if got.shape != ref.shape:
        return False
    fin = np.isfinite(ref)
    if not np.array_equal(fin, np.isfinite(got)) or not np.array_equal(got[~fin], ref[~fin]):
        return False
    if not fin.any():
        return True
    r = ref[fin].astype(np.float64)
    scale = float(np.max(np.abs(r))) or 1.0
    return bool(np.all(np.abs(got[fin] - r) <= rtol * np.abs(r) + rtol * scale))


@dataclass
class Choice:
    """What was chosen for one key, and the seconds each formulation took when measured."""

    name: str
    seconds: dict[str, float]
    rejected: dict[str, str]


class Chooser:
    """Remembers, per (operation, shapes, settings, device), which formulation is quickest."""

    MAX_REMEMBERED = 4096  # choices are small; the oldest go first past this many

    def __init__(self, background: bool = False) -> None:
        self._choices: dict[tuple, Choice] = {}
        # One measurement per key at a time (a second caller of the same shape waits for the first's choice);
        # different shapes measure side by side. Re-entrant: measuring a fused block runs its layers, whose own
        # keys may (rarely: one was just forgotten) need measuring too.
        self._locks = KeyedLocks()
        self.background = background
        self._pending: dict[tuple, Callable[[], tuple]] = {}  # key -> measure(), in arrival order
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None
        self._busy = False
        self._active = 0  # foreground ops running now
        self._last_foreground = 0.0
        self._stopping = False
        self._atexit = False

    def choices(self) -> dict[tuple, Choice]:
        return dict(self._choices)

    def seconds_of(self, keys: list[tuple]) -> float | None:
        """The summed first-use timings of the formulations chosen for ``keys``; None if one is not chosen yet."""
        total = 0.0
        for key in keys:
            choice = self._choices.get(key)
            if choice is None or choice.name not in choice.seconds:
                return None
            total += choice.seconds[choice.name]
        return total

    def clear(self) -> None:
        with self._cond:
            self._choices.clear()
            self._pending.clear()

    def pending(self) -> list[tuple]:
        """The keys waiting for (or in) a background measurement."""
        with self._cond:
            return list(self._pending)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no background measurement is waiting or running; True if so within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def _first_use(self, key: tuple, candidates: dict[str, Callable[[], np.ndarray]]) -> np.ndarray:
        """Background mode's first call for ``key``: the eager op once, timed; measure later if worth it."""
        t0 = time.perf_counter()
        result = candidates["eager"]()
        took = time.perf_counter() - t0
        if len(candidates) == 1 or took < MEASURE_FLOOR_S:
            self._remember(key, Choice("eager", {"eager": took}, {}))
        else:
            self._schedule(key, lambda: (None, self._measure(candidates)[1]))
        return result

    def _schedule(self, key: tuple, measure: Callable[[], tuple]) -> None:
        with self._cond:
            if key in self._pending or len(self._pending) >= MAX_PENDING:
                return  # already queued, or full: a later call for this key asks again
            self._pending[key] = measure
            if self._stopping:
                self._pending.pop(key, None)
                return
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._measure_later, name="chooser-measure", daemon=True)
                self._worker.start()
                if not self._atexit:
                    # A daemon thread still inside a TensorFlow op when Python exits is unwound by force, and
                    # TensorFlow aborts the whole process ("FATAL: exception not rethrown", exit status 134).
                    atexit.register(self.stop)
                    self._atexit = True
            self._cond.notify_all()

    @contextlib.contextmanager
    def _in_foreground(self):
        """Marks an op a visitor waits for: the background measurer waits until none runs, and QUIET_S more."""
        with self._cond:
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._last_foreground = time.monotonic()

    def stop(self, timeout: float = 60.0) -> None:
        """Drop what waits to be measured and wait (up to ``timeout``) for a measurement under way to end; no
        later one starts. Called at exit."""
        with self._cond:
            self._stopping = True
            self._pending.clear()
            self._cond.notify_all()
            worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)

    def _measure_later(self) -> None:
        """The background thread: once the foreground has been quiet for QUIET_S, measure each waiting key."""
        while True:
            with self._cond:
                while not self._pending:
                    if self._stopping:
                        self._worker = None
                        return
                    if not self._cond.wait(timeout=30.0):
                        self._worker = None  # idle for long: end; the next _schedule starts another
                        return
                quiet = time.monotonic() - self._last_foreground
                if self._active or quiet < QUIET_S:
                    self._cond.wait(QUIET_S - quiet if not self._active and quiet < QUIET_S else QUIET_S)
                    continue
                key = next(iter(self._pending))
                measure = self._pending[key]
                self._busy = True
            try:
                if key not in self._choices:
                    with self._locks.hold(key):
                        _, choice = measure()
                    self._remember(key, choice)
            except _candidate_failures() as e:  # a candidate that fails here must not end the thread; eager stays
                self._remember(key, Choice("eager", {}, {"measuring": f"{type(e).__name__}: {e}"[:200]}))
            finally:
                with self._cond:
                    self._pending.pop(key, None)
                    self._busy = False
                    self._cond.notify_all()

    def run(
        self, key: tuple, candidates: dict[str, Callable[[], np.ndarray]], worth: tuple[str, ...] | None = None
    ) -> np.ndarray:
        """The result of the remembered formulation for ``key``, measuring them the first time.

        ``candidates`` maps names to zero-argument functions returning NumPy arrays; "eager" must be one.
        ``worth`` names those measured (default: all); the others run only when forced. Only formulations
        that give the eager values (``agrees``) can be chosen.
        """
        if self.background:
            with self._in_foreground():
                return self._run(key, candidates, worth)
        return self._run(key, candidates, worth)

    def _run(self, key, candidates, worth):
        want = forced()
        if want != "auto":
            return candidates.get(want, candidates["eager"])()
        if worth is not None:
            candidates = {k: v for k, v in candidates.items() if k in worth}
        if self.background:
            choice = self._choices.get(key)
            if choice is not None:
                return candidates[choice.name]()
            if key in self._pending:
                return candidates["eager"]()
            return self._first_use(key, candidates)
        choice = self._choices.get(key)
        if choice is not None:
            return candidates[choice.name]()
        with self._locks.hold(key):
            choice = self._choices.get(key)
            if choice is not None:
                return candidates[choice.name]()
            result, choice = self._measure(candidates)
            self._remember(key, choice)
            return result

    def run_fused(
        self,
        key: tuple,
        fused: Callable[[], tuple],
        layers: Callable[[], tuple],
        reference: Callable[[], tuple],
        layers_seconds: Callable[[], float | None],
        worth: bool,
    ):
        """The result of ``fused`` where fusing is the choice for ``key``; None where running the layers one at
        a time is (the caller then runs them, with whatever it does between layers).

        ``fused`` computes several layers in one compiled call and returns every layer's maps; ``layers``
        computes the same maps one op at a time, each op as chosen for its own key. Those keys are measured
        first, when the layers run one at a time: ``layers_seconds`` gives the sum of their chosen
        formulations' timings, or None while one is not measured yet (then None is returned and nothing is
        remembered). Once it is known, the first call compiles ``fused``, checks every map against
        ``reference()`` (the eager ops), times ``fused`` and ``layers`` in turn (best of 3 each, side by
        side so that the machine's load hits both alike) and remembers the quicker, "fused" or "layers".
        Layers quicker than FUSED_MEASURE_FLOOR_S together are not worth a compile, and ``worth`` False
        (the rule leaves fusing out here) never measures.

        Forcing "fused" runs ``fused``; forcing any other formulation returns None, so the layers run one
        at a time, each forced.
        """
        want = forced()
        if want == "fused":
            if self.background:
                with self._in_foreground():
                    return fused()
            return fused()
        if want != "auto" or not worth:
            return None
        if self.background:
            with self._in_foreground():
                return self._run_fused_background(key, fused, layers, reference, layers_seconds)
        choice = self._choices.get(key)
        if choice is not None:
            return fused() if choice.name == "fused" else None
        known = layers_seconds()
        if known is None:
            return None
        with self._locks.hold(key):
            choice = self._choices.get(key)
            if choice is not None:
                return fused() if choice.name == "fused" else None
            result, choice = self._measure_fused(fused, layers, reference, known)
            self._remember(key, choice)
            return result

    def _run_fused_background(self, key, fused, layers, reference, layers_seconds):
        choice = self._choices.get(key)
        if choice is not None:
            return fused() if choice.name == "fused" else None
        known = layers_seconds()
        if known is None or key in self._pending:
            return None
        if known < FUSED_MEASURE_FLOOR_S:
            self._remember(key, Choice("layers", {"layers": known}, {}))
        else:  # measured after the answer; the layers run one at a time now
            self._schedule(key, lambda: self._measure_fused(fused, layers, reference, known))
        return None

    @staticmethod
    def _measure_fused(fused: Callable, layers: Callable, reference: Callable, known: float):
        if known < FUSED_MEASURE_FLOOR_S:
            return None, Choice("layers", {"layers": known}, {})
        try:
            t0 = time.perf_counter()
            got = fused()  # traces and compiles
            compile_s = time.perf_counter() - t0
        except _candidate_failures() as e:  # an unsupported combination: never fail the layers over a candidate
            return None, Choice("layers", {"layers": known}, {"fused": f"{type(e).__name__}: {e}"[:200]})
        if not agrees(got, reference()):
            return None, Choice("layers", {"layers": known}, {"fused": "values differ from the eager ops"})
        fused()  # the first calls after a compile are slower (allocations); this one is not timed
        t_layers = t_fused = float("inf")
        for _ in range(3):
            t_layers = min(t_layers, _best_of(layers, 1))
            t_fused = min(t_fused, _best_of(fused, 1))
        seconds = {"layers": t_layers, "fused": t_fused, "fused compile": compile_s}
        return got, Choice("fused" if t_fused < t_layers else "layers", seconds, {})

    def _remember(self, key: tuple, choice: Choice) -> None:
        if len(self._choices) >= self.MAX_REMEMBERED:
            self._choices.pop(next(iter(self._choices)))
        self._choices[key] = choice

    @staticmethod
    def _measure(candidates: dict[str, Callable[[], np.ndarray]]) -> tuple[np.ndarray, Choice]:
        eager = candidates["eager"]
        ref = eager()  # the first call may include one-off set-up (kernel selection, allocation)
        # Best of 3: under load a 0.2 ms op can take 4 ms once or twice, and a wrong "slow" verdict costs
        # a compile (0.1–0.5 s, seconds under load) on a page that was fast already.
        seconds = {"eager": _best_of(eager, 3)}
        if seconds["eager"] < MEASURE_FLOOR_S or len(candidates) == 1:
            return ref, Choice("eager", seconds, {})
        rejected: dict[str, str] = {}
        for name, fn in candidates.items():
            if name == "eager":
                continue
            try:
                t0 = time.perf_counter()
                got = fn()  # traces and compiles
                compile_s = time.perf_counter() - t0
            except _candidate_failures() as e:  # an unsupported combination: never fail the layer over a candidate
                rejected[name] = f"{type(e).__name__}: {e}"[:200]
                continue
            if not agrees(got, ref):
                rejected[name] = "values differ from the eager op"
                continue
            seconds[name] = _best_of(fn, 2)
            seconds[f"{name} compile"] = compile_s
        timed = {k: v for k, v in seconds.items() if not k.endswith(" compile")}
        best = min(timed, key=timed.get)
        return ref, Choice(best, seconds, rejected)


def _best_of(fn: Callable, n: int) -> float:
    """The quickest of ``n`` timed calls, in seconds (the minimum is the least disturbed by other load)."""
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


CHOOSER = Chooser(background=True)
