"""Sliding-window arithmetic: the only place output sizes, padding, windows and receptive-field steps are worked out.

Every layer that slides a window (a convolution, a pooling layer) and everything that explains, animates or
traces one asks this module; nothing else computes a pad or an output length. The rules are TensorFlow's:

- "valid": no padding; out = floor((size − span) / stride) + 1, with span = dilation·(kernel − 1) + 1;
- "same": out = ceil(size / stride), padded by max((out − 1)·stride + span − size, 0) in total, the odd
  extra pixel after (bottom, right);
- explicit (before, after) pairs: as given.

Positions before 0 or past the input's end are padding. A window's taps for output o along one axis are
input cells o·stride − pad_before + dilation·t for t = 0 … kernel − 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Pair = tuple[int, int]
Pads = tuple[Pair, Pair]  # ((top, bottom), (left, right))


def span(kernel: int, dilation: int = 1) -> int:
    """How many input cells one window covers along an axis: dilation·(kernel − 1) + 1."""
    return dilation * (kernel - 1) + 1


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> Pair:
    """TensorFlow's SAME padding of one axis as (before, after): output ceil(size / stride), odd pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + span(kernel, dilation) - size, 0)
    return total // 2, total - total // 2


def axis_pads(size: int, kernel: int, stride: int, dilation: int, padding) -> Pair:
    """(before, after) along one axis for ``padding`` "same", "valid" or an explicit (before, after) pair."""
    if padding == "same":
        return same_pads(size, kernel, stride, dilation)
    if padding == "valid":
        return 0, 0
    before, after = padding
    return int(before), int(after)


def out_size(size: int, pads: Pair, kernel: int, stride: int, dilation: int = 1) -> int:
    """floor((size + pad_total − span) / stride) + 1 along one axis (0 or less when the window does not fit)."""
    return (size + pads[0] + pads[1] - span(kernel, dilation)) // stride + 1


def pads2d(shape: Pair, kernel: Pair, strides: Pair, dilation: Pair, padding) -> Pads:
    """((top, bottom), (left, right)) for "same", "valid" or ((top, bottom), (left, right)) on a (height, width)."""
    per_axis = (padding, padding) if isinstance(padding, str) else padding
    return tuple(axis_pads(shape[a], kernel[a], strides[a], dilation[a], per_axis[a]) for a in (0, 1))  # type: ignore[return-value]


def out_shape2d(shape: Pair, kernel: Pair, strides: Pair, dilation: Pair, padding) -> Pair:
    """(out_height, out_width) of a window sliding over a (height, width) input."""
    pads = pads2d(shape, kernel, strides, dilation, padding)
    return tuple(out_size(shape[a], pads[a], kernel[a], strides[a], dilation[a]) for a in (0, 1))  # type: ignore[return-value]


@dataclass(frozen=True)
class AxisArithmetic:
    """out = floor((size + pad_total − dilation·(kernel−1) − 1) / stride) + 1 for one axis."""

    axis: str  # "height" or "width"
    size: int
    kernel: int
    stride: int
    dilation: int
    pad_before: int
    pad_after: int
    out: int

    @property
    def pad_total(self) -> int:
        return self.pad_before + self.pad_after

    @property
    def pads(self) -> Pair:
        return self.pad_before, self.pad_after

    def formula(self) -> str:
        """The formula with the numbers filled in, e.g. ``floor((300 + 2 − 1·(3−1) − 1) / 1) + 1 = 300``."""
        return (
            f"floor(({self.size} + {self.pad_total} − {self.dilation}·({self.kernel}−1) − 1) / {self.stride}) + 1"
            f" = {self.out}"
        )


def axis_arithmetic(axis: str, size: int, kernel: int, stride: int, dilation: int, padding) -> AxisArithmetic:
    """The output length along one axis, with TensorFlow's rules for "same" and "valid".

    ``padding`` is "same", "valid" or (before, after).
    """
    before, after = axis_pads(size, kernel, stride, dilation, padding)
    out = out_size(size, (before, after), kernel, stride, dilation)
    return AxisArithmetic(axis, size, kernel, stride, dilation, before, after, max(out, 0))


