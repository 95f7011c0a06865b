"""The element-wise activation kind: relu, leaky_relu, tanh, sigmoid, elu, gelu, linear."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .base import Kind, g, percent_text, value_at

FUNCTIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "elu", "gelu", "linear")

FORMULAS = {
    "relu": "max(0, x)",
    "leaky_relu": "x if x > 0, else α·x",
    "tanh": "tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)",
    "sigmoid": "1 / (1 + e⁻ˣ)",
    "elu": "x if x > 0, else eˣ − 1",
    "gelu": "x · Φ(x) = x · ½ · (1 + erf(x / √2))",
    "linear": "x",
}

_WORDS = {
    "relu": "ReLU keeps every positive value and turns every negative one into 0",
    "leaky_relu": "Leaky ReLU keeps positive values and shrinks negative ones by a factor of {alpha:g}",
    "tanh": "tanh squashes every value into the range −1 to 1",
    "sigmoid": "The sigmoid squashes every value into the range 0 to 1",
    "elu": "ELU keeps positive values and bends negative ones smoothly towards −1",
    "gelu": "GELU lets large positive values through, damps values near 0 and nearly zeroes large negative ones",
    "linear": "The linear activation passes every value through unchanged",
}

# The functions training builds as Keras activations (by Keras's own name). leaky_relu is built as a
# LeakyReLU layer with the spec's own alpha, so the trained slope is the one the page shows.
KERAS_NAMES = {"relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "leaky_relu": "leaky_relu"}


@dataclass(frozen=True)
class ActivationOp:
    function: str = "relu"
    alpha: float = 0.2  # leaky_relu's slope below 0


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

    def to_dict(self) -> dict:
        return {
            "function": self.function,
            "formula": self.formula,
            "worked": self.worked,
            "input": self.input,
            "total": self.output,
        }


# Each function's value worked out with its numbers, left of "= y": (x, alpha) -> text.
_WORKINGS = {
    "relu": lambda x, a: f"max(0, {g(x)})",
    "leaky_relu": lambda x, a: f"{g(a)} · {g(x)}",
    "tanh": lambda x, a: f"tanh({g(x)})",
    "sigmoid": lambda x, a: f"1 / (1 + e^{g(-x)})",
    "elu": lambda x, a: f"e^{g(x)} − 1",
    "gelu": lambda x, a: f"{g(x)} · ½ · (1 + erf({g(x / math.sqrt(2))}))",
}
_PASS_POSITIVE = ("leaky_relu", "elu")  # x > 0 comes out unchanged


def worked(function: str, alpha: float, x: float, y: float) -> ActivationDetail:
    """``function`` at x, giving y, as a formula and with its numbers."""
    f, a = function, alpha
    if f in _PASS_POSITIVE and x > 0:
        text = f"{g(x)} > 0, so {g(y)}"
    elif f in _WORKINGS:
        text = f"{_WORKINGS[f](x, a)} = {g(y)}"
    else:
        text = f"{g(x)} = {g(y)}"
    formula = FORMULAS[f].replace("α", f"α (= {g(a)})") if f == "leaky_relu" else FORMULAS[f]
    return ActivationDetail("activation", f, formula, text, x, y, a)


def apply(function: str, alpha: float, x: np.ndarray) -> np.ndarray:
    """The activation by TensorFlow (cnn_core.ops)."""
    from .. import ops

    return ops.activation(x, function, alpha)


class ActivationKind(Kind):
    name = "activation"
    title = "Activation"

    def run(self, op: ActivationOp, x: np.ndarray) -> np.ndarray:
        return apply(op.function, op.alpha, x)

    def cost(self, op: ActivationOp, in_shape, out_shape):
        return f"activation:{op.function}", (math.prod(in_shape),)

    def explain(self, op: ActivationOp, x, y, arith, row, col, channel, source_shape=None) -> ActivationDetail:
        return worked(op.function, op.alpha, value_at(x, row, col, channel), value_at(y, row, col, channel))

    def describe(self, op: ActivationOp, in_shape, out_shape, maps=None) -> str:
        text = _WORDS[op.function].format(alpha=op.alpha)
        if op.function == "relu" and maps is not None:
            zeros = percent_text(int(np.count_nonzero(maps == 0)), maps.size)
            return f"{text}: {zeros} of the values are now exactly 0. The shape does not change."
        return f"{text}. The shape does not change."

    def to_keras(self, op: ActivationOp, index: int):
        import keras

        from ..errors import CnnError

        if op.function not in KERAS_NAMES:
            raise CnnError(
                f"Layer {index}: training supports the activations {', '.join(KERAS_NAMES)}, not {op.function!r}."
            )
        name = f"{op.function}_{index}"
        if op.function == "leaky_relu":
            return keras.layers.LeakyReLU(negative_slope=float(op.alpha), name=name)
        return keras.layers.Activation(KERAS_NAMES[op.function], name=name)


KIND = ActivationKind()
