"""The compute service: the one executor the UI runs work on, and every cache the server keeps between reruns,
all under one memory budget for the process (README, "Memory").

Pages ask it for stages (``SERVICE.stages``, through ``ui.common.compute.run``, which shows the errors);
the UI's derived values (pictures, statistics, decoded photos, loaded models) live in its caches, each
bounded by its share of ``MEMORY_BUDGET`` and evicting the least recently used entries by the bytes they
hold. Nothing else in ``ui/`` or ``views/`` starts a thread. TensorFlow's own memory (about 0.7 GB), one
view's working memory and the gradient worker (a separate process, ``cnn_core.gradients``) come on top.
"""

from __future__ import annotations

import faulthandler
import gc
import json
import os
import signal
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor

from cnn_core.errors import CnnError
from cnn_core.locks import KeyedLocks

BUDGET_ENV = "CNN_PLAYGROUND_MEMORY_BUDGET"
DEFAULT_BUDGET = 1_400_000_000


def budget_from_env(environ=os.environ) -> int:
    """The process memory budget in bytes: ``CNN_PLAYGROUND_MEMORY_BUDGET`` when set, else 1.4 GB."""
    raw = environ.get(BUDGET_ENV, "").strip().replace("_", "")
    if not raw:
        return DEFAULT_BUDGET
    if not raw.isdigit() or int(raw) < 50_000_000:
        raise CnnError(f"{raw!r} is not a budget; give a whole number of bytes, at least 50000000", BUDGET_ENV)
    return int(raw)


MEMORY_BUDGET = budget_from_env()

# Each cache's share of MEMORY_BUDGET; together at most 1. "model map pages" is not one of the service's
# caches: it is Streamlit's st.cache_resource in ui/model/views.py, bounded by entries (3 pages of at most
# 64 MiB each), and its share reserves that much. The rest of the budget (about 2%) is headroom for the
# small st.cache_* entries (README, "Memory").
SHARES = {
    "stage maps": 0.26,  # feature maps, keyed by image content and settings (cnn_core.StageCache)
    "loaded models": 0.26,  # Your model's uploads, by their weights and largest declared tensor
    "decoded photos": 0.14,  # uploads and samples, decoded (ui/common/inputs.py)
    "map pictures": 0.035,  # encoded map pictures (ui/common/figures.py)
    "shrunk maps": 0.035,  # shrunk maps for hover (ui/common/figures.py)
    "thumbnails": 0.025,  # band thumbnails (ui/stack/maps.py)
    "band statistics": 0.019,  # band statistics (ui/stack/maps.py)
    "channel statistics": 0.015,  # one channel's statistics, by its lineage (ui/stack/maps.py)
    "channel lineages": 0.001,  # each stage's channels' lineages (ui/stack/maps.py)
    "statistics lines": 0.001,  # a map's statistics line (ui/common/maps.py)
    "inspector pictures": 0.03,  # coloured maps the worked sum draws on (ui/common/inspector.py)
    "unit scans": 0.01,  # finished top-picture scans, their result and the pictures shown (ui/units/page.py)
    "model map pages": 0.15,  # reserved: st.cache_resource in ui/model/views.py
}
RESERVED = ("model map pages",)

# TensorFlow runs on long-lived threads rather than on Streamlit's script thread, which is new for every
# rerun: an op on a thread that has never run it is slower (TensorFlow's oneDNN kernels keep per-thread
# state). Measured at 1024² under AppTest: convolution 13 → 9 ms, ReLU 3 → 1 ms per slider step. An idle
# thread is reused before a new one starts, so one visitor keeps using the same thread; up to four jobs go
# at once, and a fifth waits for one of them to finish.
WORKERS = 4


def _size_of(value) -> int:
    if isinstance(value, (str, bytes, bytearray)):
        return len(value)
    if hasattr(value, "nbytes"):
        return int(value.nbytes)
    return sys.getsizeof(value)


