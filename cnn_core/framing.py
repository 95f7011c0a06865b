"""How any picture is framed for the network: a drawing on plain paper is cropped to its ink, everything else
to its centre square; then it is resized to 64×64.

    >>> framed = frame(canvas)        # uint8 (64, 64, 3) from uint8 (H, W, 3)

Like MNIST, which centres every digit in its box and scales it to the same size, this takes the size and the
position of a drawing out of the network's task: a shape drawn at a third of the canvas in a corner and one
drawn across all of it reach the network the same size, in the middle. The paper is found from the picture's
border (a flat colour, or an even slope of light across it); pixels far from it are ink. A picture whose
border is not plain paper (a photo, noise, stripes), or whose ink fills nearly all of it, keeps its centre
square. Pure NumPy and Pillow: training frames its pictures with exactly this code.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SIDE = 64
INK = 60.0  # a pixel is ink when a channel differs from the paper by more than this (out of 255)
PLAIN = 14.0  # the border is plain paper when it strays from a flat slope by less than this, on average
MARGIN = 0.08  # room left around the ink, as a share of its box's longer side


def _paper(a: np.ndarray) -> tuple[np.ndarray, float]:
    """The paper's colour at every pixel of ``a`` float32 (h, w, 3) (a plane per channel fitted to the
    border) and how far the border strays from it (mean absolute difference)."""
    h, w = a.shape[:2]
    ys = np.concatenate([np.zeros(w), np.full(w, h - 1), np.arange(1, h - 1), np.arange(1, h - 1)]).astype(int)
    xs = np.concatenate([np.arange(w), np.arange(w), np.zeros(h - 2), np.full(h - 2, w - 1)]).astype(int)
    design = np.stack([np.ones(len(ys)), ys / h, xs / w], axis=1)
    border = a[ys, xs].astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, border, rcond=None)
    stray = float(np.abs(design @ coef - border).mean())
    coef = coef.astype(np.float32)
    plane = coef[0] + (np.arange(h, dtype=np.float32) / h)[:, None, None] * coef[1]
    plane = plane + (np.arange(w, dtype=np.float32) / w)[None, :, None] * coef[2]
    return plane, stray


def ink_box(picture: np.ndarray) -> tuple[int, int, int, int] | None:
    """The square (top, left, side, side) around the ink of a drawing on plain paper, with a margin; it may
    reach past the picture's edges. None when the picture isn't a drawing on plain paper, has no ink, or
    its ink fills nearly all of it. Looked for at most 128 pixels a side (a box average), for speed."""
    full_h, full_w = picture.shape[:2]
    step = max(1, min(full_h, full_w) // 128)
    im = Image.fromarray(np.ascontiguousarray(picture))
    if step > 1:
        im = im.reduce(step)
    a = np.asarray(im, dtype=np.float32)
    h, w = a.shape[:2]
    if min(h, w) < 8:
        return None
    plane, stray = _paper(a)
    if stray > PLAIN:
        return None
    ink = np.abs(a - plane).max(axis=2) > INK
    rows = np.nonzero(ink.any(axis=1))[0]
    cols = np.nonzero(ink.any(axis=0))[0]
    if len(rows) == 0 or len(cols) == 0:
        return None
    top, bottom, left, right = rows[0] * step, (rows[-1] + 1) * step, cols[0] * step, (cols[-1] + 1) * step
    side = max(bottom - top, right - left)
    if side >= 0.92 * min(full_h, full_w) or side < 3:
        return None
    side = int(round(side * (1 + 2 * MARGIN)))
    cy, cx = (top + bottom) / 2, (left + right) / 2
    return int(round(cy - side / 2)), int(round(cx - side / 2)), side, side


def frame(picture: np.ndarray) -> np.ndarray:
    """uint8 (height, width, 3) → uint8 (64, 64, 3): the ink's square (paper added past the edges) or the
    centre square, resized bilinearly (Pillow widens its filter when shrinking, so nothing aliases)."""
    a = np.asarray(picture)
    h, w = a.shape[:2]
    box = ink_box(a)
    if box is None:
        return centre_square(a)
    else:
        top, left, side, _ = box
        border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]]).astype(np.float64)
        paper = np.clip(np.rint(np.median(border, axis=0)), 0, 255).astype(np.uint8)
        crop = np.empty((side, side, 3), np.uint8)
        crop[:] = paper
        y0, x0 = max(top, 0), max(left, 0)
        y1, x1 = min(top + side, h), min(left + side, w)
        crop[y0 - top : y1 - top, x0 - left : x1 - left] = a[y0:y1, x0:x1]
    return _resized(crop)


def centre_square(picture: np.ndarray) -> np.ndarray:
    """uint8 (height, width, 3) → uint8 (64, 64, 3): the centre square, resized bilinearly. A picture that
    is already the network's input (64×64, e.g. from a link) comes back unchanged."""
    a = np.asarray(picture)
    h, w = a.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return _resized(a[top : top + side, left : left + side])


def _resized(crop: np.ndarray) -> np.ndarray:
    im = Image.fromarray(np.ascontiguousarray(crop))
    if im.size != (SIDE, SIDE):
        im = im.resize((SIDE, SIDE), Image.Resampling.BILINEAR)
    return np.asarray(im)
