"""Colouring feature maps: the one home for colour maps, colour scales and PNG encoding.

Every picture of a map, on screen or downloaded, is coloured here, so what is
shown and what is saved agree pixel for pixel. The pieces, in the order a
caller meets them:

* ``SCALE_MODES``: how a map's colour range is chosen: per stage ("layer"),
  shared by every stage after the input ("global"), per map ("map"), or per
  stage from the 1st to the 99th percentile ("robust", values beyond shown at
  the ends, saturated).
* ``stage_ranges`` / ``stage_scales``: the ``ColorScale`` of every map of
  every stage for a colour map and a mode (None: the input in its own colours).
* ``scale_for``: the one rule for a range, constant and all-zero maps included
  (an all-zero map shows as zero, not as the middle of the colour map).
* ``map_scale``: one map's own range (the Layer stack's enlarged map).
* ``picture`` / ``map_png``: a map through its scale as RGB or as a PNG.
* ``range_text``: the scale in words, stating a robust range as such.

Plain NumPy and Pillow: the app, the command line and the exports all call it.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
from PIL import Image, ImageDraw

from .errors import CnnError

# Anchor colours, evenly spaced from the low end to the high end of each map.
_ANCHORS = {
    "magma": ["#000004", "#1c1044", "#4f127b", "#812581", "#b5367a", "#e55064", "#fb8761", "#fec287", "#fcfdbf"],
    "viridis": [
        "#440154",
        "#482878",
        "#3e4989",
        "#31688e",
        "#26828e",
        "#1f9e89",
        "#35b779",
        "#6ece58",
        "#b5de2b",
        "#fde725",
    ],
    "gray": ["#000000", "#ffffff"],
    # Blue for negative, white at 0, red for positive.
    "diverging": [
        "#053061",
        "#2166ac",
        "#4393c3",
        "#92c5de",
        "#d1e5f0",
        "#f7f7f7",
        "#fddbc7",
        "#f4a582",
        "#d6604d",
        "#b2182b",
        "#67001f",
    ],
}
COLORMAPS = ("auto", "magma", "diverging", "gray", "viridis")
NAN_COLOR = (0, 255, 0)  # values that are not numbers (float32 overflow) show as bright green

SCALE_MODES: dict[str, str] = {
    "layer": "Per stage",
    "global": "Shared by all stages after the input",
    "map": "Per map",
    "robust": "Per stage, 1st–99th percentile (outliers saturated)",
}
ROBUST_PERCENTILES = (1.0, 99.0)
ROBUST_SAMPLE = 1_000_000  # percentiles of larger stages come from every n-th value (fixed, so repeatable)


@dataclass(frozen=True)
class ColorScale:
    """How values map to colours: a colour map and the values at its two ends."""

    cmap: str
    vmin: float
    vmax: float
    robust: bool = False  # the ends are percentiles: values beyond them are shown saturated

    @property
    def diverging(self) -> bool:
        return self.cmap == "diverging"


@cache
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


def scale_for(lo: float, hi: float, cmap: str = "auto", robust: bool = False) -> ColorScale:
    """The colour scale for values from ``lo`` to ``hi``: ``choose_scale`` with the rule for constant maps.

    A constant map keeps 0 at its usual colour: an all-zero map (a dead ReLU
    channel) is drawn as zero, black in magma and white in the diverging map,
    and any other constant is drawn against a range that reaches 0.
    """
    if hi <= lo:
        lo, hi = (0.0, 1.0) if lo == 0 else (min(lo, 0.0), max(hi, 0.0))
    scale = choose_scale(lo, hi, cmap)
    return ColorScale(scale.cmap, scale.vmin, scale.vmax, True) if robust else scale


@dataclass(frozen=True, eq=False)
class Ranges:
    """What the colour scales need to know about one stage's maps.

    Attributes:
        lo, hi: float64 (channels,): each channel's smallest and largest finite value.
        p_lo, p_hi: the stage's 1st and 99th percentiles of its finite values (its full range where those
            two meet), or None until ``with_percentiles`` has worked them out: only the "robust" mode needs
            them, and they are the costliest part (a partial sort of up to ROBUST_SAMPLE values).
    """

    lo: np.ndarray
    hi: np.ndarray
    p_lo: float | None = None
    p_hi: float | None = None

    def with_percentiles(self, maps: np.ndarray) -> Ranges:
        """These ranges with the percentiles of ``maps`` (the stage they describe) filled in."""
        if self.p_lo is not None:
            return self
        p_lo, p_hi = _percentiles(maps, float(self.lo.min()), float(self.hi.max()))
        return replace(self, p_lo=p_lo, p_hi=p_hi)


def channel_extremes(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each channel's (min, max) of float (height, width, channels) maps, as float64 (channels,) each.

    The maps are reduced as (height, width × channels) rows, one contiguous vector pass per row: reducing
    over axes (0, 1) of channels-last data walks memory with a stride and was 10× slower at 1024² × 8.
    NaN propagates, as with ``maps.min``.
    """
    h, w, c = maps.shape
    rows = np.ascontiguousarray(maps).reshape(h, w * c)
    lo = np.minimum.reduce(rows, axis=0).reshape(w, c).min(axis=0).astype(np.float64)
    hi = np.maximum.reduce(rows, axis=0).reshape(w, c).max(axis=0).astype(np.float64)
    return lo, hi


