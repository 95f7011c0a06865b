"""Train a small CNN epoch by epoch, seeded, and report what changed after each epoch.

    >>> data = class_folders.read_folder("pictures")            # or shapes(("circle", "star"), 600, seed=0)
    >>> run = train(data, Settings(epochs=5, seed=0), on_epoch=print)
    >>> run.history[-1].val_accuracy, run.model                  # a Keras model, softmax over data.names

Same data, seed and settings → the same curves: the weights, the held-out split, the shuffling and the
augmentation all come from the seed, and TensorFlow's op determinism is switched on. Augmentation (small
shifts, mirror images, brightness and contrast) is drawn afresh each epoch from ``(seed, epoch)``, so ten
pictures a class are enough to start.

A ``Control`` lets another thread pause, resume or stop a run between batches; whatever epochs finished
stay in the history.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import class_folders, kinds, shapes_data
from .class_folders import ClassData
from .errors import CnnError
from .spec import parse_spec

ARCHITECTURES = ("tiny_vgg", "stack")
MAX_EPOCHS = 50
BATCH = 32
VAL_FRACTION = 0.2


@dataclass(frozen=True)
class Settings:
    """What a run is asked to do."""

    epochs: int = 5
    learning_rate: float = 2e-3
    seed: int = 0
    architecture: str = "tiny_vgg"  # or "stack": the layer stack's spec (``stack_spec``) and a dense head
    stack_spec: dict | None = None
    batch: int = BATCH
    augment: bool = True

    def check(self) -> None:
        if not 1 <= self.epochs <= MAX_EPOCHS:
            raise CnnError(f"Epochs must be between 1 and {MAX_EPOCHS}; got {self.epochs}.")
        if not 0 < self.learning_rate <= 1:
            raise CnnError(f"The learning rate must be above 0 and at most 1; got {self.learning_rate}.")
        if self.seed < 0:
            raise CnnError(f"The seed must be 0 or more; got {self.seed}.")
        if self.architecture not in ARCHITECTURES:
            raise CnnError(f"Unknown architecture {self.architecture!r}; choose one of {', '.join(ARCHITECTURES)}.")
        if self.architecture == "stack" and not self.stack_spec:
            raise CnnError("The 'stack' architecture needs the layer stack's spec.")


@dataclass
class Epoch:
    """One finished epoch: its metrics and the first convolution's filters, float32 (kh, kw, in, out)."""

    epoch: int
    loss: float
    accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float
    filters: np.ndarray = field(repr=False)

    def metrics(self) -> dict:
        """The history.json entry."""
        d = asdict(self)
        del d["filters"]
        return d


@dataclass
class Run:
    """What a run made: the model, its class names, the held-out split and one ``Epoch`` per finished epoch."""

    model: object
    names: tuple[str, ...]
    history: list[Epoch]
    val_images: np.ndarray  # uint8 (m, 64, 64, 3)
    val_labels: np.ndarray  # int64 (m,)
    stopped: bool = False


class Control:
    """Pause, resume and stop a run from another thread; checked between batches."""

    def __init__(self) -> None:
        self._go = threading.Event()
        self._go.set()
        self.stop_requested = False

    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def stop(self) -> None:
        self.stop_requested = True
        self._go.set()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    def wait(self) -> bool:
        """Block while paused; True if the run should go on."""
        while not self._go.wait(0.2):
            pass
        return not self.stop_requested


def shapes(classes: tuple[str, ...] | list[str], count: int, seed: int) -> ClassData:
    """``count`` generated pictures of the chosen shape classes (in ``shapes_data.CLASSES`` order)."""
    chosen = [c for c in shapes_data.CLASSES if c in set(classes)]
    unknown = sorted(set(classes) - set(chosen))
    if unknown:
        raise CnnError(f"Unknown shape class {unknown[0]!r}; choose from {', '.join(shapes_data.CLASSES)}.")
    if len(chosen) < 2:
        raise CnnError("Pick at least 2 shape classes to train on.")
    labels = np.arange(count, dtype=np.int64) % len(chosen)
    pictures = np.empty((count, shapes_data.SIDE, shapes_data.SIDE, 3), dtype=np.uint8)
    for i in range(count):
        original = shapes_data.class_index(chosen[labels[i]])
        pictures[i] = shapes_data.draw(original, np.random.default_rng([seed, i, original]))
    return ClassData(tuple(chosen), pictures, labels)