def arithmetic2d(
    shape: Pair, kernel: Pair, strides: Pair, dilation: Pair, padding
) -> tuple[AxisArithmetic, AxisArithmetic]:
    """The height and width AxisArithmetic of a window over a (height, width) input."""
    per_axis = (padding, padding) if isinstance(padding, str) else padding
    return (
        axis_arithmetic("height", shape[0], kernel[0], strides[0], dilation[0], per_axis[0]),
        axis_arithmetic("width", shape[1], kernel[1], strides[1], dilation[1], per_axis[1]),
    )


def pads_of(arith: tuple[AxisArithmetic, ...]) -> Pads:
    """((top, bottom), (left, right)) of a layer's (height, width) arithmetic."""
    ah, aw = arith
    return (ah.pads, aw.pads)


# --------------------------------------------------------------------------- windows


def window_cells(
    row: int, col: int, kernel: Pair, stride: Pair, dilation: Pair, pads: Pads
) -> tuple[np.ndarray, np.ndarray]:
    """The input rows (kernel_h,) and columns (kernel_w,) the window of output (row, col) reads.

    Positions before 0 or past the input's end are padding.
    """
    (top, _), (left, _) = pads
    rows = row * stride[0] - top + dilation[0] * np.arange(kernel[0])
    cols = col * stride[1] - left + dilation[1] * np.arange(kernel[1])
    return rows, cols


def padding_mask(rows: np.ndarray, cols: np.ndarray, shape: Pair) -> np.ndarray:
    """(len(rows), len(cols)) bool: True where the window's cell lies outside a (height, width) input."""
    h, w = shape
    rin = (rows >= 0) & (rows < h)
    cin = (cols >= 0) & (cols < w)
    return ~(rin[:, None] & cin[None, :])


