"""Drawings that no training code has seen: the honest check of how the network reads what people draw.

    >>> pictures, labels = make_set(70, seed=0)   # 70 drawn shapes, then 70 pictures of none of them

Training draws with Pillow (``sketches``, ``nonshapes``); this module paints with NumPy instead, from
another family of seeds and with another model of a hand: the pen follows a smooth curve through the
shape's corners (a Catmull–Rom spline, so corners round off or overshoot a little), drifts like a random
walk, and presses harder or softer along the way; edges are anti-aliased from the distance to the stroke.
Every shape is drawn on a 256×256 canvas (as on the Trained network page), its longer side 30–95% of the
canvas, anywhere on it, at any angle, with a pen 8–40 pixels wide (never wider than a sixth of the shape,
so a small outline stays an outline), filled or outlined (a circle is always a filled disk, a ring always
an open outline). Papers and inks are the page's own (white, #1f3a93) a third of the time, otherwise any
two colours of different brightness.

The non-shapes are blank paper, noise, scribbles (Bézier curves), gradients across four corners, hatching,
dotted and blotchy textures, and crops of the bundled photos of any aspect ratio (the network's input step
takes their centre square).
"""

from __future__ import annotations

import colorsys
import math

import numpy as np

from . import nonshapes
from .shapes_data import CLASSES, NONE

CANVAS = 256
SHAPES = tuple(name for name in CLASSES if name != CLASSES[NONE])
_FAMILY = 0x5C4E7C  # this module's seeds: default_rng([_FAMILY, seed, kind, i]), never used in training
_YY, _XX = np.mgrid[0:CANVAS, 0:CANVAS].astype(np.float32) + 0.5


def _colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Paper and ink, float RGB 0–255."""
    if rng.random() < 1 / 3:
        return np.array([255.0, 255, 255]), np.array([31.0, 58, 147])
    while True:
        paper = np.array(colorsys.hsv_to_rgb(rng.random(), rng.random() ** 2, rng.uniform(0.5, 1.0))) * 255
        ink = np.array(colorsys.hsv_to_rgb(rng.random(), rng.random(), rng.random())) * 255
        if rng.random() < 0.25:
            paper, ink = ink, paper
        luma = np.array([0.299, 0.587, 0.114])
        if abs(float((paper - ink) @ luma)) >= 80:
            return paper, ink


def _spline(corners: np.ndarray, closed: bool, per_edge: int, tension: float) -> np.ndarray:
    """A Catmull–Rom curve through ``corners`` (k, 2); lower ``tension`` rounds the corners more."""
    p = np.vstack([corners[-1:], corners, corners[:2]]) if closed else np.vstack([corners[:1], corners, corners[-1:]])
    out = []
    edges = len(corners) if closed else len(corners) - 1
    for i in range(edges):
        p0, p1, p2, p3 = p[i], p[i + 1], p[i + 2], p[i + 3]
        m1, m2 = (p2 - p0) * (1 - tension) / 2, (p3 - p1) * (1 - tension) / 2
        t = np.linspace(0, 1, per_edge, endpoint=False)[:, None]
        h00, h10, h01, h11 = 2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t, -2 * t**3 + 3 * t**2, t**3 - t**2
        out.append(h00 * p1 + h10 * m1 + h01 * p2 + h11 * m2)
    out.append(p[edges + 1][None] if not closed else p[1][None])
    return np.vstack(out)


def _drift(path: np.ndarray, amount: float, rng: np.random.Generator, closed: bool) -> np.ndarray:
    """A random walk added to the path, bent back to zero at the end of a closed one."""
    walk = np.cumsum(rng.normal(0, amount, path.shape), axis=0)
    if closed:
        walk -= np.linspace(0, 1, len(path))[:, None] * walk[-1]
    return path + walk


def _ink_of_path(path: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Coverage float32 (256, 256) in [0, 1] of a pen along ``path`` (n, 2) with half-width ``widths`` (n,)."""
    cover = np.zeros((CANVAS, CANVAS), np.float32)
    pad = float(widths.max()) + 2
    x0, y0 = np.maximum(np.floor(path.min(axis=0) - pad).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(path.max(axis=0) + pad).astype(int), CANVAS)
    if x1 <= x0 or y1 <= y0:
        return cover
    px, py = _XX[y0:y1, x0:x1][..., None], _YY[y0:y1, x0:x1][..., None]
    best = np.full((y1 - y0, x1 - x0), -np.inf, np.float32)
    a, b = path[:-1].astype(np.float32), path[1:].astype(np.float32)
    ha, hb = widths[:-1].astype(np.float32), widths[1:].astype(np.float32)
    for s in range(0, len(a), 24):
        ax, ay, bx, by = a[s : s + 24, 0], a[s : s + 24, 1], b[s : s + 24, 0], b[s : s + 24, 1]
        dx, dy = bx - ax, by - ay
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / np.maximum(dx * dx + dy * dy, 1e-6), 0, 1)
        dist = np.hypot(px - ax - t * dx, py - ay - t * dy)
        half = ha[s : s + 24] + t * (hb[s : s + 24] - ha[s : s + 24])
        best = np.maximum(best, (half - dist).max(axis=2))
    cover[y0:y1, x0:x1] = np.clip(best + 0.5, 0, 1)
    return cover


