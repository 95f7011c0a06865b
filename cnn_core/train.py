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
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import framing, shapes_data, sketches
from .errors import CnnError

TRAIN_SAMPLES = 24_000  # a third generated like shapes_data, two thirds drawn like sketches
EPOCHS = 10
BATCH = 32
LEARNING_RATE = 2e-3
CHECK_SAMPLES = 1_400
HELD_OUT_OFFSET = 1000  # the training run scores itself on seed + 1000
HELD_OUT_SAMPLES = 3000
DRAWN_SAMPLES = 700  # drawn-style pictures (sketch_check) and as many non-shapes, for evaluate
ECE_BINS = 15
UNSURE = 0.6  # a top probability at or below this is "not sure"


def training_set(seed: int, samples: int, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """The pictures a run learns from: a third from ``shapes_data``, two thirds from ``sketches``, each framed
    as ``tiny_vgg.prepare_input`` frames every input; uint8 (samples, 64, 64, 3) and int64 labels, the same
    for the same seed."""
    generated = samples // 3
    a, la = shapes_data.make_dataset(generated, seed, progress=progress)
    a = np.stack([framing.frame(p) for p in a]) if generated else a
    done = (lambda k: progress(generated + k)) if progress else None
    b, lb = sketches.make_dataset(samples - generated, seed, progress=done)
    return np.concatenate([a, b]), np.concatenate([la, lb])


def augment(images, labels, seed):
    """Seeded augmentation of a batch in the ``tf.data`` pipeline: a random flip or quarter turn per picture
    (any of the square's eight symmetries; every class keeps its name) and the colour channels shuffled.
    ``seed`` is a stateless seed, int64 (2,)."""
    import tensorflow as tf

    s = seed
    x = tf.image.stateless_random_flip_left_right(images, seed=s)
    x = tf.image.stateless_random_flip_up_down(x, seed=s + 1)
    swap = tf.random.stateless_uniform([tf.shape(x)[0], 1, 1, 1], seed=s + 2) < 0.5
    x = tf.where(swap, tf.transpose(x, [0, 2, 1, 3]), x)
    order = tf.argsort(tf.random.stateless_uniform([3], seed=s + 3))
    return tf.gather(x, order, axis=3), labels


# tiny_vgg.MODEL_PATH (a test checks they agree), named without importing Keras: a bad path is refused
# before TensorFlow loads.
DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "assets" / "tiny_vgg.keras"


def train(
    out: str | Path | None = None,
    seed: int = 0,
    samples: int = TRAIN_SAMPLES,
    epochs: int = EPOCHS,
    steps: int | None = None,
    verbose: int = 1,
):
    """Train a fresh Tiny VGG, calibrate its temperature, and save it to ``out`` (a ``.keras`` file).

    Args:
        out: where to write the model (default ``tiny_vgg.MODEL_PATH``).
        seed: seeds the weights, the shuffling, the augmentation and the training pictures (the check set,
            which also fits the temperature, uses ``seed + 1``).
        samples: how many training pictures to draw.
        epochs: passes over them.
        steps: if given, stop each epoch after this many batches (for a quick end-to-end test).
        verbose: 1 shows Keras's progress bar, 0 is silent.

    Returns:
        The calibrated Keras model.
    """
    import keras
    import tensorflow as tf

    from . import tiny_vgg

    out = tiny_vgg.MODEL_PATH if out is None else out
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    t0 = time.perf_counter()
    bar = keras.utils.Progbar(samples, unit_name="picture") if verbose else None
    if verbose:
        print(f"drawing {samples} training pictures (seed {seed})")
    images, labels = training_set(seed, samples, progress=bar.update if bar else None)
    check_images, check_labels = training_set(seed + 1, min(CHECK_SAMPLES, max(samples // 10, 14)))
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
        .enumerate()
        .map(lambda i, b: augment(b[0], b[1], tf.stack([tf.constant(seed, tf.int64), i])))
    )
    if steps is not None:
        ds = ds.take(steps)
    schedule = keras.callbacks.LearningRateScheduler(
        lambda epoch: LEARNING_RATE * 0.5 * (1 + np.cos(np.pi * epoch / max(epochs, 1)))
    )
    check_x = check_images.astype(np.float32) / 255.0
    model.fit(
        ds,
        epochs=epochs,
        validation_data=(check_x, check_labels),
        callbacks=[schedule],
        shuffle=False,  # the dataset shuffles itself, from the seed
        verbose=verbose,
    )
    t = fit_temperature(logits_of(model, check_x), check_labels)
    model = tiny_vgg.with_temperature(model, t)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    if verbose:
        print(f"temperature {t:.3f} (fitted on the {len(check_labels)} check pictures)")
        print(f"trained in {time.perf_counter() - t0:.0f} s; wrote {out} ({out.stat().st_size / 1024:.0f} KB)")
    return model


def logits_of(model, x: np.ndarray, batch: int = 256) -> np.ndarray:
    """The dense layer's logits, float64 (n, classes), for prepared pictures float32 (n, 64, 64, 3)."""
    import keras

    head = keras.Model(model.inputs, model.get_layer("dense").output)
    return np.concatenate([head(x[i : i + batch], training=False).numpy() for i in range(0, len(x), batch)]).astype(
        np.float64
    )


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T that makes softmax(logits / T) most likely on held-out pictures (least negative log-likelihood),
    searched on a fine logarithmic grid from 0.2 to 10 (Guo et al., 2017, "temperature scaling")."""
    grid = np.exp(np.linspace(np.log(0.2), np.log(10.0), 801))
    nll = [-_log_softmax(logits / t)[np.arange(len(labels)), labels].mean() for t in grid]
    return float(grid[int(np.argmin(nll))])


def calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error: the top probability's gap to the accuracy, averaged over ``bins`` equal
    bins of the top probability, each weighed by its share of the pictures."""
    top = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    which = np.minimum((top * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += inside.mean() * abs(right[inside].mean() - top[inside].mean())
    return float(gap)


def probabilities_of(model, x: np.ndarray, batch: int = 256) -> np.ndarray:
    """The model's own output (calibrated probabilities), float64 (n, classes)."""
    return np.concatenate([model(x[i : i + batch], training=False).numpy() for i in range(0, len(x), batch)]).astype(
        np.float64
    )


def per_class(predicted: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    right = predicted == labels
    return {name: float(right[labels == k].mean()) for k, name in enumerate(shapes_data.CLASSES) if (labels == k).any()}


def evaluate(model, seed: int, samples: int) -> tuple[float, dict[str, float]]:
    """Accuracy of ``model`` on ``samples`` fresh generated pictures from ``seed``: overall and per class."""
    from . import tiny_vgg

    images, labels = shapes_data.make_dataset(samples, seed)
    predicted = probabilities_of(model, np.stack([tiny_vgg.prepare_input(p) for p in images])).argmax(axis=1)
    return float((predicted == labels).mean()), per_class(predicted, labels)


def _parser_train() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cnn_core.train", description="Train the Tiny VGG on generated shapes.")
    p.add_argument("--seed", type=int, default=0, help="seeds weights, shuffling and pictures (default 0)")
    p.add_argument("--samples", type=int, default=TRAIN_SAMPLES, help=f"training pictures (default {TRAIN_SAMPLES})")
    p.add_argument("--epochs", type=int, default=EPOCHS, help=f"passes over them (default {EPOCHS})")
    p.add_argument("--out", default=str(DEFAULT_MODEL), help="the .keras file to write")
    p.add_argument("--data", help="train on this folder of class folders instead (see cnn_core.learn)")
    p.add_argument("--history", help="with --data: the folder for history.json and every epoch's filters")
    p.add_argument("--learning-rate", type=float, default=LEARNING_RATE, help="with --data (default 0.002)")
    return p


def _parser_evaluate() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cnn_core.train evaluate", description="Score a trained model on freshly made pictures."
    )
    p.add_argument("--seed", type=int, required=True, help="the pictures' seed (any non-negative integer)")
    p.add_argument("--samples", type=int, default=3000, help="how many generated pictures (default 3000)")
    p.add_argument(
        "--drawn",
        type=int,
        default=DRAWN_SAMPLES,
        help=f"how many drawn-style shapes, and as many non-shapes, from sketch_check (default {DRAWN_SAMPLES})",
    )
    p.add_argument("--model", default=str(DEFAULT_MODEL), help="the .keras file to score")
    return p


def report(model, seed: int, samples: int, drawn: int) -> dict:
    """Every figure ``evaluate`` prints, as a dict: generated accuracy and per class, drawn-style accuracy
    and per class, the share of non-shapes answered none or unsure, and the calibration error over all."""
    from . import tiny_vgg

    images, labels = shapes_data.make_dataset(samples, seed)
    probs = probabilities_of(model, np.stack([tiny_vgg.prepare_input(p) for p in images]))
    predicted = probs.argmax(axis=1)
    out = {
        "accuracy": float((predicted == labels).mean()),
        "per_class": per_class(predicted, labels),
    }
    all_probs, all_labels = [probs], [labels]
    if drawn:
        from . import sketch_check  # the independent drawings: only scoring needs them

        pictures, dlabels = sketch_check.make_set(drawn, seed)
        dprobs = probabilities_of(model, np.stack([tiny_vgg.prepare_input(p) for p in pictures]))
        dpred = dprobs.argmax(axis=1)
        shape = dlabels != shapes_data.NONE
        said_none = (dpred == shapes_data.NONE) | (dprobs.max(axis=1) <= UNSURE)
        out["drawn_accuracy"] = float((dpred[shape] == dlabels[shape]).mean())
        out["drawn_per_class"] = per_class(dpred[shape], dlabels[shape])
        out["none_share"] = float(said_none[~shape].mean())
        all_probs.append(dprobs)
        all_labels.append(dlabels)
    out["calibration_error"] = calibration_error(np.concatenate(all_probs), np.concatenate(all_labels))
    return out


def check_out_file(path: str) -> None:
    """Refuse an output path that exists and is not a regular file before minutes of training, not after."""
    from .files import entry_problem

    if os.path.lexists(path) and (problem := entry_problem(Path(path))):
        raise CnnError(f"--out: {path} {problem}; give a new .keras file name")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["evaluate"]:
            args = _parser_evaluate().parse_args(argv[1:])
            if args.seed < 0 or args.samples < 1 or args.drawn < 0:
                raise CnnError("--seed must be 0 or more, --samples at least 1 and --drawn 0 or more.")
            from .model_file import load_model_file  # a path the user gave: the bounded reader and the checks

            model, _ = load_model_file(args.model)
            r = report(model, args.seed, args.samples, args.drawn)
            print(f"generated pictures (seed {args.seed}, {args.samples}): {r['accuracy']:.4f}")
            for name, acc in r["per_class"].items():
                print(f"  {name:>10}: {acc:.4f}")
            if args.drawn:
                print(f"drawn-style shapes (sketch_check, seed {args.seed}, {args.drawn}): {r['drawn_accuracy']:.4f}")
                for name, acc in r["drawn_per_class"].items():
                    print(f"  {name:>10}: {acc:.4f}")
                print(
                    f"non-shapes answered none or unsure (top probability <= {UNSURE}, sketch_check, {args.drawn}): "
                    f"{r['none_share']:.4f}"
                )
            print(
                f"calibration error (ECE, {ECE_BINS} bins, the generated, drawn and non-shape pictures above): "
                f"{r['calibration_error']:.4f}"
            )
            print(f"accuracy: {r['accuracy']:.4f}")
            return 0
        if argv[:1] == ["train"]:
            argv = argv[1:]
        args = _parser_train().parse_args(argv)
        if args.data is not None:
            from . import learn

            return learn.run_cli(args.data, args.epochs, args.seed, args.out, args.history, args.learning_rate)
        if args.seed < 0 or args.samples < 14 or args.epochs < 1:
            raise CnnError("--seed must be 0 or more, --samples at least 14 and --epochs at least 1.")
        check_out_file(args.out)
        from . import tiny_vgg  # after the path checks: they need no TensorFlow

        started = time.perf_counter()
        model = train(args.out, args.seed, args.samples, args.epochs)
        minutes = (time.perf_counter() - started) / 60
        held_seed = args.seed + HELD_OUT_OFFSET
        r = report(model, held_seed, HELD_OUT_SAMPLES, DRAWN_SAMPLES)
        print(f"held-out accuracy (seed {held_seed}, {HELD_OUT_SAMPLES} pictures): {r['accuracy']:.4f}")
        print(f"drawn-style shapes: {r['drawn_accuracy']:.4f}; non-shapes none or unsure: {r['none_share']:.4f}")
        print(f"calibration error: {r['calibration_error']:.4f}")
        card = {
            "held_out_accuracy": round(r["accuracy"], 4),
            "held_out_seed": held_seed,
            "held_out_samples": HELD_OUT_SAMPLES,
            "per_class": {k: round(v, 4) for k, v in r["per_class"].items()},
            "drawn_accuracy": round(r["drawn_accuracy"], 4),
            "drawn_samples": DRAWN_SAMPLES,
            "drawn_per_class": {k: round(v, 4) for k, v in r["drawn_per_class"].items()},
            "none_share": round(r["none_share"], 4),
            "calibration_error": round(r["calibration_error"], 4),
            "temperature": round(tiny_vgg.temperature(model), 4),
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
