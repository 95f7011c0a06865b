"""conv2d, activation and pool2d with TensorFlow's own semantics.

Each function takes and returns NumPy float32 arrays of shape
(height, width, channels) and runs the TensorFlow op on the best device:
the first GPU when TensorFlow sees one, else the CPU. These are thin wrappers,
so the values are what ``tf.nn.conv2d``, ``tf.nn.max_pool2d`` and
``tf.nn.avg_pool2d`` give. Each op runs the formulation that ``cnn_core.formulations`` measured
quickest for its shapes on this device (eager, XLA-compiled, or a shifted sum under XLA); every
formulation gives the eager op's values to 1e-5.
"""

from __future__ import annotations

import contextlib
import os
from functools import lru_cache

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def _quiet_stderr():
    """Silence file descriptor 2 for a moment.

    TensorFlow's C++ start-up notes (oneDNN, CUDA probing) are written straight to
    descriptor 2 and ignore TF_CPP_MIN_LOG_LEVEL; they would bury the CLI's one-line errors.
    Python exceptions still propagate normally.
    """
    try:
        saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


with _quiet_stderr():
    import tensorflow as tf

# On Ampere and newer GPUs TensorFlow would round convolution inputs to TF32 (10-bit mantissa) by
# default, about 1e-3 off the float32 result; the app promises float32 values on every device.
tf.config.experimental.enable_tensor_float_32_execution(False)

from . import formulations as F  # noqa: E402  (needs TensorFlow imported quietly above)

Pair = tuple[int, int]


@lru_cache(maxsize=1)
def device() -> str:
    """The TensorFlow device the core runs on: ``"/GPU:0"`` when a GPU is present, else ``"/CPU:0"``."""
    with _quiet_stderr():
        gpus = tf.config.list_physical_devices("GPU")
    return "/GPU:0" if gpus else "/CPU:0"


@lru_cache(maxsize=1)
def device_label() -> str:
    """A human-readable name of the device, e.g. "GPU 0 (NVIDIA H100)" or "CPU"."""
    with _quiet_stderr():
        gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    try:
        name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "")
    except (ValueError, RuntimeError, tf.errors.OpError):  # details are cosmetic; never fail over them
        name = ""
    return f"GPU 0 ({name})" if name else "GPU 0"


def _to_numpy(t) -> np.ndarray:
    """A CPU tensor's values without the extra copy ``t[0].numpy()`` makes (slicing a tensor copies)."""
    return np.asarray(t)


_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "elu", "gelu")


def _pair(v) -> Pair:
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def _padding(padding):
    """The padding as "same", "valid" or ((top, bottom), (left, right)) ints; an int p pads p on every side."""
    if isinstance(padding, str):
        return padding.lower()
    if np.isscalar(padding):
        p = int(padding)
        return ((p, p), (p, p))
    (t, b), (left, r) = padding
    return ((int(t), int(b)), (int(left), int(r)))


def conv2d(
    inputs: np.ndarray,
    kernel: np.ndarray,
    strides: Pair = (1, 1),
    padding="same",
    dilation_rate: Pair = (1, 1),
    bias: np.ndarray | None = None,
) -> np.ndarray:
    """2-D cross-correlation, as ``tf.nn.conv2d``, plus an optional bias.

    Args:
        inputs: float32 (height, width, in_channels).
        kernel: float32 (kernel_height, kernel_width, in_channels, filters).
        strides: (stride_h, stride_w).
        padding: "same", "valid", an int p (p on every side) or ((top, bottom), (left, right)).
        dilation_rate: (dilation_h, dilation_w).
        bias: float32 (filters,) or None.

    Returns:
        float32 (out_height, out_width, filters).
    """
    settings = F.ConvSettings(_pair(strides), _padding(padding), _pair(dilation_rate))
    with_bias = bias is not None and bool(np.any(bias))
    x4 = inputs[None]
    args = (x4, kernel, bias) if with_bias else (x4, kernel)

    def eager():
        return _to_numpy(F.conv_nn(x4, kernel, bias if with_bias else None, settings))[0]

    def compiled(form):
        def run():
            fn = F.compiled_conv(form, settings, with_bias, (inputs.shape, kernel.shape))
            return _to_numpy(F.call(fn, *args))[0]

        return run

    candidates = {"eager": eager, "xla": compiled("xla"), "shifted": compiled("shifted")}
    worth = ("eager", *F.conv_candidates(kernel.shape))  # the others run only when forced
    with tf.device(device()):
        return F.CHOOSER.run(_conv_key(inputs.shape, kernel.shape, settings, with_bias), candidates, worth)


