"""The command line reads files with bounds: size before reading, no FIFOs or devices, no silent skips.

One CLI run (one TensorFlow import) covers a folder holding a good photo, huge files, a broken link and a
FIFO, plus /dev/zero and a FIFO named on the command line; it reports its own peak memory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cnn_core
import cnn_core.__main__ as cli
from cnn_core.images import MAX_FILE_BYTES, read_file

REPO = Path(__file__).resolve().parents[2]

# Runs the CLI in a child and prints how much its peak resident memory grew during the batch
# (ru_maxrss is in KiB on Linux), after TensorFlow and a first small run have set the baseline.
CHILD = """
import resource, sys
import numpy as np
import cnn_core
from cnn_core.__main__ import main
cnn_core.run_pipeline(np.zeros((64, 64), np.uint8), cnn_core.default_spec())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rc = main(sys.argv[1:])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"PEAK_GROWTH_KIB {after - before}")
sys.exit(rc)
"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("reading")
    folder = root / "photos"
    folder.mkdir()
    rng = np.random.default_rng(3)
    Image.fromarray((rng.random((40, 30)) * 255).astype(np.uint8)).save(folder / "good.png")
    for i in range(2):  # 1 GiB each, sparse (no disk used); reading them whole would need the RAM
        with open(folder / f"huge{i}.png", "wb") as f:
            f.truncate(2**30)
    for i in range(3):  # just under the limit: read, then refused as not an image
        (folder / f"noise{i}.png").write_bytes(rng.integers(0, 256, MAX_FILE_BYTES - 1024, dtype=np.uint8).tobytes())
    os.symlink(root / "gone.png", folder / "dangling.png")
    os.mkfifo(folder / "pipe.png")
    named_fifo = root / "named.png"
    os.mkfifo(named_fifo)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            "run",
            str(folder),
            "/dev/zero",
            str(named_fifo),
            "--out",
            str(root / "out"),
            "--quiet",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc, folder, root / "out"


def _lines(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


def test_every_problem_is_one_line_and_the_good_photo_runs(batch):
    proc, folder, out = batch
    errors = _lines(proc.stderr, "error:")
    warnings = _lines(proc.stderr, "warning:")
    assert proc.returncode == 1
    assert (out / "good" / "summary.json").exists()
    assert [e for e in errors if "/dev/zero" in e] == [
        "error: /dev/zero: is a device, not a regular file; give an image file"
    ]
    assert len([e for e in errors if "named.png" in e and "FIFO" in e]) == 1
    for i in range(2):
        assert any(f"huge{i}.png: is 1,074 MB; at most 50 MB is accepted" in e for e in errors), errors
    assert len([e for e in errors if "noise" in e]) == 3
    assert any("dangling.png: skipped: a broken symbolic link" in w and "gone.png" in w for w in warnings), warnings
    assert any("pipe.png: skipped: not a regular file" in w for w in warnings), warnings
    assert "Traceback" not in proc.stderr


def test_batch_peak_memory_stays_under_the_stated_bound(batch):
    proc, *_ = batch
    growth = int(_lines(proc.stdout, "PEAK_GROWTH_KIB")[0].split()[1]) * 1024
    # The bound covers file bytes and decoded arrays; a 1 GiB file read whole would blow through it.
    assert cli.max_batch_bytes() < 2**30
    assert growth < cli.max_batch_bytes(), f"peak grew by {growth / 2**20:.0f} MiB"


def _in_thread(fn, timeout: float = 20):
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as e:  # handed back to the test
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    return t.is_alive(), box


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "wait.png"
    os.mkfifo(fifo)
    hung, box = _in_thread(lambda: cnn_core.load_image(fifo))
    if hung:  # release the reader so the thread can end, then fail
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    assert not hung, "reading a FIFO blocked"
    assert isinstance(box.get("error"), cnn_core.ImageError)
    assert str(box["error"]) == f"{fifo}: is a FIFO (named pipe), not a regular file; give an image file"


def test_size_is_checked_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.png"
    with open(big, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    reads = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    with pytest.raises(cnn_core.ImageError) as e:
        read_file(big, MAX_FILE_BYTES)
    assert reads == []
    assert e.value.detail == "is 50.0 MB; at most 50 MB is accepted"


def test_a_file_longer_than_its_stated_size_is_cut_off():
    # /proc files say they hold 0 bytes; reading stops one byte past the limit all the same.
    maps = Path("/proc/self/maps")
    assert maps.stat().st_size == 0
    with pytest.raises(cnn_core.ImageError, match="is at least 101 bytes; at most 100 bytes is accepted"):
        read_file(maps, 100)


def test_decode_states_the_limit_in_the_same_unit_as_the_upload_control():
    with pytest.raises(cnn_core.ImageError) as e:
        cnn_core.decode_image(b"\0" * 50_353_427)  # "File must be 50.0MB or smaller", says the upload control
    assert e.value.detail == "is 50.4 MB; at most 50 MB is accepted"
