"""The layer kinds and their registry: the one place that looks at a layer's type.

    >>> kind, op = kinds.of_spec(layer, in_channels)   # a spec layer (Playground, Layer stack)
    >>> kind, op = kinds.of_keras(keras_layer)          # a Keras layer; (None, None) when no kind fits
    >>> kind.out_shape(op, in_shape); kind.run(op, x); kind.explain(op, x, y, arith, row, col, channel)

Kinds: convolution (incl. depthwise), pooling (max/avg, global), activation, dense, flatten, zero padding and
affine (batch normalisation at inference, rescaling). See base.Kind for what each offers.
"""

from __future__ import annotations

from .. import spec as _spec
from . import activation, affine, conv, dense, pool, reshape
from .activation import ActivationDetail, ActivationOp
from .affine import AffineDetail, AffineOp
from .base import ExplainError, Frames, Kind, percent_text, value_at
from .conv import ConvDetail, ConvOp, Term
from .dense import DenseDetail, DenseOp
from .pool import Cell, PoolDetail, PoolOp
from .reshape import CopyDetail, FlattenOp, PadOp

KINDS: dict[str, Kind] = {
    k.name: k for k in (conv.KIND, pool.KIND, activation.KIND, dense.KIND, reshape.FLATTEN, reshape.PAD, affine.KIND)
}


def _conv_op(layer: _spec.Conv2D, in_channels: int) -> ConvOp:
    return ConvOp(
        kernel_size=layer.kernel_size,
        in_channels=in_channels,
        filters=len(layer.filters),
        strides=layer.stride,
        padding=layer.padding,
        dilation=layer.dilation,
        weights=lambda: (_spec.layer_kernel(layer, in_channels), layer.bias),
        depths=tuple(f.depth for f in layer.filters if f.depth is not None),
    )


def _pool_op(layer: _spec.Pool2D, in_channels: int) -> PoolOp:
    return PoolOp(layer.mode, layer.size, layer.stride, layer.padding)


def _activation_op(layer: _spec.Activation, in_channels: int) -> ActivationOp:
    return ActivationOp(layer.function, layer.alpha)


# The spec's layer types, each with its kind and the function that makes its op.
_SPEC = {
    _spec.Conv2D: (conv.KIND, _conv_op),
    _spec.Pool2D: (pool.KIND, _pool_op),
    _spec.Activation: (activation.KIND, _activation_op),
}


def spec_kind(layer) -> Kind:
    """The kind of a spec layer (Conv2D, Activation or Pool2D)."""
    try:
        return _SPEC[type(layer)][0]
    except KeyError:
        raise TypeError(f"not a layer: {layer!r}") from None


def of_spec(layer, in_channels: int) -> tuple[Kind, object]:
    """(kind, op) of a spec layer whose input has ``in_channels`` channels (weights are built when first used)."""
    kind, make = _SPEC.get(type(layer), (None, None))
    if kind is None:
        raise TypeError(f"not a layer: {layer!r}")
    return kind, make(layer, in_channels)


def of_keras(layer) -> tuple[Kind | None, object | None, str]:
    """(kind, op, "") of a Keras layer, or (None, None, why) for a layer no kind explains."""
    from .keras import op_of_layer

    return op_of_layer(layer)


__all__ = [
    "KINDS", "ActivationDetail", "ActivationOp", "AffineDetail", "AffineOp", "Cell", "ConvDetail", "ConvOp",
    "CopyDetail", "DenseDetail", "DenseOp", "ExplainError", "FlattenOp", "Frames", "Kind", "PadOp", "PoolDetail",
    "PoolOp", "Term", "of_keras", "of_spec", "percent_text", "spec_kind", "value_at",
]  # fmt: skip
