"""Profiling a page's reruns under AppTest with pyinstrument.

AppTest runs the page in its own script thread, which a profiler started in the
benchmark's thread does not see. So the page runs through a tiny wrapper script
(``_profiled_page.py``) that starts and stops the profiler inside that thread.
pyinstrument combines the sessions of successive start/stop pairs, so several
reruns add up to one profile.
"""

from __future__ import annotations

import runpy
from pathlib import Path

WRAPPER = Path(__file__).resolve().parent / "_profiled_page.py"

# Set by the benchmark, read by the wrapper in AppTest's script thread.
PAGE: str | None = None
PROFILER = None

# Besides the project's own code (cnn_core/, ui/, pages/), these are worth naming in a summary.
_NAMED = {
    "wrapped_func": "every Streamlit element call (st.*), inclusive",
    "PyCapsule.TFE_Py_FastPathExecute": "TensorFlow kernels (eager fast path)",
    "EagerTensor.numpy": "TensorFlow tensor → NumPy copies",
}
_PROJECT = ("cnn_core/", "ui/", "pages/")


def available() -> bool:
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        return False
    return True


def run_page() -> None:
    """Run PAGE as Streamlit's main script would, profiling it when PROFILER is set."""
    assert PAGE is not None, "benchmarks.profiling.PAGE is not set"
    prof = PROFILER
    if prof is not None:
        prof.start()
    try:
        runpy.run_path(PAGE, run_name="__main__")
    finally:
        if prof is not None:
            prof.stop()


def hot_functions(session, top: int = 16) -> tuple[float, list[dict]]:
    """Seconds spent in the page, and the project functions (plus a few named others) that took longest.

    Times are inclusive of what a function calls. A function nested in itself counts once, at its
    outermost call. Only frames under ``run_page`` (the page itself) are counted.
    """
    root = session.root_frame()
    if root is None:
        return 0.0, []
    totals: dict[tuple[str, str], float] = {}
    pages = []

    def find(frame) -> None:
        if frame.function == "run_page":
            pages.append(frame)
        else:
            for child in frame.children:
                find(child)

    def walk(frame, active: frozenset) -> None:
        path = frame.file_path_short or ""
        key = (frame.function, path)
        wanted = frame.function in _NAMED or any(path.startswith(p) for p in _PROJECT)
        if wanted and key not in active:
            totals[key] = totals.get(key, 0.0) + frame.time
            active = active | {key}
        for child in frame.children:
            walk(child, active)

    find(root)
    for frame in pages:
        walk(frame, frozenset())
    total = sum(f.time for f in pages)
    rows = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return total, [
        {
            "function": f,
            "file": p,
            "what": _NAMED.get(f, ""),
            "seconds": t,
            "share": t / total if total else 0.0,
        }
        for (f, p), t in rows
    ]