def _inside(path: np.ndarray) -> np.ndarray:
    """Float32 (256, 256): 1 inside a closed path, by the even–odd rule at pixel centres (the pen's stroke
    along the path anti-aliases the edge)."""
    out = np.zeros((CANVAS, CANVAS), np.float32)
    x0, y0 = np.maximum(np.floor(path.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(path.max(axis=0)).astype(int) + 1, CANVAS)
    if x1 <= x0 or y1 <= y0:
        return out
    py, px = _YY[y0:y1, x0:x1][..., None], _XX[y0:y1, x0:x1][..., None]
    a, b = path.astype(np.float32), np.roll(path, -1, axis=0).astype(np.float32)
    flat = a[:, 1] == b[:, 1]
    a, b = a[~flat], b[~flat]
    odd = np.zeros((y1 - y0, x1 - x0), bool)
    for s in range(0, len(a), 32):
        ax, ay, bx, by = a[s : s + 32, 0], a[s : s + 32, 1], b[s : s + 32, 0], b[s : s + 32, 1]
        crosses = (py >= np.minimum(ay, by)) & (py < np.maximum(ay, by))
        x_at = ax + (py - ay) * (bx - ax) / (by - ay)
        odd ^= (np.sum(crosses & (px < x_at), axis=2) % 2).astype(bool)
    out[y0:y1, x0:x1] = odd
    return out


def _corners(name: str, rng: np.random.Generator) -> tuple[list[tuple[np.ndarray, bool]], bool]:
    """The corners of each stroke in unit size, whether each is closed, and whether the shape is filled."""
    filled = rng.random() < 0.5
    if name in ("circle", "ring"):
        k = 12
        a = np.arange(k) * 2 * math.pi / k
        squash = rng.uniform(0.88, 1.12)
        return [(np.stack([np.cos(a), squash * np.sin(a)], 1), True)], name == "circle"
    if name == "square":
        h = rng.uniform(0.85, 1.15)
        return [(np.array([[-1, -h], [1, -h], [1, h], [-1, h]], float), True)], filled
    if name == "triangle":
        a = np.array([90.0, 210.0, 330.0]) * math.pi / 180 + rng.uniform(-0.15, 0.15, 3)
        return [(np.stack([np.cos(a), np.sin(a)], 1), True)], filled
    if name == "star":
        a = np.arange(10) * math.pi / 5 - math.pi / 2
        r = np.where(np.arange(10) % 2 == 0, 1.0, rng.uniform(0.36, 0.5))
        pts = np.stack([np.cos(a) * r, np.sin(a) * r], 1)
        if rng.random() < 0.25:
            return [(pts[::2][[0, 2, 4, 1, 3]], True)], False
        return [(pts, True)], filled
    if name == "cross":
        if rng.random() < 0.4:
            return [(np.array([[-1.0, 0], [1, 0]]), False), (np.array([[0, -1.0], [0, 1]]), False)], False
        w = rng.uniform(0.2, 0.34)
        q = np.array([[w, -1], [w, -w], [1, -w], [1, w], [w, w], [w, 1]])
        return [(np.vstack([q, -q]), True)], filled
    raise ValueError(name)


def drawing(name: str, rng: np.random.Generator, pen: float | None = None) -> np.ndarray:
    """One hand-drawn-style shape on the 256×256 canvas: uint8 (256, 256, 3); ``pen`` fixes the pen's
    width in canvas pixels (otherwise 8–40, drawn from ``rng``)."""
    paper, ink = _colours(rng)
    strokes, filled = _corners(name, rng)
    turn = rng.uniform(0, 2 * math.pi)
    rot = np.array([[math.cos(turn), math.sin(turn)], [-math.sin(turn), math.cos(turn)]])
    strokes = [(c @ rot, closed) for c, closed in strokes]
    allc = np.vstack([c for c, _ in strokes])
    size = rng.uniform(0.30, 0.95) * CANVAS
    pen = rng.uniform(8, 40) if pen is None else float(pen)
    if not (filled or name == "cross" and len(strokes) == 2):
        pen = min(pen, size / 6)
    span = float((allc.max(0) - allc.min(0)).max())
    scale = (size - pen) / span
    lo = allc.min(0) * scale
    room = CANVAS - (allc.max(0) - allc.min(0)) * scale - pen
    shift = rng.uniform(0, np.maximum(room, 0)) - lo + pen / 2
    cover = np.zeros((CANVAS, CANVAS), np.float32)
    round_shape = name in ("circle", "ring")
    for c, closed in strokes:
        c = c * scale + shift
        path = _spline(c, closed, 6 if round_shape else 8, 0.0 if round_shape else rng.uniform(0.6, 1.0))
        path = _drift(path, rng.uniform(0, 0.004) * size, rng, closed)
        press = pen / 2 * (1 + 0.15 * np.sin(np.linspace(0, rng.uniform(2, 8), len(path)) + rng.uniform(0, 6)))
        if filled:
            cover = np.maximum(cover, _inside(path))
        cover = np.maximum(cover, _ink_of_path(path, press))
    out = paper * (1 - cover[..., None]) + ink * cover[..., None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _bezier(rng: np.random.Generator) -> np.ndarray:
    p = rng.uniform(0, CANVAS, (4, 2))
    t = np.linspace(0, 1, 40)[:, None]
    return (1 - t) ** 3 * p[0] + 3 * (1 - t) ** 2 * t * p[1] + 3 * (1 - t) * t**2 * p[2] + t**3 * p[3]


def non_shape(rng: np.random.Generator) -> np.ndarray:
    """One picture of no shape: uint8 (height, width, 3), mostly 256×256, photo crops of any aspect."""
    kind = int(rng.integers(8))
    paper, ink = _colours(rng)
    yy, xx = _YY / CANVAS, _XX / CANVAS
    if kind == 0:  # blank paper, a little uneven
        out = paper + rng.normal(0, rng.uniform(0, 4), (CANVAS, CANVAS, 3))
    elif kind == 1:  # noise: fine or salt and pepper
        if rng.random() < 0.5:
            out = rng.uniform(0, 255, (CANVAS, CANVAS, 3))
        else:
            out = np.where(rng.random((CANVAS, CANVAS, 1)) < rng.uniform(0.05, 0.5), ink, paper)
    elif kind == 2:  # scribbles
        cover = np.zeros((CANVAS, CANVAS), np.float32)
        for _ in range(int(rng.integers(2, 6))):
            path = _bezier(rng)
            cover = np.maximum(cover, _ink_of_path(path, np.full(len(path), rng.uniform(3, 16))))
        out = paper * (1 - cover[..., None]) + ink * cover[..., None]
    elif kind == 3:  # a gradient across four corner colours
        c = rng.uniform(0, 255, (4, 3))
        out = ((1 - yy) * (1 - xx))[..., None] * c[0] + ((1 - yy) * xx)[..., None] * c[1]
        out = out + (yy * (1 - xx))[..., None] * c[2] + (yy * xx)[..., None] * c[3]
    elif kind == 4:  # hatching
        a, gap = rng.uniform(0, math.pi), rng.uniform(6, 40)
        u = (np.cos(a) * _XX + np.sin(a) * _YY) % gap
        t = (u < gap * rng.uniform(0.2, 0.6)).astype(np.float32)
        out = paper * (1 - t[..., None]) + ink * t[..., None]
    elif kind == 5:  # dots on a grid, jittered
        gap = rng.uniform(12, 40)
        cy, cx = (_YY // gap + 0.5) * gap, (_XX // gap + 0.5) * gap
        t = (np.hypot(_YY - cy, _XX - cx) < gap * rng.uniform(0.15, 0.4)).astype(np.float32)
        out = paper * (1 - t[..., None]) + ink * t[..., None]
    elif kind == 6:  # blotches: many soft blobs
        t = np.zeros((CANVAS, CANVAS), np.float32)
        for _ in range(int(rng.integers(20, 60))):
            y, x, s = rng.uniform(0, CANVAS), rng.uniform(0, CANVAS), rng.uniform(4, 20)
            t += np.exp(-((_YY - y) ** 2 + (_XX - x) ** 2) / (2 * s * s))
        out = paper + (ink - paper) * np.clip(t, 0, 1)[..., None]
    else:  # a crop of a bundled photo, any aspect ratio
        photos = nonshapes._photos()
        p = photos[int(rng.integers(len(photos)))]
        h, w = p.shape[:2]
        ch, cw = int(h * rng.uniform(0.25, 1)), int(w * rng.uniform(0.25, 1))
        top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        return np.ascontiguousarray(p[top : top + ch, left : left + cw])
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def make_set(samples: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """``samples`` drawn shapes (cycling through the six) and ``samples`` non-shapes, with their labels.

    Returns:
        pictures: uint8 arrays, (256, 256, 3) or a photo crop's size; labels: int64 (2 · samples,),
        indices into ``CLASSES`` (``NONE`` for the non-shapes).
    """
    pictures, labels = [], []
    for i in range(samples):
        name = SHAPES[i % len(SHAPES)]
        pictures.append(drawing(name, np.random.default_rng([_FAMILY, seed, 1, i])))
        labels.append(CLASSES.index(name))
    for i in range(samples):
        pictures.append(non_shape(np.random.default_rng([_FAMILY, seed, 2, i])))
        labels.append(NONE)
    return pictures, np.array(labels, dtype=np.int64)
