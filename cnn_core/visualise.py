"""Feature visualisation: the picture a channel responds to most, by gradient ascent on its mean activation.

    >>> v = visualise(model, "conv_2_2", channel=3, steps=256, seed=0)
    >>> v.image            # uint8 (height, width, channels) at the model's input size
    >>> v.activation       # the channel's mean over its map, for exactly these pixels

Plain gradient ascent on pixels finds high-frequency noise that excites a unit without looking like
anything. Two things keep the picture natural:

- **the parameterisation**: the picture is made from Fourier coefficients, each frequency scaled by
  1 / frequency (natural images have that spectrum), in a decorrelated colour space (one luminance and two
  opponent axes) and squashed into 0–1 by a sigmoid, so a step of the optimiser moves smooth, coloured
  structure rather than single pixels;
- **robustness**: before every step the picture is jittered, scaled and rotated by a random amount (one
  affine resampling, reflected at the borders), so only what excites the unit wherever it lands survives.

The result is the parameterised picture itself, without transformations, rounded to 8-bit pixels, and fed
in the model's value range; ``activation`` is measured on exactly that.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import Cancelled, CnnError

DEFAULT_STEPS = 256
MAX_STEPS = 4096
LEARNING_RATE = 0.05
MAX_ANGLE_DEGREES = 10.0
SCALES = (0.9, 1.1)
JITTER = 1 / 16  # of the side, either way
INIT_STD = 0.3  # the seeded start: a soft, low-contrast cloud (on a flat grey start, a ReLU unit may be dead)

# Opponent colour axes as the rows: luminance, red–green, blue–yellow (orthonormal), with less room for colour
# than for brightness, as in photos.
_OPPONENT = np.array(
    [
        [1 / math.sqrt(3)] * 3,
        [1 / math.sqrt(2), -1 / math.sqrt(2), 0.0],
        [1 / math.sqrt(6), 1 / math.sqrt(6), -2 / math.sqrt(6)],
    ],
    dtype=np.float32,
)
_OPPONENT_SCALE = np.array([1.0, 0.5, 0.5], np.float32)


@dataclass(frozen=True)
class Visualisation:
    """The picture found for one channel.

    Attributes:
        image: uint8 (height, width, channels), at the model's input size.
        fed: float32 (height, width, channels), ``image`` in the model's value range: what it was fed.
        activation: the channel's mean activation over its map for ``fed``.
        start: the same for the seeded starting picture.
        layer, channel, steps, seed, value_range: what was asked.
    """

    image: np.ndarray
    fed: np.ndarray
    activation: float
    start: float
    layer: str
    channel: int
    steps: int
    seed: int
    value_range: str


def to_range(x01, value_range: str):
    """Pixels from 0–1 to a value range of ``model_maps.VALUE_RANGES`` (works on arrays and tensors)."""
    if value_range == "0-255":
        return x01 * 255.0
    if value_range == "-1-1":
        return x01 * 2.0 - 1.0
    return x01


class _Picture:
    """The Fourier, colour-decorrelated parameterisation of a (height, width, channels) picture in 0–1."""

    def __init__(self, h: int, w: int, c: int, seed: int) -> None:
        import tensorflow as tf

        fy = np.fft.fftfreq(h)[:, None]
        fx = np.fft.rfftfreq(w)[None, :]
        scale = 1.0 / np.maximum(np.sqrt(fy**2 + fx**2), 1.0 / max(h, w))
        # irfft2d divides by h·w: this makes unit-variance coefficients give pixels of about unit variance.
        scale = scale * (h * w) / np.sqrt((scale**2).sum())
        self.scale = tf.constant(scale[None].astype(np.float32))
        rng = np.random.default_rng(seed)
        shape = (c, h, w // 2 + 1)
        self.re = tf.Variable(rng.normal(0.0, INIT_STD, shape).astype(np.float32))
        self.im = tf.Variable(rng.normal(0.0, INIT_STD, shape).astype(np.float32))
        self.h, self.w, self.c = h, w, c

    @property
    def variables(self) -> list:
        return [self.re, self.im]

    def __call__(self):
        """float32 (1, height, width, channels) in 0–1."""
        import tensorflow as tf

        coef = tf.complex(self.re * self.scale, self.im * self.scale)
        x = tf.transpose(tf.signal.irfft2d(coef, fft_length=[self.h, self.w]), (1, 2, 0))  # (h, w, c)
        if self.c == 3:
            x = tf.tensordot(x * _OPPONENT_SCALE, _OPPONENT, axes=[[2], [0]])
        return tf.sigmoid(x)[None]


def visualise(
    model,
    layer: str,
    channel: int,
    *,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    value_range: str | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> Visualisation:
    """Activation maximisation of one channel: the picture whose mean activation in that channel is largest.

    Args:
        model: a loaded Keras model (``model_file.load_model`` or ``tiny_vgg.load_model``).
        layer: an image-shaped layer's path, as ``model_maps.describe`` names it.
        channel: the channel, 0 to channels − 1.
        steps: gradient-ascent steps, 1 to ``MAX_STEPS``.
        seed: seeds the starting picture and every random transformation.
        value_range: the pixel values the model takes; None follows its first Rescaling layer.
        should_stop: polled between steps; True raises ``Cancelled``.
        progress: called with (steps done, steps) every few steps.

    Returns:
        The ``Visualisation``, at the model's input size (``units.FREE_SIDE`` a side for a free size).

    Raises:
        CnnError: a bad layer, channel, step count or value range.
    """
    import keras
    import tensorflow as tf

    from . import model_maps, units

    if not 1 <= steps <= MAX_STEPS:
        raise CnnError(f"must be from 1 to {MAX_STEPS}, got {steps}", "steps")
    info = units._fixed(model_maps.describe(model))
    target = units.check_layer(info, layer)
    channels = int(target.shape[2])
    if not 0 <= channel < channels:
        raise CnnError(f"{layer} has channels 0 to {channels - 1}, got {channel}", "channel")
    value_range = value_range or model_maps.default_range(info)
    if value_range not in model_maps.VALUE_RANGES:
        raise CnnError(
            f"{value_range!r} is not a value range; use one of {', '.join(model_maps.VALUE_RANGES)}", "range"
        )
    h, w, c = info.input_shape
    fn = units.layer_model(model, layer)
    picture = _Picture(h, w, c, seed)
    rng = np.random.default_rng(seed + 1)
    optimiser = keras.optimizers.Adam(learning_rate=LEARNING_RATE)

    @tf.function(jit_compile=False)
    def objective(x):
        return tf.reduce_mean(fn(to_range(x, value_range))[..., channel])

    @tf.function(jit_compile=False)
    def step(transform):
        with tf.GradientTape() as tape:
            x = tf.raw_ops.ImageProjectiveTransformV3(
                images=picture(),
                transforms=transform,
                output_shape=tf.constant([h, w]),
                fill_value=0.0,
                interpolation="BILINEAR",
                fill_mode="REFLECT",
            )
            loss = -objective(x)
        grads = tape.gradient(loss, picture.variables)
        optimiser.apply_gradients(zip(grads, picture.variables))
        return -loss

    start = _measure(objective, picture, value_range)[1]
    for i in range(steps):
        if should_stop is not None and should_stop():
            raise Cancelled("the feature visualisation was stopped", "visualise")
        step(_affine(h, w, rng))
        if progress is not None and (i % 16 == 15 or i == steps - 1):
            progress(i + 1, steps)
    image, activation = _measure(objective, picture, value_range)
    return Visualisation(
        image=image,
        fed=to_range(image.astype(np.float32) / 255.0, value_range).astype(np.float32),
        activation=activation,
        start=start,
        layer=layer,
        channel=channel,
        steps=steps,
        seed=seed,
        value_range=value_range,
    )


def _affine(h: int, w: int, rng) -> np.ndarray:
    """A random jitter, scale and rotation as the 8 numbers of a projective transform (output → input)."""
    angle = math.radians(float(rng.uniform(-MAX_ANGLE_DEGREES, MAX_ANGLE_DEGREES)))
    s = float(rng.uniform(*SCALES))
    ty, tx = (float(v) for v in rng.uniform(-JITTER, JITTER, 2) * (h, w))
    cy, cx = (h - 1) / 2, (w - 1) / 2
    cos, sin = math.cos(angle) / s, math.sin(angle) / s
    # Output pixel (x, y) reads input (cos·(x−cx) − sin·(y−cy) + cx + tx, sin·(x−cx) + cos·(y−cy) + cy + ty).
    t = [cos, -sin, cx - cos * cx + sin * cy + tx, sin, cos, cy - sin * cx - cos * cy + ty, 0.0, 0.0]
    return np.array([t], np.float32)


def _measure(objective, picture: _Picture, value_range: str) -> tuple[np.ndarray, float]:
    """The picture as 8-bit pixels, and the objective on exactly those pixels."""
    import tensorflow as tf

    image = np.clip(np.rint(picture()[0].numpy() * 255.0), 0, 255).astype(np.uint8)
    return image, float(objective(tf.constant(image[None].astype(np.float32) / 255.0)))
