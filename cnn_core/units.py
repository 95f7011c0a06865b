"""What each unit looks for: the pictures of a whole folder that excite each channel of a layer most.

    >>> result = scan(model_bytes, "model.keras", folder_items("pictures/"), "conv_2_2", top=9, workers=2)
    >>> result.channels[3][0]          # Hit(image="cats/01.png", value=4.2, row=7, col=11, box=(10, 18, 25, 33))

The scan is batch inference on **Ray Data**: the pictures are a dataset of small records (a path, or the
bytes of an upload), ``map_batches`` runs them through a pool of actors that each load the model once (the
same safety checks as the Your model page, ``model_file.load_model``), and each batch comes back as one
maximum per channel and picture, with its position. The driver keeps only the top K per channel, so memory
is bounded by the batch size and K, not by the folder. On one machine Ray is started locally; given an
address, the same code runs on a cluster (the pictures must then be readable from every node).

The receptive-field arithmetic lives in one place, ``_receptive_field_box``: a value's box in model-input
pixels, found by walking the layer graph back from the layer to the input.

Nothing here imports Ray or TensorFlow at import time: the page imports this module to render.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import CnnError, ImageError, ModelError

DEFAULT_TOP = 9
MAX_TOP = 100
DEFAULT_BATCH = 64
FREE_SIDE = 224  # a model that takes any size gets the pictures at this size, so they batch together
LOCAL_OBJECT_STORE_BYTES = 256 * 2**20  # a local Ray's shared memory: records are small, results smaller


@dataclass(frozen=True)
class Hit:
    """One of a channel's top pictures.

    Attributes:
        image: the picture's name (its path relative to the folder scanned).
        value: the channel's largest value on this picture.
        row, col: where that value is in the layer's map (the first such place in row-major order).
        box: the value's receptive field in model-input pixels, [top, left, bottom, right], inclusive,
            clipped to the input.
    """

    image: str
    value: float
    row: int
    col: int
    box: tuple[int, int, int, int]

    def to_dict(self) -> dict:
        return {"image": self.image, "value": self.value, "row": self.row, "col": self.col, "box": list(self.box)}


@dataclass(frozen=True)
class ScanResult:
    """The top pictures of every channel of one layer.

    Attributes:
        layer: the layer's path, e.g. "backbone/block1_conv1".
        channels: per channel, its hits, largest value first (at most ``top``; fewer if the folder is smaller).
        scanned: pictures run through the model.
        skipped: (name, why) for each picture that could not be read or decoded.
        input_shape: (height, width, channels) the pictures were fed at.
        map_shape: (height, width, channels) of the layer's maps.
        value_range: the pixel values fed, a key of ``model_maps.VALUE_RANGES``.
        seconds: wall time of the scan.
        workers: how many actors ran the model.
    """

    layer: str
    channels: list[list[Hit]]
    scanned: int
    skipped: list[tuple[str, str]]
    input_shape: tuple[int, int, int]
    map_shape: tuple[int, int, int]
    value_range: str
    seconds: float = 0.0
    workers: int = 1
    crops: dict = field(default_factory=dict)  # (channel, rank) -> file name, once written

    def to_dict(self) -> dict:
        return {
            "layer": self.layer,
            "channels": [
                {
                    "channel": c,
                    "top": [
                        {**h.to_dict(), **({"crop": self.crops[c, r]} if (c, r) in self.crops else {})}
                        for r, h in enumerate(hits)
                    ],
                }
                for c, hits in enumerate(self.channels)
            ],
            "scanned": self.scanned,
            "skipped": [{"image": n, "why": w} for n, w in self.skipped],
            "input_shape": list(self.input_shape),
            "map_shape": list(self.map_shape),
            "value_range": self.value_range,
            "seconds": round(self.seconds, 3),
            "workers": self.workers,
        }


# --------------------------------------------------------------------------- the pictures


@dataclass(frozen=True)
class Item:
    """A picture to scan: a file (``path``) or an upload's bytes (``data``), named ``name``."""

    name: str
    path: str = ""
    data: bytes = b""


