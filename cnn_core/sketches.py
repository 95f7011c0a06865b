"""Shapes drawn the way people draw them, for training: a pen on a 256×256 canvas, brought to 64×64.

    >>> images, labels = make_dataset(700, seed=0)   # uint8 (700, 64, 64, 3), int64 (700,)
    >>> picture = sketch(class_index("star"), np.random.default_rng(3))   # uint8 (256, 256, 3)

A sketch is one outline, wobbled like a hand's stroke and drawn with a round pen 6–44 canvas pixels wide,
either filled with the ink or left open. It is 25–97% of the canvas on its longer side, anywhere on it, at
any angle, in any ink on any paper (a third of the time the Trained network page's own canvas: white paper,
its default ink). Which is which, as the page says:

- circle: a filled disk; ring: a circle's outline, left open, of any pen width;
- square (or a rectangle close to one), triangle and star: filled or outlined; a star may also be the
  five-line pentagram drawn without lifting the pen;
- cross: a plus shape, filled or outlined, or two strokes crossing.

The ``none`` class comes from ``nonshapes`` (scribbles, noise, stripes, photo crops and so on). Picture
``i`` of a data set depends only on ``(seed, i)``; the labels cycle through every class.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from . import framing, nonshapes
from .shapes_data import CLASSES, NONE, SIDE, class_index

CANVAS = 256
PAGE_PAPER = (255, 255, 255)  # the Trained network page's canvas: ui/network/inputs.py
PAGE_INK = (31, 58, 147)  # "#1f3a93"
_STREAM = 7_340_033  # keeps these pictures' random streams apart from shapes_data's


def _luma(rgb) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def paper_and_ink(rng: np.random.Generator) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """A paper colour and an ink colour whose brightness differs by at least 70 out of 255."""
    r = rng.random()
    if r < 0.3:
        return PAGE_PAPER, PAGE_INK
    if r < 0.45:
        return PAGE_PAPER, tuple(int(v) for v in rng.integers(0, 60, 3))
    while True:
        paper, ink = rng.integers(0, 256, (2, 3))
        if r < 0.7:
            paper = 255 - rng.integers(0, 40, 3)  # light paper, any ink
        if abs(_luma(paper) - _luma(ink)) >= 70:
            return tuple(int(v) for v in paper), tuple(int(v) for v in ink)


def _resample(points: np.ndarray, n: int, closed: bool) -> np.ndarray:
    """``n`` points evenly spaced along a polyline (closed: back to its start)."""
    pts = np.vstack([points, points[:1]]) if closed else points
    seg = np.hypot(*np.diff(pts, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.linspace(0.0, s[-1], n, endpoint=not closed)
    return np.stack([np.interp(t, s, pts[:, 0]), np.interp(t, s, pts[:, 1])], axis=1)


def _wobble(points: np.ndarray, amount: float, rng: np.random.Generator, closed: bool) -> np.ndarray:
    """A hand's wobble: the path pushed sideways by a few slow sine waves and a little jitter."""
    n = len(points)
    nxt = np.roll(points, -1, axis=0) if closed else np.vstack([points[1:], 2 * points[-1:] - points[-2:-1]])
    tangent = nxt - points
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    normal /= np.maximum(np.hypot(*normal.T), 1e-9)[:, None]
    t = np.arange(n) / n * 2 * math.pi
    push = np.zeros(n)
    for k in rng.integers(1, 4, size=2):
        push += rng.normal(0, amount) * np.sin(k * t + rng.uniform(0, 2 * math.pi))
    push += rng.normal(0, amount * 0.1, n)
    return points + normal * push[:, None]


def _round_corners(points: np.ndarray, cut: float, times: int) -> np.ndarray:
    """Corners cut off ``times`` times, ``cut`` of each edge from either end (Chaikin): rounded corners."""
    for _ in range(times):
        nxt = np.roll(points, -1, axis=0)
        points = np.stack([(1 - cut) * points + cut * nxt, cut * points + (1 - cut) * nxt], axis=1).reshape(-1, 2)
    return points


def _regular(n: int, radii, start: float) -> np.ndarray:
    a = start + 2 * math.pi * np.arange(n) / n
    return np.stack([np.cos(a), np.sin(a)], axis=1) * np.asarray(radii, dtype=float)[:, None]


