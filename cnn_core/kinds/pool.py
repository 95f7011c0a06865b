"""The pooling kind: max and average pooling over a sliding window, and global pooling over the whole map."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import geometry
from .base import Frames, Kind, value_at
from .conv import _taps

Pair = tuple[int, int]


@dataclass(frozen=True)
class PoolOp:
    """mode "max" or "avg"; size and strides (down, across); padding "same" or "valid".

    A global pool (``whole=True``) takes each channel's whole map; its output is (channels,), or
    (1, 1, channels) with ``keepdims``.
    """

    mode: str = "max"
    size: Pair = (2, 2)
    strides: Pair = (2, 2)
    padding: str = "valid"
    whole: bool = False
    keepdims: bool = False


@dataclass(frozen=True)
class Cell:
    """One cell of a pooling window, in the layer's input."""

    row: int
    col: int
    value: float | None  # None for padding
    padding: bool


@dataclass(frozen=True)
class PoolDetail:
    """One pooling window and what came out of it.

    For max pooling ``winner`` is the cell that won (the first one, row by row, on a tie); for average
    pooling ``count`` is how many real cells were averaged (padding never counts).
    """

    kind: str
    mode: str
    window: tuple[Cell, ...]  # row by row, (size_h × size_w) cells
    size: Pair
    stride: Pair
    pads: tuple[Pair, Pair]
    winner: Cell | None
    count: int
    sum: float
    total: float

    def to_dict(self) -> dict:
        d: dict = {"mode": self.mode}
        d["window"] = [{"row": c.row, "col": c.col, "input": c.value, "padding": c.padding} for c in self.window]
        if self.mode == "max":
            w = self.winner
            d["winner"] = None if w is None else {"row": w.row, "col": w.col, "input": w.value}
        else:
            d["count"] = self.count
            d["sum"] = self.sum
        d["total"] = self.total
        return d