def folder_items(folder: str | Path) -> tuple[list[Item], list[tuple[str, str]]]:
    """Every picture under ``folder``, recursively, by extension, sorted by relative path.

    Returns:
        (items, skipped): broken links and non-regular files with an image extension are skipped with a reason.

    Raises:
        CnnError: the folder does not exist or is not a folder.
    """
    from .images import EXTENSIONS

    root = Path(folder)
    if not root.is_dir():
        raise CnnError("is not a folder of pictures", str(folder))
    items: list[Item] = []
    skipped: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.rsplit(".", 1)[-1].lower() not in EXTENSIONS or "." not in name:
                continue
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink() and not p.exists():
                skipped.append((rel, "a broken symbolic link"))
            elif p.is_file():
                items.append(Item(rel, path=str(p.resolve())))
            else:
                skipped.append((rel, "not a regular file"))
    items.sort(key=lambda it: it.name)
    return items, skipped


def read_picture(item: Item) -> np.ndarray:
    """The decoded picture, uint8 (height, width[, channels]); ImageError naming it if it can't be read."""
    from .images import MAX_FILE_BYTES, decode_image, read_file

    try:
        data = item.data if item.data else read_file(item.path, MAX_FILE_BYTES)
        return decode_image(data, downscale=True)
    except ImageError as e:
        raise ImageError(e.detail, item.name) from None


def fed_picture(image: np.ndarray, info) -> np.ndarray:
    """The picture as the scan feeds it, in raw 0–255 pixels: uint8 (height, width, channels)."""
    from . import model_maps

    x = model_maps.prepare_photo(image, _fixed(info), "0-255").batch[0]
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _fixed(info):
    """The model's description with a free input size replaced by ``FREE_SIDE``, so pictures batch together."""
    from dataclasses import replace

    h, w, c = info.input_shape
    if h is not None and w is not None:
        return info
    return replace(info, input_shape=(h or FREE_SIDE, w or FREE_SIDE, c))


# --------------------------------------------------------------------------- the layer as a function


def _find(model, path: str):
    """(containers from the model inwards, the layer) for a layer path such as "backbone/conv1"."""
    import keras

    containers, layer = [model], None
    parts = path.split("/")
    for i, part in enumerate(parts):
        try:
            layer = containers[-1].get_layer(part)
        except ValueError:
            raise ModelError(f"no layer at {path!r}", "layer") from None
        if i < len(parts) - 1:
            if not isinstance(layer, keras.Model):
                raise ModelError(f"no layer at {path!r} ({'/'.join(parts[: i + 1])} holds no layers)", "layer")
            containers.append(layer)
    return containers, layer


def check_layer(info, path: str):
    """The ``LayerInfo`` of an image-shaped layer at ``path``; ModelError naming the choices otherwise."""
    for x in info.layers:
        if x.path == path:
            if not x.image or x.note:
                raise ModelError(
                    f"{path!r} has no feature maps (its output is {x.shape or 'not a single tensor'}); "
                    "pick a layer whose output is height × width × channels",
                    "layer",
                )
            return x
    names = [x.path for x in info.image_layers][:8]
    raise ModelError(f"no layer at {path!r}; layers with maps include {', '.join(names)}", "layer")


def layer_model(model, path: str) -> Callable:
    """A function from a batch of model inputs to the layer's maps, differentiable (``tf.Tensor`` in and out).

    A nested layer ("backbone/conv1") lives in the nested model's own graph, so the outer graph is run up
    to the nested model's input and the nested graph from there.
    """
    import keras

    from .model_maps import _call_input

    containers, layer = _find(model, path)
    steps = []
    for outer, inner in zip(containers, containers[1:]):
        t = _call_input(inner)
        if t is None:
            raise ModelError(f"{inner.name} is called more than once; its layers can't be scanned", "layer")
        steps.append(keras.Model(outer.inputs[0], t))
    out = layer.output if hasattr(layer, "output") else None
    if out is None or isinstance(out, (list, tuple)):
        raise ModelError(f"{path!r} has no single output", "layer")
    steps.append(keras.Model(containers[-1].inputs[0], out))

    def run(x):
        for step in steps:
            x = step(x, training=False)
        return x

    return run