def depthwise_conv2d(
    inputs: np.ndarray,
    kernel: np.ndarray,
    strides: Pair = (1, 1),
    padding="same",
    dilation_rate: Pair = (1, 1),
    bias: np.ndarray | None = None,
) -> np.ndarray:
    """Depthwise 2-D cross-correlation, as ``tf.nn.depthwise_conv2d`` (Keras's DepthwiseConv2D), plus a bias.

    Args:
        inputs: float32 (height, width, channels).
        kernel: float32 (kernel_height, kernel_width, channels, multiplier).
        padding: "same", "valid" or ((top, bottom), (left, right)).

    Returns:
        float32 (out_height, out_width, channels · multiplier); channel c·multiplier + m is channel c's m-th filter.
    """
    pad = _padding(padding)
    tf_pad = pad.upper() if isinstance(pad, str) else [[0, 0], list(pad[0]), list(pad[1]), [0, 0]]
    s, d = _pair(strides), _pair(dilation_rate)
    with tf.device(device()):
        if s != (1, 1) and d != (1, 1):  # tf.nn.depthwise_conv2d takes one or the other; dilate by hand
            kh, kw = kernel.shape[:2]
            big = np.zeros(((kh - 1) * d[0] + 1, (kw - 1) * d[1] + 1, *kernel.shape[2:]), np.float32)
            big[:: d[0], :: d[1]] = kernel
            kernel, d = big, (1, 1)
        y = tf.nn.depthwise_conv2d(inputs[None], kernel, [1, s[0], s[1], 1], tf_pad, dilations=list(d))
        if bias is not None:
            y = tf.nn.bias_add(y, bias)
        return _to_numpy(y)[0].astype(np.float32)


# The keys the chooser remembers each op's formulation by: shapes, settings and device.
def _conv_key(shape, kernel_shape, settings: F.ConvSettings, with_bias: bool) -> tuple:
    return ("conv2d", tuple(shape), tuple(kernel_shape), settings, with_bias, device())


def _activation_key(shape, function: str, alpha: float) -> tuple:
    return ("activation", tuple(shape), function, float(alpha), device())


def _pool_key(shape, settings: F.PoolSettings) -> tuple:
    return ("pool2d", tuple(shape), settings, device())


def activation(inputs: np.ndarray, function: str = "relu", alpha: float = 0.2) -> np.ndarray:
    """An element-wise activation; the shape (height, width, channels) is unchanged.

    ``function`` is relu, leaky_relu (slope ``alpha`` below 0), tanh, sigmoid,
    elu (alpha 1), gelu (exact, with erf) or linear.
    """
    if function == "linear":
        return inputs
    if function not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {function!r}")

    def eager():
        # TF ops take NumPy arrays directly; tf.constant would copy first
        return _to_numpy(F.activation_nn(inputs, function, alpha))

    def xla():
        return _to_numpy(F.call(F.compiled_activation(function, float(alpha), inputs.shape), inputs))

    key = _activation_key(inputs.shape, function, alpha)
    with tf.device(device()):
        return F.CHOOSER.run(key, {"eager": eager, "xla": xla}, ("eager", *F.ACTIVATION_CANDIDATES))


def pool2d(
    inputs: np.ndarray, mode: str = "max", pool_size: Pair = (2, 2), strides: Pair = (2, 2), padding: str = "valid"
) -> np.ndarray:
    """Max or average pooling, as ``tf.nn.max_pool2d`` / ``tf.nn.avg_pool2d`` (and Keras's pooling layers).

    A stride larger than the window is allowed (``tf.nn.pool`` refuses it).

    With "same" padding, average pooling divides by the number of real
    (unpadded) cells in each window, as TensorFlow does.

    Args:
        inputs: float32 (height, width, channels).
        mode: "max" or "avg".
        pool_size: (window_h, window_w).
        strides: (stride_h, stride_w).
        padding: "same" or "valid".

    Returns:
        float32 (out_height, out_width, channels).
    """
    settings = F.PoolSettings(mode, _pair(pool_size), _pair(strides), padding.lower())
    x4 = inputs[None]

    def eager():
        return _to_numpy(F.pool_nn(x4, settings))[0]

    def compiled(form):
        return lambda: _to_numpy(F.call(F.compiled_pool(form, settings, inputs.shape), x4))[0]

    key = _pool_key(inputs.shape, settings)
    with tf.device(device()):
        candidates = {"eager": eager, "shifted": compiled("shifted")}
        if mode == "max" or padding == "valid":  # XLA would constant-fold avg_pool2d's SAME divisor for seconds
            candidates["xla"] = compiled("xla")
        return F.CHOOSER.run(key, candidates, ("eager", *F.pool_candidates(inputs.shape[2], settings.size)))


