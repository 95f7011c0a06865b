"""What each unit looks for: the pictures of a whole folder that excite each channel of a layer most.

    >>> result = scan(model_bytes, "model.keras", folder_items("pictures/"), "conv_2_2", top=9, workers=2)
    >>> result.channels[3][0]          # Hit(image="cats/01.png", value=4.2, row=7, col=11, box=(10, 18, 25, 33))

The scan is batch inference on **Ray Data**: the pictures are a dataset of small records (a path, or the
bytes of an upload), ``map_batches`` runs them through a pool of actors that each load the model once (the
same safety checks as the Your model page, ``model_file.load_model``), and each batch comes back as one
maximum per channel and picture, with its position. The driver keeps only the top K per channel, so memory
is bounded by the batch size and K, not by the folder. On one machine Ray is started locally; given an
address, the same code runs on a cluster (the pictures must then be readable from every node).

Layer paths are the Your model page's (``model_maps.MapComputer``), and a hit's box in model-input pixels comes
from the one receptive-field arithmetic of ``cnn_core.activations.receptive_field``.

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

    ``path`` is a layer path as ``model_maps.describe`` and the Your model page name it ("backbone/conv1",
    "shared@2/conv"): the call is found by the model's ``MapComputer``. A layer inside a nested model lives in
    that model's own graph, so the outer graph is run up to the nested call's input and the nested graph from
    there (for "shared@2/conv", the input of the 2nd call of "shared").
    """
    import keras

    from .model_maps import MapComputer

    e = MapComputer(model).entries().get(path)
    if e is None:
        raise ModelError(f"no layer at {path!r}", "layer")
    if e.call.output is None:
        raise ModelError(f"{path!r} has no single output", "layer")
    steps = []
    for depth, call in enumerate(e.chain):
        holder = e.chain[depth - 1].layer if depth else model
        steps.append(keras.Model(holder.inputs[0], call.inputs[0]))
    steps.append(keras.Model(e.container.inputs[0], e.call.output))

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


def network(model, input_shape: tuple[int, int, int]):
    """The model's layers as ``cnn_core.activations.Activations`` for pictures of ``input_shape`` (height, width,
    channels): paths as the Your model page names them; only shapes, no maps are computed."""
    from . import model_maps

    batch = np.zeros((1, *input_shape), np.float32)
    return model_maps.activations(model_maps.MapComputer(model), batch)


def field_box(acts, path: str, row: int, col: int) -> tuple[int, int, int, int]:
    """The input pixels the value at (row, col) of the layer at ``path`` reads, by ``cnn_core.receptive_field``.

    Args:
        acts: the model's layers, from ``network``.
        path: the layer's path.
        row, col: the position in the layer's map.

    Returns:
        (top, left, bottom, right), inclusive, clipped to the input: the first and last rows and columns of
        pixels the value really reads (where its input gradient can be non-zero). A value whose whole field
        lies in padding reads no pixel; it gets the input pixel nearest to its field.
    """
    from .activations import receptive_field

    rf = receptive_field(acts, path, row, col)
    if rf.reads is not None:
        return tuple(int(v) for v in rf.reads)  # type: ignore[return-value]
    h, w = acts.input.shape[:2]
    top = min(max(rf.start[0], 0), h - 1)
    left = min(max(rf.start[1], 0), w - 1)
    return top, left, top, left


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
    acts = network(model, (h, w, c_in))
    hits: list[list[Hit]] = []
    for ch in range(channels):
        row = []
        for v, i, r, c in zip(best.values[ch], best.index[ch], best.rows[ch], best.cols[ch]):
            if not np.isfinite(v):
                continue
            box = field_box(acts, layer, int(r), int(c))
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
