"""Gradients in a separate process, with oneDNN off, so that a crash in them can't take the server down.

Input gradients through conv/pool/dense stacks crash TensorFlow 2.21 now and then when its oneDNN kernels
are on (glibc heap corruption: "corrupted size vs. prev_size", "double free or corruption", a segfault):
on the 2-core AVX-512 machine, 4 runs of 100 random models each (``tests/core/gradient_child.py``) all
crashed within 30–100 models, while with oneDNN off 200 of 200 ran. The forward passes, which the rest
of the app runs and whose speed the compute budget is measured on, keep oneDNN.

So every gradient-based view (Grad-CAM) runs here: in one worker process started on first use (spawned,
so it imports TensorFlow afresh with ``TF_ENABLE_ONEDNN_OPTS=0``), which ends after IDLE_SECONDS without
work. If it dies, the caller gets a CnnError saying so, and the next call starts a new worker.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np

from .errors import CnnError

ONEDNN_FOR_GRADIENTS = "0"  # TF_ENABLE_ONEDNN_OPTS in the gradient worker
IDLE_SECONDS = 300.0  # the worker (a TensorFlow process, about 600 MB) ends after this long unused
CALL_TIMEOUT_S = 120.0

_LOCK = threading.Lock()
_POOL: ProcessPoolExecutor | None = None
_IDLE: threading.Timer | None = None


def _start_worker() -> None:
    """The worker's first act, before anything imports TensorFlow there."""
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = ONEDNN_FOR_GRADIENTS
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


_MODELS: dict[str, object] = {}  # in the worker: loaded models by path


def _grad_cam_job(model_path: str, x: np.ndarray, label: int):
    from . import tiny_vgg

    model = _MODELS.get(model_path)
    if model is None:
        model = _MODELS[model_path] = tiny_vgg.load_model(model_path)
    return tiny_vgg.grad_cam(model, x, label)


def _pool() -> ProcessPoolExecutor:
    global _POOL
    if _POOL is None:
        ctx = multiprocessing.get_context("spawn")
        _POOL = ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_start_worker)
    return _POOL


def _stop_when_idle() -> None:
    global _IDLE
    if _IDLE is not None:
        _IDLE.cancel()
    _IDLE = threading.Timer(IDLE_SECONDS, shutdown)
    _IDLE.daemon = True
    _IDLE.start()


def shutdown() -> None:
    """End the worker now (it starts again on the next call)."""
    global _POOL
    with _LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def submit(fn, *args):
    """``fn(*args)`` in the gradient worker; its result. ``fn`` must be importable by name.

    Raises:
        CnnError: the worker died (the server is fine; the next call starts a new one) or took too long.
    """
    with _LOCK:
        future = _pool().submit(fn, *args)
        _stop_when_idle()
    try:
        return future.result(timeout=CALL_TIMEOUT_S)
    except BrokenProcessPool:
        shutdown()
        raise CnnError(
            "The gradient computation stopped unexpectedly (its separate process crashed); the rest of the app "
            "is unaffected. Try again.",
            "gradients",
        ) from None
    except TimeoutError:
        shutdown()
        raise CnnError(f"The gradient computation took longer than {CALL_TIMEOUT_S:g} s and was stopped.") from None


def grad_cam(x: np.ndarray, label: int, model_path: str | Path | None = None):
    """``tiny_vgg.grad_cam`` of the model at ``model_path`` (default: the shipped Tiny VGG), in the worker.

    Args:
        x: float32 (64, 64, 3), from ``tiny_vgg.prepare_input``.
        label: the class to explain.

    Returns:
        A ``tiny_vgg.GradCam``.
    """
    if model_path is None:
        from .train import DEFAULT_MODEL  # tiny_vgg.MODEL_PATH, named without importing Keras here

        model_path = DEFAULT_MODEL
    return submit(_grad_cam_job, str(model_path), np.asarray(x, dtype=np.float32), int(label))
