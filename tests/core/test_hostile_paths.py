"""Every command and option that takes a path, given a hostile path: each ends quickly in one sentence.

The table is every (command, option) × (/dev/zero, a FIFO, a folder, a 2 GB sparse file, a symbolic-link
loop, an unreadable file, a file whose read fails with an I/O error). Each case is its own process, timed
and measured (peak resident memory from ``os.wait4``): it must exit non-zero with one ``error:`` line that
says what the thing is, no traceback, within CASE_TIMEOUT_S and MAX_RSS_MB. Nothing here may import
TensorFlow before the path is refused, which is what keeps each case small.

"Unreadable" needs care as root, who may read anything: the case drops the two capabilities that let root
ignore file permissions (``setpriv``), so a mode-000 file is refused as it would be for anyone else.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CASE_TIMEOUT_S = 30  # the promise is 5 s; the margin is for a loaded 2-core machine
MAX_RSS_MB = 200
GOOD_IMAGE = str(REPO / "assets" / "camera.png")
GOOD_MODEL = str(REPO / "assets" / "tiny_vgg.keras")

# Runs ``python -m MODULE ARGS`` and then prints the process's own peak resident memory (VmHWM, in KiB).
# Not ru_maxrss: a forked child's starts at its parent's size (pytest's, with TensorFlow loaded).
WRAPPER = """
import runpy, sys
module, sys.argv = sys.argv[1], sys.argv[1:]
try:
    runpy.run_module(module, run_name="__main__", alter_sys=True)
finally:
    peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print("VmHWM", peak.split()[1], flush=True)
"""

# What each kind of hostile path must be called in the one error line.
SAID = {
    "zero": "is a device",
    "fifo": "is a FIFO (named pipe)",
    "folder": "is a folder",
    "sparse": "is 2,147 MB; at most",
    "loop": "is a symbolic link loop",
    "unreadable": "is not readable (permission denied)",
    "eio": "could not be read (Input/output error)",
}
# An output path that exists but is no folder.
SAID_OUT = {
    "zero": "is a device, not a folder",
    "fifo": "is a FIFO (named pipe), not a folder",
    "sparse": "is a regular file, not a folder",
    "loop": "is a symbolic link loop",
    "unreadable": "is a regular file, not a folder",
    "eio": "is a regular file, not a folder",
}
SAID_TRAIN_OUT = {"zero": "is a device", "fifo": "is a FIFO (named pipe)", "folder": "is a folder", "loop": "loop"}


def _slots(spec: str, out: str) -> list[tuple[str, list[str], dict[str, str]]]:
    """(name, argv with {p} for the hostile path, what each kind must be called)."""
    run = [sys.executable, "-c", WRAPPER, "cnn_core"]
    train = [sys.executable, "-c", WRAPPER, "cnn_core.train"]
    folder_images = {**SAID, "folder": "no image files found"}  # a folder is read as a folder of images
    spec_said = {**SAID, "sparse": "is 2,147 MB; at most"}
    return [
        ("run IMAGE", [*run, "run", "{p}", "--out", out, "--quiet"], folder_images),
        ("run --spec", [*run, "run", GOOD_IMAGE, "--spec", "{p}", "--out", out], spec_said),
        ("run --out", [*run, "run", GOOD_IMAGE, "--out", "{p}"], SAID_OUT),
        ("explain IMAGE", [*run, "explain", "{p}", "--stage", "1", "--at", "0", "0"], SAID),
        ("explain --spec", [*run, "explain", GOOD_IMAGE, "--spec", "{p}", "--stage", "1", "--at", "0", "0"], spec_said),
        ("model-maps MODEL", [*run, "model-maps", "{p}", GOOD_IMAGE, "--out", out], SAID),
        ("model-maps IMAGE", [*run, "model-maps", GOOD_MODEL, "{p}", "--out", out], SAID),
        ("model-maps --out", [*run, "model-maps", GOOD_MODEL, GOOD_IMAGE, "--out", "{p}"], SAID_OUT),
        ("train evaluate --model", [*train, "evaluate", "--seed", "0", "--samples", "6", "--model", "{p}"], SAID),
        # A regular file is a fine --out for training (it is overwritten), so only the others are hostile.
        ("train --out", [*train, "--out", "{p}", "--samples", "14", "--epochs", "1"], SAID_TRAIN_OUT),
    ]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("hostile")
    os.mkfifo(root / "fifo.png")
    (root / "folder.png").mkdir()
    with open(root / "sparse.png", "wb") as f:
        f.truncate(2 * 2**30)  # no disk used; reading it whole would need 2 GB
    os.symlink("loop.png", root / "loop.png")
    secret = root / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n")
    secret.chmod(0)
    return {
        "zero": "/dev/zero",
        "fifo": str(root / "fifo.png"),
        "folder": str(root / "folder.png"),
        "sparse": str(root / "sparse.png"),
        "loop": str(root / "loop.png"),
        "unreadable": str(secret),
        "eio": "/proc/self/mem",  # a regular file whose first read fails (EIO), for anyone, root included
    }


def _unprivileged(argv: list[str]) -> list[str]:
    """``argv`` run without the capabilities that let root read a mode-000 file (nothing to drop otherwise)."""
    if os.geteuid() != 0:
        return argv
    setpriv = shutil.which("setpriv")
    assert setpriv, "running as root needs setpriv (util-linux) to test an unreadable file"
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", *argv]


def _run_case(argv: list[str]) -> tuple[int | None, str, float, float]:
    """(exit code or None if killed at the timeout, stderr, seconds, peak RSS in MB) of one process."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "CUDA_VISIBLE_DEVICES": ""}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            argv, cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=CASE_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as e:
        return None, (e.stderr or b"").decode("utf-8", "replace"), time.perf_counter() - t0, 0.0
    peak = [line.split()[1] for line in proc.stdout.decode().splitlines() if line.startswith("VmHWM ")]
    assert peak, f"no memory figure from {argv}"
    return proc.returncode, proc.stderr.decode("utf-8", "replace"), time.perf_counter() - t0, int(peak[-1]) / 1024


