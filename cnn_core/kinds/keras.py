"""Keras layers mapped onto the kinds, by class name (Keras is imported only when a model is loaded)."""

from __future__ import annotations

import numpy as np

from . import activation, affine, conv, dense, pool, reshape
from .activation import ActivationOp
from .affine import AffineOp
from .conv import ConvOp
from .dense import DenseOp
from .pool import PoolOp
from .reshape import FlattenOp, PadOp

# Keras's activation names that the activation kind computes exactly as Keras does.
_SAME_NAME = {"relu", "tanh", "sigmoid", "elu", "linear"}


def _function(fn) -> tuple[str, float] | None:
    """Our (function, alpha) for a Keras activation function object, or None."""
    name = getattr(fn, "__name__", "")
    if name in _SAME_NAME:
        return name, 0.2
    if name == "gelu":
        return None  # Keras's gelu may be the tanh approximation; not claimed as ours
    if name == "leaky_relu":
        return "leaky_relu", 0.2
    return None


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def _weights(layer, use_bias: bool, units: int):
    def read():
        ws = layer.get_weights()
        return ws[0], (ws[1] if use_bias else np.zeros(units, np.float32))

    return read


def _check_channels_last(layer) -> str:
    fmt = getattr(layer, "data_format", "channels_last")
    return "" if fmt in (None, "channels_last") else "it works on channels-first maps"


def op_of_layer(layer) -> tuple:
    """(kind, op, "") for a Keras layer a kind explains, else (None, None, why in a few words)."""
    name = type(layer).__name__
    why = _check_channels_last(layer)
    if why:
        return None, None, why
    read = _READERS.get(name)
    if read is None:
        return None, None, f"{name} layers have no value-by-value explanation here"
    return read(layer, layer.get_config())


def _unexplained_function(layer, what: str) -> tuple:
    return None, None, f"its {what} {getattr(layer.activation, '__name__', '?')} has no kind"


def _conv_op(layer, cfg) -> tuple:
    f = _function(layer.activation)
    if f is None:
        return _unexplained_function(layer, "activation")
    if getattr(layer, "groups", 1) != 1:
        return None, None, "it is a grouped convolution"
    kh, kw = _pair(cfg["kernel_size"])
    c_in = int(layer.input.shape[-1]) if _has_input(layer) else int(layer.get_weights()[0].shape[2])
    depthwise = type(layer).__name__ == "DepthwiseConv2D"
    filters = c_in * int(cfg["depth_multiplier"]) if depthwise else int(cfg["filters"])
    op = ConvOp(
        kernel_size=(kh, kw), in_channels=c_in, filters=filters, strides=_pair(cfg["strides"]),
        padding=cfg["padding"], dilation=_pair(cfg["dilation_rate"]),
        weights=_weights(layer, cfg["use_bias"], filters), depthwise=depthwise, activation=f[0], alpha=f[1],
    )  # fmt: skip
    return conv.KIND, op, ""


def _pool_op(layer, cfg) -> tuple:
    mode = "max" if type(layer).__name__.startswith("Max") else "avg"
    strides = cfg.get("strides") or cfg["pool_size"]
    return pool.KIND, PoolOp(mode, _pair(cfg["pool_size"]), _pair(strides), cfg["padding"]), ""


def _global_pool_op(layer, cfg) -> tuple:
    mode = "max" if "Max" in type(layer).__name__ else "avg"
    return pool.KIND, PoolOp(mode, whole=True, keepdims=bool(cfg.get("keepdims", False))), ""


def _relu_op(layer, cfg) -> tuple:
    if cfg.get("max_value") is not None or float(cfg.get("threshold", 0.0)) != 0.0:
        return None, None, "it is a capped or shifted ReLU"
    slope = float(cfg.get("negative_slope", 0.0))
    return activation.KIND, ActivationOp("leaky_relu", slope) if slope else ActivationOp("relu"), ""


def _leaky_relu_op(layer, cfg) -> tuple:
    return activation.KIND, ActivationOp("leaky_relu", float(cfg["negative_slope"])), ""


def _activation_op(layer, cfg) -> tuple:
    f = _function(layer.activation)
    if f is None:
        return _unexplained_function(layer, "function")
    return activation.KIND, ActivationOp(*f), ""


def _flatten_op(layer, cfg) -> tuple:
    return reshape.FLATTEN, FlattenOp(), ""


def _zero_padding_op(layer, cfg) -> tuple:
    (t, b), (left, r) = cfg["padding"]
    return reshape.PAD, PadOp(((int(t), int(b)), (int(left), int(r)))), ""


def _dense_op(layer, cfg) -> tuple:
    f = _function(layer.activation)
    if f is None:
        return _unexplained_function(layer, "activation")
    units = int(cfg["units"])
    return dense.KIND, DenseOp(units, _weights(layer, cfg["use_bias"], units), *f), ""


def _batch_norm_op(layer, cfg) -> tuple:
    if cfg.get("axis") not in (-1, 3, [-1], [3]):
        return None, None, "it normalises an axis other than the channels"
    return affine.KIND, _batch_norm(layer, cfg), ""


def _rescaling_op(layer, cfg) -> tuple:
    return affine.KIND, AffineOp(np.asarray(layer.scale, np.float32), np.asarray(layer.offset, np.float32)), ""


# The Keras layer class name -> its reader: (layer, its config) -> (kind, op, why not).
_READERS = {
    "Conv2D": _conv_op,
    "DepthwiseConv2D": _conv_op,
    "MaxPooling2D": _pool_op,
    "AveragePooling2D": _pool_op,
    "GlobalMaxPooling2D": _global_pool_op,
    "GlobalAveragePooling2D": _global_pool_op,
    "ReLU": _relu_op,
    "LeakyReLU": _leaky_relu_op,
    "Activation": _activation_op,
    "Flatten": _flatten_op,
    "ZeroPadding2D": _zero_padding_op,
    "Dense": _dense_op,
    "BatchNormalization": _batch_norm_op,
    "Rescaling": _rescaling_op,
}


def _has_input(layer) -> bool:
    try:
        layer.input  # noqa: B018
    except (AttributeError, ValueError):
        return False
    return True


def _batch_norm(layer, cfg) -> AffineOp:
    ws = {w.path.split("/")[-1]: np.asarray(w.numpy(), np.float64) for w in layer.weights}
    mean, var = ws["moving_mean"], ws["moving_variance"]
    gamma = ws.get("gamma", np.ones_like(mean))
    beta = ws.get("beta", np.zeros_like(mean))
    eps = float(cfg["epsilon"])
    scale = gamma / np.sqrt(var + eps)
    return AffineOp(scale, beta - mean * scale, "batch_norm", (gamma, beta, mean, var, eps))
