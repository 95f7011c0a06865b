"""Train the Tiny VGG on generated shapes, and score a model on pictures it has never seen.

    python -m cnn_core.train                                  # writes assets/tiny_vgg.keras (seeded)
    python -m cnn_core.train evaluate --seed 12345 --samples 3000

Training draws its pictures from seed ``--seed`` (default 0) and checks itself on
seed ``--seed + 1``; ``evaluate`` draws fresh ones from any seed and prints each
class's accuracy, then a last line ``accuracy: 0.xxxx``. Both are deterministic:
the same seed gives the same model and the same score.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import shapes_data, tiny_vgg
from .errors import CnnError

TRAIN_SAMPLES = 30_000
EPOCHS = 10
BATCH = 32
LEARNING_RATE = 2e-3
CHECK_SAMPLES = 1_200
HELD_OUT_OFFSET = 1000  # the training run scores itself on seed + 1000
HELD_OUT_SAMPLES = 3000


def train(
    out: str | Path = tiny_vgg.MODEL_PATH,
    seed: int = 0,
    samples: int = TRAIN_SAMPLES,
    epochs: int = EPOCHS,
    steps: int | None = None,
    verbose: int = 1,
):
    """Train a fresh Tiny VGG and save it to ``out`` (a ``.keras`` file); returns the Keras model.

    Args:
        out: where to write the model.
        seed: seeds the weights, the shuffling and the training pictures (the check set uses ``seed + 1``).
        samples: how many training pictures to draw.
        epochs: passes over them.
        steps: if given, stop each epoch after this many batches (for a quick end-to-end test).
        verbose: 1 shows Keras's progress bar, 0 is silent.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    t0 = time.perf_counter()
    bar = keras.utils.Progbar(samples, unit_name="picture") if verbose else None
    if verbose:
        print(f"drawing {samples} training pictures (seed {seed})")
    images, labels = shapes_data.make_dataset(samples, seed, progress=bar.update if bar else None)
    check_images, check_labels = shapes_data.make_dataset(min(CHECK_SAMPLES, max(samples // 10, 6)), seed + 1)
    if verbose:
        print(f"drew {samples} training and {len(check_labels)} check pictures in {time.perf_counter() - t0:.1f} s")
    model = tiny_vgg.build_model()
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    ds = (
        tf.data.Dataset.from_tensor_slices((images, labels))  # uint8 until batched: a quarter of the memory
        .shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
        .batch(BATCH)
        .map(lambda im, y: (tf.cast(im, tf.float32) / 255.0, y))
    )
    if steps is not None:
        ds = ds.take(steps)
    schedule = keras.callbacks.LearningRateScheduler(
        lambda epoch: LEARNING_RATE * 0.5 * (1 + np.cos(np.pi * epoch / max(epochs, 1)))
    )
    model.fit(
        ds,
        epochs=epochs,
        validation_data=(check_images.astype(np.float32) / 255.0, check_labels),
        callbacks=[schedule],
        shuffle=False,  # the dataset shuffles itself, from the seed
        verbose=verbose,
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    if verbose:
        print(f"trained in {time.perf_counter() - t0:.0f} s; wrote {out} ({out.stat().st_size / 1024:.0f} KB)")
    return model


def evaluate(model, seed: int, samples: int, batch: int = 256) -> tuple[float, dict[str, float]]:
    """Accuracy of ``model`` on ``samples`` fresh pictures from ``seed``: overall and per class name."""
    images, labels = shapes_data.make_dataset(samples, seed)
    predicted = np.empty(samples, dtype=np.int64)
    for start in range(0, samples, batch):
        x = images[start : start + batch].astype(np.float32) / 255.0
        predicted[start : start + batch] = np.argmax(model(x, training=False).numpy(), axis=1)
    right = predicted == labels
    per_class = {
        name: float(right[labels == k].mean()) for k, name in enumerate(shapes_data.CLASSES) if (labels == k).any()
    }
    return float(right.mean()), per_class


def _parser_train() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cnn_core.train", description="Train the Tiny VGG on generated shapes.")
    p.add_argument("--seed", type=int, default=0, help="seeds weights, shuffling and pictures (default 0)")
    p.add_argument("--samples", type=int, default=TRAIN_SAMPLES, help=f"training pictures (default {TRAIN_SAMPLES})")
    p.add_argument("--epochs", type=int, default=EPOCHS, help=f"passes over them (default {EPOCHS})")
    p.add_argument("--out", default=str(tiny_vgg.MODEL_PATH), help="the .keras file to write")
    p.add_argument("--data", help="train on this folder of class folders instead (see cnn_core.learn)")
    p.add_argument("--history", help="with --data: the folder for history.json and every epoch's filters")
    p.add_argument("--learning-rate", type=float, default=LEARNING_RATE, help="with --data (default 0.002)")
    return p


def _parser_evaluate() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cnn_core.train evaluate", description="Score a trained model on freshly generated pictures."
    )
    p.add_argument("--seed", type=int, required=True, help="the pictures' seed (any non-negative integer)")
    p.add_argument("--samples", type=int, default=3000, help="how many pictures (default 3000)")
    p.add_argument("--model", default=str(tiny_vgg.MODEL_PATH), help="the .keras file to score")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["evaluate"]:
            args = _parser_evaluate().parse_args(argv[1:])
            if args.seed < 0 or args.samples < 1:
                raise CnnError("--seed must be 0 or more and --samples at least 1.")
            accuracy, per_class = evaluate(tiny_vgg.load_model(args.model), args.seed, args.samples)
            for name, acc in per_class.items():
                print(f"{name:>10}: {acc:.4f}")
            print(f"accuracy: {accuracy:.4f}")
            return 0
        if argv[:1] == ["train"]:
            argv = argv[1:]
        args = _parser_train().parse_args(argv)
        if args.data is not None:
            from . import learn

            return learn.run_cli(args.data, args.epochs, args.seed, args.out, args.history, args.learning_rate)
        if args.seed < 0 or args.samples < 6 or args.epochs < 1:
            raise CnnError("--seed must be 0 or more, --samples at least 6 and --epochs at least 1.")
        started = time.perf_counter()
        model = train(args.out, args.seed, args.samples, args.epochs)
        minutes = (time.perf_counter() - started) / 60
        held_seed = args.seed + HELD_OUT_OFFSET
        accuracy, per_class = evaluate(model, held_seed, HELD_OUT_SAMPLES)
        print(f"held-out accuracy (seed {held_seed}, {HELD_OUT_SAMPLES} pictures): {accuracy:.4f}")
        card = {
            "held_out_accuracy": round(accuracy, 4),
            "held_out_seed": held_seed,
            "held_out_samples": HELD_OUT_SAMPLES,
            "per_class": {k: round(v, 4) for k, v in per_class.items()},
            "train_seed": args.seed,
            "train_samples": args.samples,
            "epochs": args.epochs,
            "train_minutes": round(minutes, 1),
        }
        Path(args.out).with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
        return 0
    except CnnError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
