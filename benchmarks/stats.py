"""Figures with their samples, targets and verdicts, and interleaved timing."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """A goal for a figure's median, e.g. ``Target("<=", 60, "ms")``."""

    op: str  # "<=" or ">="
    value: float
    unit: str = ""

    def met(self, median: float) -> bool:
        return median <= self.value if self.op == "<=" else median >= self.value

    def text(self) -> str:
        sign = "≤" if self.op == "<=" else "≥"
        return f"{sign} {self.value:g}{' ' + self.unit if self.unit else ''}"


@dataclass
class Figure:
    """One measured quantity: all its samples, and a target when it has one.

    ``status`` is PASS or MISS against the target, "n/a" when the figure could
    not be measured (``note`` says why) and "" when it has no target or the run
    was ``--quick`` (small sizes: targets do not apply).
    """

    section: str
    name: str
    unit: str
    samples: list[float] = field(default_factory=list)
    target: Target | None = None
    note: str = ""
    quick: bool = False

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def spread(self) -> tuple[float, float] | None:
        return (min(self.samples), max(self.samples)) if self.samples else None

    @property
    def iqr(self) -> tuple[float, float] | None:
        if not self.samples:
            return None
        if len(self.samples) < 4:
            return self.spread
        q = statistics.quantiles(self.samples, n=4, method="inclusive")
        return (q[0], q[2])

    @property
    def status(self) -> str:
        if not self.samples:
            return "n/a"
        if self.target is None or self.quick:
            return ""
        return "PASS" if self.target.met(self.median) else "MISS"

    def to_dict(self) -> dict:
        return {
            "section": self.section,
            "name": self.name,
            "unit": self.unit,
            "median": self.median,
            "min_max": self.spread,
            "iqr": self.iqr,
            "n": len(self.samples),
            "samples": self.samples,
            "target": None if self.target is None else {"op": self.target.op, "value": self.target.value},
            "status": self.status,
            "note": self.note,
        }


def unavailable(section: str, name: str, unit: str, why: str, target: Target | None = None) -> Figure:
    """A figure that could not be measured; reported as n/a with the reason, never as a number."""
    return Figure(section, name, unit, [], target, note=why)


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call takes, with automatic garbage collection held off during it.

    (No ``gc.collect()`` first: with TensorFlow loaded a full collection takes a few hundred
    milliseconds. An explicit collection inside ``fn``, such as Streamlit's after each script
    run, still happens and is timed.)
    """
    gc.disable()
    try:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    finally:
        gc.enable()


def interleaved(
    fns: dict[str, Callable[[], object]],
    rounds: int,
    warmup: int = 1,
    after: dict[str, Callable[[], object]] | None = None,
) -> dict[str, list[float]]:
    """Seconds per call of each function, run in turn within every round.

    The order rotates from round to round so that no function always runs
    right after the same neighbour; on a noisy machine, a slow spell then hits
    all of them alike and ratios taken round by round stay meaningful.
    ``after[name]``, if given, runs untimed right after each timed call of ``name``.
    """
    names = list(fns)
    for _ in range(warmup):
        for n in names:
            fns[n]()
    out: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        k = r % len(names)
        for n in names[k:] + names[:k]:
            out[n].append(timed(fns[n]))
            if after and n in after:
                after[n]()
    return out


def ratios(num: list[float], den: list[float]) -> list[float]:
    """Round-by-round ratios num[i] / den[i] of two interleaved series."""
    return [a / b for a, b in zip(num, den) if b > 0]


def ms(seconds: list[float]) -> list[float]:
    return [s * 1000.0 for s in seconds]
