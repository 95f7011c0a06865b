"""Kinds that move values without arithmetic: Flatten and ZeroPadding2D."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Kind, value_at


@dataclass(frozen=True)
class FlattenOp:
    pass


@dataclass(frozen=True)
class PadOp:
    pads: tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))


@dataclass(frozen=True)
class CopyDetail:
    """A value copied from one place of the input (or a zero of padding)."""

    kind: str
    row: int
    col: int
    channel: int
    input: float
    padding: bool
    formula: str

    def to_dict(self) -> dict:
        return {
            "source": {"row": self.row, "col": self.col, "channel": self.channel, "padding": self.padding},
            "formula": self.formula,
            "total": self.input,
        }


def unflatten(index: int, shape: tuple) -> tuple[int, int, int]:
    """(row, col, channel) of entry ``index`` of (height, width, channels) maps flattened channels-last."""
    h, w, c = shape
    return index // (w * c), (index // c) % w, index % c


class FlattenKind(Kind):
    name = "flatten"
    title = "Flatten"

    def out_shape(self, op, in_shape):
        return (int(np.prod(in_shape)),)

    def source(self, op, in_shape, row, col, channel):
        return unflatten(channel, in_shape) if len(in_shape) == 3 else None

    def field(self, g, op, arith, in_shape):
        return g.whole(in_shape[:2]) if len(in_shape) == 3 else g

    def run(self, op, x):
        return x.reshape(-1)

    def explain(self, op, x, y, arith, row, col, channel, source_shape=None) -> CopyDetail:
        r, c, ch = unflatten(channel, x.shape) if x.ndim == 3 else (0, 0, channel)
        v = value_at(x, r, c, ch)
        return CopyDetail(
            "flatten", r, c, ch, v, False, f"entry {channel} = row {r}, column {c}, channel {ch} (channels last)"
        )

    def describe(self, op, in_shape, out_shape, maps=None) -> str:
        return (
            f"Flatten lays the {'×'.join(map(str, in_shape))} maps out as one row of {out_shape[0]:,} numbers, "
            "channels fastest (TensorFlow's channels-last order); nothing is computed."
        )


class PadKind(Kind):
    name = "zero_padding"
    title = "Zero padding"

    def out_shape(self, op: PadOp, in_shape):
        (t, b), (left, r) = op.pads
        return (in_shape[0] + t + b, in_shape[1] + left + r, in_shape[2])

    def field(self, g, op: PadOp, arith, in_shape):
        return g.step((1, 1), (1, 1), (1, 1), (op.pads[0][0], op.pads[1][0]))

    def run(self, op: PadOp, x):
        return np.pad(x, (*op.pads, (0, 0)))

    def explain(self, op: PadOp, x, y, arith, row, col, channel, source_shape=None) -> CopyDetail:
        r, c = row - op.pads[0][0], col - op.pads[1][0]
        inside = 0 <= r < x.shape[0] and 0 <= c < x.shape[1]
        v = float(x[r, c, channel]) if inside else 0.0
        text = f"input row {r}, column {c}" if inside else "a zero of the padding"
        return CopyDetail("zero_padding", r, c, channel, v, not inside, f"copies {text}")

    def describe(self, op: PadOp, in_shape, out_shape, maps=None) -> str:
        (t, b), (left, r) = op.pads
        return f"Adds rows and columns of zeros around the maps ({t} top, {b} bottom, {left} left, {r} right)."


FLATTEN = FlattenKind()
PAD = PadKind()
