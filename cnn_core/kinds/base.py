"""What every layer kind offers, and the pieces of an explanation they share.

A kind is one object per layer type (convolution, pooling, activation, dense, ...). It is handed the
layer's *op*: a small frozen dataclass of the kind's own with the numbers it needs (weights, stride,
window, function). Spec layers and Keras layers both become ops (``kinds.op_of_spec``,
``kinds.keras.op_of_layer``), so one kind explains a Playground stage and a trained model's layer alike.

Maps are float32 (height, width, channels) or, after a Flatten, Dense or global pooling, (units,). A
position is (row, col, channel); for a (units,) map it is (0, 0, unit).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from ..errors import CnnError
from ..geometry import AxisArithmetic, FieldGeometry, neighbourhood_arithmetic

Pair = tuple[int, int]


class ExplainError(CnnError):
    """The layer, position or channel asked about can't be explained."""


class LazyWeights:
    """For an op whose ``weights()`` gives (kernel, bias): called once, when the numbers are first needed."""

    @cached_property
    def _wb(self) -> tuple[np.ndarray, np.ndarray]:
        k, b = self.weights()
        return np.asarray(k, np.float32), np.asarray(b, np.float32)

    @property
    def kernel(self) -> np.ndarray:
        return self._wb[0]

    @property
    def bias(self) -> np.ndarray:
        return self._wb[1]


@dataclass(frozen=True)
class Frames:
    """A sliding window's sweep over a small crop, every output computed by TensorFlow.

    Attributes:
        crop: float64 (rows, cols), the crop of one input channel, treated as a whole input.
        out: float64 (out_rows, out_cols), TensorFlow's output on the crop (NaN where a window holds
            only padding).
        taps: one (rows, cols, padding) triple of flat arrays per output position, row by row.
        arithmetic: the (height, width) AxisArithmetic of the layer on the crop.
        what: what is swept, in words, e.g. "filter 2 on input channel 0 (no bias)".
        in_origin: (row, col) of the crop's first cell in the whole input; (0, 0) for a top-left crop.
        out_origin: (row, col) of ``out``'s first cell in the layer's whole output map.
    """

    crop: np.ndarray
    out: np.ndarray
    taps: list
    arithmetic: tuple[AxisArithmetic, AxisArithmetic]
    what: str
    kernel: Pair
    stride: Pair
    dilation: Pair
    padding: object
    in_origin: Pair = (0, 0)
    out_origin: Pair = (0, 0)


