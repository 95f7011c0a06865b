"""Downloads: every stage's maps as coloured PNGs and raw float32 .npy, the spec, a contact sheet and a GIF.

    >>> stages = run_pipeline(image, spec)
    >>> data = export_zip(stages, spec, cmap="auto", scale="layer")   # bytes of a ZIP

Colours follow the app's display: the input in its own colours when the
colour map is "auto", every other map through ``render.choose_scale`` over
one map ("map"), one stage ("layer") or all stages after the input ("global").
The .npy files hold the maps exactly as ``run_pipeline`` returned them.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Sequence

import numpy as np
from PIL import Image

from . import render
from .errors import CnnError
from .pipeline import Stage
from .render import ColorScale
from .spec import Spec, parse_spec

SCALE_MODES = ("map", "layer", "global")
SHEET_WIDTH = 1024  # the contact sheet's widest band, in pixels
TILE_MAX = 512  # a map's longest side on the contact sheet
GIF_SIDE = 320  # each GIF frame's picture fits in this square
GIF_FRAME_MS = 900
MAX_PNG_PIXELS = 40_000_000  # coloured maps beyond this many pixels in all are downscaled in the ZIP
MAX_EXPORT_BYTES = 256_000_000  # raw float32 maps beyond this are refused: the ZIP is built in memory
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same maps give the same ZIP bytes


# --------------------------------------------------------------------------- colour scales


def stage_scales(stages: Sequence[Stage], cmap: str = "auto", scale: str = "layer") -> list[list[ColorScale | None]]:
    """The colour scale of every map as displayed: one list per stage, one entry per channel.

    Args:
        stages: the pipeline's stages, input first.
        cmap: one of ``render.COLORMAPS``.
        scale: "map" (each map its own range), "layer" (one range per stage) or
            "global" (one range over all stages after the input).

    Returns:
        ``scales[i][c]`` for stage i, channel c; None where the map is shown in
        its own colours (the input with cmap "auto").
    """
    _check_view(cmap, scale)
    glo = _global_range(stages)
    return [_scales_of(s, cmap, scale, glo) for s in stages]


def _global_range(stages: Sequence[Stage]) -> tuple[float, float]:
    """(min, max) over every stage after the input: the "global" scale never counts the input."""
    later = [render.finite_range(s.maps) for s in stages if s.name != "input"]
    return (min(r[0] for r in later), max(r[1] for r in later)) if later else (0.0, 1.0)


def _scales_of(stage: Stage, cmap: str, scale: str, glo: tuple[float, float]) -> list[ColorScale | None]:
    c = stage.maps.shape[2]
    if stage.name == "input" and cmap == "auto":
        return [None] * c
    if scale == "map":
        return [render.choose_scale(*render.finite_range(stage.maps[:, :, k]), cmap) for k in range(c)]
    if scale == "global" and stage.name != "input":
        return [render.choose_scale(*glo, cmap)] * c
    return [render.choose_scale(*render.finite_range(stage.maps), cmap)] * c


def _check_view(cmap: str, scale: str) -> None:
    if cmap not in render.COLORMAPS:
        raise CnnError(f"{cmap!r} is not a colour map; use one of {', '.join(render.COLORMAPS)}", "cmap")
    if scale not in SCALE_MODES:
        raise CnnError(f"{scale!r} is not a colour scale; use one of {', '.join(SCALE_MODES)}", "scale")


def _picture(values: np.ndarray, scale: ColorScale | None) -> np.ndarray:
    """uint8 RGB (height, width, 3) of float (height, width) values; None scale: gray, as the input's own colours."""
    if scale is None:
        return render.input_rgb(values[:, :, None])
    return render.colorize(values, scale)


# --------------------------------------------------------------------------- single maps


def map_png(
    stage: Stage,
    channel: int,
    cmap: str = "auto",
    scale_mode: str = "layer",
    all_stages: Sequence[Stage] | None = None,
) -> bytes:
    """One map as a PNG at full resolution, coloured as displayed.

    Args:
        stage: the stage holding the map.
        channel: which channel of ``stage.maps`` (height, width, channels).
        cmap: one of ``render.COLORMAPS``.
        scale_mode: "map", "layer" or "global".
        all_stages: every stage of the pipeline, needed for "global"; without
            it "global" falls back to the stage's own range.

    Returns:
        PNG bytes of size (width, height): a palette PNG through the colour
        map, or grayscale for the input shown in its own colours.
    """
    _check_view(cmap, scale_mode)
    if not 0 <= channel < stage.maps.shape[2]:
        raise CnnError(f"is {channel}; this stage has channels 0 to {stage.maps.shape[2] - 1}", "channel")
    glo = _global_range(all_stages or [stage]) if scale_mode == "global" else (0.0, 1.0)
    scale = _scales_of(stage, cmap, scale_mode, glo)[channel]
    return _map_png(stage.maps[:, :, channel], scale)


