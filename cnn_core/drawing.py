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
    return _normalised(w, normalise, "the positive and negative ink cancel out")


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


# --- starting from a kernel: the canvas shows the kernel in use, and a stroke changes only what it touches ---


def _ink_colour(t: float) -> str:
    """A cell's fill for signed ink ``t`` in [−1, 1]: red or blue, with |t| as its opacity."""
    a = min(abs(float(t)), 1.0)
    return f"rgba(255,0,0,{a:.4f})" if t >= 0 else f"rgba(0,0,255,{a:.4f})"


def kernel_drawing(weights: np.ndarray, canvas: tuple[int, int], strength: float) -> dict:
    """A canvas drawing (Fabric.js JSON) of ``weights``: each cell filled with its weight's ink.

    Args:
        weights: float (kh, kw), the kernel in use.
        canvas: (height, width) of the canvas in pixels.
        strength: the weight of full ink; a weight beyond ±strength is drawn at full ink.

    Returns:
        ``{"objects": [...]}``, one borderless rectangle per non-zero weight, on the cell grid of
        :func:`area_average`. What a canvas renders from it is only a picture of the kernel: the weights
        a later stroke leaves alone are kept exactly (see :func:`edit_kernel`).
    """
    w = np.asarray(weights, dtype=np.float64)
    kh, kw = w.shape
    h, wd = canvas
    s = abs(float(strength)) or 1.0
    objects = []
    for i in range(kh):
        for j in range(kw):
            if w[i, j] == 0:
                continue
            x0, x1 = j * wd / kw, (j + 1) * wd / kw
            y0, y1 = i * h / kh, (i + 1) * h / kh
            objects.append(
                {
                    "type": "Rect",
                    "left": x0,
                    "top": y0,
                    "width": x1 - x0,
                    "height": y1 - y0,
                    "originX": "left",
                    "originY": "top",
                    "fill": _ink_colour(w[i, j] / s),
                    "stroke": None,
                    "strokeWidth": 0,
                    "selectable": False,
                    "evented": False,
                }
            )
    return {"objects": objects}


def _points(path: list) -> list[tuple[float, float]]:
    # Every coordinate pair of the path's commands (end and control points): a polyline that follows it.
    pts = []
    for cmd in path or []:
        nums = [float(v) for v in cmd[1:] if isinstance(v, (int, float))]
        pts.extend(zip(nums[0::2], nums[1::2]))
    return pts


def stroke_mask(objects: list[dict], canvas: tuple[int, int]) -> np.ndarray:
    """The canvas pixels the drawing's strokes (its ``Path`` objects) pass over.

    Args:
        objects: the ``objects`` of a canvas's Fabric.js JSON.
        canvas: (height, width) in pixels.

    Returns:
        bool (height, width).
    """
    from PIL import Image, ImageDraw

    h, w = canvas
    im = Image.new("1", (w, h), 0)
    d = ImageDraw.Draw(im)
    for obj in objects or []:
        if str(obj.get("type", "")).lower() != "path":
            continue
        pts = _points(obj.get("path"))
        width = max(1, round(float(obj.get("strokeWidth") or 1)))
        if len(pts) == 1:
            pts = pts * 2
        if pts:
            d.line(pts, fill=1, width=width, joint="curve")
            r = width / 2
            for x, y in (pts[0], pts[-1]):
                d.ellipse([x - r, y - r, x + r, y + r], fill=1)
    return np.asarray(im, dtype=bool)


def edit_kernel(
    current: np.ndarray,
    rgba: np.ndarray,
    objects: list[dict],
    *,
    strength: float = 1.0,
    normalise: str = "none",
) -> np.ndarray | None:
    """The kernel after strokes on a canvas that started as :func:`kernel_drawing` of ``current``.

    A weight whose cell a stroke passes over takes the drawing's value (the rule at the top of this module);
    every other weight keeps its value exactly, however the canvas rendered it. Then the normalisation.

    Args:
        current: float (kh, kw), the kernel the canvas started from.
        rgba: uint8 (height, width, 4), the canvas's pixels now.
        objects: the canvas's Fabric.js objects now (the starting rectangles and the strokes).
        strength, normalise: as for :func:`kernel_from_drawing`.

    Returns:
        float64 (kh, kw), or None when no stroke touches the canvas yet.

    Raises:
        ImageError: as :func:`kernel_from_drawing` ("sum1" on weights that sum to 0, and so on).
    """
    cur = np.asarray(current, dtype=np.float64)
    size = cur.shape
    ink = signed_ink(rgba)
    touched = area_average(stroke_mask(objects, ink.shape).astype(np.float64), size) > 0
    if not touched.any():
        return None
    drawn = area_average(ink, size) * float(strength)
    w = np.where(touched, drawn, cur)
    if normalise not in NORMALISATIONS:
        raise ImageError(f"normalisation must be one of {', '.join(NORMALISATIONS)}, got {normalise!r}", "drawing")
    return _normalised(w, normalise, "the weights sum to 0 after the stroke")


def _normalised(w: np.ndarray, normalise: str, why_zero: str) -> np.ndarray:
    """``w`` scaled to sum to 1 (``"sum1"``), shifted to mean 0 (``"zero_mean"``), or as it is; ``why_zero``
    starts the message when the weights sum to (about) 0 and can't be scaled."""
    if normalise == "sum1":
        total = w.sum()
        if abs(total) < MIN_NET_INK:
            raise ImageError(
                f"{why_zero}, so the weights can't be scaled to sum to 1; "
                "add ink of one sign or choose another normalisation",
                "drawing",
            )
        return w / total
    if normalise == "zero_mean":
        return w - w.mean()
    return w
