"""Pictures for the Trained network page: bands of maps, learned kernels, Grad-CAM overlays.

Plain NumPy and Pillow (no Streamlit), so the benchmark harness can time exactly what the page draws.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from cnn_core import render

CELL = 96  # pixels a side of one map in a band
GAP = 6
BACKGROUND = 255  # white gaps between maps


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _fit(rgb: np.ndarray, side: int) -> np.ndarray:
    """Nearest-neighbour resize to side×side: every map cell stays a crisp square."""
    return np.asarray(Image.fromarray(rgb).resize((side, side), Image.Resampling.NEAREST))


def _row(tiles: list[np.ndarray], gap: int = GAP) -> np.ndarray:
    h = tiles[0].shape[0]
    spacer = np.full((h, gap, 3), BACKGROUND, np.uint8)
    parts = []
    for t in tiles:
        parts += [t, spacer]
    return np.concatenate(parts[:-1], axis=1)


def _scale(lo: float, hi: float, cmap: str) -> render.ColorScale:
    if hi <= lo:  # a constant map: keep 0 at its usual colour
        lo, hi = (0.0, 1.0) if lo == 0 else (min(lo, 0.0), max(hi, 0.0))
    return render.choose_scale(lo, hi, cmap)


@dataclass(frozen=True)
class Band:
    """One layer drawn as a row of maps, and the colour scale of each map (None: the picture itself)."""

    png: bytes
    scales: tuple[render.ColorScale | None, ...]
    labels: tuple[str, ...]


def layer_scales(maps: list[np.ndarray], cmap: str, mode: str) -> list[list[render.ColorScale]]:
    """Every layer's per-channel colour scales, from each layer's maps (height, width, channels), the input's
    first; ``mode`` "layer" (one per layer), "global" (one for every layer after the input) or "map" (one per
    channel)."""
    ranges = [(m.min(axis=(0, 1)), m.max(axis=(0, 1))) for m in maps]
    later = ranges[1:]
    glo = (min(float(lo.min()) for lo, _ in later), max(float(hi.max()) for _, hi in later)) if later else (0, 1)
    out = []
    for i, (m, (lo, hi)) in enumerate(zip(maps, ranges)):
        c = m.shape[2]
        if i == 0:
            out.append([render.ColorScale("gray", 0.0, 1.0)] * c)
        elif mode == "map":
            out.append([_scale(float(lo[k]), float(hi[k]), cmap) for k in range(c)])
        elif mode == "global":
            out.append([_scale(*glo, cmap)] * c)
        else:
            out.append([_scale(float(lo.min()), float(hi.max()), cmap)] * c)
    return out


def band(maps: np.ndarray, scales: list[render.ColorScale], cell: int = CELL, picture: bool = False) -> Band:
    """Maps (height, width, channels) side by side; ``picture``: they are the input, and the band starts with
    the picture in its own colours, then R, G, B."""
    tiles, shown, labels = [], [], []
    if picture:
        tiles.append(_fit(render.input_rgb(maps), cell))
        shown.append(None)
        labels.append("picture")
    for k in range(maps.shape[2]):
        tiles.append(_fit(render.colorize(maps[:, :, k], scales[k]), cell))
        shown.append(scales[k])
        labels.append("RGB"[k] if picture else str(k))
    return Band(_png(_row(tiles)), tuple(shown), tuple(labels))


def kernel_grid(kernel: np.ndarray, cell: int = 30) -> tuple[bytes, render.ColorScale]:
    """A conv layer's kernels (3, 3, in, out) as a grid: one row per filter, one 3×3 square per input
    channel, on one diverging scale for the layer."""
    m = float(np.abs(kernel).max()) or 1.0
    scale = render.ColorScale("diverging", -m, m)
    rows = []
    for f in range(kernel.shape[3]):
        rows.append(_row([_fit(render.colorize(kernel[:, :, c, f], scale), cell) for c in range(kernel.shape[2])], 3))
    spacer = np.full((3, rows[0].shape[1], 3), BACKGROUND, np.uint8)
    parts = []
    for r in rows:
        parts += [r, spacer]
    return _png(np.concatenate(parts[:-1], axis=0)), scale


def heat_overlay(picture: np.ndarray, heat: np.ndarray, side: int = 256, strength: float = 0.75) -> bytes:
    """The picture (64, 64, 3) in [0, 1], greyed a little, under a heat map (64, 64) in [0, 1] (magma)."""
    base = np.repeat(np.asarray(picture, np.float32).mean(axis=2, keepdims=True), 3, axis=2) * 0.6 + picture * 0.4
    colours = render.colorize(heat, render.ColorScale("magma", 0.0, 1.0)).astype(np.float32) / 255.0
    a = (strength * np.clip(heat, 0, 1))[..., None]
    mixed = np.clip(np.rint((base * (1 - a) + colours * a) * 255), 0, 255).astype(np.uint8)
    return _png(np.asarray(Image.fromarray(mixed).resize((side, side), Image.Resampling.BILINEAR)))


def crisp_png(picture: np.ndarray, side: int = 256) -> bytes:
    """The network's input (64, 64, 3) in [0, 1], enlarged with square pixels, in a thin grey frame (so a white
    drawing's edge shows against the page)."""
    rgb = _fit(render.input_rgb(picture), side).copy()
    rgb[[0, -1], :] = 160
    rgb[:, [0, -1]] = 160
    return _png(rgb)


def value_png(values: np.ndarray, scale: render.ColorScale, side: int = 256) -> bytes:
    """One map (height, width) coloured through ``scale``, enlarged with square pixels."""
    return _png(_fit(render.colorize(values, scale), side))


def value_strip_png(values: np.ndarray, scale: render.ColorScale, height: int = 8) -> bytes:
    """A vector (n,) as a strip one pixel wide per entry, ``height`` pixels high."""
    return _png(np.repeat(render.colorize(np.asarray(values)[None, :], scale), height, axis=0))


def legend_png(cmap: str) -> bytes:
    pal = render.palette(cmap)[:255]
    return _png(np.repeat(pal[None, :, :], 8, axis=0))
