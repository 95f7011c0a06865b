"""Explain one value of one map: the sum that made it, and where in the photo it looks.

    >>> stages = run_pipeline(image, spec)
    >>> ex = explain(stages, stage=1, row=10, col=20, channel=0)
    >>> ex.detail.total, ex.value            # the worked sum and the map's own value
    >>> ex.receptive_field.box               # (top, left, bottom, right) in input pixels

Everything is read from already computed stages (``Stage.maps``) and the
layers in their plans; no map is recomputed, so a click on a large map costs
only the few numbers under the window. Like CNN Explainer's ``single*``
functions, each layer type has its own small explainer.

Coordinates of padding cells are given as they would be in the padded input:
a row of -1 is the first row of zeros above the map. TensorFlow's "same"
padding puts the odd extra row or column at the bottom and right; the pad
sizes come from the stage's ``AxisArithmetic``, the one place they are worked out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import CnnError
from .pipeline import Stage
from .spec import Activation, Conv2D, Pool2D, layer_kernel


class ExplainError(CnnError):
    """The stage, position or channel asked about is not in the pipeline."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Term:
    """One multiplication of a convolution's sum: input cell × weight."""

    row: int  # in the stage's input; negative or past the end for padding
    col: int
    channel: int
    input: float  # 0 for padding
    padding: bool
    weight: float
    product: float

    def to_dict(self) -> dict:
        return {
            "row": self.row,
            "col": self.col,
            "channel": self.channel,
            "input": self.input,
            "padding": self.padding,
            "weight": self.weight,
            "product": self.product,
        }


@dataclass(frozen=True)
class ConvDetail:
    """The whole sum behind one convolution output.

    The taps are kept as arrays of shape (kernel_h, kernel_w, in_channels), so a
    7×7×32 window costs a few arrays rather than 1,568 objects; ``terms`` lists them.

    Attributes:
        rows, cols: (kernel_h, kernel_w) int arrays, the input cell under each tap.
        inputs, weights, products, padding: (kernel_h, kernel_w, in_channels) arrays.
        partial_sums: (in_channels,) float64, each input channel's share of the sum.
        bias: the filter's bias.
        total: sum of every product plus the bias (float64).
    """

    kind: str
    rows: np.ndarray
    cols: np.ndarray
    inputs: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    padding: np.ndarray
    partial_sums: np.ndarray
    bias: float
    total: float
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right)) of the stage's input

    @property
    def kernel_size(self) -> tuple[int, int]:
        return self.rows.shape  # type: ignore[return-value]

    @property
    def in_channels(self) -> int:
        return self.inputs.shape[2]

    def channel_terms(self, channel: int) -> list[Term]:
        """The terms of one input channel, row by row."""
        kh, kw = self.kernel_size
        return [
            Term(
                int(self.rows[i, j]),
                int(self.cols[i, j]),
                channel,
                float(self.inputs[i, j, channel]),
                bool(self.padding[i, j]),
                float(self.weights[i, j, channel]),
                float(self.products[i, j, channel]),
            )
            for i in range(kh)
            for j in range(kw)
        ]

    @property
    def terms(self) -> list[Term]:
        """Every term, channel by channel and row by row within a channel."""
        return [t for c in range(self.in_channels) for t in self.channel_terms(c)]


@dataclass(frozen=True)
class ActivationDetail:
    """An activation applied to one value."""

    kind: str
    function: str
    formula: str  # e.g. "max(0, x)"
    worked: str  # the formula with the numbers, e.g. "max(0, -0.25) = 0"
    input: float
    output: float
    alpha: float


@dataclass(frozen=True)
class Cell:
    """One cell of a pooling window, in the stage's input."""

    row: int
    col: int
    value: float | None  # None for padding
    padding: bool


@dataclass(frozen=True)
class PoolDetail:
    """One pooling window and what came out of it.

    For max pooling ``winner`` is the cell that won (the first one, row by row, on a tie);
    for average pooling ``count`` is how many real cells were averaged (padding never counts).
    """

    kind: str
    mode: str
    window: tuple[Cell, ...]  # row by row, (size_h × size_w) cells
    size: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]
    winner: Cell | None
    count: int
    sum: float
    total: float


