"""Running the core from the UI: the pages' front to the compute service (``ui.common.service``), stopped
when the view is stale, with bad settings shown as one sentence."""

from __future__ import annotations

import itertools
import os
import time

import streamlit as st

import cnn_core
from ui.common import streamlit_internals
from ui.common.errors import show_unexpected
from ui.common.service import SERVICE
from ui.common.text import plain


def stop_requested():
    """A ``should_stop`` for run_pipeline: True once this script run has been superseded or its session closed.

    Streamlit itself only notices a newer rerun or a closed tab when the script next calls ``st.*``, so a
    long computation would run to its end for nobody. The question is asked through
    ``ui/common/streamlit_internals.py``, the one reader of Streamlit's internals; if they moved, runs are
    not cancellable and the server log says so.
    """
    return streamlit_internals.stop_requested()


# The browser tests set this (tests/e2e/harness.py) to a file path; nothing else does, and no visitor can.
# Each run then writes a line per layer or band it starts ("go"), and one when it is stopped ("stop") or
# finishes ("done"), so a test counts the work done after a tab closed instead of guessing it from the CPU.
_WORK_LOG = os.environ.get("CNN_PLAYGROUND_WORK_LOG")
_RUN_IDS = itertools.count(1)


def _note(run_id: int, what: str) -> None:
    with open(_WORK_LOG, "a", encoding="ascii") as f:
        f.write(f"{time.time():.3f} {run_id} {what}\n")


def _noted(should_stop, run_id: int):
    """``should_stop`` that notes each answer: run_pipeline asks it before every layer and band it starts."""

    def check() -> bool:
        stop = should_stop()
        _note(run_id, "stop" if stop else "go")
        return stop

    return check


def run(
    picture, spec: cnn_core.Spec, plans: list[cnn_core.StagePlan] | None = None, quiet: bool = False
) -> list[cnn_core.Stage] | None:
    """Run the pipeline with the shared cache (``plans``: the page's own ``plan`` of this spec, so it isn't
    worked out twice); shows a clear error and returns None on bad settings (``quiet``: returns None without a
    word, for a part of a page whose maps, drawn elsewhere, say it already).

    When the visitor moves on (a newer rerun) or leaves, the run stops at the next layer or band;
    Streamlit then starts the newer run or ends this one at the next ``st.*`` call.
    """
    should_stop = stop_requested()
    run_id = next(_RUN_IDS) if _WORK_LOG else 0
    if run_id:
        should_stop = _noted(should_stop, run_id)
    try:
        stages = SERVICE.stages(picture, spec, plans, should_stop)
        if run_id:
            _note(run_id, "done")
        return stages
    except cnn_core.Cancelled:
        st.empty()  # a yield point: Streamlit raises its rerun or stop here
        return None
    except cnn_core.CnnError as e:
        if not quiet:
            st.error(f"Can't run these settings. {plain(e)}")
        return None
    except Exception as e:  # a bug, not a bad setting: apologise, log the details; the tests get the traceback
        if cnn_core.errors.strict():
            raise
        show_unexpected(e)
        return None


def timing_text(stages: list[cnn_core.Stage], label, digits: int = 1) -> str:
    """Each stage's compute time for the page's caption, e.g. "convolution 2.1 ms · activation cached".

    A conv → activation → pool block computed in one fused call is named once with the call's time.
    ``label`` gives a stage's name in the caption.
    """
    parts, i = [], 0
    while i < len(stages):
        s = stages[i]
        if s.cached:
            parts.append(f"{label(s)} cached")
        elif s.fused and s.name == "conv2d" and i + 2 < len(stages):
            names = " + ".join(label(x) for x in stages[i : i + 3])
            parts.append(f"{names} {s.seconds * 1000:.{digits}f} ms (one fused call)")
            i += 3
            continue
        else:
            parts.append(f"{label(s)} {s.seconds * 1000:.{digits}f} ms")
        i += 1
    return " · ".join(parts)