def _map_png(values: np.ndarray, scale: ColorScale | None) -> bytes:
    if scale is None:
        return render.png_bytes(render.input_rgb(values[:, :, None])[:, :, 0], compress_level=6)
    return render.indexed_png(values, scale, compress_level=6)


# --------------------------------------------------------------------------- pictures of the whole pipeline


def stage_title(stage: Stage, times: str = "×") -> str:
    """E.g. ``"01 conv2d 300×300×8"``."""
    h, w, c = stage.maps.shape
    return f"{stage.index:02d} {stage.name} {h}{times}{w}{times}{c}"


def _drawn_title(stage: Stage) -> str:
    # Pillow's built-in font has no "×" glyph; drawn titles use "x".
    return stage_title(stage, "x")


def _fit(h: int, w: int, max_h: int, max_w: int) -> tuple[int, int]:
    s = min(1.0, max_h / h, max_w / w)
    return max(1, round(h * s)), max(1, round(w * s))


def _shrink_to(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Box-average float (height, width) values to ``size`` (height, width); unchanged if it already fits."""
    if values.shape == size:
        return values
    img = Image.fromarray(np.ascontiguousarray(values, dtype=np.float32), mode="F")
    return np.asarray(img.resize((size[1], size[0]), Image.Resampling.BOX))


def stage_picture(stage: Stage, scales: list[ColorScale | None], max_h: int, max_w: int, gap: int = 2) -> np.ndarray:
    """One stage as uint8 RGB that fits in (max_h, max_w): the input in its own colours, or its channels tiled.

    Values are shrunk before colouring, with the scale of the full-size maps.
    """
    h, w, c = stage.maps.shape
    if scales[0] is None and stage.name == "input":
        th, tw = _fit(h, w, max_h, max_w)
        rgb = render.input_rgb(stage.maps)
        if (th, tw) != (h, w):
            rgb = np.asarray(Image.fromarray(rgb).resize((tw, th), Image.Resampling.BOX))
        return rgb
    cols = math.ceil(math.sqrt(c))
    rows = math.ceil(c / cols)
    th, tw = _fit(h, w, max(1, (max_h - gap * (rows - 1)) // rows), max(1, (max_w - gap * (cols - 1)) // cols))
    out = np.full((rows * th + (rows - 1) * gap, cols * tw + (cols - 1) * gap, 3), 255, dtype=np.uint8)
    for k in range(c):
        r, q = divmod(k, cols)
        tile = _picture(_shrink_to(stage.maps[:, :, k], (th, tw)), scales[k])
        out[r * (th + gap) : r * (th + gap) + th, q * (tw + gap) : q * (tw + gap) + tw] = tile
    return out


def _stack_vertically(pictures: list[np.ndarray], gap: int) -> np.ndarray:
    height = sum(p.shape[0] for p in pictures) + gap * (len(pictures) - 1)
    width = max(p.shape[1] for p in pictures)
    out = np.full((height, width, 3), 255, dtype=np.uint8)
    y = 0
    for p in pictures:
        out[y : y + p.shape[0], : p.shape[1]] = p
        y += p.shape[0] + gap
    return out


def contact_sheet(
    stages: Sequence[Stage], cmap: str = "auto", scale: str = "layer", *, width: int = SHEET_WIDTH
) -> np.ndarray:
    """The whole pipeline as one picture: a titled band per stage, its channels tiled.

    Args:
        stages: the pipeline's stages, input first.
        cmap, scale: the colouring, as in ``stage_scales``.
        width: the widest band's picture, in pixels.

    Returns:
        uint8 RGB (height, width, 3), bands top to bottom in stage order, each
        titled like "01 conv2d 300×300×8".
    """
    if not stages:
        raise CnnError("there are no stages to draw", "stages")
    scales = stage_scales(stages, cmap, scale)
    bands = []
    for stage, sc in zip(stages, scales):
        h, w, c = stage.maps.shape
        cols = math.ceil(math.sqrt(c))
        tall = TILE_MAX * math.ceil(c / cols)
        bands.append(render.titled(stage_picture(stage, sc, tall, min(width, TILE_MAX * cols)), _drawn_title(stage)))
    return _stack_vertically(bands, gap=8)


def progression_frames(stages: Sequence[Stage], cmap: str = "auto", scale: str = "layer") -> list[np.ndarray]:
    """One titled uint8 RGB frame per stage, all of the same size, each picture fitted in GIF_SIDE²."""
    scales = stage_scales(stages, cmap, scale)
    frames = [
        render.titled(_centred(stage_picture(s, sc, GIF_SIDE, GIF_SIDE), GIF_SIDE, GIF_SIDE), _drawn_title(s))
        for s, sc in zip(stages, scales)
    ]
    fh = max(f.shape[0] for f in frames)
    fw = max(f.shape[1] for f in frames)
    return [_centred(f, fh, fw) for f in frames]


def _centred(rgb: np.ndarray, h: int, w: int) -> np.ndarray:
    out = np.full((h, w, 3), 255, dtype=np.uint8)
    y, x = (h - rgb.shape[0]) // 2, (w - rgb.shape[1]) // 2
    out[y : y + rgb.shape[0], x : x + rgb.shape[1]] = rgb
    return out


def progression_gif(stages: Sequence[Stage], cmap: str = "auto", scale: str = "layer") -> bytes:
    """An animated GIF that steps through the stages, one frame each, looping."""
    if not stages:
        raise CnnError("there are no stages to draw", "stages")
    frames = [Image.fromarray(f) for f in progression_frames(stages, cmap, scale)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=GIF_FRAME_MS, loop=0)
    return buf.getvalue()


# --------------------------------------------------------------------------- the ZIP


def export_zip(stages: Sequence[Stage], spec: Spec | dict | str, *, cmap: str = "auto", scale: str = "layer") -> bytes:
    """Everything about a run in one ZIP.

    Contents:
        ``NN_<name>.npy``: stage NN's maps, float32 (height, width, channels),
            exactly as ``run_pipeline`` returned them.
        ``NN_<name>/cKK.png``: channel KK coloured as displayed (downscaled only
            if all maps together exceed MAX_PNG_PIXELS).
        ``spec.json``: the pipeline spec; ``scales.json``: the colour scales used.
        ``contact_sheet.png``: the whole pipeline in one picture.
        ``progression.gif``: one frame per stage.

    Raises:
        CnnError: for an unknown colour map or scale, no stages, or maps over MAX_EXPORT_BYTES.
    """
    spec = parse_spec(spec)
    if not stages:
        raise CnnError("there are no stages to export", "stages")
    total = sum(s.maps.nbytes for s in stages)
    if total > MAX_EXPORT_BYTES:
        raise CnnError(
            f"the maps take {total / 1e6:,.0f} MB; an export holds at most {MAX_EXPORT_BYTES / 1e6:,.0f} MB. "
            "Use a smaller input size or fewer filters.",
            "export",
        )
    scales = stage_scales(stages, cmap, scale)
    pixels = sum(s.maps.size for s in stages)
    shrink = min(1.0, math.sqrt(MAX_PNG_PIXELS / pixels)) if pixels else 1.0
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:

        def put(name: str, data: bytes, compress: bool) -> None:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            kind = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            zf.writestr(info, data, compress_type=kind, compresslevel=1 if compress else None)

        put("spec.json", spec.to_json(indent=2).encode("utf-8"), True)
        put("scales.json", _scales_json(stages, scales, cmap, scale, shrink).encode("utf-8"), True)
        for stage, sc in zip(stages, scales):
            stem = f"{stage.index:02d}_{stage.name}"
            npy = io.BytesIO()
            np.save(npy, np.asarray(stage.maps, dtype=np.float32), allow_pickle=False)
            put(f"{stem}.npy", npy.getvalue(), True)
            del npy
            h, w, c = stage.maps.shape
            size = (max(1, int(h * shrink)), max(1, int(w * shrink)))
            for k in range(c):
                put(f"{stem}/c{k:02d}.png", _map_png(_shrink_to(stage.maps[:, :, k], size), sc[k]), False)
        put("contact_sheet.png", render.png_bytes(contact_sheet(stages, cmap, scale), compress_level=6), False)
        put("progression.gif", progression_gif(stages, cmap, scale), False)
    return buf.getvalue()


def _scales_json(stages, scales, cmap: str, scale: str, shrink: float) -> str:
    doc = {
        "cmap": cmap,
        "scale": scale,
        "png_downscaled": shrink < 1.0,
        "stages": [
            {
                "index": s.index,
                "name": s.name,
                "shape": list(s.maps.shape),
                "maps": [
                    {"own_colours": True}
                    if sc is None
                    else {"cmap": sc.cmap, "vmin": _num(sc.vmin), "vmax": _num(sc.vmax)}
                    for sc in scs
                ],
            }
            for s, scs in zip(stages, scales)
        ],
    }
    return json.dumps(doc, indent=1)


def _num(v: float) -> float | str:
    return v if math.isfinite(v) else str(v)