@dataclass(frozen=True)
class InputDetail:
    """A value of the prepared input: a pixel, scaled to 0–1."""

    kind: str
    value: float


Detail = ConvDetail | ActivationDetail | PoolDetail | InputDetail


@dataclass(frozen=True)
class ReceptiveField:
    """The input pixels a value depends on, by the recurrence r_out = r_in + (k−1)·d·j_in, j_out = j_in·s.

    Attributes:
        size: (height, width) of the field, unclipped (it may reach into padding).
        start: (top, left) of the unclipped field in input pixels; may be negative.
        box: (top, left, bottom, right), inclusive, clipped to the input image; None when the whole
            field lies in padding (possible with wide explicit padding).
        jump: (down, across): how many input pixels apart neighbouring values of this stage look.
        padding_pixels: how many of the size[0]·size[1] pixels lie outside the image (in padding).
    """

    size: tuple[int, int]
    start: tuple[int, int]
    box: tuple[int, int, int, int] | None
    jump: tuple[int, int]
    padding_pixels: int

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
    detail: Detail
    receptive_field: ReceptiveField
    input_shape: tuple[int, int, int] = field(default=(0, 0, 0))  # the shape of the stage's input

    def to_dict(self) -> dict:
        """A JSON-ready dict: value, the sum or window, and the receptive field."""
        d: dict = {
            "stage": self.stage,
            "name": self.name,
            "row": self.row,
            "col": self.col,
            "channel": self.channel,
            "value": self.value,
        }
        det = self.detail
        if isinstance(det, ConvDetail):
            d["terms"] = [t.to_dict() for t in det.terms]
            d["partial_sums"] = [float(v) for v in det.partial_sums]
            d["bias"] = det.bias
            d["total"] = det.total
        elif isinstance(det, ActivationDetail):
            d.update(function=det.function, formula=det.formula, worked=det.worked, input=det.input, total=det.output)
        elif isinstance(det, PoolDetail):
            d["mode"] = det.mode
            d["window"] = [{"row": c.row, "col": c.col, "input": c.value, "padding": c.padding} for c in det.window]
            if det.mode == "max":
                d["winner"] = (
                    None
                    if det.winner is None
                    else {"row": det.winner.row, "col": det.winner.col, "input": det.winner.value}
                )
            else:
                d["count"] = det.count
                d["sum"] = det.sum
            d["total"] = det.total
        else:
            d["total"] = det.value
        d["receptive_field"] = self.receptive_field.to_dict()
        return d


# --------------------------------------------------------------------------- the explainers


def explain(stages: list[Stage], stage: int, row: int, col: int, channel: int = 0) -> Explanation:
    """How the value at (row, col, channel) of stage ``stage`` was computed.

    Args:
        stages: the stages from ``run_pipeline`` (read only; nothing is recomputed).
        stage: the stage number as in ``run_pipeline``: 0 is the input, 1 the first layer's output.
        row, col: the position in that stage's map.
        channel: the channel of that stage's map.

    Returns:
        An Explanation whose ``detail`` is a ConvDetail, ActivationDetail,
        PoolDetail or InputDetail, with the receptive field in input pixels.

    Raises:
        ExplainError: if the stage, position or channel is not in the pipeline.
    """
    check_position([x.shape for x in stages], stage, row, col, channel)
    s = stages[stage]
    value = float(s.maps[row, col, channel])
    layer = s.plan.layer
    prev = stages[stage - 1] if stage > 0 else None
    if layer is None:
        detail: Detail = InputDetail("input", value)
    elif isinstance(layer, Conv2D):
        detail = _conv(prev.maps, s, row, col, channel)  # type: ignore[union-attr]
    elif isinstance(layer, Activation):
        detail = _activation(layer, float(prev.maps[row, col, channel]), value)  # type: ignore[union-attr]
    else:
        detail = _pool(prev.maps, s, row, col, channel)  # type: ignore[union-attr]
    in_shape = prev.shape if prev is not None else s.shape
    return Explanation(
        stage, s.name, row, col, channel, value, detail, receptive_field(stages, stage, row, col), in_shape
    )