def batch_maxima(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each picture's largest value per channel and where it is.

    Args:
        maps: (pictures, height, width, channels).

    Returns:
        (values, rows, cols), each (pictures, channels); the first largest place in row-major order.
    """
    n, h, w, c = maps.shape
    flat = maps.reshape(n, h * w, c)
    where = np.argmax(flat, axis=1)
    values = np.take_along_axis(flat, where[:, None, :], axis=1)[:, 0, :]
    return values.astype(np.float32), (where // w).astype(np.int32), (where % w).astype(np.int32)


# --------------------------------------------------------------------------- receptive fields


_POINTWISE = frozenset(
    """
Activation ReLU LeakyReLU PReLU ELU Softmax ThresholdedReLU BatchNormalization LayerNormalization Dropout
SpatialDropout2D GaussianNoise GaussianDropout AlphaDropout Rescaling Normalization Dense Identity Add Subtract
Multiply Average Maximum Minimum Concatenate Masking ActivityRegularization RandomFlip RandomRotation RandomZoom
RandomTranslation RandomContrast RandomBrightness UnitNormalization
""".split()
)


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else (int(v[0]), int(v[1]))


def _window(layer) -> tuple | None:
    """(kernel, stride, dilation, padding) per axis for a sliding-window layer, else None."""
    name = type(layer).__name__
    if name in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        return (_pair(layer.kernel_size), _pair(layer.strides), _pair(layer.dilation_rate), layer.padding)
    if name in ("MaxPooling2D", "AveragePooling2D"):
        return (_pair(layer.pool_size), _pair(layer.strides), (1, 1), layer.padding)
    return None


def _pad_before(n_in: int, k: int, s: int, d: int, padding: str) -> int:
    """Rows (or columns) TensorFlow pads before the input: "same" puts the odd extra one after."""
    if padding != "same":
        return 0
    n_out = -(-n_in // s)
    return max((n_out - 1) * s + (k - 1) * d + 1 - n_in, 0) // 2


def _taps(lo: int, hi: int, k: int, s: int, d: int, pad: int, n: int) -> tuple[int, int]:
    """The first and last input cell (0 to n − 1) that outputs lo…hi of a window read: output o reads
    o·s − pad + j·d for j = 0…k − 1. With dilation, a tap may land in the padding while the next is inside."""
    first, last = n, -1
    for j in range(k):
        o = max(lo, -(-(pad - j * d) // s))  # the first output whose tap j is at or after cell 0
        if o <= hi:
            first = min(first, o * s - pad + j * d)
        o = min(hi, (n - 1 + pad - j * d) // s)  # the last output whose tap j is at or before cell n − 1
        if o >= lo:
            last = max(last, o * s - pad + j * d)
    return first, last


class _Walker:
    """Maps an interval of a tensor's rows or columns back to the model input's, through the layer graph."""

    def __init__(self, model, input_hw: tuple[int, int]) -> None:
        self.model = model
        self.input_hw = input_hw
        self.sizes: dict = {}

    def size(self, t, axis: int, container) -> int:
        """The tensor's height (axis 0) or width (axis 1) for this input size."""
        static = t.shape[1 + axis]
        if static is not None:
            return int(static)
        key = (id(t), axis)
        if key not in self.sizes:
            self.sizes[key] = self._forward(t, axis, container)
        return self.sizes[key]

    def _forward(self, t, axis: int, container) -> int:
        import keras

        if t is container.inputs[0]:
            if container is self.model:
                return self.input_hw[axis]
            return self._outer_size(container, axis)
        op, node_index, _ = t._keras_history
        node = op._inbound_nodes[node_index]
        ins = [x for x in node.input_tensors if len(x.shape) == 4]
        if not ins:
            raise ModelError(f"can't follow {op.name} back to the input", "layer")
        n = self.size(ins[0], axis, container)
        if isinstance(op, keras.Model):
            return self.size(op.outputs[0], axis, op) if op.outputs[0].shape[1 + axis] is not None else n
        name = type(op).__name__
        win = _window(op)
        if win is not None:
            k, s, d = win[0][axis], win[1][axis], win[2][axis]
            return -(-n // s) if win[3] == "same" else (n - (k - 1) * d - 1) // s + 1
        if name == "ZeroPadding2D":
            return n + sum(op.padding[axis])
        if name == "Cropping2D":
            return n - sum(op.cropping[axis])
        if name == "UpSampling2D":
            return n * _pair(op.size)[axis]
        return n

    def _outer_size(self, nested, axis: int) -> int:
        from .model_maps import _call_input

        t = _call_input(nested)
        outer = self._holder(nested)
        return self.size(t, axis, outer)

    def _holder(self, nested):
        """The container whose graph calls ``nested``."""
        import keras

        stack = [self.model]
        while stack:
            c = stack.pop()
            for layer in c.layers:
                if layer is nested:
                    return c
                if isinstance(layer, keras.Model):
                    stack.append(layer)
        raise ModelError(f"{nested.name} is not inside the model", "layer")

    def back(self, t, lo: int, hi: int, axis: int, container) -> tuple[int, int]:
        """The input interval [lo', hi'] (clipped) that the tensor's interval [lo, hi] depends on."""
        import keras

        if t is container.inputs[0]:
            if container is self.model:
                return lo, hi
            from .model_maps import _call_input

            return self.back(_call_input(container), lo, hi, axis, self._holder(container))
        op, node_index, _ = t._keras_history
        node = op._inbound_nodes[node_index]
        ins = [x for x in node.input_tensors if len(x.shape) == 4]
        if isinstance(op, keras.layers.InputLayer) or not ins:
            return lo, hi
        if isinstance(op, keras.Model):
            lo, hi = self._inside(op, lo, hi, axis, container, ins[0])
            return self.back(ins[0], lo, hi, axis, container)
        name = type(op).__name__
        spans = []
        for x in ins:
            n = self.size(x, axis, container)
            win = _window(op)
            if win is not None:
                k, s, d = win[0][axis], win[1][axis], win[2][axis]
                a, b = _taps(lo, hi, k, s, d, _pad_before(n, k, s, d, win[3]), n)
            elif name == "ZeroPadding2D":
                a, b = lo - op.padding[axis][0], hi - op.padding[axis][0]
            elif name == "Cropping2D":
                a, b = lo + op.cropping[axis][0], hi + op.cropping[axis][0]
            elif name == "UpSampling2D" and op.interpolation == "nearest":
                f = _pair(op.size)[axis]
                a, b = lo // f, hi // f
            elif name in _POINTWISE and self.size(t, axis, container) == n:
                a, b = lo, hi
            else:  # a layer whose geometry isn't known here: the value may depend on any of its input
                a, b = 0, n - 1
            a, b = max(a, 0), min(b, n - 1)
            if a > b:  # only padding: nothing of the input
                continue
            spans.append(self.back(x, a, b, axis, container))
        if not spans:
            return lo, lo - 1
        return min(s[0] for s in spans), max(s[1] for s in spans)

    def _inside(self, nested, lo: int, hi: int, axis: int, outer, outer_in) -> tuple[int, int]:
        """An interval of a nested model's output mapped back to its own input."""
        inner = _Walker.__new__(_Walker)
        inner.model, inner.sizes = nested, self.sizes
        inner.input_hw = (self.size(outer_in, 0, outer), self.size(outer_in, 1, outer))
        return inner.back(nested.outputs[0], lo, hi, axis, nested)


def _receptive_field_box(model, path: str, row: int, col: int, input_hw: tuple[int, int]) -> tuple[int, int, int, int]:
    """The receptive field of the value at (row, col) of the layer at ``path``, in model-input pixels.

    Follows every path from the layer back to the input: a window layer (convolution, pooling) widens the
    interval to its kernel's span, (k − 1)·d + 1 cells at stride s, minus what TensorFlow pads before the
    input; padding and cropping shift it; pointwise layers keep it; merges take the union of their inputs.
    A layer whose geometry isn't known here counts as depending on all of its input.

    Args:
        model: the loaded Keras model.
        path: the layer's path from ``model_maps.describe``.
        row, col: the position in the layer's map.
        input_hw: (height, width) the model is fed at.

    Returns:
        (top, left, bottom, right), inclusive, clipped to the input.
    """
    containers, layer = _find(model, path)
    walker = _Walker(model, input_hw)
    t = layer.output
    top, bottom = walker.back(t, row, row, 0, containers[-1])
    left, right = walker.back(t, col, col, 1, containers[-1])
    return int(top), int(left), int(bottom), int(right)


# --------------------------------------------------------------------------- the actors


def _configure_threads(threads: int) -> None:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already started in this process: keep its settings
        pass


class _Scanner:
    """One Ray actor: the model loaded once (checked like an upload), run on batches of picture records."""

    def __init__(self, model_bytes: bytes, model_name: str, layer: str, value_range: str, threads: int = 1) -> None:
        _configure_threads(threads)
        import tensorflow as tf

        from . import model_file, model_maps

        model, _ = model_file.load_model(model_bytes, model_name)
        self.info = _fixed(model_maps.describe(model))
        self.value_range = value_range
        fn = layer_model(model, layer)
        h, w, c = self.info.input_shape
        graph = tf.function(lambda x: fn(x), jit_compile=False)
        self.concrete = graph.get_concrete_function(tf.TensorSpec((None, h, w, c), tf.float32))
        model_maps._check_graph(graph.get_concrete_function(tf.TensorSpec((DEFAULT_BATCH, h, w, c), tf.float32)).graph)
        self.channels = int(self.concrete.structured_outputs.shape[-1])

    def __call__(self, batch: dict) -> dict:
        import tensorflow as tf

        from . import model_maps

        n = len(batch["i"])
        ok = np.zeros(n, bool)
        errors = np.array([""] * n, dtype=object)
        fed = []
        for j in range(n):
            item = Item(str(batch["name"][j]), str(batch["path"][j]), bytes(batch["data"][j]))
            try:
                image = read_picture(item)
                fed.append(model_maps.prepare_photo(image, self.info, self.value_range).batch[0])
                ok[j] = True
            except CnnError as e:
                errors[j] = e.detail
        values = np.full((n, self.channels), -np.inf, np.float32)
        rows = np.zeros((n, self.channels), np.int32)
        cols = np.zeros((n, self.channels), np.int32)
        if fed:
            maps = self.concrete(tf.constant(np.stack(fed))).numpy()
            v, r, c = batch_maxima(maps)
            values[ok], rows[ok], cols[ok] = v, r, c
        return {"i": np.asarray(batch["i"]), "ok": ok, "error": errors, "value": values, "row": rows, "col": cols}


# --------------------------------------------------------------------------- the scan


class TopK:
    """The K largest values per channel seen so far, ties going to the earlier picture (so the order in
    which batches come back from the actors doesn't matter)."""

    def __init__(self, channels: int, k: int) -> None:
        self.k = k
        self.values = np.full((channels, 0), -np.inf, np.float32)
        self.index = np.zeros((channels, 0), np.int64)
        self.rows = np.zeros((channels, 0), np.int32)
        self.cols = np.zeros((channels, 0), np.int32)

    def add(self, index: np.ndarray, values: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> None:
        """Merge a batch: ``index`` (n,) picture numbers; ``values``, ``rows``, ``cols`` (n, channels)."""
        v = np.concatenate([self.values, values.T], axis=1)
        i = np.concatenate([self.index, np.broadcast_to(index[None, :], values.T.shape)], axis=1)
        r = np.concatenate([self.rows, rows.T], axis=1)
        c = np.concatenate([self.cols, cols.T], axis=1)
        order = np.lexsort((i, -v.astype(np.float64)), axis=1)[:, : self.k]
        self.values = np.take_along_axis(v, order, 1)
        self.index = np.take_along_axis(i, order, 1)
        self.rows = np.take_along_axis(r, order, 1)
        self.cols = np.take_along_axis(c, order, 1)


def start_ray(address: str | None = None, workers: int = 1) -> bool:
    """Connect to the Ray at ``address``, or start a local one; True when this call started it.

    A Ray already running in this process (a test's, or an earlier scan's) is used as it is.
    """
    import logging

    import ray

    if ray.is_initialized():
        return False
    if address:
        # A cluster's nodes get this package from here (Ray uploads it once per job); the pictures must be on
        # storage that every node reads at the same path.
        package = str(Path(__file__).resolve().parent)
        ray.init(
            address=address, runtime_env={"py_modules": [package]}, logging_level=logging.WARNING, log_to_driver=False
        )
    else:
        ray.init(
            address="local",  # a new Ray of our own, even where `ray start` has left a cluster running
            num_cpus=max(workers, os.cpu_count() or 1),
            object_store_memory=LOCAL_OBJECT_STORE_BYTES,
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
        )
    return True


def scan(
    model_bytes: bytes,
    model_name: str,
    items: list[Item],
    layer: str,
    *,
    top: int = DEFAULT_TOP,
    workers: int = 1,
    batch_size: int = DEFAULT_BATCH,
    value_range: str | None = None,
    address: str | None = None,
    progress: Callable[[int, int], object] | None = None,
    skipped: Iterable[tuple[str, str]] = (),
) -> ScanResult:
    """Run every picture through the model on Ray Data and keep each channel's top ``top`` pictures.

    Args:
        model_bytes: the ``.keras`` file's bytes (checked by ``model_file`` here and in every actor).
        model_name: its file name (only the extension is looked at).
        items: the pictures, e.g. from ``folder_items``.
        layer: an image-shaped layer's path, as ``model_maps.describe`` names it.
        top: pictures kept per channel, 1 to ``MAX_TOP``.
        workers: actors, each with the model loaded once.
        batch_size: pictures per batch: what one actor holds at a time.
        value_range: pixel values fed ("0-1", "0-255", "-1-1"); None follows the model's first Rescaling layer.
        address: a Ray cluster's address; None starts (or reuses) a Ray in this process.
        progress: called with (pictures done, pictures in all) after every batch.
        skipped: pictures already known to be unreadable, (name, why), counted with the others.

    Returns:
        The ``ScanResult``; receptive-field boxes in model-input pixels.

    Raises:
        ModelError: the model was refused or the layer has no maps. CnnError: no pictures, or a bad setting.
    """
    import logging
    import time

    from . import model_file, model_maps

    if not 1 <= top <= MAX_TOP:
        raise CnnError(f"must be from 1 to {MAX_TOP}, got {top}", "top")
    if not 1 <= workers <= 64:
        raise CnnError(f"must be from 1 to 64, got {workers}", "workers")
    if not 1 <= batch_size <= 1024:
        raise CnnError(f"must be from 1 to 1024, got {batch_size}", "batch_size")
    if not items:
        raise CnnError("no pictures to scan", "images")
    model, _ = model_file.load_model(model_bytes, model_name)
    info = _fixed(model_maps.describe(model))
    target = check_layer(info, layer)
    value_range = value_range or model_maps.default_range(info)
    if value_range not in model_maps.VALUE_RANGES:
        raise CnnError(
            f"{value_range!r} is not a value range; use one of {', '.join(model_maps.VALUE_RANGES)}", "range"
        )
    h, w, c_in = info.input_shape
    channels = int(target.shape[2])
    t0 = time.perf_counter()
    import ray

    started = start_ray(address, workers)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        records = [{"i": k, "name": it.name, "path": it.path, "data": it.data} for k, it in enumerate(items)]
        # Batches no bigger than a fair share, so every actor gets work even from a small folder.
        batch = min(batch_size, max(1, math.ceil(len(items) / workers)))
        ds = ray.data.from_items(records, override_num_blocks=math.ceil(len(items) / batch))
        threads = max(1, (os.cpu_count() or 1) // workers)
        env = {"env_vars": {"TF_CPP_MIN_LOG_LEVEL": "2"}}
        ds = ds.map_batches(
            _Scanner,
            fn_constructor_kwargs={
                "model_bytes": model_bytes,
                "model_name": model_name,
                "layer": layer,
                "value_range": value_range,
                "threads": threads,
            },
            batch_size=batch,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1,
            runtime_env=env,
        )
        best = TopK(channels, top)
        bad = list(skipped)
        done = ran = 0
        for b in ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=1):
            ok = b["ok"].astype(bool)
            idx = b["i"].astype(np.int64)
            for k in np.flatnonzero(~ok):
                bad.append((items[idx[k]].name, str(b["error"][k])))
            ran += int(ok.sum())
            if ok.any():
                best.add(idx[ok], b["value"][ok], b["row"][ok], b["col"][ok])
            done += len(idx)
            if progress is not None:
                progress(done, len(items))
    finally:
        if started:
            ray.shutdown()
    hits: list[list[Hit]] = []
    for ch in range(channels):
        row = []
        for v, i, r, c in zip(best.values[ch], best.index[ch], best.rows[ch], best.cols[ch]):
            if not np.isfinite(v):
                continue
            box = _receptive_field_box(model, layer, int(r), int(c), (h, w))
            row.append(Hit(items[int(i)].name, float(v), int(r), int(c), box))
        hits.append(row)
    bad.sort()
    return ScanResult(
        layer,
        hits,
        ran,
        bad,
        (h, w, c_in),
        tuple(int(x) for x in target.shape),
        value_range,
        time.perf_counter() - t0,
        workers,
    )


def write(result: ScanResult, items: list[Item], model_bytes: bytes, model_name: str, out: str | Path) -> Path:
    """Write ``OUT/units.json`` and each hit's receptive-field crop, ``OUT/crops/cCCC_rRR.png`` (fed pixels).

    Only the pictures that made some channel's top are read again, once each.
    """
    from . import model_file, model_maps
    from .render import png_bytes

    out = Path(out)
    (out / "crops").mkdir(parents=True, exist_ok=True)
    model, _ = model_file.load_model(model_bytes, model_name)
    info = model_maps.describe(model)
    by_name = {it.name: it for it in items}
    wanted: dict[str, list[tuple[int, int, Hit]]] = {}
    for ch, hits in enumerate(result.channels):
        for r, h in enumerate(hits):
            wanted.setdefault(h.image, []).append((ch, r, h))
    crops = {}
    for name, uses in wanted.items():
        pixels = fed_picture(read_picture(by_name[name]), info)
        for ch, r, h in uses:
            t, left, b, right = h.box
            file = f"crops/c{ch:03d}_r{r:02d}.png"
            crop = pixels[t : b + 1, left : right + 1]
            (out / file).write_bytes(png_bytes(crop[:, :, 0] if crop.shape[2] == 1 else crop))
            crops[ch, r] = file
    result.crops.update(crops)
    import json

    path = out / "units.json"
    path.write_text(json.dumps(result.to_dict(), indent=1), encoding="utf-8")
    return path


def print_progress(done: int, total: int) -> None:
    """A one-line bar on stderr."""
    width = 30
    filled = round(width * done / max(total, 1))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} pictures")
    sys.stderr.flush()
