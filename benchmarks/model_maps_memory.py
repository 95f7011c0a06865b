"""Memory of the "Your model" maps: a 100-layer model at 224×224, paged versus all maps at once.

    python benchmarks/model_maps_memory.py [--layers 100] [--side 224] [--channels 32]

Each way runs in its own process, so its peak resident memory (ru_maxrss) is its own. The figure reported is
the peak minus the resident memory once the model is loaded and the photo prepared: what computing the maps
costs on top of the model. "paged" is what the page and the command line do (``model_maps.pages`` +
``MapComputer``); "all at once" is one eager Keras sub-model with every image-shaped layer as an output, the
way tools that show every layer usually do it.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(path: Path, layers: int, side: int, channels: int) -> None:
    import keras

    keras.utils.set_random_seed(0)
    x = inp = keras.Input((side, side, 3))
    x = keras.layers.Conv2D(channels, 3, padding="same", name="stem")(x)
    kinds = ("conv", "bn", "relu")
    for i in range(layers - 1):
        kind = kinds[i % 3]
        if kind == "conv":
            x = keras.layers.Conv2D(channels, 1, name=f"conv{i}")(x)
        elif kind == "bn":
            x = keras.layers.BatchNormalization(name=f"bn{i}")(x)
        else:
            x = keras.layers.ReLU(name=f"relu{i}")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    keras.Model(inp, keras.layers.Dense(10, activation="softmax")(x)).save(path)


def measure(path: Path, way: str) -> dict:
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from cnn_core import model_file, model_maps

    model, _ = model_file.load_model(path.read_bytes())
    info = model_maps.describe(model)
    photo = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    batch = model_maps.prepare_photo(photo, info).batch
    computer = model_maps.MapComputer(model)
    computer.final_output(batch)  # warm TensorFlow up in both ways, outside the measurement
    base = _rss_mb()
    t = time.perf_counter()
    checksum = 0.0
    if way == "paged":
        pages = model_maps.pages(info, batch.shape)
        for page in pages:
            maps = computer.compute(batch, [x.path for x in page])
            checksum += sum(float(m[0, 0, 0]) for m in maps.values())
            del maps
    else:
        import keras

        outs = [model.get_layer(x.path).output for x in info.image_layers]
        values = keras.Model(model.inputs, outs)(batch)  # eager: every output held at once
        checksum = sum(float(v[0, 0, 0, 0]) for v in values)
        pages = [info.image_layers]
    return {
        "way": way,
        "image_layers": len(info.image_layers),
        "pages": len(pages),
        "all_maps_mb": model_maps.total_map_bytes(info, batch.shape) / 2**20,
        "peak_over_loaded_mb": _peak_mb() - base,
        "seconds": time.perf_counter() - t,
        "checksum": checksum,
    }


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=100)
    ap.add_argument("--side", type=int, default=224)
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child[0]), args.child[1])))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deep.keras"
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
                f"from benchmarks.model_maps_memory import build; from pathlib import Path; "
                f"build(Path({str(path)!r}), {args.layers}, {args.side}, {args.channels})",
            ],
            check=True,
            capture_output=True,
        )
        for way in ("paged", "all at once"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(path), way], capture_output=True, text=True, check=True
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{way:12s} {r['image_layers']} image layers, {r['pages']} pages, all maps {r['all_maps_mb']:.0f} MB: "
                f"peak {r['peak_over_loaded_mb']:.0f} MB over the loaded model, {r['seconds']:.1f} s"
            )


if __name__ == "__main__":
    main()
