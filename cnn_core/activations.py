"""The maps of a network, whichever network: one type for a spec's stages, the Tiny VGG and an uploaded model.

    >>> acts = Activations.from_stages(run_pipeline(image, spec))      # paths "0" (input), "1", "2", ...
    >>> acts = model_maps.activations(model, batch)                     # paths as the Your model page names them
    >>> ex = acts.explain("backbone/block1_conv1", row, col, channel)   # asks the layer's kind
    >>> rf = receptive_field(acts, "backbone/block1_conv1", row, col)   # in the network's input pixels

Every layer is a ``LayerMaps``: its path, its kind and op (or None with a note when no kind explains it), the
path of the maps it reads, its input and output shapes, and its maps (computed on demand for a model: only
the layer asked about and the one it reads). Maps are float32 (height, width, channels), or (units,) after a
Flatten, Dense or global pooling; a position in (units,) maps is (0, 0, unit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import kinds
from .geometry import AxisArithmetic, FieldGeometry
from .kinds import ExplainError, Kind


@dataclass(frozen=True)
class InputDetail:
    """A value of the prepared input: a pixel, scaled as the network takes it."""

    kind: str
    value: float

    def to_dict(self) -> dict:
        return {"total": self.value}


@dataclass(frozen=True)
class ReceptiveField:
    """The input pixels a value depends on, by the recurrence r_out = r_in + (k−1)·d·j_in, j_out = j_in·s.

    Attributes:
        size: (height, width) of the field, unclipped (it may reach into padding).
        start: (top, left) of the unclipped field in input pixels; may be negative.
        box: (top, left, bottom, right), inclusive, clipped to the input image; None when the whole
            field lies in padding (possible with wide explicit padding).
        jump: (down, across): how many input pixels apart neighbouring values of this layer look
            ((0, 0) after a layer that mixes every position: Dense, global pooling).
        padding_pixels: how many of the size[0]·size[1] pixels lie outside the image (in padding).
        reads: (top, left, bottom, right), inclusive: the first and last pixels the value really reads;
            inside ``box``, tighter where a dilated or strided window skips the box's border rows or columns.
    """

    size: tuple[int, int]
    start: tuple[int, int]
    box: tuple[int, int, int, int] | None
    jump: tuple[int, int]
    padding_pixels: int
    reads: tuple[int, int, int, int] | None = None

    @property
    def padding_share(self) -> float:
        return self.padding_pixels / (self.size[0] * self.size[1])

    def to_dict(self) -> dict:
        return {
            "size": list(self.size),
            "start": list(self.start),
            "box": None if self.box is None else list(self.box),
            "jump": list(self.jump),
            "padding_pixels": self.padding_pixels,
            "padding_share": round(self.padding_share, 6),
        }


@dataclass(frozen=True)
class Explanation:
    """One value of one map and how it came about."""

    stage: int
    name: str
    row: int
    col: int
    channel: int
    value: float
    detail: object  # the kind's detail (ConvDetail, PoolDetail, ...) or InputDetail
    receptive_field: ReceptiveField
    input_shape: tuple = field(default=(0, 0, 0))  # the shape of the maps the layer reads
    path: str = ""  # the layer's path, for a model's layer

    def to_dict(self) -> dict:
        """A JSON-ready dict: value, the sum or window, and the receptive field."""
        d: dict = {"stage": self.stage, "name": self.name}
        if self.path:
            d["layer"] = self.path
        d.update(row=self.row, col=self.col, channel=self.channel, value=self.value)
        d.update(self.detail.to_dict())
        d["receptive_field"] = self.receptive_field.to_dict()
        if self.path:  # a model's layer: also the pixels it really reads (a spec's JSON stays as it was)
            rf = self.receptive_field
            d["receptive_field"]["reads"] = None if rf.reads is None else list(rf.reads)
        return d


@dataclass
class LayerMaps:
    """One layer of a network and its maps.

    Attributes:
        path: "0", "1", ... for a spec's stages; the layer path for a model ("backbone/conv1").
        name: the stage name ("conv2d") or the Keras class name ("Conv2D").
        kind, op: the layer's kind and op; None for the input and for a layer no kind explains.
        input: the path of the maps it reads; None for the network's input.
        in_shape, shape: the shapes of the maps it reads and of its own (without the batch axis).
        arithmetic: its (height, width) AxisArithmetic, () without a window.
        note: why no kind explains it, in one sentence ("" when one does).
        maps: its maps, or None until they are asked for.
        field: for a layer no kind explains but whose geometry is known (a Keras Cropping2D), its
            receptive-field step, FieldGeometry -> FieldGeometry; None otherwise.
    """

    path: str
    name: str
    kind: Kind | None
    op: object | None
    input: str | None
    in_shape: tuple
    shape: tuple
    arithmetic: tuple[AxisArithmetic, ...] = ()
    note: str = ""
    maps: np.ndarray | None = None
    field: Callable[[FieldGeometry], FieldGeometry] | None = None


def check_cell(name: str, shape: tuple[int, int, int], row: int, col: int, channel: int) -> None:
    """Raise ExplainError unless (row, col, channel) is inside a map of ``shape`` (height, width, channels).

    ``name`` says whose map it is in the message ("stage 2", "'conv1'").
    """
    h, w, c = shape
    if not (0 <= row < h and 0 <= col < w):
        raise ExplainError(
            f"({row}, {col}) is outside {name}'s {h}×{w} map; rows are 0–{h - 1} and columns 0–{w - 1}",
            "position",
        )
    if not 0 <= channel < c:
        raise ExplainError(f"{channel} is not a channel of {name}; it has channels 0–{c - 1}", "channel")


class Activations:
    """The maps of every layer of one network on one input, in order, the input first.

    Args:
        layers: the LayerMaps, the network's input first; every ``input`` names an earlier path.
        load: for maps not held yet: a function from paths to {path: maps} (a model's layers are computed
            only when asked for).
        merges: for a layer that reads several maps (an Add of two branches), every path it reads; the
            receptive field is the union of theirs.
    """

    def __init__(
        self,
        layers: list[LayerMaps],
        load: Callable[[list[str]], dict[str, np.ndarray]] | None = None,
        merges: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.layers = list(layers)
        self._by_path = {x.path: x for x in self.layers}
        self._index = {x.path: i for i, x in enumerate(self.layers)}
        self._load = load
        self._merges = merges or {}

    # ---- building

    @classmethod
    def from_stages(cls, stages) -> Activations:
        """The stages of ``run_pipeline`` (no copies), with paths "0" (the input), "1", ..."""
        out = []
        for i, s in enumerate(stages):
            layer = s.plan.layer
            if layer is None:
                out.append(LayerMaps(str(i), s.name, None, None, None, s.shape, s.shape, maps=s.maps))
                continue
            prev = stages[i - 1].shape
            kind, op = kinds.of_spec(layer, prev[2])
            out.append(LayerMaps(str(i), s.name, kind, op, str(i - 1), prev, s.shape, s.plan.arithmetic, maps=s.maps))
        return cls(out)

    # ---- reading

    @property
    def paths(self) -> list[str]:
        return [x.path for x in self.layers]

    @property
    def input(self) -> LayerMaps:
        return self.layers[0]

    def __getitem__(self, path: str) -> LayerMaps:
        try:
            return self._by_path[path]
        except KeyError:
            near = ", ".join(repr(p) for p in self.paths[1:6])
            raise ExplainError(
                f"{path!r} is not a layer of this network; layers are named like {near}", "layer"
            ) from None

    def index(self, path: str) -> int:
        return self._index[self[path].path]

    def maps(self, path: str) -> np.ndarray:
        """The maps of the layer at ``path``, computed first when not held yet."""
        layer = self[path]
        if layer.maps is None:
            if self._load is None:
                raise ExplainError(f"the maps of {path!r} were not computed", "layer")
            got = self._load([path])
            layer.maps = got[path]
        return layer.maps

    def fill(self) -> Activations:
        """Compute the maps of every layer not held yet, all in one call (a whole forward pass); returns self."""
        missing = [x.path for x in self.layers if x.maps is None]
        if missing:
            if self._load is None:
                raise ExplainError(f"the maps of {missing[0]!r} were not computed", "layer")
            got = self._load(missing)
            for p in missing:
                self._by_path[p].maps = got[p]
        return self

    @property
    def image_layers(self) -> list[LayerMaps]:
        """The input and every layer whose maps are (height, width, channels), in order."""
        return [x for x in self.layers if len(x.shape) == 3]

    @property
    def output(self) -> np.ndarray:
        """The maps of the network's last layer (a classifier's probabilities)."""
        return self.maps(self.layers[-1].path)

    # ---- explaining

    def check(self, path: str, row: int, col: int, channel: int) -> LayerMaps:
        """The layer at ``path``, after checking that (row, col, channel) names one of its values."""
        layer = self[path]
        shape = layer.shape
        if len(shape) == 1:
            if (row, col) != (0, 0) or not 0 <= channel < shape[0]:
                raise ExplainError(
                    f"{path!r} gives {shape[0]} numbers, not maps; ask for row 0, column 0 and a channel "
                    f"(unit) from 0 to {shape[0] - 1}",
                    "position",
                )
            return layer
        if len(shape) != 3:
            raise ExplainError(
                f"{path!r} has output shape {shape}; only maps and flat vectors can be explained", "layer"
            )
        check_cell(repr(path), shape, row, col, channel)
        return layer

    def explain(self, path: str, row: int, col: int, channel: int = 0) -> Explanation:
        """How the value at (row, col, channel) of the layer at ``path`` came about.

        Raises:
            ExplainError: for a path that names no layer, a position or channel outside its maps, or a
                layer that no kind explains (the error says why).
        """
        layer = self.check(path, row, col, channel)
        i = self.index(path)
        if layer.input is None:
            y = self.maps(path)
            detail: object = InputDetail("input", kinds.value_at(y, row, col, channel))
        elif layer.kind is None:
            raise ExplainError(f"{path!r} ({layer.name}) can't be explained value by value: {layer.note}", "layer")
        else:
            x, y = self.maps(layer.input), self.maps(path)
            source = self._flattened_from(layer.input)
            detail = layer.kind.explain(layer.op, x, y, layer.arithmetic, row, col, channel, source_shape=source)
        value = kinds.value_at(self.maps(path), row, col, channel)
        rf = receptive_field(self, path, row, col, channel)
        model_path = "" if path == str(i) else path
        return Explanation(i, layer.name, row, col, channel, value, detail, rf, tuple(layer.in_shape), model_path)

    def _flattened_from(self, path: str) -> tuple | None:
        """The (height, width, channels) a flat map was flattened from, when a Flatten made it."""
        layer = self[path]
        if layer.kind is not None and layer.kind.name == "flatten":
            return tuple(layer.in_shape)
        return None

    def field_geometry(self, path: str) -> FieldGeometry:
        """The affine map from the layer's positions to input pixels, through every layer before it."""
        memo: dict[str, FieldGeometry] = {}

        def geo(p: str) -> FieldGeometry:
            if p in memo:
                return memo[p]
            layer = self[p]
            if layer.input is None:
                g = FieldGeometry.identity()
            else:
                sources = self._merges.get(p, (layer.input,))
                g = geo(sources[0])
                for other in sources[1:]:
                    g = g.merge(geo(other))
                if layer.kind is not None:
                    g = layer.kind.field(g, layer.op, layer.arithmetic, layer.in_shape)
                elif layer.field is not None:
                    g = layer.field(g)
                elif tuple(layer.shape[:2]) != tuple(layer.in_shape[:2]) or len(layer.shape) != len(layer.in_shape):
                    # A layer no kind models that changes the maps' size (Resizing, UpSampling2D): its positions
                    # can't be traced one by one, so each of its values counts as depending on all of its input.
                    whole = tuple(layer.in_shape[:2]) if len(layer.in_shape) == 3 else tuple(self.input.shape[:2])
                    g = g.whole(whole)
            memo[p] = g
            return g

        return geo(path)


def receptive_field(acts, path, row: int, col: int, channel: int = 0) -> ReceptiveField:
    """The input pixels the value at (row, col) of layer ``path`` depends on, clipped to the network's input.

    Args:
        acts: an Activations (or the stages of ``run_pipeline``).
        path: the layer's path (for stages: the stage number, as an int or a string).
        row, col: the position in that layer's maps ((0, 0) for a flat layer).
        channel: for a Flatten's output, the entry (its position in the maps before is traced).

    Returns:
        The ReceptiveField: unclipped size and start, inclusive clipped box in input pixels, jump, padding.
    """
    if not isinstance(acts, Activations):  # the stages of run_pipeline
        acts = Activations.from_stages(acts)
    path = str(path)
    layer = acts[path]
    if layer.kind is not None and len(layer.in_shape) == 3:
        src = layer.kind.source(layer.op, layer.in_shape, row, col, channel)
        if src is not None:  # a Flatten entry looks where its source position looks
            return receptive_field(acts, layer.input, src[0], src[1], src[2])
    g = acts.field_geometry(path)
    shape = tuple(acts.input.shape[:2])
    start, box, outside = g.box(row, col, shape)
    return ReceptiveField(g.size, start, box, g.jump, outside, g.reads(row, col, shape))
