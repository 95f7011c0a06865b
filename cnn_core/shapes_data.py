"""A data set made by code: 64×64 RGB pictures of six simple shapes and of none of them, drawn from a seed.

    >>> images, labels = make_dataset(600, seed=0)   # uint8 (600, 64, 64, 3), int64 (600,)
    >>> picture = sample("star", seed=7)             # uint8 (64, 64, 3)

Every picture varies its shape's colour, size, position and rotation, the
background (flat or a gradient) and the pixel noise. The seventh class, ``none``, is a picture of no
shape at all (noise, stripes, scribbles, a photo crop…; see ``nonshapes``). Picture ``i`` of a data
set depends only on ``(seed, i)``, so any slice can be regenerated exactly,
and the labels cycle through the classes, so every class has the same count
(to within one). Nothing is downloaded.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from .errors import CnnError

CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "star", "cross", "ring", "none")
NONE = CLASSES.index("none")  # "none of these": the answer for a picture of no shape
SIDE = 64
_SUPER = 4  # drawn at 4× and box-filtered down: smooth edges like a real photo's
_MIN_CONTRAST = 90.0  # least luminance gap between the shape and its background, out of 255


def class_index(name: str) -> int:
    """The label of a class name, e.g. ``class_index("star") == 3``."""
    try:
        return CLASSES.index(name)
    except ValueError:
        raise CnnError(f"Unknown shape class {name!r}; the classes are {', '.join(CLASSES)}.") from None


def _luma(rgb: np.ndarray) -> float:
    return float(rgb @ np.array([0.299, 0.587, 0.114]))


def _colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A background and a shape colour whose brightness differs by at least ``_MIN_CONTRAST``."""
    while True:
        bg, fg = rng.uniform(0, 255, size=(2, 3))
        if abs(_luma(bg) - _luma(fg)) >= _MIN_CONTRAST:
            return bg, fg


def _background(rng: np.random.Generator, bg: np.ndarray) -> np.ndarray:
    """Float (SIDE, SIDE, 3): a flat colour, or half the time a linear gradient around it."""
    out = np.broadcast_to(bg, (SIDE, SIDE, 3)).astype(np.float64)
    if rng.random() < 0.5:
        angle = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:SIDE, 0:SIDE] / (SIDE - 1) - 0.5
        ramp = (np.cos(angle) * xx + np.sin(angle) * yy)[..., None]
        out = out + ramp * rng.uniform(-50, 50, size=3)
    return out


def _polygon(cx: float, cy: float, radii: list[float], angle: float) -> list[tuple[float, float]]:
    """Corners at the given radii, evenly spaced around (cx, cy), starting at ``angle``."""
    n = len(radii)
    return [
        (cx + r * math.cos(angle + 2 * math.pi * k / n), cy + r * math.sin(angle + 2 * math.pi * k / n))
        for k, r in enumerate(radii)
    ]


def _rotated(points: list[tuple[float, float]], cx: float, cy: float, angle: float) -> list[tuple[float, float]]:
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + c * x - s * y, cy + s * x + c * y) for x, y in points]


def _mask(label: int, rng: np.random.Generator) -> np.ndarray:
    """Float (SIDE, SIDE) coverage in [0, 1] of one shape of class ``label``, anti-aliased."""
    big = SIDE * _SUPER
    im = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(im)
    r = rng.uniform(0.20, 0.40) * SIDE  # the shape's outer radius, in final pixels
    margin = r + 1
    cx, cy = rng.uniform(margin, SIDE - margin, size=2)
    angle = rng.uniform(0, 2 * math.pi)
    r, cx, cy = r * _SUPER, cx * _SUPER, cy * _SUPER
    name = CLASSES[label]
    if name == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
    elif name == "ring":
        inner = r * rng.uniform(0.45, 0.65)
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
        draw.ellipse([cx - inner, cy - inner, cx + inner, cy + inner], fill=0)
    elif name == "square":
        draw.polygon(_polygon(cx, cy, [r] * 4, angle), fill=255)
    elif name == "triangle":
        draw.polygon(_polygon(cx, cy, [r] * 3, angle), fill=255)
    elif name == "star":
        inner = r * rng.uniform(0.38, 0.5)
        draw.polygon(_polygon(cx, cy, [r, inner] * 5, angle), fill=255)
    elif name == "cross":
        half = r * rng.uniform(0.22, 0.32)  # half the arm's width
        arm = [(-r, -half), (r, -half), (r, half), (-r, half)]
        draw.polygon(_rotated(arm, cx, cy, angle), fill=255)
        draw.polygon(_rotated(arm, cx, cy, angle + math.pi / 2), fill=255)
    small = im.reduce(_SUPER)  # box filter: each final pixel averages its 4×4 block
    return np.asarray(small, dtype=np.float64) / 255.0


def draw(label: int, rng: np.random.Generator) -> np.ndarray:
    """One picture of class ``label`` drawn with ``rng``: uint8 (64, 64, 3)."""
    if not 0 <= label < len(CLASSES):
        raise CnnError(f"Shape class {label} does not exist; labels run from 0 to {len(CLASSES) - 1}.")
    if label == NONE:
        from . import nonshapes  # imported late: nonshapes draws with sketches, which imports this module

        return nonshapes.picture(rng, SIDE)
    bg, fg = _colours(rng)
    picture = _background(rng, bg)
    cover = _mask(label, rng)[..., None]
    picture = picture * (1 - cover) + fg * cover
    picture += rng.normal(0.0, rng.uniform(0, 12), size=picture.shape)
    return np.clip(np.rint(picture), 0, 255).astype(np.uint8)


def make_dataset(n: int, seed: int, progress: Callable[[int], object] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` pictures and their labels, the same for the same seed.

    Args:
        n: how many pictures; the labels cycle 0, 1, …, 6, 0, 1, … so each class
            has ``n // 7`` or one more.
        seed: any non-negative integer. Picture ``i`` is drawn from the random
            stream of ``(seed, i)`` alone.
        progress: if given, called with the number of pictures drawn so far, every 500 and at the end.

    Returns:
        images: uint8 (n, 64, 64, 3).
        labels: int64 (n,), indices into ``CLASSES``.
    """
    labels = np.arange(n, dtype=np.int64) % len(CLASSES)
    images = np.empty((n, SIDE, SIDE, 3), dtype=np.uint8)
    for i in range(n):
        images[i] = draw(int(labels[i]), np.random.default_rng([seed, i]))
        if progress is not None and ((i + 1) % 500 == 0 or i + 1 == n):
            progress(i + 1)
    return images, labels


def sample(name: str, seed: int = 0) -> np.ndarray:
    """One picture of the named class for a seed, uint8 (64, 64, 3); the seed picks which one."""
    return draw(class_index(name), np.random.default_rng([seed, 1_000_003, class_index(name)]))