def check_position(shapes: list[tuple[int, int, int]], stage: int, row: int, col: int, channel: int = 0) -> None:
    """Raise ExplainError unless (stage, row, col, channel) names a value of stages with these shapes.

    ``shapes`` are the stages' (height, width, channels), from the stages or from ``plan`` before running.
    """
    if not shapes:
        raise ExplainError("there are no stages to explain", "stage")
    if not 0 <= stage < len(shapes):
        raise ExplainError(f"{stage} is not a stage; stages are numbered 0 (the input) to {len(shapes) - 1}", "stage")
    h, w, c = shapes[stage]
    if not (0 <= row < h and 0 <= col < w):
        raise ExplainError(
            f"({row}, {col}) is outside stage {stage}'s {h}×{w} map; rows are 0–{h - 1} and columns 0–{w - 1}",
            "position",
        )
    if not 0 <= channel < c:
        raise ExplainError(f"{channel} is not a channel of stage {stage}; it has channels 0–{c - 1}", "channel")


def _pads(stage: Stage) -> tuple[tuple[int, int], tuple[int, int]]:
    ah, aw = stage.plan.arithmetic
    return ((ah.pad_before, ah.pad_after), (aw.pad_before, aw.pad_after))


def window_cells(
    row: int, col: int, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int], pads
) -> tuple[np.ndarray, np.ndarray]:
    """The input rows (kernel_h,) and columns (kernel_w,) the window of output (row, col) reads.

    Positions before 0 or past the input's end are padding.
    """
    (top, _), (left, _) = pads
    rows = row * stride[0] - top + dilation[0] * np.arange(kernel[0])
    cols = col * stride[1] - left + dilation[1] * np.arange(kernel[1])
    return rows, cols


def _gather(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, channels) -> tuple[np.ndarray, np.ndarray]:
    """Values (len(rows), len(cols), C) of x at the window, 0 for padding, and the padding mask (rows, cols)."""
    h, w = x.shape[:2]
    rin = (rows >= 0) & (rows < h)
    cin = (cols >= 0) & (cols < w)
    pad = ~(rin[:, None] & cin[None, :])
    vals = x[np.clip(rows, 0, h - 1)[:, None], np.clip(cols, 0, w - 1)[None, :]][:, :, channels]
    vals = np.where(pad[:, :, None] if vals.ndim == 3 else pad, 0.0, vals)
    return vals, pad


def _conv(x: np.ndarray, s: Stage, row: int, col: int, channel: int) -> ConvDetail:
    layer: Conv2D = s.plan.layer  # type: ignore[assignment]
    kernel = layer_kernel(layer, x.shape[2])[:, :, :, channel].astype(np.float64)
    pads = _pads(s)
    rows, cols = window_cells(row, col, layer.kernel_size, layer.stride, layer.dilation, pads)
    inputs, pad = _gather(x, rows, cols, slice(None))
    inputs = inputs.astype(np.float64)
    products = inputs * kernel
    partial = products.sum(axis=(0, 1))
    bias = float(layer.bias[channel])
    total = float(partial.sum() + bias)
    rr = np.broadcast_to(rows[:, None], pad.shape).copy()
    cc = np.broadcast_to(cols[None, :], pad.shape).copy()
    return ConvDetail(
        "conv2d", rr, cc, inputs, kernel, products, pad, partial, bias, total, layer.stride, layer.dilation, pads
    )


FORMULAS = {
    "relu": "max(0, x)",
    "leaky_relu": "x if x > 0, else α·x",
    "tanh": "tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)",
    "sigmoid": "1 / (1 + e⁻ˣ)",
    "elu": "x if x > 0, else eˣ − 1",
    "gelu": "x · Φ(x) = x · ½ · (1 + erf(x / √2))",
    "linear": "x",
}


def _g(v: float) -> str:
    return f"{v:.6g}"