class Kind:
    """One layer type. Subclasses override what applies to them.

    Attributes:
        name: the kind's name, also the spec's layer type where there is one ("conv2d").
        title: a stage title, e.g. "Convolution".
    """

    name = ""
    title = ""

    # ---- geometry
    def window(self, op) -> tuple[Pair, Pair, Pair, object] | None:
        """(kernel, strides, dilation, padding) for a sliding-window kind, else None."""
        return None

    def arithmetic(self, op, in_shape: tuple) -> tuple[AxisArithmetic, ...]:
        """The (height, width) AxisArithmetic on an input of ``in_shape``; () for a kind without a window."""
        from ..geometry import arithmetic2d

        w = self.window(op)
        if w is None:
            return ()
        return arithmetic2d(in_shape[:2], *w)

    def problem(self, op, in_shape: tuple) -> str | None:
        """Why this layer can't take an input of ``in_shape``, in words; None when it can."""
        return None

    def out_shape(self, op, in_shape: tuple) -> tuple:
        """The output shape for an input of ``in_shape`` (without the batch axis)."""
        return tuple(in_shape)

    def params(self, op, in_shape: tuple) -> int:
        return 0

    def madds(self, op, in_shape: tuple, out_shape: tuple) -> int:
        return 0

    def field(self, g: FieldGeometry, op, arith: tuple[AxisArithmetic, ...], in_shape: tuple) -> FieldGeometry:
        """The receptive-field geometry after this layer, given the one before it (pointwise: unchanged)."""
        w = self.window(op)
        if w is None:
            return g
        kernel, strides, dilation, _ = w
        return g.step(kernel, strides, dilation, (arith[0].pad_before, arith[1].pad_before))

    def source(self, op, in_shape: tuple, row: int, col: int, channel: int) -> tuple[int, int, int] | None:
        """The one input position an output position copies (Flatten), else None."""
        return None

    # ---- running
    def run(self, op, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.name} layers are computed by their framework here")

    def run_rows(self, op, x: np.ndarray, arith: tuple[AxisArithmetic, ...], r0: int, r1: int) -> np.ndarray:
        """Output rows r0..r1 only (a pointwise kind reads the same rows of its input)."""
        return self.run(op, x[r0:r1])

    # ---- cost (spec kinds only)
    def cost(self, op, in_shape: tuple, out_shape: tuple) -> tuple[str, tuple]:
        """(family, features) for cnn_core.cost."""
        raise NotImplementedError(f"{self.name} has no cost model")

    def longest_call_seconds(self, op, in_shape: tuple, out_shape: tuple) -> float:
        """Seconds one call of the layer may take where that is more than its cost estimate (a first call
        that runs a slower formulation), for deciding bands; 0 when the estimate holds."""
        return 0.0

    # ---- explaining
    def explain(self, op, x: np.ndarray, y: np.ndarray, arith, row: int, col: int, channel: int, source_shape=None):
        """The detail of output (row, col, channel) from input maps ``x`` and output maps ``y``.

        ``source_shape`` is the (height, width, channels) a flat ``x`` was flattened from, when a Flatten made
        it (a Dense unit names each input by its place in those maps).
        """
        raise NotImplementedError

    def frames(self, op, x: np.ndarray, in_channel: int, out_channel: int, arith_of_crop) -> Frames | None:
        """The sliding-window animation on a crop of input maps ``x``, or None for a kind without a window."""
        return None

    def frames_at(
        self, op, x: np.ndarray, in_channel: int, out_channel: int, at: Pair, radius: int = 3
    ) -> Frames | None:
        """The sliding-window animation around output ``at`` = (row, col) of the layer on its whole input maps.

        The window sweeps the (2·radius+1)-square block of outputs centred on ``at`` (shifted inward at a
        border) over the part of ``x`` (height, width, channels) it reads, with the layer's own padding, so
        each frame's output is the layer's value at that cell (a convolution's: one input channel's
        partial sum, before the bias). None for a kind without a window.
        """
        w = self.window(op)
        if w is None:
            return None
        ar, (r0, c0), out_origin = neighbourhood_arithmetic(x.shape[:2], *w, at, radius)
        fr = self.frames(op, x[r0 : r0 + ar[0].size, c0 : c0 + ar[1].size, :], in_channel, out_channel, ar)
        return None if fr is None else replace(fr, in_origin=(r0, c0), out_origin=out_origin)

    def describe(self, op, in_shape: tuple, out_shape: tuple, maps: np.ndarray | None = None) -> str:
        """One or two plain sentences on what this layer did."""
        return ""

    # ---- its part in a network made from a spec (the Layer stack editor, training)
    makes_channels = False  # whether its output channels are its own (a convolution's filters), not its input's

    def channels(self, op, in_channels: int) -> int:
        """How many channels the layer gives for ``in_channels`` input channels."""
        return in_channels

    def to_keras(self, op, index: int):
        """A fresh, untrained Keras layer with the op's settings, named for layer ``index`` (counting from 1).

        Raises:
            CnnError: naming layer ``index`` and what training accepts, for settings Keras training can't take.
        """
        raise CnnError(f"Layer {index}: {self.title.lower()} layers can't be trained here.")


def value_at(y: np.ndarray, row: int, col: int, channel: int) -> float:
    """The value of (height, width, channels) or (units,) maps at a position ((0, 0, unit) for units)."""
    return float(y[channel] if y.ndim == 1 else y[row, col, channel])


def g(v: float) -> str:
    """A number as the explanations print it."""
    return f"{v:.6g}"


def percent_text(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage that never rounds to 0% or 100% unless it is exactly that."""
    if whole <= 0 or part <= 0:
        return "0%"
    if part >= whole:
        return "100%"
    pct = 100.0 * part / whole
    for digits in (0, 1, 2):
        text = f"{pct:.{digits}f}"
        if 0 < float(text) < 100:
            return f"{text}%"
    return "over 99.99%" if pct > 50 else "under 0.01%"