class PoolKind(Kind):
    name = "pool2d"
    title = "Pooling"

    def _window(self, op: PoolOp, in_shape):
        if op.whole:
            return tuple(in_shape[:2]), (1, 1), (1, 1), "valid"
        return op.size, op.strides, (1, 1), op.padding

    def window(self, op: PoolOp):
        return None if op.whole else self._window(op, None)

    def arithmetic(self, op: PoolOp, in_shape):
        return geometry.arithmetic2d(in_shape[:2], *self._window(op, in_shape))

    def out_shape(self, op: PoolOp, in_shape):
        if op.whole:
            return (1, 1, in_shape[2]) if op.keepdims else (in_shape[2],)
        ah, aw = self.arithmetic(op, in_shape)
        return (ah.out, aw.out, in_shape[2])

    def field(self, g, op: PoolOp, arith, in_shape):
        if op.whole:
            return g.whole(in_shape[:2])
        return super().field(g, op, arith, in_shape)

    def run(self, op: PoolOp, x):
        from .. import ops

        if op.whole:
            y = x.max(axis=(0, 1)) if op.mode == "max" else x.mean(axis=(0, 1), dtype=np.float32)
            return y.reshape(self.out_shape(op, x.shape)).astype(np.float32)
        return ops.pool2d(x, op.mode, op.size, op.strides, op.padding)

    def run_rows(self, op: PoolOp, x, arith, r0, r1):
        """Pooled output rows r0..r1: the band padded by hand, then pooled with "valid" padding.

        Max pooling pads with −inf (padding never wins, as in TensorFlow). Average pooling pads with zeros
        and rescales each window's mean to count only its real cells, as TensorFlow does.
        """
        from .. import ops

        ah, aw = arith
        first, last, (t, b) = geometry.band_rows(ah, r0, r1)
        band = x[first:last]
        left, right = aw.pads
        fill = -np.inf if op.mode == "max" else 0.0
        if t or b or left or right:
            band = np.pad(band, ((t, b), (left, right), (0, 0)), constant_values=fill)
        y = ops.pool2d(band, op.mode, op.size, op.strides, "valid")
        if op.mode == "avg" and (t or b or left or right):
            rows = geometry.real_cells(ah, r0, r1)
            cols = geometry.real_cells(aw, 0, aw.out)
            y = y * (np.float32(ah.kernel * aw.kernel) / np.outer(rows, cols).astype(np.float32))[:, :, None]
        return y

    def cost(self, op: PoolOp, in_shape, out_shape):
        from ..cost import POOL_CHANNEL_BLOCK, _round_up

        kh, kw = op.size
        ho, wo = out_shape[:2]
        c = in_shape[2]
        # Every window is visited in full, a block of POOL_CHANNEL_BLOCK channels at a time; large windows
        # cost more per cell than small ones, so the cells count once more weighted by the longer side.
        cells = ho * wo * kh * kw * _round_up(c, POOL_CHANNEL_BLOCK)
        return f"pool2d:{op.mode}", (cells, math.prod(out_shape), math.prod(in_shape), cells * max(kh, kw))

    def longest_call_seconds(self, op: PoolOp, in_shape, out_shape):
        from ..cost import EAGER_POOL_NS, POOL_CHANNEL_BLOCK, _round_up
        from ..formulations import SHIFTED_POOL_MAX_CELLS

        kh, kw = op.size
        if op.whole or kh * kw <= SHIFTED_POOL_MAX_CELLS:
            return 0.0
        # Only eager pooling runs a window this large, at about the same cost per cell whatever its size.
        cells = out_shape[0] * out_shape[1] * kh * kw * _round_up(in_shape[2], POOL_CHANNEL_BLOCK)
        return 1e-9 * EAGER_POOL_NS[op.mode] * cells

    def explain(self, op: PoolOp, x, y, arith, row, col, channel, source_shape=None) -> PoolDetail:
        kernel, strides, _, _ = self._window(op, x.shape)
        if op.whole:
            row = col = 0
        pads = geometry.pads_of(arith)
        rows, cols = geometry.window_cells(row, col, kernel, strides, (1, 1), pads)
        vals, pad = geometry.gather(x, rows, cols, channel)
        cells = tuple(
            Cell(int(r), int(c), None if pad[i, j] else float(vals[i, j]), bool(pad[i, j]))
            for i, r in enumerate(rows)
            for j, c in enumerate(cols)
        )
        real = [cell for cell in cells if not cell.padding]
        total = value_at(y, row, col, channel)
        winner = None
        if op.mode == "max" and real:
            best = max(cell.value for cell in real)  # type: ignore[type-var]
            winner = next(cell for cell in real if cell.value == best)
        sum_ = float(sum(np.float64(cell.value) for cell in real))
        return PoolDetail("pool2d", op.mode, cells, kernel, strides, pads, winner, len(real), sum_, total)

    def frames(self, op: PoolOp, x, in_channel, out_channel, arith_of_crop) -> Frames | None:
        """The pooling window over a crop of channel ``out_channel``, by tf.nn.max_pool2d / avg_pool2d."""
        from .. import formulations, ops

        if op.whole:
            return None
        crop = np.asarray(x[:, :, out_channel], np.float64)
        ar = arith_of_crop
        pads = geometry.pads_of(ar)
        if any(map(any, pads)):
            # The crop's own padding (explicit where the whole map's rule gave "same"): pad by hand as TF does.
            fill = -np.inf if op.mode == "max" else 0.0
            padded = np.pad(crop, pads, constant_values=fill).astype(np.float32)
            with formulations.forcing("eager"):
                out = ops.pool2d(padded[:, :, None], op.mode, op.size, op.strides, "valid")[:, :, 0].astype(np.float64)
            if op.mode == "avg":
                out = (
                    out
                    * (op.size[0] * op.size[1])
                    / np.outer(geometry.real_cells(ar[0], 0, ar[0].out), geometry.real_cells(ar[1], 0, ar[1].out)).clip(
                        min=1
                    )
                )
        else:
            with formulations.forcing("eager"):
                out = ops.pool2d(crop[:, :, None].astype(np.float32), op.mode, op.size, op.strides, "valid")
            out = out[:, :, 0].astype(np.float64)
        taps = _taps(crop.shape, ar, op.size, op.strides, (1, 1))
        out = np.where(np.isfinite(out), out, np.nan)
        for t, (_, _, pad) in enumerate(taps):  # a window of only padding has no value
            if pad.all():
                out.flat[t] = np.nan
        return Frames(
            crop, out, taps, ar, f"{op.mode} pooling of channel {out_channel}", op.size, op.strides, (1, 1), op.padding
        )

    def describe(self, op: PoolOp, in_shape, out_shape, maps=None) -> str:
        what = "keeps the largest value" if op.mode == "max" else "takes the average"
        if op.whole:
            return f"Global {op.mode} pooling {what} of each channel's whole {in_shape[0]}×{in_shape[1]} map: one number per channel."
        ph, pw = op.size
        sh, _ = op.strides
        tail = " (only the real cells, not padding)" if op.mode == "avg" and op.padding == "same" else ""
        return (
            f"{op.mode.capitalize()} pooling {what} of each {ph}×{pw} window{tail}, stepping {sh} at a time: "
            f"the map goes from {in_shape[0]}×{in_shape[1]} to {out_shape[0]}×{out_shape[1]}. Each channel is pooled on its own."
        )

    def to_keras(self, op: PoolOp, index: int):
        import keras

        if op.whole:
            return super().to_keras(op, index)
        pool = keras.layers.MaxPooling2D if op.mode == "max" else keras.layers.AveragePooling2D
        return pool(op.size, strides=op.strides, padding=op.padding, name=f"{op.mode}_pool_{index}")


KIND = PoolKind()
