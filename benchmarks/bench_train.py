"""Training speed: seconds per epoch of the Tiny VGG on generated 64×64 shapes (issue 24's target: ≤ 10 s for 3,000).

    python benchmarks/bench_train.py [--pictures 3000] [--epochs 2]

Epoch 1 includes Keras's graph tracing; the figure to quote is the later epochs'.
"""

from __future__ import annotations

import argparse
import os
import time

from cnn_core import learn, shapes_data


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--pictures", type=int, default=3000)
    p.add_argument("--epochs", type=int, default=2)
    args = p.parse_args()
    t0 = time.perf_counter()
    data = learn.shapes(shapes_data.CLASSES, args.pictures, seed=0)
    print(f"drew {args.pictures} pictures in {time.perf_counter() - t0:.1f} s; load {os.getloadavg()[0]:.1f}")

    def report(e: learn.Epoch, _model) -> None:
        print(
            f"epoch {e.epoch}: {e.seconds:.1f} s (train {len(data.labels) * 4 // 5} pictures + held-out check), "
            f"val_accuracy {e.val_accuracy:.3f}; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )

    learn.train(data, learn.Settings(epochs=args.epochs, seed=0), on_epoch=report)


if __name__ == "__main__":
    main()