def split(labels: np.ndarray, seed: int, fraction: float = VAL_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and held-out pictures: ``fraction`` of each class (at least one if it has 2+)."""
    rng = np.random.default_rng([seed, 7])
    train_idx, val_idx = [], []
    for k in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == k))
        n_val = int(round(len(idx) * fraction)) if len(idx) >= 2 else 0
        n_val = max(n_val, 1) if len(idx) >= 2 else 0
        val_idx.extend(idx[:n_val])
        train_idx.extend(idx[n_val:])
    return np.sort(np.asarray(train_idx, dtype=np.int64)), np.sort(np.asarray(val_idx, dtype=np.int64))


def augment(pictures: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shift by up to 6 pixels, mirror half, jitter brightness and contrast: uint8 (n, 64, 64, 3) → float32 in [0, 1]."""
    n, h, w, _ = pictures.shape
    out = np.empty(pictures.shape, dtype=np.float32)
    pad = 6
    padded = np.pad(pictures, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    dy = rng.integers(0, 2 * pad + 1, n)
    dx = rng.integers(0, 2 * pad + 1, n)
    flip = rng.random(n) < 0.5
    gain = rng.uniform(0.75, 1.25, n).astype(np.float32)
    offset = rng.uniform(-0.1, 0.1, n).astype(np.float32)
    for i in range(n):
        crop = padded[i, dy[i] : dy[i] + h, dx[i] : dx[i] + w].astype(np.float32) / 255.0
        if flip[i]:
            crop = crop[:, ::-1]
        mean = crop.mean()
        out[i] = (crop - mean) * gain[i] + mean + offset[i]
    return np.clip(out, 0.0, 1.0)


def build(settings: Settings, num_classes: int):
    """The untrained network for ``settings``: 64×64×3 floats in [0, 1] → softmax over ``num_classes``."""
    import keras

    from . import tiny_vgg

    if settings.architecture == "tiny_vgg":
        return tiny_vgg.build_model(num_classes)
    spec = parse_spec(settings.stack_spec)
    inputs = keras.Input((shapes_data.SIDE, shapes_data.SIDE, 3), name="input")
    x = inputs
    convs = 0
    channels = 3
    for i, layer in enumerate(spec.layers, 1):
        kind, op = kinds.of_spec(layer, channels)
        x = kind.to_keras(op, i)(x)
        channels = kind.channels(op, channels)
        convs += kind.makes_channels
        if any(d is not None and d < 1 for d in x.shape[1:3]):
            raise CnnError(f"Layer {i} shrinks a 64×64 picture to nothing; remove a pooling or strided layer.")
    if convs == 0:
        raise CnnError("The layer stack has no convolution to train; add one on the Layer stack page.")
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(num_classes, name="dense")(x)
    outputs = keras.layers.Softmax(name="softmax")(x)
    return keras.Model(inputs, outputs, name="layer_stack")


def first_filters(model) -> np.ndarray:
    """The first convolution's kernel, float32 (kh, kw, in, out)."""
    for layer in model.layers:
        if layer.__class__.__name__ == "Conv2D":
            return np.asarray(layer.get_weights()[0], dtype=np.float32).copy()
    raise CnnError("The model has no convolution layer.")


def train(
    data: ClassData,
    settings: Settings,
    on_epoch: Callable[[Epoch, object], object] | None = None,
    control: Control | None = None,
    on_batch: Callable[[int, int], object] | None = None,
) -> Run:
    """Train a fresh network on ``data`` for ``settings.epochs`` epochs, holding out 20% of each class.

    Args:
        data: the pictures, uint8 (n, 64, 64, 3), and labels.
        settings: epochs, learning rate, seed, architecture.
        on_epoch: called after every epoch with the ``Epoch`` and the model (e.g. to draw its maps).
        control: lets another thread pause, resume or stop between batches.
        on_batch: called with (batches done in this epoch, batches per epoch).

    Returns:
        The ``Run``; ``stopped`` says whether it ended early (its history keeps the finished epochs).
    """
    import keras
    import tensorflow as tf

    settings.check()
    if len(data.names) < 2:
        raise CnnError("Training needs at least 2 classes.")
    keras.utils.set_random_seed(settings.seed)
    tf.config.experimental.enable_op_determinism()
    train_idx, val_idx = split(data.labels, settings.seed)
    if len(train_idx) == 0 or len(val_idx) == 0:
        raise CnnError("Too few pictures to hold some out for checking; give every class at least 2.")
    x_val = data.images[val_idx].astype(np.float32) / 255.0
    y_val = data.labels[val_idx]
    model = build(settings, len(data.names))
    model.compile(
        optimizer=keras.optimizers.Adam(settings.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    control = control or Control()
    steps = -(-len(train_idx) // settings.batch)
    history: list[Epoch] = []

    class _Between(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if on_batch is not None:
                on_batch(batch + 1, steps)
            if not control.wait():
                self.model.stop_training = True

    stopped = False
    for epoch in range(settings.epochs):
        if not control.wait():
            stopped = True
            break
        t0 = time.perf_counter()
        rng = np.random.default_rng([settings.seed, epoch, 11])
        order = train_idx[rng.permutation(len(train_idx))]
        x = augment(data.images[order], rng) if settings.augment else data.images[order].astype(np.float32) / 255.0
        fit = model.fit(
            x,
            data.labels[order],
            batch_size=settings.batch,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[_Between()],
        )
        if control.stop_requested:
            stopped = True
            break
        val_loss, val_accuracy = model.evaluate(x_val, y_val, batch_size=256, verbose=0)
        record = Epoch(
            epoch + 1,
            float(fit.history["loss"][-1]),
            float(fit.history["accuracy"][-1]),
            float(val_loss),
            float(val_accuracy),
            time.perf_counter() - t0,
            first_filters(model),
        )
        history.append(record)
        if on_epoch is not None:
            on_epoch(record, model)
    return Run(model, data.names, history, data.images[val_idx], y_val, stopped)


def predict(model, pictures: np.ndarray, batch: int = 256) -> np.ndarray:
    """Predicted class indices for uint8 (n, 64, 64, 3) pictures."""
    out = []
    for start in range(0, len(pictures), batch):
        x = pictures[start : start + batch].astype(np.float32) / 255.0
        out.append(np.argmax(np.asarray(model(x, training=False)), axis=1))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def confusion(labels: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """int64 (classes, classes): row = true class, column = predicted class."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def filters_picture(filters: np.ndarray, scale: int = 8) -> np.ndarray:
    """The first layer's filters side by side as one uint8 RGB picture, each scaled to [0, 255] on its own.

    ``filters`` is (kh, kw, in, out); a 3-channel filter is shown in colour, any other as its channel mean.
    """
    kh, kw, cin, cout = filters.shape
    tiles = []
    for k in range(cout):
        f = filters[:, :, :, k]
        f = f if cin == 3 else np.repeat(f.mean(axis=2, keepdims=True), 3, axis=2)
        lo, hi = float(f.min()), float(f.max())
        f = (f - lo) / (hi - lo) if hi > lo else np.zeros_like(f)
        tile = np.kron(f, np.ones((scale, scale, 1)))
        tiles.append(np.pad(tile, ((1, 1), (1, 1), (0, 0)), constant_values=1.0))
    return (np.concatenate(tiles, axis=1) * 255).round().astype(np.uint8)


def write_history(run_history: list[Epoch], names: tuple[str, ...], folder: str | Path) -> Path:
    """Write ``history.json``, ``labels.json`` and each epoch's filters (``filters/epoch_NNN.npy`` and ``.png``)."""
    from PIL import Image

    folder = Path(folder)
    (folder / "filters").mkdir(parents=True, exist_ok=True)
    (folder / "history.json").write_text(json.dumps([e.metrics() for e in run_history], indent=2) + "\n")
    (folder / "labels.json").write_text(json.dumps(list(names)) + "\n")
    for e in run_history:
        np.save(folder / "filters" / f"epoch_{e.epoch:03d}.npy", e.filters)
        Image.fromarray(filters_picture(e.filters)).save(folder / "filters" / f"epoch_{e.epoch:03d}.png")
    return folder / "history.json"


def labels_path(model_path: str | Path) -> Path:
    """Where the class names of a saved model are kept: ``MODEL.labels.json`` beside it."""
    p = Path(model_path)
    return p.with_name(p.stem + ".labels.json")


def run_cli(
    data_dir: str, epochs: int, seed: int, out: str | Path, history_dir: str | Path | None, learning_rate: float = 2e-3
) -> int:
    """``python -m cnn_core.train --data DIR ...``: train on a folder of class folders, print one line an epoch."""
    from . import tiny_vgg

    if Path(out).resolve() == tiny_vgg.MODEL_PATH.resolve():
        raise CnnError("With --data, give --out MODEL.keras: the bundled Tiny VGG is not overwritten.")
    data = class_folders.read_folder(data_dir)
    print(data.summary())

    def report(e: Epoch, _model) -> None:
        print(
            f"epoch {e.epoch}/{epochs}: loss {e.loss:.4f} accuracy {e.accuracy:.4f} "
            f"val_loss {e.val_loss:.4f} val_accuracy {e.val_accuracy:.4f} ({e.seconds:.1f} s)",
            flush=True,
        )

    run = train(data, Settings(epochs=epochs, learning_rate=learning_rate, seed=seed), on_epoch=report)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    run.model.save(out)
    labels_path(out).write_text(json.dumps(list(run.names)) + "\n")
    print(f"wrote {out} and {labels_path(out).name} (classes: {', '.join(run.names)})")
    if history_dir is not None:
        print(f"wrote {write_history(run.history, run.names, history_dir)} and {len(run.history)} epochs of filters")
    return 0


def layer_maps(model, picture: np.ndarray, limit: int = 8) -> list[tuple[str, np.ndarray]]:
    """Each image-shaped layer's first ``limit`` maps of ``picture`` (uint8 (64, 64, 3)), side by side as uint8 grids
    scaled to the layer's own range."""
    import keras

    layers = [la for la in model.layers[1:] if len(la.output.shape) == 4]
    probe = keras.Model(model.inputs, [la.output for la in layers])
    outs = probe(picture[None].astype(np.float32) / 255.0, training=False)
    outs = outs if isinstance(outs, list | tuple) else [outs]
    result = []
    for layer, out in zip(layers, outs, strict=True):
        maps = np.asarray(out)[0][..., :limit]
        lo, hi = float(maps.min()), float(maps.max())
        norm = (maps - lo) / (hi - lo) if hi > lo else np.zeros_like(maps)
        tiles = [np.pad(norm[..., k], 1, constant_values=1.0) for k in range(norm.shape[-1])]
        result.append((layer.name, (np.concatenate(tiles, axis=1) * 255).round().astype(np.uint8)))
    return result


class _EventControl(Control):
    """A ``Control`` driven by two ``multiprocessing`` events from the parent process."""

    def __init__(self, go, stop) -> None:
        self._go, self._stop = go, stop

    @property
    def stop_requested(self) -> bool:  # type: ignore[override]
        return self._stop.is_set()

    def wait(self) -> bool:
        while not self._go.wait(0.2):
            if self._stop.is_set():
                return False
        return not self._stop.is_set()


def child_run(data: ClassData, settings: Settings, probe: np.ndarray, out, go, stop) -> None:
    """Train in a child process (niced, one TensorFlow thread each way) and send what happens through ``out``.

    Messages: ``("batch", done, total)``, ``("epoch", Epoch, filters picture, maps)``, then
    ``("result", .keras bytes or None, confusion, wrong pictures, stopped)`` or ``("failed", message)``.
    """
    import os
    import tempfile

    try:
        os.nice(10)  # other visitors' pages come first
    except OSError:
        pass
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    try:
        last = [0.0]

        def on_batch(done: int, total: int) -> None:
            if time.monotonic() - last[0] > 0.5 or done == total:
                last[0] = time.monotonic()
                out.put(("batch", done, total))

        def on_epoch(e: Epoch, model) -> None:
            out.put(("epoch", e, filters_picture(e.filters), layer_maps(model, probe)))

        run = train(data, settings, on_epoch=on_epoch, control=_EventControl(go, stop), on_batch=on_batch)
        predicted = predict(run.model, run.val_images)
        matrix = confusion(run.val_labels, predicted, len(run.names))
        wrong = [
            (run.val_images[i], run.names[run.val_labels[i]], run.names[predicted[i]])
            for i in np.flatnonzero(predicted != run.val_labels)[:12]
        ]
        blob = None
        if run.history:
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "trained.keras")
                run.model.save(path)
                with open(path, "rb") as f:
                    blob = f.read()
        out.put(("result", blob, matrix, wrong, run.stopped))
    except CnnError as e:
        out.put(("failed", str(e)))