def gather(
    x: np.ndarray, rows: np.ndarray, cols: np.ndarray, channels, fill: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Values of (height, width, channels) ``x`` under a window, ``fill`` for padding, and the padding mask.

    Returns:
        (values, mask): values (len(rows), len(cols)[, C]) as ``x[..., channels]`` indexes them; mask
        (len(rows), len(cols)).
    """
    h, w = x.shape[:2]
    pad = padding_mask(rows, cols, (h, w))
    vals = x[np.clip(rows, 0, h - 1)[:, None], np.clip(cols, 0, w - 1)[None, :]][:, :, channels]
    vals = np.where(pad[:, :, None] if vals.ndim == 3 else pad, fill, vals)
    return vals, pad


def real_cells(a: AxisArithmetic, o0: int, o1: int) -> np.ndarray:
    """How many unpadded cells each window from output o0 to o1 covers along one axis (stride, no dilation)."""
    start = np.arange(o0, o1) * a.stride - a.pad_before
    return np.minimum(start + a.kernel, a.size) - np.maximum(start, 0)


def band_rows(a: AxisArithmetic, r0: int, r1: int) -> tuple[int, int, Pair]:
    """The input rows [first, last) that output rows r0..r1 read, and the (top, bottom) zero padding around them.

    Windows may reach into the padding above row 0 and below the last row, or (with a large explicit
    padding) lie wholly in it; the band then holds fewer real rows, or none.
    """
    lo = r0 * a.stride - a.pad_before
    hi = (r1 - 1) * a.stride + span(a.kernel, a.dilation) - a.pad_before
    top = max(0, min(0, hi) - lo)
    bottom = max(0, hi - max(lo, a.size))
    first = max(lo, 0)
    return first, max(min(hi, a.size), first), (top, bottom)


# --------------------------------------------------------------------------- receptive field


@dataclass(frozen=True)
class FieldGeometry:
    """The affine map from a layer's positions to input pixels, per axis (height, width).

    Position o sees input pixels start + o·jump … start + o·jump + size − 1; of those, exactly the ones at
    start + o·jump + t for t in ``offsets`` (a dilated or strided window skips some; every one listed is
    reached through some tap).
    """

    size: Pair
    jump: Pair
    start: Pair
    offsets: tuple[frozenset, frozenset] = (frozenset({0}), frozenset({0}))

    @staticmethod
    def identity() -> FieldGeometry:
        return FieldGeometry((1, 1), (1, 1), (0, 0))

    def step(self, kernel: Pair, stride: Pair, dilation: Pair, pads_before: Pair) -> FieldGeometry:
        """Through one more window: r_out = r_in + (k − 1)·d·j_in, j_out = j_in·s, start −= pad_before·j_in."""
        r = tuple(self.size[a] + (kernel[a] - 1) * dilation[a] * self.jump[a] for a in (0, 1))
        j = tuple(self.jump[a] * stride[a] for a in (0, 1))
        s = tuple(self.start[a] - pads_before[a] * self.jump[a] for a in (0, 1))
        offsets = tuple(
            frozenset(o + t * dilation[a] * self.jump[a] for o in self.offsets[a] for t in range(kernel[a]))
            for a in (0, 1)
        )
        return FieldGeometry(r, j, s, offsets)  # type: ignore[arg-type]

    def merge(self, other: FieldGeometry) -> FieldGeometry:
        """The field covering both of two branches that meet (an Add or Concatenate): the union of the two."""
        if self.jump != other.jump:
            # Branches at different strides cannot meet in one map; keep the wider one.
            return self if self.size[0] * self.size[1] >= other.size[0] * other.size[1] else other
        start = tuple(min(self.start[a], other.start[a]) for a in (0, 1))
        end = tuple(max(self.start[a] + self.size[a], other.start[a] + other.size[a]) for a in (0, 1))
        offsets = tuple(
            frozenset(o + f.start[a] - start[a] for f in (self, other) for o in f.offsets[a]) for a in (0, 1)
        )
        return FieldGeometry(tuple(end[a] - start[a] for a in (0, 1)), self.jump, start, offsets)  # type: ignore[arg-type]

    def whole(self, shape: Pair) -> FieldGeometry:
        """After a layer that mixes every position of (height, width) maps (Flatten, Dense, global pooling).

        The field is the union of every position's: from position 0's start to the last position's end. The
        result has one position, so its jump is (0, 0).
        """
        size = tuple(self.size[a] + (shape[a] - 1) * self.jump[a] for a in (0, 1))
        offsets = tuple(
            frozenset(o + p * self.jump[a] for o in self.offsets[a] for p in range(shape[a])) for a in (0, 1)
        )
        return FieldGeometry(size, (0, 0), self.start, offsets)  # type: ignore[arg-type]

    def box(self, row: int, col: int, shape: Pair) -> tuple[Pair, tuple[int, int, int, int] | None, int]:
        """For position (row, col) on a (height, width) input: the unclipped (top, left); the field clipped to
        the input as (top, left, bottom, right), inclusive (None when it lies wholly in padding); and how many
        of the size[0]·size[1] pixels of the field lie outside the input.
        """
        first = (self.start[0] + row * self.jump[0], self.start[1] + col * self.jump[1])
        h, w = shape
        box = (
            max(first[0], 0),
            max(first[1], 0),
            min(first[0] + self.size[0], h) - 1,
            min(first[1] + self.size[1], w) - 1,
        )
        inside = max(box[2] - box[0] + 1, 0) * max(box[3] - box[1] + 1, 0)
        return first, (box if inside else None), self.size[0] * self.size[1] - inside

    def reads(self, row: int, col: int, shape: Pair) -> tuple[int, int, int, int] | None:
        """The first and last input rows and columns that position (row, col) actually reads, inclusive.

        Within ``box`` but tighter where a dilated or strided window skips the clipped field's border rows or
        columns (the support of the input gradient, for non-zero weights). None when it reads no pixel.
        """
        first = (self.start[0] + row * self.jump[0], self.start[1] + col * self.jump[1])
        ends = []
        for a in (0, 1):
            inside = [first[a] + o for o in self.offsets[a] if 0 <= first[a] + o < shape[a]]
            if not inside:
                return None
            ends.append((min(inside), max(inside)))
        return ends[0][0], ends[1][0], ends[0][1], ends[1][1]


# --------------------------------------------------------------------------- a crop for the animation


def crop_arithmetic(
    in_shape: Pair, kernel: Pair, stride: Pair, dilation: Pair, padding, side: int = 8, most: int = 14
) -> tuple[AxisArithmetic, AxisArithmetic]:
    """The arithmetic of a window sliding over the top-left corner of a (height, width) input, as a whole input.

    The crop is ``side`` cells a side (even, so stride 2 with "same" shows the uneven padding), grown up to
    ``most`` to show a stride's step, never beyond the input; grown once more when the window does not fit
    in it (valid padding, a large dilation). Its padding follows the layer's rule: "same" pads the crop as
    TensorFlow would, explicit padding is kept, "valid" has none.
    """
    per_axis = (padding, padding) if isinstance(padding, str) else padding
    out = []
    for a in (0, 1):
        n = max(min(in_shape[a], max(side, min(span(kernel[a], dilation[a]) + stride[a], most))), 1)
        ar = axis_arithmetic("hw"[a], n, kernel[a], stride[a], dilation[a], per_axis[a])
        if ar.out < 1:
            n = min(in_shape[a], span(kernel[a], dilation[a]) - ar.pad_total)
            ar = axis_arithmetic("hw"[a], n, kernel[a], stride[a], dilation[a], per_axis[a])
        out.append(ar)
    return out[0], out[1]


def neighbourhood_arithmetic(
    in_shape: Pair, kernel: Pair, stride: Pair, dilation: Pair, padding, at: Pair, radius: int = 3
) -> tuple[tuple[AxisArithmetic, AxisArithmetic], Pair, Pair]:
    """The arithmetic of a window sliding over the outputs around ``at`` = (row, col), on the input it reads.

    The outputs are a (2·radius+1)-square block centred on ``at``, shifted inward (never shrunk unless the
    map is smaller) where it meets a border. The crop is the real input those windows read; its padding is
    exactly the layer's padding that falls inside them, so a "valid" sweep of the padded crop gives the
    layer's own outputs at those cells.

    Returns:
        ((height, width) AxisArithmetic of the crop with its explicit padding, whose ``out`` is the block's
        size), (first input row, first input column) of the crop, (first output row, first output column)
        of the block.
    """
    per_axis = (padding, padding) if isinstance(padding, str) else padding
    ars, firsts, outs = [], [], []
    n = 2 * radius + 1
    for a in (0, 1):
        full = axis_arithmetic("hw"[a], in_shape[a], kernel[a], stride[a], dilation[a], per_axis[a])
        start = min(max(at[a] - radius, 0), max(full.out - n, 0))
        for o0, o1 in (
            (start, min(full.out, start + n)),
            (0, full.out),
        ):  # the whole axis when the block reads only a wide padding
            lo = o0 * stride[a] - full.pad_before
            hi = (o1 - 1) * stride[a] - full.pad_before + span(kernel[a], dilation[a])  # exclusive
            first, last = max(lo, 0), min(hi, in_shape[a])
            if last > first:
                break
        before, after = first - lo, hi - last
        size = last - first
        ars.append(AxisArithmetic("hw"[a], size, kernel[a], stride[a], dilation[a], before, after, o1 - o0))
        firsts.append(first)
        outs.append(o0)
    return (ars[0], ars[1]), (firsts[0], firsts[1]), (outs[0], outs[1])