def _strokes(name: str, rng: np.random.Generator) -> tuple[list[tuple[np.ndarray, bool]], bool]:
    """The shape's strokes in unit coordinates, each (points, closed), and whether it is filled."""
    filled = bool(rng.random() < 0.5)
    if name in ("circle", "ring"):
        a = np.linspace(0, 2 * math.pi, 80, endpoint=False)
        pts = np.stack([np.cos(a), rng.uniform(0.85, 1.15) * np.sin(a)], axis=1)
        return [(pts, True)], name == "circle"
    if name == "square":
        aspect = rng.uniform(0.78, 1.28)
        pts = np.array([[-1, -aspect], [1, -aspect], [1, aspect], [-1, aspect]], float)
        return [(pts + rng.normal(0, 0.05, pts.shape), True)], filled
    if name == "triangle":
        angles = np.array([0.0, 2 * math.pi / 3, 4 * math.pi / 3]) + rng.normal(0, 0.25, 3) * [0, 1, 1]
        pts = np.stack([np.cos(angles), np.sin(angles)], axis=1) * rng.uniform(0.75, 1.0, 3)[:, None]
        return [(pts, True)], filled
    if name == "star":
        inner = rng.uniform(0.33, 0.55)
        outer = _regular(5, rng.uniform(0.9, 1.0, 5), 0.0)
        if rng.random() < 0.3:  # the pentagram, one line through every second point
            return [(outer[[0, 2, 4, 1, 3]], True)], False
        radii = np.ravel(np.stack([np.ones(5), np.full(5, inner)], axis=1))
        return [(_regular(10, radii, 0.0), True)], filled
    if name == "cross":
        if rng.random() < 0.35:  # two strokes
            a, b = rng.uniform(0.85, 1.0, 2), rng.normal(0, 0.08, 2)
            h = np.array([[-a[0], b[0]], [a[1], b[0]]])
            v = np.array([[b[1], -a[1]], [b[1], a[0]]])
            return [(h, False), (v, False)], False
        w = rng.uniform(0.18, 0.36)
        pts = np.array(
            [[w, w], [1, w], [1, -w], [w, -w], [w, -1], [-w, -1], [-w, -w], [-1, -w], [-1, w], [-w, w], [-w, 1], [w, 1]]
        )
        return [(pts, True)], filled
    raise ValueError(name)


def sketch(label: int, rng: np.random.Generator) -> np.ndarray:
    """One drawn-style picture of class ``label`` on the canvas: uint8 (256, 256, 3); a non-shape for
    ``NONE`` is drawn at 64×64 (it is framed the same way, and drawn four times faster)."""
    if label == NONE:
        return nonshapes.picture(rng, SIDE)
    paper, ink = paper_and_ink(rng)
    strokes, filled = _strokes(CLASSES[label], rng)
    size = rng.uniform(0.25, 0.97) * CANVAS
    pen = int(rng.uniform(6, 44))
    if not filled:  # thin to thick, but not so thick that a small outline closes up into a blob
        pen = int(min(pen, 0.06 * size + 6 * rng.random() + 4))
    if CLASSES[label] not in ("circle", "ring") and rng.random() < 0.4:  # a hand that rounds its corners
        strokes = [(_round_corners(p, rng.uniform(0.05, 0.2), 2) if c else p, c) for p, c in strokes]
    if CLASSES[label] == "cross" and len(strokes) == 2:
        pen = int(min(rng.uniform(10, 48), 0.3 * size))
    # Rotate, then scale so the longer side of the bounding box is ``size``, then place it anywhere.
    turn = rng.uniform(0, 2 * math.pi)
    rot = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    strokes = [(p @ rot.T, c) for p, c in strokes]
    every = np.vstack([p for p, _ in strokes])
    lo, hi = every.min(axis=0), every.max(axis=0)
    scale = (size - pen) / max(float((hi - lo).max()), 1e-6)
    extent = (hi - lo) * scale + pen
    corner = rng.uniform(0, np.maximum(CANVAS - extent, 0) + 1e-6)
    offset = corner + pen / 2 - lo * scale
    im = Image.new("RGB", (CANVAS, CANVAS), paper)
    d = ImageDraw.Draw(im)
    wobble = rng.uniform(0.0, 0.018) * size
    r = pen / 2
    for pts, closed in strokes:
        pts = pts * scale + offset
        path = _wobble(_resample(pts, 96 if closed else 24, closed), wobble, rng, closed)
        if filled:
            d.polygon([tuple(p) for p in path], fill=ink)
        if closed:  # a hand closes the loop a little short or a little past its start
            extra = int(rng.integers(-5, 8))
            path = np.vstack([path, path[: max(extra, 0) + 1]]) if extra >= 0 else path[:extra]
        line = [tuple(p) for p in path]
        d.line(line, fill=ink, width=pen)
        for x, y in line:  # a round pen: no notches where the path turns
            d.ellipse([x - r, y - r, x + r, y + r], fill=ink)
    return nonshapes.photographed(np.asarray(im), rng)


def make_dataset(n: int, seed: int, progress: Callable[[int], object] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` drawn-style pictures, framed for the network as ``framing.frame`` frames every input, and their
    labels, the same for the same seed.

    Returns:
        images: uint8 (n, 64, 64, 3); labels: int64 (n,), cycling through every class.
    """
    labels = np.arange(n, dtype=np.int64) % len(CLASSES)
    images = np.empty((n, SIDE, SIDE, 3), dtype=np.uint8)
    for i in range(n):
        images[i] = framing.frame(sketch(int(labels[i]), np.random.default_rng([seed, _STREAM, i])))
        if progress is not None and ((i + 1) % 500 == 0 or i + 1 == n):
            progress(i + 1)
    return images, labels


def sample(name: str, seed: int = 0) -> np.ndarray:
    """One drawn-style canvas of the named class, uint8 (256, 256, 3)."""
    label = class_index(name)
    return sketch(label, np.random.default_rng([seed, _STREAM, 1_000_003, label]))
