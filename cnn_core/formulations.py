"""Several TensorFlow formulations of each layer, and a per-shape choice of the quickest.

TensorFlow's speed depends on the CPU: eager ``tf.nn.conv2d`` is fast where oneDNN has AVX-512 kernels
and many times slower on an AVX2-only CPU or with oneDNN off, where the same sum written as shifted,
weighted copies of the input and compiled by XLA wins for a few channels (and loses for many). So each
layer has several formulations that compute the same values:

- ``eager``: the ``tf.nn`` op itself, run eagerly;
- ``xla``: the same ``tf.nn`` op inside ``tf.function(jit_compile=True)``;
- ``shifted``: the window written out as a sum (convolution) or max/sum (pooling) over strided slices
  of the padded input, compiled by XLA. Tried for small kernels on few channels;
- ``fused``: a convolution, its activation and a pooling layer after it as one XLA call over the shifted
  forms, returning all three maps. It saves two round trips through memory and NumPy.

Measured on 2 cores (benchmarks/README.md): with oneDNN's AVX-512 kernels eager wins nearly everywhere;
with oneDNN off (as slow as an AVX2-only cloud CPU), the shifted forms win by 5–25× for one channel.
Average pooling is never XLA-compiled as ``tf.nn.avg_pool2d``: XLA constant-folds its SAME divisor map
for seconds.

``Chooser.run`` (chooser.py) times each formulation once on the first call for a new set of shapes and
settings on a device, checks that it gives the eager op's values, and remembers the quickest for the process. Weights
and bias are tensor arguments of the compiled functions, so new weights never recompile; only a new
input shape, kernel shape or setting traces and compiles again.

``Chooser.run_fused`` makes the same choice between a fused call and its layers one at a time, once the
layers have their own choices (the pipeline runs them one at a time until then).

``CNN_CORE_FORMULATION=eager|xla|shifted|fused`` in the environment forces one formulation where it applies
(for benchmarks and comparisons); the default, ``auto``, measures.

Shapes here are TensorFlow's: inputs (1, height, width, channels), kernels (kh, kw, in, out).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import tensorflow as tf  # imported quietly by cnn_core.ops, which the package loads first

from . import geometry

# The choice between these formulations has its own module (chooser.py); these names of it are also
# reachable here, as formulations.X. Its thresholds are not: set them on chooser itself.
from .chooser import (  # noqa: F401
    CHOOSER,
    FORMULATIONS,
    RTOL,
    Choice,
    Chooser,
    agrees,
    forced,
    forcing,
)
from .geometry import same_pads  # noqa: F401  (TensorFlow's SAME padding; its home is geometry)

Pair = tuple[int, int]
Pads = tuple[Pair, Pair]

# Which compiled forms are worth a compile at first use is a rule measured on 2 cores with oneDNN's
# AVX-512 kernels, limited to AVX2 and switched off (benchmarks/README.md): the shifted forms win on
# one or a few channels, by up to 30× where oneDNN is off, and lose 2–6× on 8 channels everywhere;
# XLA's own tf.nn conv2d and activations never beat the quicker of eager and shifted. Forms the rule
# leaves out stay available through ``forcing`` and are tested like the others.
SHIFTED_MAX_TAPS = 25  # kernels up to 5×5 (dilated or not)
SHIFTED_MAX_CHANNEL_PAIRS = 4  # conv: in × out channels
SHIFTED_POOL_MAX_CHANNELS = 4
# ...and windows of at most this many cells: a shifted max over a 24×24 window is 576 slices, whose XLA
# compile takes seconds that no cancellation can interrupt, while eager pooling handles large windows well.
SHIFTED_POOL_MAX_CELLS = 25
# conv → activation → pool is compiled as one call for kernels of at most this many weights (kh·kw·in·out):
# on 2 cores its compile took 0.11–0.26 s up to here (3×3 on 4 channel pairs, 5×5 on two), and 0.3–0.53 s
# for 5×5 on four pairs.
FUSED_MAX_PRODUCTS = 50
# Up to this many (in, out) channel pairs every product is written out; beyond, one broadcast per tap.
UNROLL_CHANNEL_PAIRS = 4


def explicit_pads(shape: tuple[int, int], window: Pair, strides: Pair, dilation: Pair, padding) -> Pads:
    """((top, bottom), (left, right)) for "same", "valid" or explicit pairs, on (height, width) ``shape``."""
    return geometry.pads2d(shape, window, strides, dilation, padding)


def _tf_padding(padding):
    if isinstance(padding, str):
        return padding.upper()
    (t, b), (left, r) = padding
    return [[0, 0], [int(t), int(b)], [int(left), int(r)], [0, 0]]


def _taps(xp, window: Pair, strides: Pair, dilation: Pair, out: Pair):
    """Every (i, j, slice) of padded (1, H, W, C) ``xp``: the inputs that tap (i, j) of the window sees."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = window, strides, dilation, out
    for i in range(kh):
        for j in range(kw):
            y0, x0 = i * dh, j * dw
            yield i, j, xp[:, y0 : y0 + (ho - 1) * sh + 1 : sh, x0 : x0 + (wo - 1) * sw + 1 : sw, :]


