"""Train on a folder of drawings, test on drawings the run never saw (issue 24: 3 classes × 60 drawings,
5 epochs in ≤ 180 s, ≥ 85% on new drawings).

    python benchmarks/bench_drawings.py [--classes circle,square,triangle] [--per-class 60] [--epochs 5]

It draws the training folder with ``cnn_core.sketch_check.drawing`` (256×256 PNGs, one sub-folder per class,
seed family ``--seed``), then times the command a user would run, as a child process from start to exit
(Python start-up, TensorFlow import, reading the folder, training and saving included):

    python -m cnn_core.train --data DIR --epochs 5 --seed 0 --out MODEL.keras

Then it reads two test folders the same way the command reads its folder (``class_folders.read_folder``) and
scores the saved model on them: new drawings from the same generator with another seed, and drawings from
``cnn_core.sketches.sketch``, a second generator with another model of a hand (Pillow strokes, wobble, rounded
corners, photographed paper). Nothing is shared between the training and test pictures but the class names.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from cnn_core import class_folders, learn, shapes_data, sketch_check, sketches

ROOT = Path(__file__).resolve().parents[1]


def write_folder(folder: Path, classes: list[str], per_class: int, seed: int, generator: str) -> None:
    """``per_class`` 256×256 drawings of each class as PNGs in ``folder/<class>/``."""
    for name in classes:
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            rng = np.random.default_rng([seed, shapes_data.class_index(name), i])
            if generator == "sketch_check":
                picture = sketch_check.drawing(name, rng)
            else:
                picture = sketches.sketch(shapes_data.class_index(name), rng)
            Image.fromarray(picture).save(folder / name / f"{i:03d}.png")


def score(model, folder: Path) -> tuple[float, dict[str, float]]:
    data = class_folders.read_folder(folder)
    predicted = learn.predict(model, data.images)
    per_class = {n: float((predicted[data.labels == k] == k).mean()) for k, n in enumerate(data.names)}
    return float((predicted == data.labels).mean()), per_class


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--classes", default="circle,square,triangle")
    p.add_argument("--per-class", type=int, default=60)
    p.add_argument("--test-per-class", type=int, default=100)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0, help="the training run's seed (weights, split, augmentation)")
    p.add_argument("--draw-seed", type=int, default=2024, help="the training drawings' seed; tests use others")
    args = p.parse_args()
    classes = sorted(args.classes.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_folder(tmp / "train", classes, args.per_class, args.draw_seed, "sketch_check")
        write_folder(tmp / "test_same", classes, args.test_per_class, args.draw_seed + 1_000_003, "sketch_check")
        write_folder(tmp / "test_other", classes, args.test_per_class, args.draw_seed + 2_000_003, "sketches")
        cmd = [sys.executable, "-m", "cnn_core.train", "--data", str(tmp / "train"), "--epochs", str(args.epochs)]
        cmd += ["--seed", str(args.seed), "--out", str(tmp / "model.keras")]
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - t0
        load_after = os.getloadavg()
        print(proc.stdout, end="")
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"the training command failed with status {proc.returncode}")
        import keras

        model = keras.models.load_model(tmp / "model.keras")
        same, same_per = score(model, tmp / "test_same")
        other, other_per = score(model, tmp / "test_other")
    print(f"classes {', '.join(classes)}: {args.per_class} drawings each, {args.epochs} epochs, seed {args.seed}")
    print(f"wall time of the command (start to exit): {seconds:.1f} s")
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (1 min); {os.cpu_count()} CPUs")
    print(
        f"new drawings, same generator, {args.test_per_class} a class: {same:.1%} "
        f"({', '.join(f'{k} {v:.0%}' for k, v in same_per.items())})"
    )
    print(
        f"new drawings, other generator (sketches), {args.test_per_class} a class: {other:.1%} "
        f"({', '.join(f'{k} {v:.0%}' for k, v in other_per.items())})"
    )


if __name__ == "__main__":
    main()