def _cases():
    """Every (command slot, hostile kind) pair that is hostile for that slot (an existing folder is a valid
    ``--out``, for one), so no parametrised case passes without checking anything."""
    for slot, (_, _, said) in enumerate(_slots("", "")):
        for kind in SAID:
            if kind in said:
                yield slot, kind


@pytest.fixture(scope="module")
def measured():
    """Every case's figures, printed at the end of the module (run with -s to see them)."""
    rows: list[dict] = []
    yield rows
    if rows:
        print("\nhostile paths: worst", max(r["seconds"] for r in rows), "s,", max(r["mb"] for r in rows), "MB")
        print(json.dumps(rows))


@pytest.mark.slow
@pytest.mark.parametrize(("slot", "kind"), list(_cases()))
def test_a_hostile_path_ends_in_one_sentence(slot, kind, hostile, tmp_path, measured):
    spec = tmp_path / "spec.json"
    out = str(tmp_path / "out")
    name, argv, said = _slots(str(spec), out)[slot]
    path = hostile[kind]
    argv = [path if a == "{p}" else a for a in argv]
    rc, err, seconds, mb = _run_case(_unprivileged(argv) if kind == "unreadable" else argv)
    measured.append({"case": f"{name} {kind}", "seconds": round(seconds, 2), "mb": round(mb)})
    assert rc is not None, f"{name} with {kind} ran past {CASE_TIMEOUT_S} s"
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("warning:")]
    assert rc != 0, f"{name} with {kind} exited 0: {err[-500:]}"
    assert len(lines) == 1 and lines[0].startswith("error: "), f"{name} with {kind}: {err[-800:]}"
    assert said[kind] in lines[0], f"{name} with {kind}: {lines[0]}"
    assert "Traceback" not in err and "unexpected" not in lines[0]
    if "--spec" in name and kind in ("zero", "fifo", "folder"):
        assert "give a spec JSON file" in lines[0] and "image" not in lines[0], lines[0]
    assert mb <= MAX_RSS_MB, f"{name} with {kind} peaked at {mb:.0f} MB"


def test_the_train_default_is_the_tiny_vgg_path():
    from cnn_core import tiny_vgg, train

    assert train.DEFAULT_MODEL == tiny_vgg.MODEL_PATH


def test_a_link_loop_in_a_folder_is_called_a_loop_not_a_broken_link(tmp_path):
    from cnn_core.__main__ import _collect

    os.symlink("loop.png", tmp_path / "loop.png")
    os.symlink(tmp_path / "gone.png", tmp_path / "dangling.png")
    files, skipped = _collect([str(tmp_path)])
    assert files == []
    assert [line.split(": skipped: ")[1][:28] for line in skipped] == [
        "a broken symbolic link (to '",
        "a symbolic link loop (follow",
    ]