class ByteLru:
    """A thread-safe LRU bounded by the bytes its values hold, shared by every session.

    Each value counts its ``nbytes`` (an array), its length (text, bytes), or what the caller says it holds;
    a ``put`` past ``max_bytes`` drops the least recently used entries until the rest fit. A value larger
    than the whole cache is not kept.
    """

    def __init__(self, max_bytes: int) -> None:
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
        """Store ``value`` as the most recently used; ``nbytes`` is what it holds (by default, as above)."""
        if nbytes is None:
            nbytes = _size_of(value)
        with self._lock:
            if key in self._items:
                self._bytes -= self._sizes.pop(key)
                del self._items[key]
            if nbytes > self.max_bytes:
                return
            self._items[key] = value
            self._sizes[key] = nbytes
            self._bytes += nbytes
            while self._bytes > self.max_bytes:
                old, _ = self._items.popitem(last=False)
                self._bytes -= self._sizes.pop(old)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._sizes.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._items


class Service:
    """The executor, the caches and their per-key locks, for one process (``SERVICE``)."""

    def __init__(self, budget: int = MEMORY_BUDGET, workers: int = WORKERS) -> None:
        self.budget = budget
        self.caches = {
            name: ByteLru(self.share(name)) for name in SHARES if name != "stage maps" and name not in RESERVED
        }
        self._stage_cache = None  # made on first use: cnn_core.pipeline imports TensorFlow
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tf-compute")
        self._keys = KeyedLocks()
        self._pending: dict[tuple, Future] = {}
        self._lock = threading.Lock()

    def share(self, name: str) -> int:
        """The bytes cache ``name`` may hold."""
        return int(self.budget * SHARES[name])

    def cache(self, name: str) -> ByteLru:
        return self.caches[name]

    @property
    def stage_cache(self):
        """The process's ``cnn_core.StageCache``, bounded by the "stage maps" share."""
        if self._stage_cache is None:
            from cnn_core.pipeline import StageCache

            with self._lock:
                if self._stage_cache is None:
                    self._stage_cache = StageCache(max_bytes=self.share("stage maps"))
        return self._stage_cache

    def held(self) -> dict[str, int]:
        """The bytes each cache holds now, by name (the stage cache only once it exists)."""
        out = {name: c.nbytes for name, c in self.caches.items()}
        if self._stage_cache is not None:
            out["stage maps"] = self._stage_cache.nbytes
        return out

    def held_bytes(self) -> int:
        """What every cache of the service holds now, in bytes; never more than the budget."""
        return sum(self.held().values())

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        """Run ``fn(*args, **kwargs)`` on one of the service's worker threads."""
        return self._executor.submit(fn, *args, **kwargs)

    def watcher(self, fn: Callable, /, *args, name: str) -> threading.Thread:
        """Start ``fn(*args)`` on a thread of its own, for a long wait that must not hold one of the compute
        workers for minutes (a training run watching its child process); a daemon, so it never holds the
        server up at exit."""
        thread = threading.Thread(target=fn, args=args, name=name, daemon=True)
        thread.start()
        return thread

    def stages(self, picture, spec, plans=None, should_stop=None) -> list:
        """``cnn_core.run_pipeline`` of the picture (``ui.common.inputs.Picture``) on a worker thread, with the
        shared stage cache. Raises what the pipeline raises (``CnnError``, ``Cancelled``)."""
        import cnn_core

        job = self.submit(
            cnn_core.run_pipeline,
            picture.array,
            spec,
            cache=self.stage_cache,
            image_key=picture.key,
            plans=plans,
            should_stop=should_stop,
        )
        return job.result()

    def remembered(self, cache: str, key: Hashable, make: Callable, size: Callable | None = None):
        """The value cached under ``key`` in ``cache``, made by ``make()`` once when missing.

        Two sessions missing the same key make it once (a lock per key; other keys don't wait), and a value
        that ``prefetch`` is already making is waited for. ``size(value)`` gives the bytes it holds (by
        default as ``ByteLru`` counts them).
        """
        lru = self.caches[cache]
        hit = lru.get(key)
        if hit is not None:
            return hit
        with self._lock:
            pending = self._pending.get((cache, key))
        if pending is not None:
            if not pending.cancel():  # started already: wait for it
                return pending.result()
            self._forget(cache, key)  # still queued: make it here rather than wait behind other jobs
        return self._make_once(cache, key, make, size)

    def _make_once(self, cache: str, key: Hashable, make: Callable, size: Callable | None):
        lru = self.caches[cache]
        with self._keys.hold((cache, key)):
            hit = lru.get(key)
            if hit is not None:
                return hit
            value = make()
            lru.put(key, value, size(value) if size else None)
            return value

    def prefetch(self, cache: str, key: Hashable, make: Callable, size: Callable | None = None) -> None:
        """Start making the value for ``key`` on a worker thread, unless it is cached or on its way;
        ``remembered`` collects it (or makes it itself if no worker has started it yet)."""
        with self._lock:  # both checks under the lock that a finished job holds while its value appears
            if key in self.caches[cache] or (cache, key) in self._pending:
                return
            self._pending[(cache, key)] = self._executor.submit(self._prefetched, cache, key, make, size)

    def _prefetched(self, cache: str, key: Hashable, make: Callable, size: Callable | None):
        lru = self.caches[cache]
        with self._keys.hold((cache, key)):
            try:
                hit = lru.get(key)
                value = hit if hit is not None else make()
            except BaseException:
                self._forget(cache, key)
                raise
            nbytes = None if hit is not None or size is None else size(value)
            # The value becomes visible and stops being pending in one step. Forgetting it first left a moment
            # in which a second ``prefetch`` found it neither cached nor pending and queued it again (a loaded
            # suite run once saw that job still pending after ``remembered`` had handed the value back).
            with self._lock:
                if hit is None:
                    lru.put(key, value, nbytes)
                self._pending.pop((cache, key), None)
            return value

    def _forget(self, cache: str, key: Hashable) -> None:
        with self._lock:
            self._pending.pop((cache, key), None)

    def pending(self) -> list[tuple]:
        """(cache, key) of every value ``prefetch`` has started and not finished."""
        with self._lock:
            return list(self._pending)


