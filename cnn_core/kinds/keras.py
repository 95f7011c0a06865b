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
    cfg = layer.get_config()
    why = _check_channels_last(layer)
    if why:
        return None, None, why
    if name in ("Conv2D", "DepthwiseConv2D"):
        f = _function(layer.activation)
        if f is None:
            return None, None, f"its activation {getattr(layer.activation, '__name__', '?')} has no kind"
        if getattr(layer, "groups", 1) != 1:
            return None, None, "it is a grouped convolution"
        kh, kw = _pair(cfg["kernel_size"])
        c_in = int(layer.input.shape[-1]) if _has_input(layer) else int(layer.get_weights()[0].shape[2])
        depthwise = name == "DepthwiseConv2D"
        filters = c_in * int(cfg["depth_multiplier"]) if depthwise else int(cfg["filters"])
        op = ConvOp(
            kernel_size=(kh, kw), in_channels=c_in, filters=filters, strides=_pair(cfg["strides"]),
            padding=cfg["padding"], dilation=_pair(cfg["dilation_rate"]),
            weights=_weights(layer, cfg["use_bias"], filters), depthwise=depthwise, activation=f[0], alpha=f[1],
        )  # fmt: skip
        return conv.KIND, op, ""
    if name in ("MaxPooling2D", "AveragePooling2D"):
        mode = "max" if name.startswith("Max") else "avg"
        strides = cfg.get("strides") or cfg["pool_size"]
        return pool.KIND, PoolOp(mode, _pair(cfg["pool_size"]), _pair(strides), cfg["padding"]), ""
    if name in ("GlobalMaxPooling2D", "GlobalAveragePooling2D"):
        mode = "max" if "Max" in name else "avg"
        return pool.KIND, PoolOp(mode, whole=True, keepdims=bool(cfg.get("keepdims", False))), ""
    if name == "ReLU":
        if cfg.get("max_value") is not None or float(cfg.get("threshold", 0.0)) != 0.0:
            return None, None, "it is a capped or shifted ReLU"
        slope = float(cfg.get("negative_slope", 0.0))
        return activation.KIND, ActivationOp("leaky_relu", slope) if slope else ActivationOp("relu"), ""
    if name == "LeakyReLU":
        return activation.KIND, ActivationOp("leaky_relu", float(cfg["negative_slope"])), ""
    if name == "Activation":
        f = _function(layer.activation)
        if f is None:
            return None, None, f"its function {getattr(layer.activation, '__name__', '?')} has no kind"
        return activation.KIND, ActivationOp(*f), ""
    if name == "Flatten":
        return reshape.FLATTEN, FlattenOp(), ""
    if name == "ZeroPadding2D":
        (t, b), (left, r) = cfg["padding"]
        return reshape.PAD, PadOp(((int(t), int(b)), (int(left), int(r)))), ""
    if name == "Dense":
        f = _function(layer.activation)
        if f is None:
            return None, None, f"its activation {getattr(layer.activation, '__name__', '?')} has no kind"
        units = int(cfg["units"])
        return dense.KIND, DenseOp(units, _weights(layer, cfg["use_bias"], units), *f), ""
    if name == "BatchNormalization":
        if cfg.get("axis") not in (-1, 3, [-1], [3]):
            return None, None, "it normalises an axis other than the channels"
        return affine.KIND, _batch_norm(layer, cfg), ""
    if name == "Rescaling":
        return affine.KIND, AffineOp(np.asarray(layer.scale, np.float32), np.asarray(layer.offset, np.float32)), ""
    return None, None, f"{name} layers have no value-by-value explanation here"


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
