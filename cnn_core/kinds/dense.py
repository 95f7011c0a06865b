"""The dense kind: every input times its weight, plus a bias, per unit (Keras ``Dense`` on a flat input)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activation import ActivationDetail, worked
from .base import Kind, LazyWeights, value_at


@dataclass(frozen=True, eq=False)
class DenseOp(LazyWeights):
    """units; weights() gives (kernel (inputs, units), bias (units,)); the layer's own activation."""

    units: int
    weights: object
    activation: str = "linear"
    alpha: float = 0.2


@dataclass(frozen=True)
class DenseDetail:
    """One unit's sum: inputs (n,) × weights (n,) = products (n,), plus the bias.

    ``positions`` (n, 3) gives each input's (row, col, channel) in the map the Dense layer reads, unflattened
    channels-last when that map came out of a Flatten of (height, width, channels) maps, else (0, 0, index).
    """

    kind: str
    inputs: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    positions: np.ndarray
    bias: float
    total: float
    activation: ActivationDetail | None = None

    def largest(self, k: int = 10) -> tuple[np.ndarray, float]:
        """The indices of the ``k`` products largest in size, and the sum of all the others."""
        order = np.argsort(-np.abs(self.products), kind="stable")
        top = order[:k]
        return top, float(self.products[order[k:]].sum())

    def to_dict(self) -> dict:
        terms = [
            {
                "index": i,
                "row": int(self.positions[i, 0]),
                "col": int(self.positions[i, 1]),
                "channel": int(self.positions[i, 2]),
                "input": float(self.inputs[i]),
                "padding": False,
                "weight": float(self.weights[i]),
                "product": float(self.products[i]),
            }
            for i in range(self.inputs.size)
        ]
        d = {"terms": terms, "bias": self.bias, "total": self.total}
        if self.activation is not None:
            d["activation"] = self.activation.to_dict()
        return d


class DenseKind(Kind):
    name = "dense"
    title = "Dense"

    def out_shape(self, op: DenseOp, in_shape):
        return (*in_shape[:-1], op.units)

    def params(self, op: DenseOp, in_shape) -> int:
        return in_shape[-1] * op.units + op.units

    def madds(self, op: DenseOp, in_shape, out_shape) -> int:
        return int(np.prod(in_shape)) * op.units

    def run(self, op: DenseOp, x):
        from .. import ops

        y = (x.astype(np.float32) @ op.kernel + op.bias).astype(np.float32)
        return y if op.activation == "linear" else ops.activation(y, op.activation, op.alpha)

    def explain(self, op: DenseOp, x, y, arith, row, col, channel, source_shape=None) -> DenseDetail:
        vec = x[row, col] if x.ndim == 3 else x.reshape(-1)
        inputs = vec.astype(np.float64)
        weights = op.kernel[:, channel].astype(np.float64)
        products = inputs * weights
        bias = float(op.bias[channel])
        total = float(products.sum() + bias)
        n = inputs.size
        if x.ndim == 3:
            positions = np.stack([np.full(n, row), np.full(n, col), np.arange(n)], axis=1)
        elif source_shape is not None and len(source_shape) == 3 and int(np.prod(source_shape)) == n:
            h, w, c = source_shape
            idx = np.arange(n)
            positions = np.stack([idx // (w * c), (idx // c) % w, idx % c], axis=1)
        else:
            positions = np.stack([np.zeros(n, int), np.zeros(n, int), np.arange(n)], axis=1)
        act = None
        if op.activation != "linear":
            act = worked(op.activation, op.alpha, total, value_at(y, row, col, channel))
        return DenseDetail("dense", inputs, weights, products, positions, bias, total, act)

    def describe(self, op: DenseOp, in_shape, out_shape, maps=None) -> str:
        n = int(np.prod(in_shape))
        act = f", then {op.activation}" if op.activation != "linear" else ""
        return (
            f"Each of the {op.units} units multiplies all {n:,} inputs by its own weights and adds them up with "
            f"its bias{act}."
        )


KIND = DenseKind()