# --------------------------------------------------------------------------- convolution


@dataclass(frozen=True)
class ConvSettings:
    strides: Pair
    padding: object  # "same", "valid" or ((top, bottom), (left, right))
    dilation: Pair


def conv_nn(x, kernel, bias, s: ConvSettings):
    """``tf.nn.conv2d`` plus bias: (1, H, W, C) → (1, Ho, Wo, F)."""
    y = tf.nn.conv2d(
        x,
        kernel,
        strides=[1, s.strides[0], s.strides[1], 1],
        padding=_tf_padding(s.padding),
        dilations=[1, s.dilation[0], s.dilation[1], 1],
    )
    return y if bias is None else tf.nn.bias_add(y, bias)


def conv_out_shape(
    in_shape: tuple[int, int, int], kernel_shape: tuple[int, ...], s: ConvSettings
) -> tuple[int, int, int]:
    """(out_height, out_width, filters) of a convolution of (height, width, channels) maps."""
    kh, kw, _, f = kernel_shape
    pads = explicit_pads(in_shape[:2], (kh, kw), s.strides, s.dilation, s.padding)
    ho, wo = (geometry.out_size(in_shape[a], pads[a], (kh, kw)[a], s.strides[a], s.dilation[a]) for a in (0, 1))
    return ho, wo, f


def conv_candidates(kernel_shape: tuple[int, ...]) -> tuple[str, ...]:
    """The compiled formulations worth trying for a (kh, kw, in, out) kernel (besides eager)."""
    kh, kw, c, f = kernel_shape
    return ("shifted",) if kh * kw <= SHIFTED_MAX_TAPS and c * f <= SHIFTED_MAX_CHANNEL_PAIRS else ()


# Element-wise activations: eager was as quick as XLA or quicker in every measurement (XLA 2–5× slower
# on 8 channels), so none is tried.
ACTIVATION_CANDIDATES: tuple[str, ...] = ()


def conv_shifted(x, kernel, bias, s: ConvSettings):
    """The same convolution as a sum of kh × kw shifted, weighted copies of the zero-padded input.

    Output channel f is ``sum over taps (i, j) and input channels c of x_ij[..., c] * k[i, j, c, f]``.
    With a few channel pairs every product is written out (for one channel in and out, nine
    multiply-adds of whole images, which XLA fuses into one loop); with more, each tap is one
    broadcast product reduced over the input channels, which keeps the graph, and so the compile
    time, small. Values agree with ``tf.nn.conv2d`` to rounding (the order of the sum differs).
    """
    _, h, w, c = x.shape
    kh, kw, _, f = kernel.shape
    pads = explicit_pads((h, w), (kh, kw), s.strides, s.dilation, s.padding)
    out = tuple(geometry.out_size((h, w)[a], pads[a], (kh, kw)[a], s.strides[a], s.dilation[a]) for a in (0, 1))
    xp = tf.pad(x, [[0, 0], list(pads[0]), list(pads[1]), [0, 0]]) if any(map(any, pads)) else x
    taps = _taps(xp, (kh, kw), s.strides, s.dilation, out)
    if c * f <= UNROLL_CHANNEL_PAIRS:
        acc = [None] * f
        for i, j, tap in taps:
            for ci in range(c):
                plane = tap[..., ci]
                for fi in range(f):
                    term = plane * kernel[i, j, ci, fi]
                    acc[fi] = term if acc[fi] is None else acc[fi] + term
        y = tf.stack(acc, axis=-1)
    else:
        y = None
        for i, j, tap in taps:
            term = tf.reduce_sum(tap[..., :, None] * kernel[i, j], axis=-2)  # (1, Ho, Wo, C, F) → (1, Ho, Wo, F)
            y = term if y is None else y + term
    return y if bias is None else y + bias


