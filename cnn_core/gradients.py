"""Gradients in a separate process, with oneDNN off, so that a crash in them can't take the server down.

Input gradients through conv/pool/dense stacks crash TensorFlow 2.21 now and then when its oneDNN kernels
are on (glibc heap corruption: "corrupted size vs. prev_size", "double free or corruption", a segfault):
on the 2-core AVX-512 machine, 4 runs of 100 random models each (``tests/core/gradient_child.py``) all
crashed within 30–100 models, while with oneDNN off 200 of 200 ran. The forward passes, which the rest
of the app runs and whose speed the compute budget is measured on, keep oneDNN.

So every gradient-based view (Grad-CAM) runs here: in one worker process started on first use (a fresh
``python -m cnn_core.gradients``, so it imports TensorFlow with ``TF_ENABLE_ONEDNN_OPTS=0``), which ends
after IDLE_SECONDS without work. If it dies, the caller gets a CnnError saying so, and the next call starts a new worker.
"""

from __future__ import annotations

import os
import pickle
import select
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

from .errors import CnnError

ONEDNN_FOR_GRADIENTS = "0"  # TF_ENABLE_ONEDNN_OPTS in the gradient worker
IDLE_SECONDS = 300.0  # the worker (a TensorFlow process, about 600 MB) ends after this long unused
CALL_TIMEOUT_S = 120.0

# One request at a time: the worker is a plain process (``python -m cnn_core.gradients``) that reads pickled
# (function, arguments) from its stdin and writes pickled results to its stdout. Not multiprocessing: its
# spawn would re-run the parent's main module, which under Streamlit is the page script itself.
_LOCK = threading.Lock()
_PROC: subprocess.Popen | None = None
_IDLE: threading.Timer | None = None
_MODELS: dict[str, object] = {}  # in the worker: loaded models by path


def _grad_cam_job(model_path: str, x: np.ndarray, label: int, layer: str | None):
    from . import tiny_vgg

    model = _MODELS.get(model_path)
    if model is None:
        model = _MODELS[model_path] = tiny_vgg.load_model(model_path)
    return tiny_vgg.grad_cam(model, x, label) if layer is None else tiny_vgg.grad_cam(model, x, label, layer)


def _loaded_model(digest: str, name: str, data: bytes):
    """In the worker: the model of these checked ``.keras`` bytes, loaded once (one uploaded model at a time)."""
    from . import model_file

    model = _MODELS.get(digest)
    if model is None:
        model, _ = model_file.load_model(data, name)  # the same checks as the page: nothing in the file runs
        _MODELS.clear()
        _MODELS[digest] = model
    return model


def _model_grad_cam_job(digest: str, name: str, data: bytes, batch: np.ndarray, layer: str, unit: int):
    from . import gradcam, model_maps

    return gradcam.grad_cam(model_maps.MapComputer(_loaded_model(digest, name, data)), batch, layer, unit)


def _on_model_job(task: str, digest: str, name: str, data: bytes, args: tuple, kwargs: dict):
    if task == "visualise":
        from .visualise import visualise as fn
    elif task == "unit_grad_cam":
        from .unit_cam import unit_grad_cam as fn
    else:
        raise CnnError(f"no gradient task called {task!r}")
    return fn(_loaded_model(digest, name, data), *args, **kwargs)


