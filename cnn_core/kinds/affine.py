"""The affine kind: y = x·scale + offset per channel (BatchNormalization at inference, Rescaling)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Kind, g, value_at


@dataclass(frozen=True, eq=False)
class AffineOp:
    """scale and offset: scalars or (channels,); ``source`` names the layer ("batch_norm" or "rescaling").

    For batch normalisation, scale = γ / √(variance + ε) and offset = β − mean·scale; ``parts`` keeps
    (γ, β, mean, variance, ε) to show where they came from.
    """

    scale: np.ndarray
    offset: np.ndarray
    source: str = "rescaling"
    parts: tuple | None = None


@dataclass(frozen=True)
class AffineDetail:
    kind: str
    input: float
    scale: float
    offset: float
    total: float
    formula: str
    worked: str

    def to_dict(self) -> dict:
        return {"formula": self.formula, "worked": self.worked, "input": self.input, "scale": self.scale,
                "offset": self.offset, "total": self.total}  # fmt: skip


def _at(v: np.ndarray, channel: int) -> float:
    v = np.asarray(v, np.float64)
    return float(v if v.ndim == 0 else v.reshape(-1)[channel % v.size])


class AffineKind(Kind):
    name = "affine"
    title = "Scale and shift"

    def run(self, op: AffineOp, x):
        return (x * np.asarray(op.scale, np.float32) + np.asarray(op.offset, np.float32)).astype(np.float32)

    def explain(self, op: AffineOp, x, y, arith, row, col, channel, source_shape=None) -> AffineDetail:
        xv = value_at(x, row, col, channel)
        s, o = _at(op.scale, channel), _at(op.offset, channel)
        total = xv * s + o
        if op.source == "batch_norm" and op.parts is not None:
            gamma, beta, mean, var, eps = (_at(p, channel) if np.ndim(p) else float(p) for p in op.parts)
            formula = "γ·(x − mean)/√(variance + ε) + β = x·scale + offset"
            text = (
                f"{g(gamma)}·({g(xv)} − {g(mean)})/√({g(var)} + {g(eps)}) + {g(beta)} = "
                f"{g(xv)}·{g(s)} + {g(o)} = {g(total)}"
            )
        else:
            formula = "x·scale + offset"
            text = f"{g(xv)}·{g(s)} + {g(o)} = {g(total)}"
        return AffineDetail(op.source, xv, s, o, total, formula, text)

    def describe(self, op: AffineOp, in_shape, out_shape, maps=None) -> str:
        if op.source == "batch_norm":
            return ("Batch normalisation, at inference a fixed scale and shift per channel: "
                    "γ·(x − mean)/√(variance + ε) + β.")  # fmt: skip
        return "Rescaling multiplies every value by a fixed scale and adds an offset."


KIND = AffineKind()