# --------------------------------------------------------------------------- activation


def activation_nn(x, function: str, alpha: float):
    """The element-wise activation ``function`` (not "linear") as TensorFlow computes it."""
    if function == "relu":
        return tf.nn.relu(x)
    if function == "leaky_relu":
        return tf.nn.leaky_relu(x, alpha=alpha)
    if function == "tanh":
        return tf.math.tanh(x)
    if function == "sigmoid":
        return tf.math.sigmoid(x)
    if function == "elu":
        return tf.nn.elu(x)
    if function == "gelu":
        return tf.nn.gelu(x, approximate=False)
    raise ValueError(f"unknown activation {function!r}")


# --------------------------------------------------------------------------- pooling


@dataclass(frozen=True)
class PoolSettings:
    mode: str  # "max" or "avg"
    size: Pair
    strides: Pair
    padding: str  # "same" or "valid"


def pool_nn(x, s: PoolSettings):
    """``tf.nn.max_pool2d`` or ``tf.nn.avg_pool2d``: (1, H, W, C) → (1, Ho, Wo, C)."""
    pool = tf.nn.max_pool2d if s.mode == "max" else tf.nn.avg_pool2d
    return pool(x, ksize=list(s.size), strides=list(s.strides), padding=s.padding.upper())


def pool_shifted(x, s: PoolSettings):
    """The same pooling as a max (or sum) over the window's strided slices of the padded input.

    Max pooling pads with -inf, so padding never wins, as in TensorFlow. Average pooling sums
    zero-padded slices and divides by how many real (unpadded) cells each window holds, which is
    what ``tf.nn.avg_pool2d`` does with SAME padding.
    """
    _, h, w, _ = x.shape
    pads = explicit_pads((h, w), s.size, s.strides, (1, 1), s.padding)
    out = tuple(geometry.out_size((h, w)[a], pads[a], s.size[a], s.strides[a], 1) for a in (0, 1))
    padded = any(map(any, pads))
    tf_pads = [[0, 0], list(pads[0]), list(pads[1]), [0, 0]]
    if s.mode == "max":
        xp = tf.pad(x, tf_pads, constant_values=-np.inf) if padded else x
        y = None
        for _, _, tap in _taps(xp, s.size, s.strides, (1, 1), out):
            y = tap if y is None else tf.maximum(y, tap)
        return y
    xp = tf.pad(x, tf_pads) if padded else x
    total = None
    for _, _, tap in _taps(xp, s.size, s.strides, (1, 1), out):
        total = tap if total is None else total + tap
    if not padded:
        return total / np.float32(s.size[0] * s.size[1])
    # Real cells per window, known from the shapes alone: a constant XLA folds in.
    counts = []
    for a in (0, 1):
        ar = geometry.axis_arithmetic("hw"[a], (h, w)[a], s.size[a], s.strides[a], 1, pads[a])
        counts.append(geometry.real_cells(ar, 0, out[a]))
    count = np.outer(counts[0], counts[1]).astype(np.float32)[None, :, :, None]
    return total / count


# --------------------------------------------------------------------------- compiled forms


# A tf.function keeps every trace (and its compiled code) it ever made. The ops pass the shapes as
# ``shapes`` so that each function holds one trace and a server that sees photos of many sizes keeps
# only the most recent COMPILED_KEPT of them.
COMPILED_KEPT = 128


def _compiled(fn: Callable) -> Callable:
    """``fn`` traced without AutoGraph and compiled by XLA.

    These bodies are plain Python over shapes known when tracing, with no tensor-dependent control flow,
    so AutoGraph has nothing to convert; converting them anyway took 0.2–0.6 s per trace on 2 cores,
    several times XLA's own compile (0.03–0.13 s).
    """
    return tf.function(fn, jit_compile=True, autograph=False)


def call(fn: Callable, *args):
    """``fn(*args)`` for a compiled ``fn``, through its concrete function for these argument shapes.

    The same trace and compiled code as calling ``fn``, without tf.function's argument binding and
    trace lookup: about 0.1 ms less per call (of 1–2 ms for a 1024² layer).
    """
    return _concrete(fn, tuple((np.shape(a), np.asarray(a).dtype.name) for a in args))(*args)