def conv_activation_pool(
    inputs: np.ndarray,
    kernel: np.ndarray,
    strides: Pair = (1, 1),
    padding="same",
    dilation_rate: Pair = (1, 1),
    bias: np.ndarray | None = None,
    function: str = "relu",
    alpha: float = 0.2,
    mode: str = "max",
    pool_size: Pair = (2, 2),
    pool_strides: Pair = (2, 2),
    pool_padding: str = "valid",
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``conv2d`` → ``activation`` → ``pool2d`` in one XLA-compiled call, where that is quicker than three.

    The arguments are those of the three ops (``function`` may be "linear"). Fusing is tried for few
    channels and small windows only (``formulations.fused_candidates``), once the three ops have been
    measured one at a time for these shapes; the choice is remembered per shapes, settings and device.
    Weights, bias and ``alpha`` are arguments of the compiled call, so new values never recompile.

    Returns:
        (conv, activation, pool) maps, float32 (out_height, out_width, filters) and (pool_height,
        pool_width, filters), each equal to the separate op's to 1e-5 (for "linear" the activation is
        the conv array itself, as ``activation`` returns it); or None where the layers should run one at
        a time: fusing is not quicker here, not measured yet, or another formulation is forced.
    """
    if function != "linear" and function not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {function!r}")
    conv_s = F.ConvSettings(_pair(strides), _padding(padding), _pair(dilation_rate))
    pool_s = F.PoolSettings(mode, _pair(pool_size), _pair(pool_strides), pool_padding.lower())
    with_bias = bias is not None and bool(np.any(bias))
    x4 = inputs[None]
    a = np.asarray(alpha, np.float32)  # an array, not a Python float: a new slope must not retrace
    args = (x4, kernel, bias, a) if with_bias else (x4, kernel, a)

    def fused():
        fn = F.compiled_conv_activation_pool(conv_s, with_bias, function, pool_s, (inputs.shape, kernel.shape))
        maps = [_to_numpy(t)[0] for t in F.call(fn, *args)]
        return (maps[0], maps[0], maps[1]) if function == "linear" else tuple(maps)

    def layers():
        c = conv2d(inputs, kernel, strides, padding, dilation_rate, bias)
        act = activation(c, function, alpha)
        return c, act, pool2d(act, mode, pool_size, pool_strides, pool_padding)

    def reference():
        with F.forcing("eager"):
            return layers()

    def layers_seconds():
        out = F.conv_out_shape(inputs.shape, kernel.shape, conv_s)
        keys = [_conv_key(inputs.shape, kernel.shape, conv_s, with_bias), _pool_key(out, pool_s)]
        if function != "linear":
            keys.append(_activation_key(out, function, alpha))
        return F.CHOOSER.seconds_of(keys)

    key = ("conv_activation_pool", inputs.shape, kernel.shape, conv_s, with_bias, function, pool_s, device())
    worth = bool(F.fused_candidates(kernel.shape, pool_s.size))
    with tf.device(device()):
        return F.CHOOSER.run_fused(key, fused, layers, reference, layers_seconds, worth)


def resize_bilinear(image: np.ndarray, size: Pair) -> np.ndarray:
    """Bilinear resize of float32 (height, width, channels) to ``size``, antialiased when shrinking."""
    with tf.device(device()):
        return tf.image.resize(image, size, method="bilinear", antialias=True).numpy().astype(np.float32)


def rgb_to_grayscale(image: np.ndarray) -> np.ndarray:
    """float32 (height, width, 3) to (height, width, 1) with TensorFlow's luma weights."""
    with tf.device(device()):
        return tf.image.rgb_to_grayscale(image).numpy()
