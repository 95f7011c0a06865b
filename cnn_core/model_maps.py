"""The feature maps of a loaded Keras model: which layers have them, the photo prepared to fit, and the maps
computed a page at a time.

A layer has feature maps when its output is image-shaped, (height, width, channels). Layers inside nested
models (a backbone wrapped in a functional model) are found too and named by their path, ``backbone/conv1``.

Memory: the maps of a whole deep model never exist at once. ``pages`` splits the image-shaped layers into
pages of at most ``PAGE_LAYERS`` layers and ``PAGE_BYTES`` of float32 maps; ``compute_maps`` runs one page
through a compiled TensorFlow graph, which frees each intermediate result as soon as it has been used, so
the peak is the page's maps plus the few activations alive at one point of the network, plus the model.
A single layer whose maps would exceed ``MAX_LAYER_BYTES`` is listed but not computed.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .errors import ModelError
from .locks import KeyedLocks

PAGE_LAYERS = 6
PAGE_BYTES = 64 * 2**20
MAX_LAYER_BYTES = 256 * 2**20
MAX_TENSOR_VALUES = 64_000_000  # no tensor of a forward pass may hold more (256 MB of float32)
MAX_FREE_SIDE = 512  # a model that takes any size gets the photo shrunk to this on its longer side
VALUE_RANGES = {
    "0-1": "0 to 1 (pixel / 255)",
    "0-255": "0 to 255 (raw pixels)",
    "-1-1": "−1 to 1 (pixel / 127.5 − 1)",
}


@dataclass(frozen=True)
class LayerInfo:
    """One layer of the model, nested ones included.

    Attributes:
        path: names from the outer model inwards, joined by "/", e.g. "backbone/block1_conv1".
        cls: the layer's class name, e.g. "Conv2D".
        shape: its output shape without the batch axis; None for a free size, e.g. (None, None, 32).
        params: its number of weights (a nested model counts all of its layers').
        depth: 0 for a layer of the model itself, 1 inside a nested model, ...
        image: whether the output is image-shaped, (height, width, channels).
        note: why an image-shaped layer's maps can't be shown, or "".
    """

    path: str
    cls: str
    shape: tuple
    params: int
    depth: int
    image: bool
    note: str = ""

    @property
    def file_stem(self) -> str:
        """The path as a file-name part: "backbone/conv1" -> "backbone__conv1"."""
        return "".join(c if c.isalnum() or c in "-_." else "_" for c in self.path.replace("/", "__"))


@dataclass(frozen=True)
class ModelInfo:
    """What the page and the command line show about a model.

    Attributes:
        name: the model's name.
        input_shape: (height, width, channels), None where the size is free.
        input_dtype: the dtype the model's input expects.
        layers: every layer in order, nested layers after the model that holds them.
        rescale: (scale, offset) of a Rescaling layer the model starts with, else None.
        softmax: whether the final output comes out of a softmax.
        output_shape: the final output's shape without the batch axis.
        params: all weights.
    """

    name: str
    input_shape: tuple
    input_dtype: str
    layers: tuple[LayerInfo, ...]
    rescale: tuple[float, float] | None
    softmax: bool
    output_shape: tuple
    params: int

    @property
    def image_layers(self) -> tuple[LayerInfo, ...]:
        return tuple(x for x in self.layers if x.image)


@dataclass(frozen=True)
class Prepared:
    """The photo as the model receives it.

    Attributes:
        batch: float32 (1, height, width, channels).
        notes: how the photo was changed to fit and why, one sentence each.
    """

    batch: np.ndarray
    notes: tuple[str, ...]


# --------------------------------------------------------------------------- describing a model


def _is_model(layer) -> bool:
    import keras

    return isinstance(layer, keras.Model)


@dataclass(frozen=True)
class _Call:
    """One call of a layer in a model's graph: the layer, its name in paths, its input and output tensors."""

    layer: object
    name: str  # the layer's name, or "name@k" for its k-th call (from 1) when the graph calls it more than once
    inputs: tuple
    output: object  # None when the call has several outputs


def _calls(container) -> list[_Call]:
    """Every layer call between ``container``'s inputs and outputs, in an order where inputs come first.

    Read from the graph itself (each output tensor's Keras history), not from ``container.layers``: a
    Sequential that holds a functional model builds it more than once, and a shared layer or nested model
    is called more than once, so a layer's own list of calls can't say which call belongs to this graph.
    Iterative, so a deep model cannot exhaust Python's recursion limit.
    """
    import keras

    order: list = []
    done: set = set()
    stack = [(t, False) for t in reversed(list(container.outputs))]
    while stack:
        t, expanded = stack.pop()
        hist = getattr(t, "_keras_history", None)
        if hist is None:
            continue
        op, node_index = hist[0], hist[1]
        key = (id(op), node_index)
        if key in done:
            continue
        node = op._inbound_nodes[node_index]
        if expanded:
            done.add(key)
            order.append((op, node))
            continue
        stack.append((t, True))
        for parent in reversed(list(node.input_tensors)):
            stack.append((parent, False))
    # a node may have been appended twice when reached through two branches before being marked done
    seen: set = set()
    unique = []
    for op, node in order:
        if id(node) not in seen:
            seen.add(id(node))
            unique.append((op, node))
    count: dict = {}
    for op, _ in unique:
        count[id(op)] = count.get(id(op), 0) + 1
    k: dict = {}
    calls = []
    for op, node in unique:
        if isinstance(op, keras.layers.InputLayer):
            continue
        k[id(op)] = k.get(id(op), 0) + 1
        name = op.name if count[id(op)] == 1 else f"{op.name}@{k[id(op)]}"
        outs = list(node.output_tensors)
        calls.append(_Call(op, name, tuple(node.input_tensors), outs[0] if len(outs) == 1 else None))
    return calls


def _shape(t) -> tuple:
    return tuple(None if d is None else int(d) for d in t.shape[1:])


@dataclass(frozen=True)
class _Entry:
    """A layer call reached by ``_walk``: its LayerInfo, the call, the chain of nested calls that holds it, and
    the paths of the maps it reads."""

    info: LayerInfo
    call: _Call
    chain: tuple  # the nested-model calls from the outer model inwards
    inputs: tuple[str, ...]
    container: object


INPUT_PATH = "input"


def _walk(model, prefix: str, depth: int, out: list, feeds: dict | None = None, chain: tuple = ()) -> str:
    """Append an _Entry for every layer call of ``model`` (nested models' calls after the call that holds them).

    ``feeds`` maps id(tensor) of ``model``'s inputs to the path of the maps fed into them.

    Returns:
        The path of the maps that come out of ``model``.
    """
    producer = dict(feeds or {id(t): INPUT_PATH for t in model.inputs})
    for call in _calls(model):
        layer = call.layer
        path = prefix + call.name
        shape = _shape(call.output) if call.output is not None else ()
        inputs = tuple(producer.get(id(t), INPUT_PATH) for t in call.inputs)
        note = "" if call.output is not None else "has several outputs, so it has no single map to show"
        info = LayerInfo(path, type(layer).__name__, shape, int(layer.count_params()), depth, len(shape) == 3, note)
        here = len(out)
        out.append(_Entry(info, call, chain, inputs, model))
        if _is_model(layer) and len(layer.inputs) == 1 and len(call.inputs) == 1:
            inner = {id(layer.inputs[0]): inputs[0]}
            last = _walk(layer, path + "/", depth + 1, out, inner, (*chain, call))
            # The nested model's maps are its last layer's: it reads them (for tracing its receptive field).
            out[here] = _Entry(info, call, chain, (last,), model)
        if call.output is not None:
            producer[id(call.output)] = path
    return producer.get(id(model.outputs[0]), INPUT_PATH) if len(model.outputs) == 1 else INPUT_PATH


def _last_activation(model) -> str:
    """The name of the activation that produces the model's output, following nested models."""
    layer = model.layers[-1] if model.layers else None
    while layer is not None and _is_model(layer):
        layer = layer.layers[-1] if layer.layers else None
    if layer is None:
        return ""
    name = type(layer).__name__
    if name == "Softmax":
        return "softmax"
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", "") if act is not None else ""


def _leading_rescale(model) -> tuple[float, float] | None:
    """The first Rescaling layer's (scale, offset) if only shape-keeping layers come before it."""
    for layer in model.layers:
        name = type(layer).__name__
        if name == "InputLayer":
            continue
        if name == "Rescaling":
            scale, offset = layer.scale, layer.offset
            if np.ndim(scale) == 0 and np.ndim(offset) == 0:
                return float(scale), float(offset)
            return None
        if _is_model(layer):
            return _leading_rescale(layer)
        if name not in (
            "Resizing",
            "CenterCrop",
            "RandomFlip",
            "RandomRotation",
            "RandomZoom",
            "RandomTranslation",
            "RandomContrast",
            "RandomBrightness",
            "RandomCrop",
            "Sequential",
        ):
            return None
    return None


def describe(model) -> ModelInfo:
    """Every layer of a loaded model with its output shape, and what its input expects.

    Raises:
        ModelError: unless the model has exactly one input of shape (height, width, channels).
    """
    if len(model.inputs) != 1:
        raise ModelError(
            f"the model has {len(model.inputs)} inputs; only models with one image input can be shown", "model"
        )
    inp = model.inputs[0]
    shape = _shape(inp)
    if len(shape) != 3 or shape[2] is None:
        raise ModelError(
            f"the model's input has shape {shape}; an image model takes (height, width, channels)", "model"
        )
    entries: list[_Entry] = []
    _walk(model, "", 0, entries)
    layers = [e.info for e in entries]
    outs = model.outputs
    out_shape = _shape(outs[0]) if outs else ()
    return ModelInfo(
        name=model.name,
        input_shape=shape,
        input_dtype=str(getattr(inp, "dtype", "float32")),
        layers=tuple(layers),
        rescale=_leading_rescale(model),
        softmax=_last_activation(model) == "softmax",
        output_shape=out_shape,
        params=int(model.count_params()),
    )


# --------------------------------------------------------------------------- the photo


def default_range(info: ModelInfo) -> str:
    """The value range to feed: raw pixels when the model rescales them itself, else 0 to 1."""
    if info.rescale and any(abs(info.rescale[0] * d - 1) < 1e-3 for d in (255.0, 127.5)):
        return "0-255"
    return "0-1"


def prepare_photo(image: np.ndarray, info: ModelInfo, value_range: str | None = None) -> Prepared:
    """Fit a photo to the model's input: channels, size and value range, each change explained.

    Args:
        image: uint8 (height, width) or (height, width, 1|3|4).
        info: the model's description.
        value_range: a key of ``VALUE_RANGES``; None picks ``default_range(info)``.

    Returns:
        The batch of one float32 (1, height, width, channels) and the notes.

    Raises:
        ModelError: when the model's channels can't be made from a photo.
    """
    from .pipeline import check_image_array

    image = check_image_array(image)
    value_range = value_range or default_range(info)
    if value_range not in VALUE_RANGES:
        raise ModelError(f"{value_range!r} is not a value range; use one of {', '.join(VALUE_RANGES)}", "value_range")
    notes: list[str] = []
    x = _fit_channels(image.astype(np.float32), info.input_shape[2], notes)
    x = _fit_size(x, info.input_shape[:2], notes)
    x = _scale_values(x, value_range, info.rescale, notes)
    batch = np.ascontiguousarray(x[None], dtype=np.float32)
    return Prepared(batch, tuple(notes))


def _fit_channels(x: np.ndarray, c_in: int | None, notes: list[str]) -> np.ndarray:
    """(height, width, c_in) from a photo of 1, 3 or 4 channels (alpha dropped), noting any conversion."""
    from . import ops

    if x.ndim == 2:
        x = x[:, :, None]
    if x.shape[2] == 4:
        x = x[:, :, :3]
    have = x.shape[2]
    if c_in == 1 and have == 3:
        notes.append("The model takes 1 channel (grayscale); the colour photo was converted to grayscale.")
        return ops.rgb_to_grayscale(x)
    if c_in == 3 and have == 1:
        notes.append("The model takes 3 channels (RGB); the grayscale photo's one channel was copied into all three.")
        return np.repeat(x, 3, axis=2)
    if c_in not in (1, 3):
        raise ModelError(
            f"the model takes {c_in} channels, but a photo has 1 (grayscale) or 3 (RGB), so no photo can fill its input",
            "model",
        )
    return x


def _fit_size(x: np.ndarray, size_in: tuple, notes: list[str]) -> np.ndarray:
    """The photo resized to the model's fixed size, or shrunk to ``MAX_FREE_SIDE`` where the size is free."""
    from . import ops

    h_in, w_in = size_in
    h, w = x.shape[:2]
    if h_in is not None and w_in is not None:
        target = (h_in, w_in)
        if target != (h, w):
            notes.append(
                f"The model takes a fixed {h_in}×{w_in} input; the {h}×{w} photo was resized to it (bilinear, "
                "aspect ratio not kept)."
            )
    else:
        f = min(1.0, MAX_FREE_SIDE / max(h, w))
        th = h_in if h_in is not None else max(1, round(h * f))
        tw = w_in if w_in is not None else max(1, round(w * f))
        target = (th, tw)
        if target != (h, w):
            notes.append(
                f"The model takes any size; the {h}×{w} photo was shrunk to {th}×{tw} "
                f"(at most {MAX_FREE_SIDE} pixels on the longer side, to bound memory)."
            )
        else:
            notes.append(f"The model takes any size, so the photo keeps its {h}×{w} pixels.")
    if target != (h, w):
        x = ops.resize_bilinear(x, target)
    return x


def _scale_values(x: np.ndarray, value_range: str, rescale: tuple | None, notes: list[str]) -> np.ndarray:
    """Pixels of 0–255 moved to ``value_range``, with a note on how that meets the model's own Rescaling."""
    if value_range == "0-1":
        x = x / np.float32(255.0)
    elif value_range == "-1-1":
        x = x / np.float32(127.5) - np.float32(1.0)
    if rescale and value_range == "0-255":
        notes.append(
            f"The model rescales pixels itself (its Rescaling layer multiplies by {rescale[0]:.4g} and adds "
            f"{rescale[1]:.4g}), so it gets raw pixels from 0 to 255."
        )
    elif rescale:
        notes.append(
            f"The model has a Rescaling layer (×{rescale[0]:.4g}), yet the pixels were set to "
            f"{VALUE_RANGES[value_range]}: they are scaled twice."
        )
    elif value_range == "0-1":
        notes.append(
            "The model doesn't rescale pixels itself; they were scaled to 0 to 1. If it was trained on raw "
            "0–255 pixels or on −1 to 1, pick that range instead."
        )
    else:
        notes.append(f"Pixels were scaled to {VALUE_RANGES[value_range]}, as chosen.")
    return x


# --------------------------------------------------------------------------- paging


def map_bytes(layer: LayerInfo, batch_shape: tuple) -> int:
    """float32 bytes of a layer's maps for this input (a free size counts as the input's size)."""
    h = layer.shape[0] if layer.shape[0] is not None else batch_shape[1]
    w = layer.shape[1] if layer.shape[1] is not None else batch_shape[2]
    c = layer.shape[2] if layer.shape[2] is not None else batch_shape[3]
    return 4 * h * w * c


def pages(
    info: ModelInfo, batch_shape: tuple, max_layers: int = PAGE_LAYERS, max_bytes: int = PAGE_BYTES
) -> list[list[LayerInfo]]:
    """The image-shaped layers in order, split into pages of at most ``max_layers`` and ``max_bytes`` of maps.

    A layer bigger than ``max_bytes`` on its own gets a page to itself.
    """
    out: list[list[LayerInfo]] = []
    cur: list[LayerInfo] = []
    size = 0
    for layer in info.image_layers:
        b = map_bytes(layer, batch_shape)
        if cur and (len(cur) >= max_layers or size + b > max_bytes):
            out.append(cur)
            cur, size = [], 0
        cur.append(layer)
        size += b
    if cur:
        out.append(cur)
    return out


# --------------------------------------------------------------------------- computing


class MapComputer:
    """Computes the maps of chosen layers of one model, through small compiled sub-models kept in an LRU."""

    def __init__(self, model, max_functions: int = 8) -> None:
        self.model = model
        self._fns: OrderedDict = OrderedDict()
        self._max = max_functions
        self._lock = threading.Lock()
        self._compiling = KeyedLocks()
        self._entries: dict | None = None

    def entries(self) -> dict:
        """{path: _Entry} of every layer call, nested ones included (walked once)."""
        if self._entries is None:
            found: list[_Entry] = []
            _walk(self.model, "", 0, found)
            self._entries = {e.info.path: e for e in found}
        return self._entries

    def compute(self, batch: np.ndarray, paths: list[str]) -> dict[str, np.ndarray]:
        """The maps of the layers at ``paths`` for one prepared photo.

        Args:
            batch: float32 (1, height, width, channels), from ``prepare_photo``.
            paths: layer paths from ``describe``, e.g. ["conv1", "backbone/block1_conv1", "shared@2/conv"];
                "input" is the batch itself.

        Returns:
            {path: float32 maps without the batch axis} for every path asked for.
        """
        entries = self.entries()
        out: dict[str, np.ndarray] = {}
        want = []
        for p in paths:
            if p == INPUT_PATH and p not in entries:
                out[p] = np.asarray(batch[0], dtype=np.float32)
            elif p not in entries:
                raise ModelError(f"no layer at {p!r}", "layer")
            elif entries[p].call.output is None:
                raise ModelError(f"{p!r} has several outputs, so it has no single map to show", "layer")
            else:
                want.append(entries[p])
        if want:
            self._run(self.model, (), batch, want, out)
        return out

    def _run(self, container, chain: tuple, x: np.ndarray, want: list, out: dict) -> None:
        """Maps of the calls ``want`` inside ``container`` (reached through the nested calls ``chain``) for its
        input value ``x``. A nested model's layers are reached by computing that call's input here and
        recursing: its layers' outputs belong to its own graph, not to the outer one.
        """
        here = [e for e in want if len(e.chain) == len(chain)]
        deeper: dict = {}
        for e in want:
            if len(e.chain) > len(chain):
                call = e.chain[len(chain)]
                deeper.setdefault(id(call), (call, []))[1].append(e)
        tensors = [e.call.output for e in here] + [call.inputs[0] for call, _ in deeper.values()]
        values = self._fn(container, tensors, x.shape)(x)
        for e, v in zip(here, values[: len(here)]):
            out[e.info.path] = np.asarray(v[0], dtype=np.float32)
        for (call, sub), v in zip(deeper.values(), values[len(here) :]):
            self._run(call.layer, (*chain, call), np.asarray(v), sub, out)

    def _fn(self, container, tensors: list, shape: tuple):
        """A compiled function from ``container``'s input to ``tensors``, for inputs of ``shape``.

        Before it first runs, every tensor of its graph is checked against ``MAX_TENSOR_VALUES`` from the
        shapes TensorFlow infers: a Resizing or UpSampling layer that would blow up memory is refused, not run.
        """
        key = (id(container), tuple(id(t) for t in tensors), tuple(shape))
        fn = self._known(key)
        if fn is not None:
            return fn
        with self._compiling.hold(key):  # two sessions asking for one new shape compile it once
            return self._known(key) or self._compile(key, container, tensors, shape)

    def _known(self, key: tuple):
        with self._lock:
            fn = self._fns.get(key)
            if fn is not None:
                self._fns.move_to_end(key)
            return fn

    def _compile(self, key: tuple, container, tensors: list, shape: tuple):
        import keras
        import tensorflow as tf

        sub = keras.Model(container.inputs[0], tensors)

        # A graph, not eager Keras: TensorFlow frees every intermediate tensor once it has been used.
        @tf.function(jit_compile=False)
        def graph(x):
            return [tf.convert_to_tensor(t) for t in tf.nest.flatten(sub(x, training=False))]

        concrete = graph.get_concrete_function(tf.TensorSpec(shape, tf.float32))
        _check_graph(concrete.graph)

        def call(x):
            return [t.numpy() for t in concrete(tf.constant(x))]

        with self._lock:
            self._fns[key] = call
            while len(self._fns) > self._max:
                self._fns.popitem(last=False)
        return call

    def final_output(self, batch: np.ndarray) -> np.ndarray:
        """The model's (first) output for the photo, without the batch axis, as float32."""
        out = self._fn(self.model, [self.model.outputs[0]], batch.shape)(batch)[0]
        return np.asarray(out[0], dtype=np.float32)


def activations(computer: MapComputer, batch: np.ndarray):
    """The model's layers on one prepared photo as ``cnn_core.activations.Activations``.

    Every layer call gets its kind (``kinds.of_keras``) or a note saying why none explains it; shapes are
    resolved for this photo's size (a model that takes any size has None in its declared shapes). Maps are
    computed only when asked for (``Activations.maps`` or ``explain``), through ``computer``.

    Args:
        computer: the model's MapComputer.
        batch: float32 (1, height, width, channels), from ``prepare_photo``.
    """
    from . import kinds
    from .activations import Activations, LayerMaps

    shapes: dict[str, tuple] = {INPUT_PATH: tuple(batch.shape[1:])}
    layers = [LayerMaps(INPUT_PATH, "Input", None, None, None, shapes[INPUT_PATH], shapes[INPUT_PATH])]
    merges: dict[str, tuple[str, ...]] = {}
    for path, e in _inner_first(computer.entries()):
        in_shape = shapes.get(e.inputs[0], ()) if e.inputs else ()
        if _is_model(e.call.layer):
            kind, op, why = None, None, "it is a nested model; its own layers are explained one by one"
        else:
            kind, op, why = kinds.of_keras(e.call.layer)
        shape = _resolve(e, kind, op, in_shape)
        shapes[path] = shape
        arith = ()
        if kind is not None and len(in_shape) == 3 and None not in in_shape:
            arith = kind.arithmetic(op, in_shape)
        if len(e.inputs) > 1:
            merges[path] = e.inputs
        note = "" if kind is not None else f"no value-by-value explanation: {why}."
        layers.append(
            LayerMaps(
                path, e.info.cls, kind, op, e.inputs[0] if e.inputs else INPUT_PATH, in_shape, shape, arith, note,
                field=None if kind is not None else _crop_field(e.call.layer),
            )
        )  # fmt: skip

    def load(paths: list[str]) -> dict[str, np.ndarray]:
        return computer.compute(batch, paths)

    return Activations(layers, load, merges)


def _crop_field(layer):
    """The receptive-field step of a Keras Cropping2D (a shift by what it crops before), else None."""
    if type(layer).__name__ != "Cropping2D" or getattr(layer, "data_format", "channels_last") != "channels_last":
        return None
    (top, _), (left, _) = layer.cropping
    return lambda g: g.step((1, 1), (1, 1), (1, 1), (-int(top), -int(left)))


def _inner_first(entries: dict) -> list:
    """(path, entry) pairs with each nested model's call moved after its own layers (its maps are theirs)."""
    ordered: list = []
    pending: list = []
    for path, e in entries.items():
        while pending and not path.startswith(pending[-1][0] + "/"):
            ordered.append(pending.pop())
        if _is_model(e.call.layer):
            pending.append((path, e))
        else:
            ordered.append((path, e))
    ordered.extend(reversed(pending))
    return ordered


def _resolve(e, kind, op, in_shape: tuple) -> tuple:
    """The call's output shape for this photo: declared when fully known, else worked out from its input."""
    declared = e.info.shape
    if declared and None not in declared:
        return tuple(declared)
    if kind is not None and in_shape and None not in in_shape:
        return tuple(kind.out_shape(op, in_shape))
    if _is_model(e.call.layer):
        return tuple(in_shape) if in_shape else tuple(declared)
    try:
        got = e.call.layer.compute_output_shape((1, *in_shape))
    except (ValueError, TypeError, NotImplementedError, AttributeError):
        return tuple(declared)
    return tuple(got[1:]) if isinstance(got, tuple) and all(isinstance(d, int | None) for d in got) else tuple(declared)


def _check_graph(graph) -> None:
    for op in graph.get_operations():
        if op.type in ("ReadVariableOp", "VarHandleOp", "Const"):  # the weights, already counted on loading
            continue
        for t in op.outputs:
            if t.shape.rank is not None and t.shape.is_fully_defined():
                n = math.prod(t.shape.as_list())
                if n > MAX_TENSOR_VALUES:
                    where = op.name.split("/")
                    layer = "/".join(where[1:-1]) or op.name
                    raise ModelError(
                        f"for this input, {layer} would make a tensor of {n:,} values ({4 * n / 2**30:.1f} GB), over "
                        f"the limit of {MAX_TENSOR_VALUES:,}; nothing was run",
                        "model",
                    )


def top_outputs(values: np.ndarray, k: int = 10) -> list[tuple[int, float]]:
    """The ``k`` largest entries of a flat output as (index, value), largest first."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    k = min(k, flat.size)
    idx = np.argsort(-flat, kind="stable")[:k]
    return [(int(i), float(flat[i])) for i in idx]


def total_map_bytes(info: ModelInfo, batch_shape: tuple) -> int:
    """float32 bytes of every image-shaped layer's maps together (what paging avoids holding)."""
    return sum(map_bytes(x, batch_shape) for x in info.image_layers)


def too_big(layer: LayerInfo, batch_shape: tuple) -> bool:
    return map_bytes(layer, batch_shape) > MAX_LAYER_BYTES


__all__ = [
    "activations",
    "LayerInfo",
    "MapComputer",
    "ModelInfo",
    "PAGE_BYTES",
    "PAGE_LAYERS",
    "Prepared",
    "VALUE_RANGES",
    "default_range",
    "describe",
    "map_bytes",
    "pages",
    "prepare_photo",
    "top_outputs",
    "total_map_bytes",
]