def _worker() -> subprocess.Popen:
    global _PROC
    if _PROC is None or _PROC.poll() is not None:
        root = str(Path(__file__).resolve().parents[1])
        env = {
            **os.environ,
            "TF_ENABLE_ONEDNN_OPTS": ONEDNN_FOR_GRADIENTS,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p),
        }
        _PROC = subprocess.Popen(
            [sys.executable, "-m", "cnn_core.gradients"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=root,
        )
    return _PROC


def shutdown() -> None:
    """End the worker now (it starts again on the next call)."""
    global _PROC
    with _LOCK:
        proc, _PROC = _PROC, None
    _end(proc)


def _end(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()


def _stop_when_idle() -> None:
    global _IDLE
    if _IDLE is not None:
        _IDLE.cancel()
    _IDLE = threading.Timer(IDLE_SECONDS, shutdown)
    _IDLE.daemon = True
    _IDLE.start()


def _read(stream, n: int, deadline: float) -> bytes:
    import time

    data = b""
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([stream], [], [], left)[0]:
            raise TimeoutError
        chunk = os.read(stream.fileno(), n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def submit(fn, *args):
    """``fn(*args)`` in the gradient worker; its result. ``fn`` must be importable by name.

    Raises:
        CnnError: the worker died (the server is fine; the next call starts a new one), took too long, or
            ``fn`` raised a CnnError there.
    """
    import time

    global _PROC
    with _LOCK:
        proc = _worker()
        _stop_when_idle()
        try:
            request = pickle.dumps((fn, args))
            proc.stdin.write(len(request).to_bytes(8, "big") + request)
            proc.stdin.flush()
            deadline = time.monotonic() + CALL_TIMEOUT_S
            size = int.from_bytes(_read(proc.stdout, 8, deadline), "big")
            ok, value = pickle.loads(_read(proc.stdout, size, deadline))
        except (EOFError, BrokenPipeError, OSError):
            _PROC = None
            _end(proc)
            raise CnnError(
                "The gradient computation stopped unexpectedly (its separate process crashed); the rest of the "
                "app is unaffected. Try again.",
                "gradients",
            ) from None
        except TimeoutError:
            _PROC = None
            _end(proc)
            raise CnnError(f"The gradient computation took longer than {CALL_TIMEOUT_S:g} s and was stopped.") from None
    if not ok:
        raise CnnError(value)
    return value


def _serve() -> None:
    """The worker's loop: requests from stdin, results to stdout (which nothing else may write to)."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed by TensorFlow goes to stderr, not into the results
    inp = sys.stdin.buffer
    while True:
        header = inp.read(8)
        if len(header) < 8:
            return
        fn, args = pickle.loads(inp.read(int.from_bytes(header, "big")))
        try:
            result = (True, fn(*args))
        except CnnError as e:  # the caller's own error, said there
            result = (False, str(e))
        data = pickle.dumps(result)
        out.write(len(data).to_bytes(8, "big") + data)
        out.flush()


def grad_cam(x: np.ndarray, label: int, layer: str | None = None, model_path: str | Path | None = None):
    """``tiny_vgg.grad_cam`` of the model at ``model_path`` (default: the shipped Tiny VGG), in the worker.

    Args:
        x: float32 (64, 64, 3), from ``tiny_vgg.prepare_input``.
        label: the class to explain.
        layer: the layer whose maps are weighed (default: ``tiny_vgg.GRAD_CAM_LAYER``).

    Returns:
        A ``tiny_vgg.GradCam``.
    """
    if model_path is None:
        from .train import DEFAULT_MODEL  # tiny_vgg.MODEL_PATH, named without importing Keras here

        model_path = DEFAULT_MODEL
    return submit(_grad_cam_job, str(model_path), np.asarray(x, dtype=np.float32), int(label), layer)


def model_grad_cam(digest: str, name: str, data: bytes, batch: np.ndarray, layer: str, unit: int):
    """``gradcam.grad_cam`` of an uploaded model (its checked ``.keras`` bytes), in the worker.

    Args:
        digest: a content hash of ``data`` (the worker keeps the last model it loaded under it).
        name: the file's name, for messages.
        data: the ``.keras`` file's bytes; loaded there through ``model_file.load_model``.
        batch: float32 (1, height, width, channels), from ``model_maps.prepare_photo``.
        layer: a layer path with image-shaped maps; unit: the output unit to explain.

    Returns:
        A ``gradcam.GradCam``.
    """
    return submit(_model_grad_cam_job, digest, name, data, np.asarray(batch, dtype=np.float32), layer, int(unit))


def on_model(task: str, digest: str, name: str, data: bytes, *args, **kwargs):
    """A gradient task on a model given by its ``.keras`` bytes, in the worker: ``"visualise"``
    (``visualise.visualise``) or ``"unit_grad_cam"`` (``unit_cam.unit_grad_cam``), the model first, then
    ``args`` and ``kwargs`` (plain values: a ``should_stop`` callable can't cross to the worker)."""
    return submit(_on_model_job, task, digest, name, data, args, kwargs)


if __name__ == "__main__":
    _serve()
