"""Running the core from the UI: one bounded stage cache per server process, stopped when the view is stale,
and the one small LRU for what the UI derives from stages (pictures, statistics)."""

from __future__ import annotations

import gc
import itertools
import os
import sys
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import streamlit as st

import cnn_core
from ui.common import streamlit_internals
from ui.common.errors import show_unexpected
from ui.common.text import plain

# One memory budget for everything this server process keeps between reruns, for every session together
# (README, "Memory"). Each cache below has a share of it; ``cache_caps`` lists them and a test checks that
# they add up to no more than the budget. TensorFlow's own ~0.7 GB, one view's working memory and the
# gradient worker (a separate process, cnn_core.gradients) come on top.
PROCESS_CACHE_BYTES = 1_400_000_000
# Feature maps kept across reruns and sessions, keyed by image content and settings.
STAGE_CACHE_BYTES = 384_000_000
MODEL_CACHE_BYTES = 384_000_000  # loaded models (Your model), by their weights and largest declared tensor
PICTURE_CACHE_ENTRIES = 4  # decoded photos, each at most 4096 × 4096 × 3 bytes
URI_CACHE_BYTES = 48_000_000  # encoded map pictures (ui/common/figures.py)
SHRUNK_CACHE_BYTES = 48_000_000  # shrunk maps for hover (ui/common/figures.py)
THUMB_CACHE_BYTES = 32_000_000  # band thumbnails (ui/stack/maps.py)
SUMMARY_CACHE_BYTES = 48_000_000  # band statistics (ui/stack/maps.py)
STATS_TEXT_CACHE_BYTES = 1_000_000  # statistics lines (ui/common/maps.py)
MODEL_PAGE_CACHE_BYTES = 3 * 64 * 2**20  # pages of a model's maps (ui/model/views.py: 3 pages of ≤ 64 MiB)


def cache_caps() -> dict[str, int]:
    """Every process cache's cap in bytes, by name; together at most PROCESS_CACHE_BYTES."""
    from cnn_core.images import MAX_PIXELS

    return {
        "stage maps": STAGE_CACHE_BYTES,
        "loaded models": MODEL_CACHE_BYTES,
        "decoded photos": PICTURE_CACHE_ENTRIES * MAX_PIXELS * 3,
        "map pictures": URI_CACHE_BYTES,
        "shrunk maps": SHRUNK_CACHE_BYTES,
        "thumbnails": THUMB_CACHE_BYTES,
        "band statistics": SUMMARY_CACHE_BYTES,
        "statistics lines": STATS_TEXT_CACHE_BYTES,
        "model map pages": MODEL_PAGE_CACHE_BYTES,
    }


@st.cache_resource(show_spinner=False)
def stage_cache() -> cnn_core.StageCache:
    # Once per process, after TensorFlow's ~450k import-time objects exist: move them out of the
    # collector's reach. Streamlit runs a full gc.collect() after every rerun (Keras is loaded), which
    # otherwise costs ~160 ms per slider change here (benchmarks/README.md).
    gc.freeze()
    return cnn_core.StageCache(max_bytes=STAGE_CACHE_BYTES)


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


# TensorFlow runs on long-lived threads rather than on Streamlit's script thread, which is new for
# every rerun: an op on a thread that has never run it is slower (TensorFlow's oneDNN kernels keep
# per-thread state). Measured at 1024² under AppTest: convolution 13 → 9 ms, ReLU 3 → 1 ms per slider step.
# An idle thread is reused before a new one starts, so one visitor keeps using the same thread; up to four
# runs go at once, and a fifth waits for one of them to finish.
_COMPUTE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tf-compute")


def run(picture, spec: cnn_core.Spec, plans: list[cnn_core.StagePlan] | None = None) -> list[cnn_core.Stage] | None:
    """Run the pipeline with the shared cache (``plans``: the page's own ``plan`` of this spec, so it isn't
    worked out twice); shows a clear error and returns None on bad settings.

    When the visitor moves on (a newer rerun) or leaves, the run stops at the next layer or band;
    Streamlit then starts the newer run or ends this one at the next ``st.*`` call.
    """
    should_stop = stop_requested()
    run_id = next(_RUN_IDS) if _WORK_LOG else 0
    if run_id:
        should_stop = _noted(should_stop, run_id)
    try:
        job = _COMPUTE.submit(
            cnn_core.run_pipeline,
            picture.array,
            spec,
            cache=stage_cache(),
            image_key=picture.key,
            plans=plans,
            should_stop=should_stop,
        )
        stages = job.result()
        if run_id:
            _note(run_id, "done")
        return stages
    except cnn_core.Cancelled:
        st.empty()  # a yield point: Streamlit raises its rerun or stop here
        return None
    except cnn_core.CnnError as e:
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


def _size_of(value) -> int:
    if isinstance(value, (str, bytes, bytearray)):
        return len(value)
    if hasattr(value, "nbytes"):
        return int(value.nbytes)
    return sys.getsizeof(value)


class ContentLru:
    """A small thread-safe LRU keyed by content (e.g. stage key, channel, scale), bounded in entries and,
    when ``max_bytes`` is given, in the bytes its callers say each value takes. Shared by every session."""

    def __init__(self, max_items: int, max_bytes: int | None = None) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._items: OrderedDict = OrderedDict()
        self._sizes: dict = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        """The value stored under ``key`` (now the most recently used), or None."""
        with self._lock:
            v = self._items.get(key)
            if v is not None:
                self._items.move_to_end(key)
            return v

    def put(self, key, value, nbytes: int | None = None) -> None:
        """Store ``value``, dropping the least recently used entries beyond the bounds.

        ``nbytes`` is what the value takes; by default its length for text and bytes, ``nbytes`` for an array,
        and ``sys.getsizeof`` otherwise."""
        if nbytes is None:
            nbytes = _size_of(value)
        with self._lock:
            if key in self._items:
                self._bytes -= self._sizes.pop(key)
                del self._items[key]
            self._items[key] = value
            self._sizes[key] = nbytes
            self._bytes += nbytes
            while len(self._items) > self.max_items or (self.max_bytes and self._bytes > self.max_bytes):
                old, _ = self._items.popitem(last=False)
                self._bytes -= self._sizes.pop(old)
