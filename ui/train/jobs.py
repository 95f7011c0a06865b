"""Training runs in worker threads, with a budget: one run per session, a bounded number at once per server.

The page script never trains; it starts a ``Job`` and polls it. A job keeps everything it has shown (every
finished epoch's metrics, filters and maps), so stopping it, or the tab closing, loses nothing already drawn.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import queue
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnn_core import learn
from cnn_core.class_folders import ClassData
from ui.common.service import SERVICE

MAX_AT_ONCE = 1  # runs training at the same time on this server (2 cores); the rest wait in a queue
MAX_EPOCHS = 30
MAX_CPU_SECONDS = 600  # CPU seconds of the training process per run (user + system), queue time not counted
HEARTBEAT_S = 30  # a run whose page has not polled for this long (tab closed) stops

_mp = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked TensorFlow threads, no shared Keras state
_lock = threading.Lock()
_slots = threading.Semaphore(MAX_AT_ONCE)
_queue: list[Job] = []


@dataclass
class Snapshot:
    """What the page draws of one finished epoch."""

    epoch: learn.Epoch
    filters_png: np.ndarray  # uint8 picture of the first layer's filters
    maps: list[tuple[str, np.ndarray]]  # (layer name, uint8 grid of its maps) for the chosen picture


class PageControl:
    """Pause, resume and stop, as the page sees them; they drive the child process's events."""

    def __init__(self) -> None:
        self.go, self.halt = _mp.Event(), _mp.Event()
        self.go.set()

    def pause(self) -> None:
        self.go.clear()

    def resume(self) -> None:
        self.go.set()

    def stop(self) -> None:
        self.halt.set()
        self.go.set()

    @property
    def paused(self) -> bool:
        return not self.go.is_set()

    @property
    def stop_requested(self) -> bool:
        return self.halt.is_set()


@dataclass
class Job:
    data: ClassData
    settings: learn.Settings
    probe: np.ndarray  # uint8 (64, 64, 3): the picture whose maps are drawn every epoch
    control: PageControl = field(default_factory=lambda: PageControl())
    state: str = "queued"  # queued, running, paused, done, stopped, failed
    message: str = ""
    snapshots: list[Snapshot] = field(default_factory=list)
    batch: tuple[int, int] = (0, 1)
    started: float = 0.0
    cpu_seconds: float = 0.0
    last_seen: float = field(default_factory=time.monotonic)
    model_bytes: bytes | None = None
    confusion: np.ndarray | None = None
    wrong: list[tuple[np.ndarray, str, str]] = field(default_factory=list)  # (picture, true, predicted)
    thread: threading.Thread | None = None

    @property
    def position(self) -> int:
        """1-based place in the queue, 0 once running."""
        with _lock:
            return _queue.index(self) + 1 if self in _queue else 0

    @property
    def finished(self) -> bool:
        return self.state in ("done", "stopped", "failed")

    def seen(self) -> None:
        self.last_seen = time.monotonic()


def start(data: ClassData, settings: learn.Settings, probe: np.ndarray) -> Job:
    """Queue a run; a thread waits for a free slot, then trains in a child process and collects what it sends."""
    job = Job(data, settings, probe)
    with _lock:
        _queue.append(job)
    job.thread = SERVICE.watcher(_work, job, name="train-job")
    return job


def _abandoned(job: Job) -> bool:
    return time.monotonic() - job.last_seen > HEARTBEAT_S


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0 where unavailable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _work(job: Job) -> None:
    if not _wait_for_slot(job):
        return
    out = _mp.Queue()
    proc = _mp.Process(
        target=learn.child_run,
        args=(job.data, job.settings, job.probe, out, job.control.go, job.control.halt),
        name="train-child",
        daemon=True,
    )
    try:
        job.state, job.started = "running", time.monotonic()
        proc.start()
        ended = False
        while not ended:
            try:
                msg = out.get(timeout=0.5)
            except queue.Empty:
                msg = None
            if msg is None and not proc.is_alive():
                job.state = "failed"
                job.message = job.message or f"The training process ended unexpectedly (exit code {proc.exitcode})."
                break
            ended = msg is not None and _take_message(job, msg)
            job.cpu_seconds = _cpu_seconds(proc.pid) if proc.pid else 0.0
            if not ended:
                _keep_watch(job)
    finally:
        proc.join(timeout=20)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)
        _slots.release()


def _wait_for_slot(job: Job) -> bool:
    """Wait in the queue for a training slot; False (the job stopped) when stopped or abandoned meanwhile."""
    while not _slots.acquire(timeout=0.5):
        if job.control.stop_requested or _abandoned(job):
            with _lock:
                _queue.remove(job)
            job.state, job.message = "stopped", "Stopped before it started."
            return False
    with _lock:
        _queue.remove(job)
    return True


def _take_message(job: Job, msg: tuple) -> bool:
    """Record one message of the training process on the job; True when it was the last."""
    if msg[0] == "batch":
        job.batch = (msg[1], msg[2])
    elif msg[0] == "epoch":
        job.snapshots.append(Snapshot(msg[1], msg[2], msg[3]))
    elif msg[0] == "result":
        job.model_bytes, job.confusion, job.wrong = msg[1], msg[2], msg[3]
        job.state = "stopped" if msg[4] else "done"
        return True
    elif msg[0] == "failed":
        job.state, job.message = "failed", msg[1]
        return True
    return False


def _keep_watch(job: Job) -> None:
    """Stop a job whose page was closed or that spent its CPU budget; show pause and resume."""
    if not job.control.stop_requested:
        if _abandoned(job):
            job.message = "Stopped: the page was closed."
            job.control.stop()
        elif job.cpu_seconds > MAX_CPU_SECONDS:
            job.message = f"Stopped at the budget of {MAX_CPU_SECONDS} CPU seconds."
            job.control.stop()
    if job.state in ("running", "paused"):
        job.state = "paused" if job.control.paused else "running"


def history_zip(job: Job) -> bytes:
    """history.json, labels.json and every epoch's filters (.npy and .png), zipped."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        learn.write_history([s.epoch for s in job.snapshots], job.data.names, d)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(Path(d).rglob("*")):
                if p.is_file():
                    zf.write(p, p.relative_to(d).as_posix())
        return buf.getvalue()


def filters_gif(job: Job) -> bytes:
    """An animated GIF of the first layer's filters, one frame per epoch."""
    from PIL import Image

    frames = [Image.fromarray(s.filters_png) for s in job.snapshots]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=500, loop=0)
    return buf.getvalue()