def _activation(layer: Activation, x: float, y: float) -> ActivationDetail:
    f, a = layer.function, layer.alpha
    if f == "relu":
        worked = f"max(0, {_g(x)}) = {_g(y)}"
    elif f == "leaky_relu":
        worked = f"{_g(x)} > 0, so {_g(y)}" if x > 0 else f"{_g(a)} · {_g(x)} = {_g(y)}"
    elif f == "tanh":
        worked = f"tanh({_g(x)}) = {_g(y)}"
    elif f == "sigmoid":
        worked = f"1 / (1 + e^{_g(-x)}) = {_g(y)}"
    elif f == "elu":
        worked = f"{_g(x)} > 0, so {_g(y)}" if x > 0 else f"e^{_g(x)} − 1 = {_g(y)}"
    elif f == "gelu":
        worked = f"{_g(x)} · ½ · (1 + erf({_g(x / math.sqrt(2))})) = {_g(y)}"
    else:
        worked = f"{_g(x)} = {_g(y)}"
    formula = FORMULAS[f].replace("α", f"α (= {_g(a)})") if f == "leaky_relu" else FORMULAS[f]
    return ActivationDetail("activation", f, formula, worked, x, y, a)


def _pool(x: np.ndarray, s: Stage, row: int, col: int, channel: int) -> PoolDetail:
    layer: Pool2D = s.plan.layer  # type: ignore[assignment]
    pads = _pads(s)
    rows, cols = window_cells(row, col, layer.size, layer.stride, (1, 1), pads)
    vals, pad = _gather(x, rows, cols, channel)
    cells = tuple(
        Cell(int(r), int(c), None if pad[i, j] else float(vals[i, j]), bool(pad[i, j]))
        for i, r in enumerate(rows)
        for j, c in enumerate(cols)
    )
    real = [cell for cell in cells if not cell.padding]
    total = float(s.maps[row, col, channel])
    winner = None
    if layer.mode == "max" and real:
        best = max(cell.value for cell in real)  # type: ignore[type-var]
        winner = next(cell for cell in real if cell.value == best)
    sum_ = float(sum(np.float64(cell.value) for cell in real))
    return PoolDetail("pool2d", layer.mode, cells, layer.size, layer.stride, pads, winner, len(real), sum_, total)


# --------------------------------------------------------------------------- receptive field


@dataclass(frozen=True)
class FieldGeometry:
    """The affine map from a stage's positions to input pixels, per axis (height, width).

    Position o of the stage sees input pixels start + o·jump … start + o·jump + size − 1.
    """

    size: tuple[int, int]
    jump: tuple[int, int]
    start: tuple[int, int]


def field_geometry(stages: list[Stage], stage: int) -> FieldGeometry:
    """The receptive-field recurrence up to ``stage``, through every conv and pool layer.

    r_out = r_in + (k − 1)·d·j_in, j_out = j_in·s, and the start moves back by pad_before·j_in.
    """
    r, j, a = [1, 1], [1, 1], [0, 0]
    for s in stages[1 : stage + 1]:
        layer = s.plan.layer
        if isinstance(layer, Conv2D):
            k, st, d = layer.kernel_size, layer.stride, layer.dilation
        elif isinstance(layer, Pool2D):
            k, st, d = layer.size, layer.stride, (1, 1)
        else:
            continue
        pads = _pads(s)
        for ax in (0, 1):
            a[ax] -= pads[ax][0] * j[ax]
            r[ax] += (k[ax] - 1) * d[ax] * j[ax]
            j[ax] *= st[ax]
    return FieldGeometry((r[0], r[1]), (j[0], j[1]), (a[0], a[1]))


def receptive_field(stages: list[Stage], stage: int, row: int, col: int) -> ReceptiveField:
    """The input pixels (row, col) of stage ``stage`` depends on, clipped to the input image."""
    g = field_geometry(stages, stage)
    h, w = stages[0].shape[:2]
    top, left = g.start[0] + row * g.jump[0], g.start[1] + col * g.jump[1]
    bottom, right = top + g.size[0] - 1, left + g.size[1] - 1
    box: tuple[int, int, int, int] | None = (max(top, 0), max(left, 0), min(bottom, h - 1), min(right, w - 1))
    inside = max(box[2] - box[0] + 1, 0) * max(box[3] - box[1] + 1, 0)  # type: ignore[index]
    if inside == 0:
        box = None
    return ReceptiveField(g.size, (top, left), box, g.jump, g.size[0] * g.size[1] - inside)
