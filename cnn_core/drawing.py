"""Drawings as kernels and as input pictures: the rule that turns canvas pixels into numbers.

A kernel is painted with two inks on a white (or transparent) canvas: red (255, 0, 0) adds positive
weight and blue (0, 0, 255) negative weight; white paint erases. A canvas pixel's *signed ink* is

    ink = alpha/255 · (R − B)/255            in [−1, 1]

so full red is +1, full blue −1, white or transparent 0, and a half-covered anti-aliased edge pixel
counts half. The kernel is the *area average* of the signed ink onto the kernel grid: the canvas is
cut into kh × kw equal rectangles (cell (i, j) covers rows i·H/kh … (i+1)·H/kh and columns
j·W/kw … (j+1)·W/kw, fractions of a pixel included), and each weight is the mean ink in its cell
times a strength. The same drawing therefore always gives the same weights, whatever the kernel size.
Optional normalisation then makes the weights sum to 1 (a blur keeps brightness) or have mean 0
(a detector answers 0 on flat areas).
"""

from __future__ import annotations

import numpy as np

from .errors import ImageError
from .spec import MAX_KERNEL

NORMALISATIONS = {
    "none": "None: the weights are the ink",
    "sum1": "Sum to 1 (blurs keep brightness)",
    "zero_mean": "Zero mean (detectors ignore flat areas)",
}
POSITIVE_INK = "#ff0000"
NEGATIVE_INK = "#0000ff"
ERASER = "#ffffff"
# Less net ink than this cannot be scaled to sum to 1 without blowing up.
MIN_NET_INK = 1e-6


def signed_ink(rgba: np.ndarray) -> np.ndarray:
    """The signed ink of every canvas pixel.

    Args:
        rgba: uint8 (height, width, 4) or (height, width, 3) canvas pixels.

    Returns:
        float64 (height, width) in [−1, 1]: +1 for full red ink, −1 for full blue, 0 for white.
    """
    a = np.asarray(rgba)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or min(a.shape[:2]) < 1:
        raise ImageError(f"a canvas is (H, W, 3|4) pixels, got shape {a.shape}", "drawing")
    a = a.astype(np.float64)
    alpha = a[:, :, 3] / 255.0 if a.shape[2] == 4 else 1.0
    return alpha * (a[:, :, 0] - a[:, :, 2]) / 255.0


def _overlap(n_pixels: int, n_cells: int) -> np.ndarray:
    """(n_cells, n_pixels) matrix: how much of pixel p lies in cell c, in pixels (0 … 1)."""
    edges = np.arange(n_cells + 1) * (n_pixels / n_cells)
    lo = np.maximum(edges[:-1, None], np.arange(n_pixels)[None, :])
    hi = np.minimum(edges[1:, None], np.arange(n_pixels)[None, :] + 1)
    return np.clip(hi - lo, 0.0, 1.0)


def area_average(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The mean of ``values`` over each of kh × kw equal rectangles, pixel fractions included.

    Args:
        values: float (height, width).
        size: (kh, kw), the grid to average onto.

    Returns:
        float64 (kh, kw).
    """
    kh, kw = int(size[0]), int(size[1])
    h, w = values.shape
    rows, cols = _overlap(h, kh), _overlap(w, kw)
    cell_area = (h / kh) * (w / kw)
    return rows @ np.asarray(values, dtype=np.float64) @ cols.T / cell_area


def kernel_from_drawing(
    rgba: np.ndarray, size: tuple[int, int], *, strength: float = 1.0, normalise: str = "none"
) -> np.ndarray:
    """Turn a painted canvas into kernel weights by the rule in this module's docstring.

    Args:
        rgba: uint8 (height, width, 4) canvas pixels.
        size: (kh, kw), each 1 … MAX_KERNEL.
        strength: the weight of a cell filled with full ink, before normalisation.
        normalise: "none", "sum1" or "zero_mean".

    Returns:
        float64 (kh, kw) weights.

    Raises:
        ImageError: for an empty drawing, a size out of range, an unknown normalisation, or a
            "sum1" drawing whose inks cancel out.
    """
    kh, kw = int(size[0]), int(size[1])
    if not (1 <= kh <= MAX_KERNEL and 1 <= kw <= MAX_KERNEL):
        raise ImageError(f"a drawn kernel is 1×1 to {MAX_KERNEL}×{MAX_KERNEL}, got {kh}×{kw}", "drawing")
    if normalise not in NORMALISATIONS:
        raise ImageError(f"normalisation must be one of {', '.join(NORMALISATIONS)}, got {normalise!r}", "drawing")
    ink = signed_ink(rgba)
    if not np.any(np.abs(ink) > 0):
        raise ImageError("the canvas has no ink yet: paint with the positive or negative brush", "drawing")
    w = area_average(ink, (kh, kw)) * float(strength)
    if normalise == "sum1":
        total = w.sum()
        if abs(total) < MIN_NET_INK:
            raise ImageError(
                "the positive and negative ink cancel out, so the weights can't be scaled to sum to 1; "
                "add ink of one sign or choose another normalisation",
                "drawing",
            )
        w = w / total
    elif normalise == "zero_mean":
        w = w - w.mean()
    return w


def picture_from_drawing(rgba: np.ndarray) -> np.ndarray:
    """A drawn input picture as uint8 (height, width, 3): the strokes composited over white.

    Raises:
        ImageError: if nothing has been drawn (every pixel white or transparent).
    """
    a = np.asarray(rgba)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or min(a.shape[:2]) < 1:
        raise ImageError(f"a canvas is (H, W, 3|4) pixels, got shape {a.shape}", "drawing")
    rgb = a[:, :, :3].astype(np.float64)
    if a.shape[2] == 4:
        alpha = a[:, :, 3:4].astype(np.float64) / 255.0
        rgb = rgb * alpha + 255.0 * (1.0 - alpha)
    out = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    if np.all(out == 255):
        raise ImageError("the drawing is empty: draw something on the canvas first", "drawing")
    return out
