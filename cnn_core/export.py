"""Downloads: every stage's maps as coloured PNGs and raw float32 .npy, the spec, a contact sheet and a GIF.

    >>> stages = run_pipeline(image, spec)
    >>> data = export_zip(stages, spec, cmap="auto", scale="layer")   # bytes of a ZIP

Colours are the app's own: every scale comes from ``render.stage_scales`` and
every map is coloured by ``render``, the module that colours the screen too.
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

SHEET_WIDTH = 1024  # the contact sheet's widest band, in pixels
TILE_MAX = 512  # a map's longest side on the contact sheet
GIF_SIDE = 320  # each GIF frame's picture fits in this square
GIF_FRAME_MS = 900
MAX_PNG_PIXELS = 40_000_000  # coloured maps beyond this many pixels in all are downscaled in the ZIP
MAX_EXPORT_BYTES = 256_000_000  # raw float32 maps beyond this are refused: the ZIP is built in memory
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same maps give the same ZIP bytes


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
        scale_mode: one of ``render.SCALE_MODES``.
        all_stages: every stage of the pipeline, needed for "global"; without
            it "global" falls back to the stage's own range.

    Returns:
        PNG bytes of size (width, height): a palette PNG through the colour
        map, or grayscale for the input shown in its own colours.
    """
    render.check_view(cmap, scale_mode)
    if not 0 <= channel < stage.maps.shape[2]:
        raise CnnError(f"is {channel}; this stage has channels 0 to {stage.maps.shape[2] - 1}", "channel")
    stages = list(all_stages) if all_stages and any(s is stage for s in all_stages) else [stage]
    i = next(k for k, s in enumerate(stages) if s is stage)
    scale = render.stage_scales(stages, cmap, scale_mode)[i][channel]
    return render.map_png(stage.maps[:, :, channel], scale, compress_level=6)


# --------------------------------------------------------------------------- pictures of the whole pipeline


def stage_title(stage: Stage, times: str = "×") -> str:
    """E.g. ``"01 conv2d 300×300×8"``. Titles drawn into pictures use ``times="x"``: Pillow's built-in font
    has no "×" glyph."""
    h, w, c = stage.maps.shape
    return f"{stage.index:02d} {stage.name} {h}{times}{w}{times}{c}"


def stage_picture(
    stage: Stage, scales: list[ColorScale | None], max_h: int | None = None, max_w: int | None = None, gap: int = 2
) -> np.ndarray:
    """One stage as uint8 RGB that fits in (max_h, max_w) (None: full size): the input in its own colours,
    or its channels tiled in rows, each through ``scales[channel]``.

    Values are shrunk before colouring, with the scale of the full-size maps.
    """
    h, w, c = stage.maps.shape
    cols = math.ceil(math.sqrt(c))
    rows = math.ceil(c / cols)
    max_h = max_h or rows * h + gap * (rows - 1)
    max_w = max_w or cols * w + gap * (cols - 1)
    if scales[0] is None and stage.name == "input":
        return render.resize_rgb(render.input_rgb(stage.maps), render.fit(h, w, max_h, max_w))
    th, tw = render.fit(h, w, max(1, (max_h - gap * (rows - 1)) // rows), max(1, (max_w - gap * (cols - 1)) // cols))
    out = np.full((rows * th + (rows - 1) * gap, cols * tw + (cols - 1) * gap, 3), 255, dtype=np.uint8)
    for k in range(c):
        r, q = divmod(k, cols)
        tile = render.picture(render.resize_values(stage.maps[:, :, k], (th, tw)), scales[k])
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
        cmap, scale: the colouring, as in ``render.stage_scales``.
        width: the widest band's picture, in pixels.

    Returns:
        uint8 RGB (height, width, 3), bands top to bottom in stage order, each
        titled like "01 conv2d 300×300×8".
    """
    if not stages:
        raise CnnError("there are no stages to draw", "stages")
    scales = render.stage_scales(stages, cmap, scale)
    bands = []
    for stage, sc in zip(stages, scales):
        h, w, c = stage.maps.shape
        cols = math.ceil(math.sqrt(c))
        tall = TILE_MAX * math.ceil(c / cols)
        bands.append(
            render.titled(stage_picture(stage, sc, tall, min(width, TILE_MAX * cols)), stage_title(stage, "x"))
        )
    return _stack_vertically(bands, gap=8)


def progression_frames(stages: Sequence[Stage], cmap: str = "auto", scale: str = "layer") -> list[np.ndarray]:
    """One titled uint8 RGB frame per stage, all of the same size, each picture fitted in GIF_SIDE²."""
    scales = render.stage_scales(stages, cmap, scale)
    frames = [
        render.titled(_centred(stage_picture(s, sc, GIF_SIDE, GIF_SIDE), GIF_SIDE, GIF_SIDE), stage_title(s, "x"))
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
    scales = render.stage_scales(stages, cmap, scale)
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
                put(
                    f"{stem}/c{k:02d}.png",
                    render.map_png(render.resize_values(stage.maps[:, :, k], size), sc[k], 6),
                    False,
                )
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
                    else {"cmap": sc.cmap, "vmin": _num(sc.vmin), "vmax": _num(sc.vmax), "robust": sc.robust}
                    for sc in scs
                ],
            }
            for s, scs in zip(stages, scales)
        ],
    }
    return json.dumps(doc, indent=1)


def _num(v: float) -> float | str:
    return v if math.isfinite(v) else str(v)
