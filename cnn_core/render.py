"""Turning feature maps into pictures: colour maps, colour scales and PNG bytes.

Plain NumPy and Pillow, shared by the app, the command line and exports.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

# Anchor colours, evenly spaced from the low end to the high end of each map.
_ANCHORS = {
    "magma": ["#000004", "#1c1044", "#4f127b", "#812581", "#b5367a", "#e55064", "#fb8761", "#fec287", "#fcfdbf"],
    "viridis": ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"],
    "gray": ["#000000", "#ffffff"],
    # Blue for negative, white at 0, red for positive.
    "diverging": ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
                  "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"],
}
COLORMAPS = ("auto", "magma", "diverging", "gray", "viridis")
NAN_COLOR = (0, 255, 0)  # values that are not numbers (float32 overflow) show as bright green


@dataclass(frozen=True)
class ColorScale:
    """How values map to colours: a colour map and the values at its two ends."""

    cmap: str
    vmin: float
    vmax: float

    @property
    def diverging(self) -> bool:
        return self.cmap == "diverging"


@lru_cache(maxsize=None)
def lut(name: str) -> np.ndarray:
    """A (256, 3) uint8 lookup table for a colour map name."""
    hexes = _ANCHORS[name]
    anchors = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in hexes], dtype=np.float64)
    xs = np.linspace(0, 1, len(anchors))
    t = np.linspace(0, 1, 256)
    table = np.stack([np.interp(t, xs, anchors[:, c]) for c in range(3)], axis=1)
    table = np.rint(table).astype(np.uint8)
    table.flags.writeable = False
    return table


def finite_range(maps: np.ndarray) -> tuple[float, float]:
    """(min, max) over the finite values; (0, 0) if there are none."""
    lo, hi = float(np.min(maps)), float(np.max(maps))
    if math.isfinite(lo) and math.isfinite(hi):
        return lo, hi
    fin = maps[np.isfinite(maps)]
    if fin.size == 0:
        return 0.0, 0.0
    return float(fin.min()), float(fin.max())


def choose_scale(lo: float, hi: float, cmap: str = "auto") -> ColorScale:
    """The colour scale for values in [lo, hi].

    "auto" picks a diverging map centred on 0 when any value is negative and
    magma from 0 otherwise. A diverging map is always symmetric about 0, so
    white means exactly zero.
    """
    if cmap == "auto":
        cmap = "diverging" if lo < 0 else "magma"
    if cmap == "diverging":
        m = max(abs(lo), abs(hi))
        return ColorScale(cmap, -m, m)
    if cmap in ("magma", "viridis") and lo >= 0:
        return ColorScale(cmap, 0.0, hi)
    return ColorScale(cmap, lo, hi)


def palette(name: str) -> np.ndarray:
    """(256, 3) uint8: the colour map squeezed into entries 0..254, and NAN_COLOR at 255."""
    return _palette(name)


@lru_cache(maxsize=None)
def _palette(name: str) -> np.ndarray:
    table = lut(name)
    pal = np.empty((256, 3), dtype=np.uint8)
    pal[:255] = table[np.rint(np.linspace(0, 255, 255)).astype(int)]
    pal[255] = NAN_COLOR
    pal.flags.writeable = False
    return pal


def color_indices(values: np.ndarray, scale: ColorScale) -> np.ndarray:
    """Map float (height, width) values to palette indices: 0..254 along the scale, 255 for NaN.

    Values beyond the scale are clipped to its ends (±inf too). A scale with no
    width (a constant map) gives the middle index; an infinite one keeps only the sign.
    """
    span = scale.vmax - scale.vmin
    v = np.asarray(values, dtype=np.float32)
    if not math.isfinite(span) or span <= 0:
        idx = np.full(v.shape, 127, dtype=np.uint8)
        if span > 0:
            idx[v > 0] = 254
            idx[v < 0] = 0
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            t = (v - np.float32(scale.vmin)) * np.float32(254.0 / span)
        np.clip(t, 0, 254, out=t)  # NaN stays NaN here...
        nan = np.isnan(t)
        if nan.any():
            t[nan] = 0
        idx = (t + 0.5).astype(np.uint8)
        if nan.any():
            idx[nan] = 255  # ...and gets its own colour
        return idx
    idx[np.isnan(v)] = 255
    return idx


def colorize(values: np.ndarray, scale: ColorScale) -> np.ndarray:
    """Map float (height, width) values to uint8 RGB (height, width, 3) through ``scale``.

    Values beyond the scale are clipped to its ends (±inf too); NaN shows as NAN_COLOR.
    A scale with no width (a constant map) shows its middle colour.
    """
    return palette(scale.cmap)[color_indices(values, scale)]


def indexed_png(values: np.ndarray, scale: ColorScale, compress_level: int = 1) -> bytes:
    """A coloured map as a palette PNG: one byte per pixel, so it encodes fast and stays small."""
    idx = np.ascontiguousarray(color_indices(values, scale))
    img = Image.frombytes("P", (idx.shape[1], idx.shape[0]), idx.tobytes())
    img.putpalette(palette(scale.cmap).tobytes())
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def input_rgb(maps: np.ndarray) -> np.ndarray:
    """Prepared input maps (values in [0, 1]) as uint8 RGB, shown in their own colours."""
    a = np.clip(np.rint(maps * 255.0), 0, 255).astype(np.uint8)
    if a.shape[2] == 1:
        return np.repeat(a, 3, axis=2)
    return a[:, :, :3]


def png_bytes(rgb: np.ndarray, compress_level: int = 1) -> bytes:
    """Encode uint8 (height, width, 3) or (height, width) as PNG. Level 1 favours speed over size."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def shrink_for_display(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Downsample a picture so its longer side is at most ``max_side`` (area averaging)."""
    h, w = rgb.shape[:2]
    if max(h, w) <= max_side:
        return rgb
    s = max_side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))


