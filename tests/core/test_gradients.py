"""Gradients run where a crash can't take the server down: a worker process with oneDNN off.

The crash they guard against: input gradients through random conv/pool/dense models crashed TensorFlow
2.21 with oneDNN on (glibc heap corruption) in 4 of 4 runs of 100 models on the 2-core machine; with
oneDNN off, 200 of 200 ran. The first test runs 100 such models with the worker's setting.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnn_core import gradients, shapes_data, tiny_vgg
from cnn_core.errors import CnnError

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_input_gradients_through_100_random_models_exit_cleanly_with_the_worker_s_setting():
    proc = subprocess.run(
        [sys.executable, "-m", "tests.core.gradient_child", "100", "7", gradients.ONEDNN_FOR_GRADIENTS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-1500:]}"
    assert proc.stdout.strip().splitlines()[-1] == "ok 100"


@pytest.mark.slow
def test_grad_cam_in_the_worker_gives_the_in_process_values():
    model = tiny_vgg.load_model()
    x = tiny_vgg.prepare_input(shapes_data.sample("star", seed=3))
    here = tiny_vgg.grad_cam(model, x, 2)
    there = gradients.grad_cam(x, 2)
    assert there.label == 2
    # oneDNN on here and off there: the same sums in another order.
    np.testing.assert_allclose(there.weights, here.weights, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(there.heat, here.heat, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_a_crashed_worker_is_one_sentence_and_the_next_call_works():
    with pytest.raises(CnnError, match="separate process crashed"):
        gradients.submit(os.abort)  # what a heap corruption does to the worker
    assert gradients.submit(np.add, 2, 3) == 5
    gradients.shutdown()