def stage_ranges(
    maps: np.ndarray, extremes: tuple[np.ndarray, np.ndarray] | None = None, percentiles: bool = False
) -> Ranges:
    """The ``Ranges`` of float (height, width, channels) maps, with their percentiles if ``percentiles``.

    ``extremes``: each channel's (min, max) when the caller has them already (``channel_extremes``).
    """
    lo, hi = extremes if extremes is not None else channel_extremes(maps)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):  # overflowed maps: the finite values' range
        pairs = [finite_range(maps[:, :, k]) for k in range(maps.shape[2])]
        lo, hi = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    ranges = Ranges(np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64))
    return ranges.with_percentiles(maps) if percentiles else ranges


def _percentiles(values: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    flat = values.reshape(-1)
    if flat.size > ROBUST_SAMPLE:
        flat = flat[:: math.ceil(flat.size / ROBUST_SAMPLE)]
    flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return lo, hi
    p_lo, p_hi = (float(v) for v in np.percentile(flat, ROBUST_PERCENTILES))
    return (p_lo, p_hi) if p_hi > p_lo else (lo, hi)


def check_view(cmap: str, mode: str) -> None:
    """Raise CnnError unless ``cmap`` is one of COLORMAPS and ``mode`` one of SCALE_MODES."""
    if cmap not in COLORMAPS:
        raise CnnError(f"{cmap!r} is not a colour map; use one of {', '.join(COLORMAPS)}", "cmap")
    if mode not in SCALE_MODES:
        raise CnnError(f"{mode!r} is not a colour scale; use one of {', '.join(SCALE_MODES)}", "scale")


def stage_scales(
    stages, cmap: str = "auto", mode: str = "layer", ranges: list[Ranges] | None = None
) -> list[list[ColorScale | None]]:
    """The colour scale of every map as the app shows it: one list per stage, one entry per channel.

    Args:
        stages: the pipeline's stages, input first (anything with ``name`` and
            ``maps`` float (height, width, channels)).
        cmap: one of COLORMAPS.
        mode: one of SCALE_MODES. "global" leaves the input out of the shared range.
        ranges: ``stage_ranges`` of each stage, when the caller already has them (cached).

    Returns:
        ``scales[i][c]`` for stage i, channel c; None where the map is shown in
        its own colours (the input with cmap "auto").
    """
    check_view(cmap, mode)
    if ranges is None:
        ranges = [stage_ranges(s.maps) for s in stages]
    if mode == "robust":
        ranges = [r.with_percentiles(s.maps) for s, r in zip(stages, ranges)]
    later = [r for s, r in zip(stages, ranges) if s.name != "input"]
    glo = (min(float(r.lo.min()) for r in later), max(float(r.hi.max()) for r in later)) if later else (0.0, 1.0)
    out: list[list[ColorScale | None]] = []
    for s, r in zip(stages, ranges):
        c = s.maps.shape[2]
        if s.name == "input" and cmap == "auto":
            out.append([None] * c)
        elif mode == "map":
            out.append([scale_for(float(r.lo[k]), float(r.hi[k]), cmap) for k in range(c)])
        elif mode == "global" and s.name != "input":
            out.append([scale_for(*glo, cmap)] * c)
        elif mode == "robust":
            out.append([scale_for(r.p_lo, r.p_hi, cmap, robust=True)] * c)
        else:
            out.append([scale_for(float(r.lo.min()), float(r.hi.max()), cmap)] * c)
    return out


def map_scale(values: np.ndarray, cmap: str = "auto", robust: bool = False) -> ColorScale:
    """One float (height, width) map's own scale: its full range, or its 1st–99th percentiles."""
    r = stage_ranges(values[:, :, None], percentiles=robust)
    if robust:
        return scale_for(r.p_lo, r.p_hi, cmap, robust=True)
    return scale_for(float(r.lo[0]), float(r.hi[0]), cmap)


def range_text(scale: ColorScale) -> str:
    """The scale's ends in words, e.g. "-2.1 · 0 · 2.1", saying so when they are percentiles."""
    text = f"{scale.vmin:.3g} · 0 · {scale.vmax:.3g}" if scale.diverging else f"{scale.vmin:.3g} … {scale.vmax:.3g}"
    if scale.robust:
        text = f"1st–99th percentile {text}; values beyond are saturated"
    return text


@cache
def palette(name: str) -> np.ndarray:
    """(256, 3) uint8: the colour map squeezed into entries 0..254, and NAN_COLOR at 255."""
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


def picture(values: np.ndarray, scale: ColorScale | None) -> np.ndarray:
    """uint8 RGB (height, width, 3) of float (height, width) values; scale None: grey, the input's own colours."""
    if scale is None:
        return input_rgb(values[:, :, None])
    return colorize(values, scale)


def map_png(values: np.ndarray, scale: ColorScale | None, compress_level: int = 1) -> bytes:
    """One float (height, width) map as a PNG at its size: a palette PNG through ``scale``, or, for scale
    None, grey levels of the input's own colours."""
    if scale is None:
        return png_bytes(input_rgb(values[:, :, None])[:, :, 0], compress_level)
    return indexed_png(values, scale, compress_level)


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


def fit(h: int, w: int, max_h: int, max_w: int) -> tuple[int, int]:
    """(height, width) scaled down to fit in (max_h, max_w), keeping the aspect ratio; never enlarged."""
    s = min(1.0, max_h / h, max_w / w)
    return max(1, round(h * s)), max(1, round(w * s))


def resize_values(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Box-average float (height, width) values to ``size`` (height, width); unchanged if already that size."""
    if values.shape == size:
        return values
    img = Image.fromarray(np.ascontiguousarray(values, dtype=np.float32), mode="F")
    return np.asarray(img.resize((size[1], size[0]), Image.Resampling.BOX))


def resize_rgb(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Box-average a uint8 picture to ``size`` (height, width); unchanged if already that size."""
    if rgb.shape[:2] == size:
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((size[1], size[0]), Image.Resampling.BOX))


def shrink_for_display(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Downsample a picture so its longer side is at most ``max_side`` (area averaging)."""
    return resize_rgb(rgb, fit(*rgb.shape[:2], max_side, max_side))


def shrink_values(values: np.ndarray, max_side: int) -> np.ndarray:
    """Box-average float (height, width) values so the longer side is at most ``max_side``."""
    return resize_values(values, fit(*values.shape, max_side, max_side))


def titled(rgb: np.ndarray, title: str, pad: int = 18) -> np.ndarray:
    """Add a white band with a title above a picture."""
    h, w = rgb.shape[:2]
    canvas = Image.new("RGB", (max(w, 8 * len(title) + 8), h + pad), "white")
    canvas.paste(Image.fromarray(rgb), (0, pad))
    ImageDraw.Draw(canvas).text((4, 3), title, fill="black")
    return np.asarray(canvas)
