"""The convolution kind: Conv2D (spec or Keras, with its own activation) and DepthwiseConv2D."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .. import geometry
from .activation import ActivationDetail, worked
from .base import Frames, Kind, LazyWeights, value_at

Pair = tuple[int, int]


@dataclass(frozen=True, eq=False)
class ConvOp(LazyWeights):
    """A convolution's numbers.

    Attributes:
        kernel_size: (kh, kw).
        in_channels, filters: input channels, and output channels (for depthwise: in_channels · multiplier).
        strides, dilation: (down, across).
        padding: "same", "valid" or ((top, bottom), (left, right)).
        weights: a function giving (kernel, bias): float32 (kh, kw, in_channels, filters) — for depthwise
            (kh, kw, in_channels, multiplier) — and (filters,); called once, when the numbers are first needed.
        depthwise: each input channel has its own filters (output channel c·multiplier + m reads channel c).
        activation, alpha: the activation the layer applies after the sum (Keras's ``activation=``).
    """

    kernel_size: Pair
    in_channels: int
    filters: int
    strides: Pair
    padding: object
    dilation: Pair
    weights: object
    depthwise: bool = False
    activation: str = "linear"
    alpha: float = 0.2
    depths: tuple[int, ...] = ()  # the depths of a spec's 3-D kernels (each must equal in_channels)

    def taps_of(self, channel: int) -> tuple[list[int], np.ndarray]:
        """The input channels output ``channel`` reads and its weights (kh, kw, len(channels)) on them."""
        if self.depthwise:
            m = self.kernel.shape[3]
            c = channel // m
            return [c], self.kernel[:, :, c : c + 1, channel % m]
        return list(range(self.in_channels)), self.kernel[:, :, :, channel]


@dataclass(frozen=True)
class Term:
    """One multiplication of a sum: input cell × weight."""

    row: int  # in the layer's input; negative or past the end for padding
    col: int
    channel: int
    input: float  # 0 for padding
    padding: bool
    weight: float
    product: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ConvDetail:
    """The whole sum behind one convolution output.

    The taps are kept as arrays of shape (kernel_h, kernel_w, in_channels), so a 7×7×32 window costs a
    few arrays rather than 1,568 objects; ``terms`` lists them.

    Attributes:
        rows, cols: (kernel_h, kernel_w) int arrays, the input cell under each tap.
        inputs, weights, products: (kernel_h, kernel_w, in_channels) arrays; padding (kernel_h, kernel_w).
        partial_sums: (in_channels,) float64, each input channel's share of the sum.
        bias: the filter's bias.
        total: sum of every product plus the bias (float64), before any activation of the layer's own.
        channels: the input channel of each of the in_channels slices (a depthwise filter reads one).
        activation: the layer's own activation applied to ``total`` (Keras ``activation=``), or None.
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
    stride: Pair
    dilation: Pair
    pads: tuple[Pair, Pair]  # ((top, bottom), (left, right)) of the layer's input
    channels: tuple[int, ...] = ()
    activation: ActivationDetail | None = None

    @property
    def kernel_size(self) -> Pair:
        return self.rows.shape  # type: ignore[return-value]

    @property
    def in_channels(self) -> int:
        return self.inputs.shape[2]

    def channel_terms(self, channel: int) -> list[Term]:
        """The terms of the ``channel``-th slice (of ``in_channels``), row by row."""
        kh, kw = self.kernel_size
        cid = self.channels[channel] if self.channels else channel
        return [
            Term(
                int(self.rows[i, j]),
                int(self.cols[i, j]),
                cid,
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

    def to_dict(self) -> dict:
        d = {
            "terms": [t.to_dict() for t in self.terms],
            "partial_sums": [float(v) for v in self.partial_sums],
            "bias": self.bias,
            "total": self.total,
        }
        if self.activation is not None:
            d["activation"] = self.activation.to_dict()
        return d


def _padding_words(padding) -> str:
    if padding == "same":
        return '"Same" padding adds a border of zeros so that, at stride 1, the size is kept'
    if padding == "valid":
        return '"Valid" padding: the kernel only visits places where it fits, so the map shrinks'
    (t, b), (left, r) = padding
    return f"The input is padded with zeros ({t} top, {b} bottom, {left} left, {r} right) before sliding"


class ConvKind(Kind):
    name = "conv2d"
    title = "Convolution"

    def window(self, op: ConvOp):
        return op.kernel_size, op.strides, op.dilation, op.padding

    def problem(self, op: ConvOp, in_shape):
        bad = sorted(d for d in set(op.depths) if d != in_shape[2])
        if bad:
            return (
                f"has 3-D kernels of depth {bad[0]} but its input has {in_shape[2]} channels; "
                "a 3-D kernel needs one weight slice per input channel"
            )
        return None

    def out_shape(self, op: ConvOp, in_shape):
        ah, aw = self.arithmetic(op, in_shape)
        return (ah.out, aw.out, op.filters)

    def params(self, op: ConvOp, in_shape) -> int:
        kh, kw = op.kernel_size
        if op.depthwise:
            return kh * kw * op.filters + op.filters
        return kh * kw * in_shape[2] * op.filters + op.filters

    def madds(self, op: ConvOp, in_shape, out_shape) -> int:
        kh, kw = op.kernel_size
        per = kh * kw * (1 if op.depthwise else in_shape[2])
        return out_shape[0] * out_shape[1] * op.filters * per

    def run(self, op: ConvOp, x: np.ndarray) -> np.ndarray:
        from .. import ops

        if op.depthwise:
            y = ops.depthwise_conv2d(x, op.kernel, op.strides, op.padding, op.dilation, op.bias)
        else:
            y = ops.conv2d(x, op.kernel, op.strides, op.padding, op.dilation, op.bias)
        return y if op.activation == "linear" else ops.activation(y, op.activation, op.alpha)

    def run_rows(self, op: ConvOp, x, arith, r0, r1):
        """Output rows r0..r1 from the input rows their windows cover, padded as the whole layer pads them."""
        from .. import ops

        ah, aw = arith
        first, last, (top, bottom) = geometry.band_rows(ah, r0, r1)
        if last <= first:  # every window lies in the zero padding: the output is the bias
            return np.broadcast_to(op.bias, (r1 - r0, aw.out, op.filters)).astype(np.float32)
        pads = ((top, bottom), aw.pads)
        if op.depthwise:
            y = ops.depthwise_conv2d(x[first:last], op.kernel, op.strides, pads, op.dilation, op.bias)
        else:
            y = ops.conv2d(x[first:last], op.kernel, op.strides, pads, op.dilation, op.bias)
        return y if op.activation == "linear" else ops.activation(y, op.activation, op.alpha)

    def cost(self, op: ConvOp, in_shape, out_shape):
        from ..cost import CONV_CHANNEL_BLOCK, _round_up

        kh, kw = op.kernel_size
        ho, wo, co = out_shape
        blocked = ho * wo * kh * kw * in_shape[2] * _round_up(co, CONV_CHANNEL_BLOCK)
        return "conv2d", (blocked, math.prod(out_shape), math.prod(in_shape))

    def explain(self, op: ConvOp, x, y, arith, row, col, channel, source_shape=None) -> ConvDetail:
        pads = geometry.pads_of(arith)
        rows, cols = geometry.window_cells(row, col, op.kernel_size, op.strides, op.dilation, pads)
        chans, kernel = op.taps_of(channel)
        inputs, pad = geometry.gather(x, rows, cols, chans)
        inputs = inputs.astype(np.float64)
        products = inputs * kernel.astype(np.float64)
        partial = products.sum(axis=(0, 1))
        bias = float(op.bias[channel])
        total = float(partial.sum() + bias)
        act = None
        if op.activation != "linear":
            act = worked(op.activation, op.alpha, total, value_at(y, row, col, channel))
        rr = np.broadcast_to(rows[:, None], pad.shape).copy()
        cc = np.broadcast_to(cols[None, :], pad.shape).copy()
        return ConvDetail(
            "conv2d", rr, cc, inputs, kernel.astype(np.float64), products, pad, partial, bias, total,
            op.strides, op.dilation, pads, tuple(chans), act,
        )  # fmt: skip

    def frames(self, op: ConvOp, x, in_channel, out_channel, arith_of_crop) -> Frames:
        """Filter ``out_channel``'s weights on input channel ``in_channel`` over the crop, by tf.nn.conv2d."""
        from .. import formulations, ops

        chans, kernel = op.taps_of(out_channel)
        if in_channel not in chans:
            in_channel = chans[0]
        w = kernel[:, :, chans.index(in_channel)]
        crop = np.asarray(x[:, :, in_channel], np.float64)
        ar = arith_of_crop
        pads = geometry.pads_of(ar)
        with formulations.forcing("eager"):
            out = ops.conv2d(crop[:, :, None].astype(np.float32), w[:, :, None, None], op.strides, pads, op.dilation)
        many = x.shape[2] > 1 and not op.depthwise
        what = f"filter {out_channel} on input channel {in_channel}" + (
            " (that channel's partial sums, no bias)" if many else " (no bias)"
        )
        return Frames(
            crop, out[:, :, 0].astype(np.float64), _taps(crop.shape, ar, op.kernel_size, op.strides, op.dilation),
            ar, what, op.kernel_size, op.strides, op.dilation, op.padding,
        )  # fmt: skip

    def describe(self, op: ConvOp, in_shape, out_shape, maps=None) -> str:
        kh, kw = op.kernel_size
        sh, sw = op.strides
        dh, dw = op.dilation
        cin = in_shape[2] if len(in_shape) == 3 else 1
        step = f"{sh} pixel{'s' if sh > 1 else ''}" if sh == sw else f"{sh} down and {sw} across"
        dil = f", with its taps spread {dh} pixels apart (dilation)" if max(dh, dw) > 1 else ""
        if op.depthwise:
            over = " on each input channel separately (depthwise)"
        else:
            over = f" over all {cin} input channels" if cin > 1 else ""
        n = op.filters
        depth = f"{n} filter{'s' if n > 1 else ''} → {n} output channel{'s' if n > 1 else ''}"
        frame = (
            " The zeros act as black pixels, so the border can light up."
            if op.padding != "valid" and kh * kw > 1
            else ""
        )
        act = f" Then {op.activation} is applied to every sum." if op.activation != "linear" else ""
        return (
            f"A {kh}×{kw} kernel slides {step} at a time{dil}; at each stop it multiplies the patch under it "
            f"by its weights{over} and adds up. {_padding_words(op.padding)}.{frame} {depth}.{act}"
        )

    makes_channels = True

    def channels(self, op: ConvOp, in_channels: int) -> int:
        return op.filters

    def to_keras(self, op: ConvOp, index: int):
        import keras

        from ..errors import CnnError

        if op.padding not in ("same", "valid"):
            raise CnnError(f"Layer {index}: training supports 'same' or 'valid' padding, not {op.padding!r}.")
        if op.strides != (1, 1) and op.dilation != (1, 1):
            raise CnnError(f"Layer {index}: a convolution with both a stride and a dilation can't be trained.")
        if op.depthwise or op.activation != "linear":
            raise CnnError(f"Layer {index}: training takes plain convolutions, without their own activation.")
        return keras.layers.Conv2D(
            op.filters, op.kernel_size, strides=op.strides, padding=op.padding, dilation_rate=op.dilation,
            name=f"conv_{index}",
        )  # fmt: skip


def _taps(shape: Pair, ar, kernel: Pair, stride: Pair, dilation: Pair) -> list:
    """(rows, cols, padding) of every output position's window on a (height, width) crop, row by row."""
    pads = geometry.pads_of(ar)
    out = []
    for i in range(ar[0].out):
        for j in range(ar[1].out):
            rows, cols = geometry.window_cells(i, j, kernel, stride, dilation, pads)
            rr, cc = np.meshgrid(rows, cols, indexing="ij")
            pad = geometry.padding_mask(rows, cols, shape)
            out.append((rr.ravel(), cc.ravel(), pad.ravel()))
    return out


KIND = ConvKind()
