"""Section "units": the Units scan's speed on Ray Data (``cnn_core.units.scan``), the Tiny VGG's conv_2_2.

Pictures: generated 64×64 shapes written as PNG files to a temporary folder first (not timed), 10,000 of
them (200 with ``--quick``). A local Ray is started once for the section (not timed); each scan is timed
end to end, actors starting and loading the model included. Figures:

- "10,000 pictures, 2 workers": wall seconds of the whole scan. Target ≤ 60 s.
- "pictures per second, N workers" for N = 1 and 2: pictures over the whole scan's seconds.
- "steady pictures per second, N workers": from the first batch back to the last, so actor start-up
  (importing TensorFlow, loading and checking the model) is left out.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from .stats import Figure, Target

SECTION = "units"
TARGET_S = 60
LAYER = "conv_2_2"


def _folder(root: Path, n: int) -> None:
    from PIL import Image

    from cnn_core import shapes_data

    for start in range(0, n, 1000):
        pictures, _ = shapes_data.make_dataset(min(1000, n - start), seed=500 + start)
        for k, p in enumerate(pictures):
            Image.fromarray(p).save(root / f"{start + k:05d}.png", compress_level=1)


def _scan(data: bytes, items, workers: int) -> tuple[float, float, int]:
    """(seconds, steady pictures per second, pictures) for one scan."""
    from cnn_core import units

    marks: list[tuple[float, int]] = []
    t0 = time.perf_counter()
    result = units.scan(
        data,
        "tiny_vgg.keras",
        items,
        LAYER,
        top=9,
        workers=workers,
        progress=lambda done, total: marks.append((time.perf_counter(), done)),
    )
    seconds = time.perf_counter() - t0
    (t_first, n_first), (t_last, n_last) = marks[0], marks[-1]
    steady = (n_last - n_first) / (t_last - t_first) if t_last > t_first else float("nan")
    return seconds, steady, result.scanned


def run(quick: bool, repeats: int) -> tuple[list[Figure], dict]:
    import ray

    from cnn_core import tiny_vgg, units

    n = 200 if quick else 10_000
    data = tiny_vgg.MODEL_PATH.read_bytes()
    detail: dict = {"pictures": n, "layer": LAYER}
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="units_bench_") as tmp:
        _folder(Path(tmp), n)
        items, _ = units.folder_items(tmp)
        started = units.start_ray(workers=2)
        try:
            for workers in (1, 2):
                runs = [_scan(data, items, workers) for _ in range(max(1, min(repeats, 3)))]
                detail[f"workers_{workers}"] = [{"seconds": s, "steady_per_s": r, "scanned": k} for s, r, k in runs]
                if workers == 2:
                    figures.append(
                        Figure(
                            SECTION,
                            f"{n:,} pictures, 2 workers",
                            "s",
                            [s for s, _, _ in runs],
                            Target("<=", TARGET_S, "s"),
                            quick=quick,
                        )
                    )
                figures.append(
                    Figure(
                        SECTION,
                        f"pictures per second, {workers} worker{'s' * (workers > 1)}",
                        "1/s",
                        [k / s for s, _, k in runs],
                        quick=quick,
                    )
                )
                figures.append(
                    Figure(
                        SECTION,
                        f"steady pictures per second, {workers} worker{'s' * (workers > 1)}",
                        "1/s",
                        [r for _, r, _ in runs],
                        quick=quick,
                    )
                )
        finally:
            if started:
                ray.shutdown()
    return figures, detail