SERVICE = Service()

# The browser tests' harness sets this (tests/e2e/harness.py): on SIGUSR1 the server writes every thread's
# Python stack to its log, so a test whose page never finishes its run says where the server is.
if os.environ.get("CNN_PLAYGROUND_STACKS") and hasattr(signal, "SIGUSR1"):
    faulthandler.register(signal.SIGUSR1, all_threads=True)

# For benchmarks: where this is set (a file's path), the server appends what its caches hold every HELD_LOG_EVERY_S,
# one JSON line each ({"t": seconds since the epoch, "held": {cache name: bytes}}), so that a run of many visitors
# can tell the caches filling towards their budget from memory that grows outside them (benchmarks/at_once.py).
HELD_LOG_ENV = "CNN_PLAYGROUND_HELD_LOG"
HELD_LOG_EVERY_S = 5.0


def _log_held(path: str, stop: threading.Event | None = None) -> None:
    """Append what the caches hold to ``path`` every HELD_LOG_EVERY_S until ``stop`` is set (never, in a server)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        line = json.dumps({"t": time.time(), "held": SERVICE.held()})
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        except OSError:
            return  # a benchmark's aid: never a reason to fail the server
        stop.wait(HELD_LOG_EVERY_S)


_started = False
_start_lock = threading.Lock()


def start() -> None:
    """Once per process, where the app starts: move TensorFlow's ~450k import-time objects out of the garbage
    collector's reach (``gc.freeze``). Streamlit runs a full ``gc.collect()`` after every rerun (Keras is
    loaded), which otherwise costs about 160 ms per slider change on a quiet machine and 675 ms at a load
    of 4 (benchmarks/server.py). Until TensorFlow is imported there is nothing worth freezing, so it waits."""
    global _started
    if _started or "tensorflow" not in sys.modules:
        return
    with _start_lock:
        if not _started:
            gc.freeze()
            _started = True
            if os.environ.get(HELD_LOG_ENV):
                SERVICE.watcher(_log_held, os.environ[HELD_LOG_ENV], name="held-log")
