"""Training runs in worker threads, with a budget: one run per session, a bounded number at once per server.

The page script never trains; it starts a ``Job`` and polls it. A job keeps everything it has shown (every
finished epoch's metrics, filters and maps), so stopping it, or the tab closing, loses nothing already drawn.
"""

from __future__ import annotations

import io
import threading
import time
import zipfile
from dataclasses import dataclass, field

import numpy as np

from cnn_core import learn
from cnn_core.class_folders import ClassData
from cnn_core.errors import CnnError

MAX_AT_ONCE = 1  # runs training at the same time on this server (2 cores); the rest wait in a queue
MAX_EPOCHS = 30
MAX_SECONDS = 300  # wall-clock seconds of training per run, queue time not counted
HEARTBEAT_S = 30  # a run whose page has not polled for this long (tab closed) stops

_lock = threading.Lock()
_slots = threading.Semaphore(MAX_AT_ONCE)
_queue: list[Job] = []


@dataclass
class Snapshot:
    """What the page draws of one finished epoch."""

    epoch: learn.Epoch
    filters_png: np.ndarray  # uint8 picture of the first layer's filters
    maps: list[tuple[str, np.ndarray]]  # (layer name, uint8 grid of its maps) for the chosen picture


@dataclass
class Job:
    data: ClassData
    settings: learn.Settings
    probe: np.ndarray  # uint8 (64, 64, 3): the picture whose maps are drawn every epoch
    control: learn.Control = field(default_factory=learn.Control)
    state: str = "queued"  # queued, running, paused, done, stopped, failed
    message: str = ""
    snapshots: list[Snapshot] = field(default_factory=list)
    batch: tuple[int, int] = (0, 1)
    started: float = 0.0
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
    """Queue a run and start its worker thread."""
    job = Job(data, settings, probe)
    with _lock:
        _queue.append(job)
    job.thread = threading.Thread(target=_work, args=(job,), name="train-job", daemon=True)
    job.thread.start()
    return job


def _abandoned(job: Job) -> bool:
    return time.monotonic() - job.last_seen > HEARTBEAT_S


def _work(job: Job) -> None:
    while not _slots.acquire(timeout=0.5):
        if job.control.stop_requested or _abandoned(job):
            with _lock:
                _queue.remove(job)
            job.state, job.message = "stopped", "Stopped before it started."
            return
    with _lock:
        _queue.remove(job)
    try:
        job.state, job.started = "running", time.monotonic()

        def on_batch(done: int, total: int) -> None:
            job.batch = (done, total)
            if _abandoned(job):
                job.message = "Stopped: the page was closed."
                job.control.stop()
            elif time.monotonic() - job.started > MAX_SECONDS:
                job.message = f"Stopped at the budget of {MAX_SECONDS} s of training."
                job.control.stop()
            job.state = "paused" if job.control.paused else "running"

        def on_epoch(epoch: learn.Epoch, model) -> None:
            job.snapshots.append(Snapshot(epoch, learn.filters_picture(epoch.filters), layer_maps(model, job.probe)))

        run = learn.train(job.data, job.settings, on_epoch=on_epoch, control=job.control, on_batch=on_batch)
        predicted = learn.predict(run.model, run.val_images)
        job.confusion = learn.confusion(run.val_labels, predicted, len(run.names))
        wrong = np.flatnonzero(predicted != run.val_labels)[:12]
        job.wrong = [(run.val_images[i], run.names[run.val_labels[i]], run.names[predicted[i]]) for i in wrong]
        job.model_bytes = model_bytes(run.model) if run.history else None
        job.state = "stopped" if run.stopped else "done"
    except CnnError as e:
        job.state, job.message = "failed", str(e)
    finally:
        _slots.release()


def layer_maps(model, picture: np.ndarray, limit: int = 8) -> list[tuple[str, np.ndarray]]:
    """Each image-shaped layer's first ``limit`` maps for ``picture``, side by side as uint8 grids."""
    import keras

    layers = [la for la in model.layers[1:] if len(la.output.shape) == 4]
    probe = keras.Model(model.inputs, [la.output for la in layers])
    outs = probe(picture[None].astype(np.float32) / 255.0, training=False)
    outs = outs if isinstance(outs, list | tuple) else [outs]
    result = []
    for layer, out in zip(layers, outs, strict=True):
        maps = np.asarray(out)[0][..., :limit]
        lo, hi = float(maps.min()), float(maps.max())
        norm = (maps - lo) / (hi - lo) if hi > lo else np.zeros_like(maps)
        tiles = [np.pad(norm[..., k], 1, constant_values=1.0) for k in range(norm.shape[-1])]
        result.append((layer.name, (np.concatenate(tiles, axis=1) * 255).round().astype(np.uint8)))
    return result


def model_bytes(model) -> bytes:
    """The model as the bytes of a .keras file."""
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "trained.keras")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def history_zip(job: Job) -> bytes:
    """history.json, labels.json and every epoch's filters (.npy and .png), zipped."""
    import tempfile
    from pathlib import Path

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
