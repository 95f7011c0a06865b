"""Per-channel statistics and thumbnails of a stage's maps, for every channel at once.

``channel_stats`` gives each channel's min, max, mean and share of zeros, and each channel box-averaged to
a thumbnail, with four row-by-row NumPy passes over the (height, width × channels) maps as they lie in
memory (min, max, zeros, box sums): no channel-major copy, no per-channel loop over the full-size data.
For the four stages of the Layer stack's benchmark (input 1024² × 3, conv and ReLU 1024² × 8, pool
512² × 8) it took 225 ms against 350 ms (best of 15, interleaved; medians 464 vs 652 ms) for a
channel-major copy, per-channel reductions and per-channel Pillow resizes, on 2 cores under a load
average of 18; benchmarks/README.md has the figures. The thumbnails are the
values ``render.shrink_values`` (Pillow's BOX resize of a float image) gives, to float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import render


@dataclass(frozen=True)
class ChannelStats:
    """Statistics of a stage with C channels.

    ``lo``, ``hi``, ``mean`` and ``zeros`` (the share of values that are exactly 0) are float64 (C,);
    ``lo``/``hi`` cover the finite values only. ``small`` holds one float32 (h, w) thumbnail per channel,
    box-averaged so the longer side is at most the requested side.
    """

    lo: np.ndarray
    hi: np.ndarray
    mean: np.ndarray
    zeros: np.ndarray
    small: tuple[np.ndarray, ...]


def thumbnail_size(height: int, width: int, max_side: int) -> tuple[int, int]:
    """(height, width) of a map shrunk so its longer side is at most ``max_side``, as shrink_values sizes it."""
    if max(height, width) <= max_side:
        return height, width
    s = max_side / max(height, width)
    return max(1, round(height * s)), max(1, round(width * s))


@lru_cache(maxsize=64)
def box_windows(size: int, out: int) -> tuple[tuple[int, int], ...]:
    """(start, end) of each of ``out`` box windows along an axis of ``size`` pixels, as Pillow's BOX resize.

    Pillow centres window i at (i + 0.5) · size / out and averages, with weight 1 each, the input pixels j
    in [round(centre − size / out / 2), round(centre + size / out / 2)) for which
    -0.5 < (j + 0.5 − centre) · out / size <= 0.5 (Resample.c); the same floating-point steps here pick
    the same pixels. Rounding can leave a pixel in no window, so windows need not touch.
    """
    scale = size / out
    ss = 1.0 / scale
    windows = []
    for i in range(out):
        center = (i + 0.5) * scale
        support = 0.5 * scale
        lo, hi = max(int(center - support + 0.5), 0), min(int(center + support + 0.5), size)
        xs = [x for x in range(lo, hi) if -0.5 < (x - center + 0.5) * ss <= 0.5]
        windows.append((xs[0], xs[-1] + 1))
    return tuple(windows)


def _box_sums(a: np.ndarray, axis: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums of ``a`` over the ``out`` box windows along ``axis`` (0 or 1), and each window's pixel count.

    One slice sum per window: along axis 0 each adds a few whole rows, which NumPy does as contiguous
    vector adds (``np.add.reduceat`` along axis 0 was 40× slower, measured at 1024² × 8).
    """
    windows = box_windows(a.shape[axis], out)
    counts = np.array([e - s for s, e in windows], dtype=np.intp)
    if axis == 0:
        return np.stack([a[s:e].sum(axis=0) for s, e in windows]), counts
    if all(e == s for (_, e), (s, _) in zip(windows, windows[1:])) and windows[0][0] == 0:
        # Windows side by side, as they are when shrinking: one reduceat along the row, 3× faster than a strided
        # slice sum per window at 160 × 1024 × 8 (the sums differ only in their order of addition).
        return np.add.reduceat(a[:, : windows[-1][1]], [s for s, _ in windows], axis=1), counts
    return np.stack([a[:, s:e].sum(axis=1) for s, e in windows], axis=1), counts


def _zero_counts(rows: np.ndarray) -> np.ndarray:
    """How many values of each column of ``rows`` are 0, as int64. The comparisons are summed as bytes, 255 rows
    at a time (a byte holds up to 255): 2.4× faster than summing them as int64 at 1024 × 8192."""
    zero = (rows == 0).view(np.uint8)
    counts = np.zeros(rows.shape[1], dtype=np.int64)
    for start in range(0, rows.shape[0], 255):
        counts += np.add.reduce(zero[start : start + 255], axis=0, dtype=np.uint8)
    return counts


def channel_stats(maps: np.ndarray, thumb_side: int) -> ChannelStats:
    """min, max, mean and share of zeros of every channel, and every channel's box-averaged thumbnail.

    Args:
        maps: float32 (height, width, channels).
        thumb_side: the longest side of a thumbnail, in pixels; smaller maps are kept as they are.

    Returns:
        ChannelStats with arrays of shape (channels,) and ``channels`` thumbnails.
    """
    h, w, c = maps.shape
    rows = np.ascontiguousarray(maps, dtype=np.float32).reshape(h, w * c)  # a view for a stage's own maps
    # Reductions over axis 0 walk whole rows of width × channels values: contiguous, vectorised passes.
    lo = np.minimum.reduce(rows, axis=0).reshape(w, c).min(axis=0).astype(np.float64)
    hi = np.maximum.reduce(rows, axis=0).reshape(w, c).max(axis=0).astype(np.float64)
    zeros = _zero_counts(rows).reshape(w, c).sum(axis=0) / (h * w)
    th, tw = thumbnail_size(h, w, thumb_side)
    with np.errstate(invalid="ignore", over="ignore"):
        if th < h:
            band, row_counts = _box_sums(rows, 0, th)  # (th, w × c), summed in float32 over a few rows each
        else:
            band, row_counts = rows, np.ones(h, dtype=np.intp)
        band = band.reshape(th, w, c).astype(np.float64)
        total = band.sum(axis=0).sum(axis=0)  # row by row first: 6× faster than one sum over both axes
        if th < h:  # rows that fall in no box window (rounding) still count towards the mean
            covered = np.zeros(h, dtype=bool)
            for start, end in box_windows(h, th):
                covered[start:end] = True
            total += rows[~covered].reshape(-1, w, c).sum(axis=(0, 1), dtype=np.float64)
        mean = total / (h * w)
        if tw < w:
            cells, col_counts = _box_sums(band, 1, tw)
        else:
            cells, col_counts = band, np.ones(w, dtype=np.intp)
        small = cells / (row_counts[:, None, None] * col_counts[None, :, None])
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):  # inf or NaN somewhere: the finite values' range
        for ch in np.flatnonzero(~(np.isfinite(lo) & np.isfinite(hi))):
            lo[ch], hi[ch] = render.finite_range(maps[:, :, ch])
    small32 = small.astype(np.float32)
    return ChannelStats(lo, hi, mean, zeros, tuple(np.ascontiguousarray(small32[:, :, i]) for i in range(c)))
