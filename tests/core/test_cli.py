"""The command line, ``python -m cnn_core run``, driven as a user would.

Every subprocess pays the TensorFlow import (~3 s), so all of them start at
once in one fixture and each test reads its own run's result.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cnn_core
import cnn_core.__main__ as cli
from tests.data.make_corpus import ORIENTATION, stored_for_orientation, upright_pattern

REPO = Path(__file__).resolve().parents[2]
STAGE_FILES = ["00_input", "01_conv2d", "02_activation", "03_pool2d"]
ALL_FILES = sorted([f"{s}.npy" for s in STAGE_FILES] + [f"{s}.png" for s in STAGE_FILES] + ["summary.json"])
RGB_SPEC = {
    "version": 1,
    "input": {"color": "rgb", "size": None},
    "layers": [
        {"type": "conv2d", "filters": ["edge", "sharpen"], "stride": 1, "padding": "same"},
        {"type": "activation", "function": "leaky_relu", "alpha": 0.1},
        {"type": "pool2d", "mode": "avg", "size": 2, "stride": 2, "padding": "valid"},
    ],
}


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    out: Path
    source: Path | None = None

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.split("\n") if line.startswith("error:")]


def _save(a: np.ndarray, path: Path, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a).save(path, **kw)
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    root = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(7)
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    photo = _save(stored_for_orientation(upright_pattern(), 6), root / "photo.jpg", quality=95, exif=exif.tobytes())
    folder = root / "folder"
    _save(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8), folder / "cat.png")
    _save(rng.integers(0, 256, (20, 20), dtype=np.uint8), folder / "dog.jpg")
    _save(rng.integers(0, 256, (16, 26, 4), dtype=np.uint8), folder / "bird.webp", lossless=True)
    good = _save(rng.integers(0, 256, (10, 12, 3), dtype=np.uint8), root / "good.png")
    broken = folder / "broken.png"
    broken.write_bytes(good.read_bytes()[:60])
    (folder / "notes.txt").write_text("not an image, and not named like one\n")
    extra = _save(rng.integers(0, 256, (14, 18, 3), dtype=np.uint8), root / "extra" / "cat.png")  # same stem
    spec = root / "rgb.json"
    spec.write_text(json.dumps(RGB_SPEC))
    bad_spec = root / "bad.json"
    bad_spec.write_text('{"version": 1, "layers": [')

    argv = {
        "single": [photo],
        "batch": [folder, extra, "--spec", spec],
        "bad_spec": [good, "--spec", bad_spec],
        "missing_spec": [good, "--spec", root / "no_such_spec.json"],
        "missing_image": [root / "no_such_image.png"],
        "corrupt_image": [broken],
    }
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "cnn_core", "run", *map(str, args), "--out", str(root / "out" / name)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, args in argv.items()
    }
    results = {}
    for name, p in procs.items():
        stdout, stderr = p.communicate(timeout=180)
        results[name] = Run(p.returncode, stdout, stderr, root / "out" / name, argv[name][0])
    return results


def _check_outputs(folder: Path, image: np.ndarray, spec) -> None:
    """Every stage's .npy equals run_pipeline's, every PNG is a valid picture, and the summary agrees."""
    assert sorted(p.name for p in folder.iterdir()) == ALL_FILES
    stages = cnn_core.run_pipeline(image, spec)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["spec"] == cnn_core.parse_spec(spec).to_dict()
    assert [(s["name"], s["shape"]) for s in summary["stages"]] == [(s.name, list(s.maps.shape)) for s in stages]
    for stem, stage in zip(STAGE_FILES, stages):
        maps = np.load(folder / f"{stem}.npy")
        assert maps.dtype == np.float32 and maps.ndim == 3
        np.testing.assert_array_equal(maps, stage.maps)
        with Image.open(folder / f"{stem}.png") as im:
            im.verify()
        with Image.open(folder / f"{stem}.png") as im:
            assert im.format == "PNG"
            h, w, c = maps.shape
            assert (im.size == (w, h)) if stem == "00_input" else (im.width >= w and im.height >= h)


def test_single_image_writes_every_stage(runs):
    run = runs["single"]
    assert run.rc == 0, run.stderr
    assert run.error_lines == [] and "Traceback" not in run.stderr + run.stdout
    image = cnn_core.load_image(run.source)
    assert image.shape == (32, 48, 3)  # EXIF orientation applied, as in the app
    _check_outputs(run.out, image, cnn_core.default_spec())


def test_batch_writes_a_folder_per_good_image_and_reports_the_bad_one(runs):
    run = runs["batch"]
    assert run.rc == 1
    assert "Traceback" not in run.stderr + run.stdout
    assert run.stdout == ""  # the progress bar goes to stderr
    assert "[" in run.stderr and "5/5" in run.stderr
    folders = sorted(p.name for p in run.out.iterdir())
    # Two files called cat.png must not overwrite each other; notes.txt is not an image name.
    assert folders == ["bird", "cat_png", "cat_png-2", "dog"]
    root = run.out.parents[1]
    sources = {
        "bird": root / "folder" / "bird.webp",
        "cat_png": root / "folder" / "cat.png",
        "cat_png-2": root / "extra" / "cat.png",
        "dog": root / "folder" / "dog.jpg",
    }
    for name, source in sources.items():
        image = cnn_core.load_image(source)
        _check_outputs(run.out / name, image, RGB_SPEC)
        assert np.load(run.out / name / "00_input.npy").shape == (*image.shape[:2], 3)
    assert len(run.error_lines) == 1
    assert "broken.png" in run.error_lines[0] and "truncated" in run.error_lines[0]
    tail = run.stderr.rstrip("\n").split("\n")
    assert tail[-2:] == [run.error_lines[0], "4 of 5 images done; 1 failed"], "reported at the end"


@pytest.mark.parametrize(
    "name, words",
    [
        ("bad_spec", ["bad.json", "not valid JSON"]),
        ("missing_spec", ["no_such_spec.json", "does not exist"]),
        ("missing_image", ["no_such_image.png", "does not exist"]),
        ("corrupt_image", ["broken.png", "truncated"]),
    ],
)
def test_a_problem_is_one_error_line_and_a_failing_exit_code(runs, name, words):
    run = runs[name]
    assert run.rc != 0
    assert "Traceback" not in run.stderr + run.stdout
    assert len(run.error_lines) == 1, run.stderr
    for word in words:
        assert word in run.error_lines[0]
    assert not list(run.out.glob("**/*.npy"))


def test_batch_decodes_in_parallel_threads_a_few_images_ahead(monkeypatch, tmp_path):
    """In-process, with a fake decoder: two decodes must be in flight together, but not the whole folder."""
    files = [tmp_path / f"img{i:02d}.png" for i in range(12)]
    for f in files:
        f.write_bytes(b"")
    both_running = threading.Barrier(2, timeout=10)  # breaks, failing the decode, if decodes run one by one
    lock = threading.Lock()
    seen = {"threads": set(), "started": 0, "written": 0, "most_ahead": 0}

    def fake_load(path, **kw):
        with lock:
            seen["threads"].add(threading.get_ident())
            seen["started"] += 1
            seen["most_ahead"] = max(seen["most_ahead"], seen["started"] - seen["written"])
            first_two = seen["started"] <= 2
        if first_two:
            both_running.wait()
        return np.zeros((4, 4), dtype=np.uint8)

    def fake_write(image, spec, out, cmap, scale):
        threading.Event().wait(0.02)  # a pipeline run takes a while; decoding must not race far ahead
        with lock:
            seen["written"] += 1
        return []  # no stage overflowed

    monkeypatch.setattr(cnn_core.images, "load_image", fake_load)
    monkeypatch.setattr(cli, "_write", fake_write)
    assert cli.main(["run", str(tmp_path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert seen["written"] == 12
    assert len(seen["threads"]) == 2 and threading.get_ident() not in seen["threads"]
    assert seen["most_ahead"] <= cli.DECODE_THREADS + 2, seen
