"""Profiling a page's reruns under AppTest with pyinstrument.

AppTest runs the page in its own script thread, which a profiler started in the
benchmark's thread does not see. So the page runs through a tiny wrapper script
(``_profiled_page.py``) that starts and stops the profiler inside that thread.
pyinstrument combines the sessions of successive start/stop pairs, so several
reruns add up to one profile.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

WRAPPER = Path(__file__).resolve().parent / "_profiled_page.py"

# Set by the benchmark, read by the wrapper in AppTest's script thread.
PAGE: str | None = None
PROFILER = None

# Besides the project's own code (cnn_core/, ui/, views/), these are worth naming in a summary.
_NAMED = {
    "wrapped_func": "every Streamlit element call (st.*), inclusive",
    "PyCapsule.TFE_Py_FastPathExecute": "TensorFlow kernels (eager fast path)",
    "EagerTensor.numpy": "TensorFlow tensor → NumPy copies",
}
_PROJECT = ("cnn_core/", "ui/", "views/")


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


# --------------------------------------------------------------------------- a real server, with py-spy

# Where a script thread's samples go: the page itself, or the collections Streamlit runs after it.
_GC_FRAMES = {"ScriptRunner._on_script_finished": "gc.collect(2) after the run (runner.postScriptGC)",
              "_clean_problem_modules": "keras.backend.clear_session() → gc.collect() after the run"}  # fmt: skip
_PAGE_FRAME = "ScriptRunner._run_script.<locals>.code_to_exec"


def py_spy_available() -> bool:
    import shutil

    return shutil.which("py-spy") is not None


def py_spy_start(pid: int, out: Path, rate: int = 250):
    """Start ``py-spy record`` on a running process (raw collapsed stacks, one line per stack)."""
    import shutil
    import subprocess

    cmd = [shutil.which("py-spy") or "py-spy", "record", "--pid", str(pid), "--format", "raw", "-o", str(out),
           "--rate", str(rate), "--threads", "--nonblocking"]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def py_spy_stop(proc) -> str:
    """Stop a recording (as Ctrl-C would) and return py-spy's own messages."""
    import signal

    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except Exception:
        proc.kill()
        _, err = proc.communicate()
    return (err or b"").decode(errors="replace")[-400:]


def script_thread_summary(raw: Path, top: int = 12) -> dict:
    """Shares of the script threads' samples: the page, the collections after it, and the page's hot functions."""
    total = 0
    parts: dict[str, int] = {}
    funcs: dict[str, int] = {}
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if "ScriptRunner.scriptThread" not in stack.split(";", 1)[0] or not n.isdigit():
            continue
        count = int(n)
        total += count
        names = [f.split(" (")[0] for f in stack.split(";")]
        part = next((label for frame, label in _GC_FRAMES.items() if frame in names), None)
        if part is None:
            part = "the page script" if _PAGE_FRAME in names else "other script-runner work"
        parts[part] = parts.get(part, 0) + count
        if _PAGE_FRAME in names:
            for name in {_short(f) for f in stack.split(";") if any(p in f for p in _PROJECT)}:
                funcs[name] = funcs.get(name, 0) + count
    share = {k: v / total for k, v in sorted(parts.items(), key=lambda kv: -kv[1])} if total else {}
    hot = sorted(funcs.items(), key=lambda kv: -kv[1])[:top]
    return {"samples": total, "share": share, "page_functions": [{"function": f, "share": n / total} for f, n in hot]}


def _short(frame: str) -> str:
    """``"draw_map (/repo/ui/common/maps.py:40)"`` → ``"draw_map (ui/common/maps.py)"``."""
    m = re.match(r"^(.*) \((.*?)(?::\d+)?\)$", frame)
    if not m:
        return frame
    path = m.group(2)
    for p in _PROJECT:
        if p in path:
            path = p + path.split(p, 1)[1]
            break
    return f"{m.group(1)} ({path})"