@lru_cache(maxsize=COMPILED_KEPT)
def _concrete(fn: Callable, specs: tuple):
    return fn.get_concrete_function(*(tf.TensorSpec(shape, dtype) for shape, dtype in specs))


@lru_cache(maxsize=COMPILED_KEPT)
def compiled_conv(form: str, settings: ConvSettings, with_bias: bool, shapes: tuple = ()) -> Callable:
    """An XLA-compiled convolution of (x, kernel[, bias]) for these settings; it retraces per shape only.

    ``shapes`` only keys the cache (see COMPILED_KEPT); weights and bias are arguments, so new values
    never retrace.
    """
    body = conv_nn if form == "xla" else conv_shifted
    if with_bias:
        return _compiled(lambda x, k, b: body(x, k, b, settings))
    return _compiled(lambda x, k: body(x, k, None, settings))


@lru_cache(maxsize=64)
def compiled_activation(function: str, alpha: float, shapes: tuple = ()) -> Callable:
    return _compiled(lambda x: activation_nn(x, function, alpha))


@lru_cache(maxsize=COMPILED_KEPT)
def compiled_pool(form: str, settings: PoolSettings, shapes: tuple = ()) -> Callable:
    body = pool_nn if form == "xla" else pool_shifted
    return _compiled(lambda x: body(x, settings))


# --------------------------------------------------------------------------- conv → activation → pool fused


def conv_activation_pool_shifted(x, kernel, bias, alpha, conv: ConvSettings, function: str, pool: PoolSettings):
    """Convolution, activation and pooling in one graph: (conv, activation, pool), or (conv, pool) for "linear".

    The shifted forms of convolution and pooling, so that XLA fuses the three into a few loops over the
    image instead of three calls that each write their whole map to memory and read it back. ``alpha``
    (leaky_relu's slope) is a tensor like the weights, so moving its slider never recompiles; it is
    applied as TensorFlow's kernel does, ``x if x > 0 else alpha * x``.
    """
    c = conv_shifted(x, kernel, bias, conv)
    if function == "linear":
        return c, pool_shifted(c, pool)
    a = tf.where(c > 0, c, c * alpha) if function == "leaky_relu" else activation_nn(c, function, 0.0)
    return c, a, pool_shifted(a, pool)


@lru_cache(maxsize=COMPILED_KEPT)
def compiled_conv_activation_pool(
    conv: ConvSettings, with_bias: bool, function: str, pool: PoolSettings, shapes: tuple = ()
) -> Callable:
    """An XLA-compiled conv → activation → pool of (x, kernel[, bias], alpha); it retraces per shape only."""
    if with_bias:
        return _compiled(lambda x, k, b, alpha: conv_activation_pool_shifted(x, k, b, alpha, conv, function, pool))
    return _compiled(lambda x, k, alpha: conv_activation_pool_shifted(x, k, None, alpha, conv, function, pool))


def fused_candidates(kernel_shape: tuple[int, ...], pool_window: Pair) -> tuple[str, ...]:
    """("fused",) where conv with this (kh, kw, in, out) kernel → activation → this pooling window is worth
    compiling as one call.

    Only where the shifted conv and the shifted pool are candidates on their own (few channels, small
    windows), and at most FUSED_MAX_PRODUCTS weights, which keeps the graph, and so its compile, small.
    """
    kh, kw, c, f = kernel_shape
    if kh * kw * c * f <= FUSED_MAX_PRODUCTS and conv_candidates(kernel_shape) and pool_candidates(f, pool_window):
        return ("fused",)
    return ()


def pool_candidates(channels: int, window: tuple[int, int] = (1, 1)) -> tuple[str, ...]:
    """The compiled formulations worth trying for a pooling layer on ``channels`` channels (besides eager)."""
    if window[0] * window[1] > SHIFTED_POOL_MAX_CELLS:
        return ()
    # tf.nn.avg_pool2d under XLA spends seconds constant-folding its divisor map; max pooling under XLA
    # is no quicker than the shifted max, so trying it would only add a compile.
    return ("shifted",) if channels <= SHIFTED_POOL_MAX_CHANNELS else ()