def shrink_values(values: np.ndarray, max_side: int) -> np.ndarray:
    """Box-average float (height, width) values so the longer side is at most ``max_side``."""
    h, w = values.shape
    if max(h, w) <= max_side:
        return values
    s = max_side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    img = Image.fromarray(np.ascontiguousarray(values, dtype=np.float32), mode="F")
    return np.asarray(img.resize(size, Image.Resampling.BOX))


def channel_grid(maps: np.ndarray, scale: ColorScale | None = None, gap: int = 2, columns: int | None = None) -> np.ndarray:
    """Tile every channel of float (height, width, channels) into one RGB picture, in order.

    With ``scale`` None every channel shares one automatic scale over the whole stage.
    """
    h, w, c = maps.shape
    if scale is None:
        scale = choose_scale(*finite_range(maps))
    cols = columns or math.ceil(math.sqrt(c))
    rows = math.ceil(c / cols)
    out = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, 3), 255, dtype=np.uint8)
    for i in range(c):
        r, q = divmod(i, cols)
        out[r * (h + gap) : r * (h + gap) + h, q * (w + gap) : q * (w + gap) + w] = colorize(maps[:, :, i], scale)
    return out


def stage_picture(name: str, maps: np.ndarray, cmap: str = "auto") -> np.ndarray:
    """A stage as one RGB picture: the input in its own colours, other stages colour-mapped."""
    if name == "input" and cmap == "auto":
        return input_rgb(maps)
    return channel_grid(maps, choose_scale(*finite_range(maps), cmap))


def titled(rgb: np.ndarray, title: str, pad: int = 18) -> np.ndarray:
    """Add a white band with a title above a picture."""
    h, w = rgb.shape[:2]
    canvas = Image.new("RGB", (max(w, 8 * len(title) + 8), h + pad), "white")
    canvas.paste(Image.fromarray(rgb), (0, pad))
    ImageDraw.Draw(canvas).text((4, 3), title, fill="black")
    return np.asarray(canvas)
