"""Pictures of none of the shapes, for training the ``none`` class: what people show a shape classifier
that is not a shape.

    >>> picture = picture(np.random.default_rng(0), 64)   # uint8 (64, 64, 3)

Each is one of: blank paper, pixel or blotchy noise, a gradient, stripes or a checkerboard, a texture of
waves, scribbles (a few meandering pen strokes), scattered dots and dashes, or a crop of one of the bundled
photos in ``assets/``. Everything is drawn from the generator given, so a seed gives the same picture.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ASSETS = Path(__file__).resolve().parent.parent / "assets"
PHOTOS = ("astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "rocket.jpg", "text.png")
KINDS = ("blank", "noise", "gradient", "stripes", "texture", "scribble", "dots", "photo")


@functools.lru_cache(maxsize=1)
def _photos() -> tuple[np.ndarray, ...]:
    """The bundled photos as uint8 RGB, read once; those that are missing are skipped."""
    out = []
    for name in PHOTOS:
        try:
            with Image.open(ASSETS / name) as im:
                out.append(np.asarray(im.convert("RGB")))
        except OSError:
            continue
    return tuple(out)


def _colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, 3)


def _grid(side: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:side, 0:side] / max(side - 1, 1)
    return yy, xx


def _blend(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return a * (1 - t[..., None]) + b * t[..., None]


def _photo_crop(rng: np.random.Generator, side: int) -> np.ndarray:
    photos = _photos()
    if not photos:
        return _noise(rng, side)
    p = photos[int(rng.integers(len(photos)))]
    h, w = p.shape[:2]
    c = int(rng.uniform(0.2, 1.0) * min(h, w))
    top, left = int(rng.integers(0, h - c + 1)), int(rng.integers(0, w - c + 1))
    im = Image.fromarray(p[top : top + c, left : left + c]).resize((side, side), Image.Resampling.BILINEAR)
    a = np.asarray(im, dtype=np.float64)
    if rng.random() < 0.5:
        a = a[:, ::-1]
    if rng.random() < 0.3:
        a = np.repeat(a.mean(axis=2, keepdims=True), 3, axis=2)
    return a


def _noise(rng: np.random.Generator, side: int) -> np.ndarray:
    cells = int(rng.choice([2, 4, 8, 16, 32, side]))
    cells = min(cells, side)
    grey = rng.random() < 0.4
    small = rng.uniform(0, 255, (cells, cells, 1 if grey else 3))
    small = np.repeat(small, 3, axis=2) if grey else small
    im = Image.fromarray(small.astype(np.uint8)).resize((side, side), Image.Resampling.BILINEAR)
    return np.asarray(im, dtype=np.float64)


def _stripes(rng: np.random.Generator, side: int) -> np.ndarray:
    yy, xx = _grid(side)
    a = rng.uniform(0, math.pi)
    freq = rng.uniform(2, 14)
    u = np.cos(a) * xx + np.sin(a) * yy
    if rng.random() < 0.3:  # a checkerboard
        v = -np.sin(a) * xx + np.cos(a) * yy
        t = ((np.floor(u * freq) + np.floor(v * freq)) % 2).astype(float)
    else:
        t = 0.5 + 0.5 * np.sin(2 * math.pi * freq * u)
        if rng.random() < 0.5:
            t = (t > rng.uniform(0.3, 0.7)).astype(float)
    return _blend(_colour(rng), _colour(rng), t)


def _texture(rng: np.random.Generator, side: int) -> np.ndarray:
    yy, xx = _grid(side)
    t = np.zeros((side, side))
    for _ in range(int(rng.integers(3, 8))):
        a, f = rng.uniform(0, 2 * math.pi), rng.uniform(3, 20)
        t += np.sin(2 * math.pi * f * (np.cos(a) * xx + np.sin(a) * yy) + rng.uniform(0, 2 * math.pi))
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-9)
    return _blend(_colour(rng), _colour(rng), t)


def _gradient(rng: np.random.Generator, side: int) -> np.ndarray:
    yy, xx = _grid(side)
    if rng.random() < 0.6:
        a = rng.uniform(0, 2 * math.pi)
        t = np.cos(a) * (xx - 0.5) + np.sin(a) * (yy - 0.5) + 0.5
    else:
        cy, cx = rng.uniform(0, 1, 2)
        t = np.hypot(yy - cy, xx - cx) / rng.uniform(0.5, 1.5)
    return _blend(_colour(rng), _colour(rng), np.clip(t, 0, 1))


def _pen_picture(rng: np.random.Generator, side: int, scribble: bool) -> np.ndarray:
    from .sketches import paper_and_ink  # the same papers and inks as the drawn shapes

    paper, ink = paper_and_ink(rng)
    big = 256
    im = Image.new("RGB", (big, big), paper)
    d = ImageDraw.Draw(im)
    if scribble:  # meandering strokes whose direction drifts and jumps
        for _ in range(int(rng.integers(1, 4))):
            pen = int(rng.uniform(4, 40))
            p = rng.uniform(20, big - 20, 2)
            heading = rng.uniform(0, 2 * math.pi)
            pts = [tuple(p)]
            step = rng.uniform(6, 20)
            for _ in range(int(rng.integers(8, 40))):
                heading += rng.normal(0, 0.9)
                p = np.clip(p + step * np.array([math.cos(heading), math.sin(heading)]), 0, big)
                pts.append(tuple(p))
            d.line(pts, fill=ink, width=pen, joint="curve")
    else:  # dots and dashes scattered over the paper
        for _ in range(int(rng.integers(3, 30))):
            x, y = rng.uniform(0, big, 2)
            r = rng.uniform(2, 14)
            if rng.random() < 0.5:
                d.ellipse([x - r, y - r, x + r, y + r], fill=ink)
            else:
                a = rng.uniform(0, 2 * math.pi)
                n = rng.uniform(10, 50)
                d.line([(x, y), (x + n * math.cos(a), y + n * math.sin(a))], fill=ink, width=int(r))
    if side != big:
        im = im.resize((side, side), Image.Resampling.BILINEAR)
    return np.asarray(im, dtype=np.float64)


def photographed(picture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A clean picture as a phone might see it: sometimes uneven light, sometimes pixel noise. uint8."""
    light, noise = rng.random(2) < 0.3
    if not (light or noise):
        return np.clip(np.rint(picture), 0, 255).astype(np.uint8) if picture.dtype != np.uint8 else picture
    a = picture.astype(np.float32)
    side = a.shape[0]
    if light:
        ramp = np.linspace(-0.5, 0.5, side, dtype=np.float32)
        ang = rng.uniform(0, 2 * math.pi)
        a += ((math.cos(ang) * ramp[None, :] + math.sin(ang) * ramp[:, None]) * rng.uniform(-60, 60))[..., None]
    if noise:
        a += rng.normal(0, rng.uniform(1, 10), a.shape).astype(np.float32)
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def picture(rng: np.random.Generator, side: int) -> np.ndarray:
    """One picture of no shape, uint8 (side, side, 3), of a kind chosen from ``KINDS`` by ``rng``."""
    kind = KINDS[int(rng.choice(len(KINDS), p=[0.1, 0.14, 0.1, 0.12, 0.1, 0.17, 0.07, 0.2]))]
    if kind == "blank":
        paper = np.array(_colour(rng) if rng.random() < 0.5 else [255.0, 255.0, 255.0])
        a = np.broadcast_to(paper, (side, side, 3)).astype(np.float64)
    elif kind == "noise":
        a = _noise(rng, side)
    elif kind == "gradient":
        a = _gradient(rng, side)
    elif kind == "stripes":
        a = _stripes(rng, side)
    elif kind == "texture":
        a = _texture(rng, side)
    elif kind == "photo":
        a = _photo_crop(rng, side)
    else:
        a = _pen_picture(rng, side, scribble=kind == "scribble")
    return photographed(a, rng)
