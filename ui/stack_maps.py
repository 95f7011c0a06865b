"""The stack's shape table and maps: one band of small channel pictures per stage, and one map enlarged.

The bands are light: each channel is a small palette PNG (``st.image``), shrunk
or enlarged to about ``THUMB_SIDE`` pixels and cached by stage content. Only the
enlarged map is a Plotly figure, with hover values and a colour bar.
"""

from __future__ import annotations

import base64
import io
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from cnn_core import render
from cnn_core.pipeline import Stage
from cnn_core.spec import Spec

from . import explain, stack_model
from .figures import PLOTLY_CONFIG, map_figure
from .maps import arithmetic_lines, map_stats
from .stack_editor import FOCUS_KEY, P
from .text import plain

THUMB_SIDE = 160
ENLARGED_SIDE = 480
PHOTO = -1  # the channel number that stands for the input photo in its own colours


class _Lru:
    """A small thread-safe LRU keyed by content (stage key, channel, scale), bounded in items and bytes."""

    def __init__(self, max_items: int, max_bytes: int | None = None) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._items: OrderedDict = OrderedDict()
        self._sizes: dict = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            v = self._items.get(key)
            if v is not None:
                self._items.move_to_end(key)
            return v

    def put(self, key, value, nbytes: int = 0) -> None:
        with self._lock:
            if key in self._items:
                self._bytes -= self._sizes.pop(key)
                del self._items[key]
            self._items[key] = value
            self._sizes[key] = nbytes
            self._bytes += nbytes
            while len(self._items) > self.max_items or (self.max_bytes and self._bytes > self.max_bytes):
                old, _ = self._items.popitem(last=False)
                self._bytes -= self._sizes.pop(old)


# Per-stage statistics and shrunken maps (about 100 KB per channel), shared by every session.
SUMMARY_CACHE_BYTES = 64_000_000
_THUMBS = _Lru(1024)
_STATS = _Lru(256, max_bytes=SUMMARY_CACHE_BYTES)


# --------------------------------------------------------------------------- numbers per channel


@dataclass(frozen=True)
class ChannelStats:
    """min, max, mean and share of zeros of every channel of a stage, each of shape (channels,), and every
    channel box-averaged to at most ``THUMB_SIDE`` pixels a side for its picture."""

    lo: np.ndarray
    hi: np.ndarray
    mean: np.ndarray
    zeros: np.ndarray
    small: tuple[np.ndarray, ...]


def channel_stats(stage: Stage) -> ChannelStats:
    """Per-channel statistics and shrunken maps, one pass each over the whole stage (cached by the stage's key)."""
    hit = _STATS.get(stage.key) if stage.key else None
    if hit is not None:
        return hit
    # One copy with each channel contiguous makes every reduction below a fast linear pass.
    cf = np.ascontiguousarray(np.moveaxis(stage.maps, 2, 0))
    m = cf.reshape(stage.shape[2], -1)
    lo, hi = m.min(axis=1).astype(np.float64), m.max(axis=1).astype(np.float64)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):  # overflowed maps: the finite values' range
        lo, hi = (np.array(v) for v in zip(*(render.finite_range(ch) for ch in m)))
    with np.errstate(invalid="ignore", over="ignore"):
        mean = m.mean(axis=1, dtype=np.float64)
    zeros = 1.0 - np.count_nonzero(m, axis=1) / m.shape[1]
    small = tuple(np.array(render.shrink_values(ch, THUMB_SIDE), dtype=np.float32) for ch in cf)
    stats = ChannelStats(lo, hi, mean, zeros, small)
    if stage.key:
        _STATS.put(stage.key, stats, sum(a.nbytes for a in small))
    return stats


def scale_for(lo: float, hi: float, cmap: str) -> render.ColorScale:
    """``render.choose_scale``, except that a constant map keeps 0 at its usual colour: an all-zero map
    shows as zero (black in magma, white in the diverging map) rather than as the middle of the scale."""
    if hi <= lo:
        lo, hi = (0.0, 1.0) if lo == 0 else (min(lo, 0.0), max(hi, 0.0))
    return render.choose_scale(lo, hi, cmap)


GREY_01 = render.ColorScale("gray", 0.0, 1.0)  # input channels next to the photo: brightness 0–1


def stage_scales(stages: list[Stage], stats: list[ChannelStats], cmap: str, mode: str) -> list[list]:
    """The colour scale of every channel of every stage.

    ``mode`` is "layer" (one scale per stage), "global" (one for every stage after the input) or "map".
    With ``cmap`` "auto" the input's channels are grey from 0 to 1, beside the photo in its own colours.
    """
    later = stats[1:]
    glo = (min(float(s.lo.min()) for s in later), max(float(s.hi.max()) for s in later)) if later else (0.0, 1.0)
    out = []
    for i, (stage, s) in enumerate(zip(stages, stats)):
        c = stage.shape[2]
        if i == 0 and cmap == "auto":
            out.append([GREY_01] * c)
        elif mode == "map":
            out.append([scale_for(float(s.lo[k]), float(s.hi[k]), cmap) for k in range(c)])
        elif mode == "global" and i > 0:
            out.append([scale_for(*glo, cmap)] * c)
        else:
            out.append([scale_for(float(s.lo.min()), float(s.hi.max()), cmap)] * c)
    return out


def shown_channels(i: int, stage: Stage, cmap: str) -> list[int]:
    """The maps a band shows: with cmap "auto" the input band starts with the photo (PHOTO)."""
    c = stage.shape[2]
    if i == 0 and cmap == "auto":
        return [PHOTO, *range(c)] if c > 1 else [PHOTO]
    return list(range(c))


# --------------------------------------------------------------------------- pictures


def _crisp(a: np.ndarray, side: int) -> np.ndarray:
    """Repeat pixels so a small map reaches about ``side`` pixels without the browser blurring it."""
    f = side // max(a.shape[:2])
    if f <= 1:
        return a
    return np.repeat(np.repeat(a, f, axis=0), f, axis=1)


def _uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def thumbnail(stage: Stage, channel: int, scale: render.ColorScale | None) -> str:
    """A channel (or the photo, ``channel`` PHOTO) as a small PNG data URI, about ``THUMB_SIDE`` pixels a side."""
    key = (stage.key, channel, scale) if stage.key else None
    hit = _THUMBS.get(key) if key else None
    if hit is not None:
        return hit
    if channel == PHOTO:
        rgb = _crisp(render.shrink_for_display(render.input_rgb(stage.maps), THUMB_SIDE), THUMB_SIDE)
        png = render.png_bytes(rgb)
    else:
        small = channel_stats(stage).small[channel]
        idx = np.ascontiguousarray(_crisp(render.color_indices(small, scale), THUMB_SIDE))
        img = Image.frombytes("P", (idx.shape[1], idx.shape[0]), idx.tobytes())
        img.putpalette(render.palette(scale.cmap).tobytes())
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=1)
        png = buf.getvalue()
    uri = _uri(png)
    if key:
        _THUMBS.put(key, uri)
    return uri


@cache
def legend_strip(cmap: str) -> str:
    """The colour map as a thin horizontal strip, low end on the left."""
    pal = render.palette(cmap)[:255]
    return _uri(render.png_bytes(np.repeat(pal[None, :, :], 10, axis=0)))


def range_text(scale: render.ColorScale) -> str:
    if scale.diverging:
        return f"{scale.vmin:.3g} · 0 · {scale.vmax:.3g}"
    return f"{scale.vmin:.3g} … {scale.vmax:.3g}"


def filter_preview(stages: list[Stage], i: int, j: int) -> None:
    """What filter j of layer i outputs (channel j of stage i + 1), on its own colour scale."""
    if i + 1 >= len(stages):
        st.caption("This layer doesn't run yet.")
        return
    stage = stages[i + 1]
    s = channel_stats(stage)
    scale = scale_for(float(s.lo[j]), float(s.hi[j]), "auto")
    st.caption(f"Filter {j + 1}'s output")
    st.image(thumbnail(stage, j, scale), width="stretch")
    st.caption(f"{s.lo[j]:.3g} … {s.hi[j]:.3g}  \nmean {s.mean[j]:.3g}  \nzeros {s.zeros[j]:.0%}")


# --------------------------------------------------------------------------- shape table


def shape_table(spec: Spec, sp: stack_model.StackPlan) -> None:
    """One row per stage with its output shape, weights and multiply-adds; the error, if any, below it."""
    rows = stack_model.table_rows(sp, spec)
    for row in rows:  # thousands separators, and a dash where a layer can't be built
        for col in ("Weights", "Multiply-adds"):
            row[col] = "—" if row[col] is None else f"{row[col]:,}"
    text = st.column_config.TextColumn
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        height=35 * (len(rows) + 1) + 3,
        column_config={
            "Weights": text(alignment="right", help="Kernel weights plus one bias per filter"),
            "Multiply-adds": text(
                alignment="right", help="Multiplications (each with an add) to compute the stage once"
            ),
        },
    )
    params = sum(p.params for p in sp.plans)
    madds = sum(p.madds for p in sp.plans)
    st.caption(f"Total: {params:,} weights · {madds:,} multiply-adds")
    text = stack_model.error_text(sp, spec)
    if text:
        st.error(plain(text))


# --------------------------------------------------------------------------- bands


def _focus(sid: str, channel: int) -> None:
    st.session_state[FOCUS_KEY] = (sid, channel)


def _unfocus() -> None:
    st.session_state[FOCUS_KEY] = None


@st.fragment
def maps_area(stages: list[Stage], ids: list[str], spec: Spec, cmap: str, mode: str, per_band: int) -> None:
    """Every stage as a band of channel pictures, in order; a click on a picture enlarges it under its band."""
    sids = ["input", *ids[: len(stages) - 1]]
    stats = [channel_stats(s) for s in stages]
    scales = stage_scales(stages, stats, cmap, mode)
    names = stack_model.channel_names(spec)
    focus = st.session_state.get(FOCUS_KEY)
    if focus and focus[0] not in sids:
        focus = st.session_state[FOCUS_KEY] = None
    for i, stage in enumerate(stages):
        sid = sids[i]
        channels = shown_channels(i, stage, cmap)
        with st.container(border=True, key=f"{P}_band_{sid}"):
            start = _band_header(i, sid, stage, spec, scales[i], mode, cmap, len(channels), per_band)
            _band_grid(sid, stage, channels[start : start + per_band], stats[i], scales[i], names[i], per_band)
            if focus and focus[0] == sid:
                _enlarged(stages, i, sid, focus[1], scales, names, sids, cmap)


def _band_header(
    i: int, sid: str, stage: Stage, spec: Spec, scales: list, mode: str, cmap: str, count: int, per_band: int
) -> int:
    """The stage's name, shape and colour legend, and a pager when it has more maps than fit; returns the
    index of the first map to show."""
    layer = stage.plan.layer
    head, legend, pager = st.columns([4, 2, 3], vertical_alignment="center", gap="medium")
    about = stack_model.describe(layer) if layer is not None else f"{spec.input.color} photo, values 0–1"
    head.markdown(f"**{i} · {stage.title}** · {stack_model.shape_text(stage.shape)}  \n:gray[{about}]")
    if scales:
        with legend:
            st.image(legend_strip(scales[0].cmap), width="stretch")
            if mode == "map" and not (i == 0 and cmap == "auto"):
                st.caption("each map has its own range (under it)")
            else:
                st.caption(range_text(scales[0]))
    pages = math.ceil(count / per_band)
    if pages <= 1:
        return 0
    labels = [f"{p * per_band + 1}–{min((p + 1) * per_band, count)}" for p in range(pages)]
    pkey = f"{P}_page_{sid}"
    if st.session_state.get(pkey) not in labels:
        st.session_state[pkey] = labels[0]
    with pager:
        page = st.radio(f"Maps (of {count})", labels, key=pkey, horizontal=True)
    return labels.index(page) * per_band


def _band_grid(
    sid: str, stage: Stage, channels: list[int], stats: ChannelStats, scales: list, names: list[str], per_band: int
) -> None:
    cols = st.columns(per_band, gap="small")
    for slot, c in enumerate(channels):
        with cols[slot]:
            st.image(thumbnail(stage, c, None if c == PHOTO else scales[c]), width="stretch")
            label = "photo" if c == PHOTO else f"{c + 1} · {names[c] if c < len(names) else ''}"
            st.button(
                label,
                key=f"{P}_zoom_{sid}_{c}",
                type="tertiary",
                on_click=_focus,
                args=(sid, c),
                help="Enlarge this map, with the value under the pointer",
            )
            if c == PHOTO:
                st.caption("in its own colours")
            else:
                st.caption(
                    f"{stats.lo[c]:.3g} … {stats.hi[c]:.3g}  \nmean {stats.mean[c]:.3g}  \nzeros {stats.zeros[c]:.0%}"
                )


def _enlarged(stages: list[Stage], i: int, sid: str, c: int, scales, names, sids, cmap: str) -> None:
    stage = stages[i]
    channels = shown_channels(i, stage, cmap)
    if i == 0 and PHOTO not in channels:
        channels = [PHOTO, *channels]
    if c not in channels:
        c = channels[0]
    with st.container(key=f"{P}_enlarged"):
        st.divider()
        left, right = st.columns([3, 2], gap="large")
        with right:
            c1, c2 = st.columns(2)
            with c1:
                st.session_state[f"{P}_zoom_stage"] = i
                st.selectbox(
                    "Stage",
                    list(range(len(stages))),
                    key=f"{P}_zoom_stage",
                    format_func=lambda k: f"{k} · {stages[k].title}",
                    on_change=lambda: _focus(sids[st.session_state[f"{P}_zoom_stage"]], 0),
                )
            with c2:
                st.session_state[f"{P}_zoom_channel"] = c
                st.selectbox(
                    "Map",
                    channels,
                    key=f"{P}_zoom_channel",
                    format_func=lambda k: "photo" if k == PHOTO else f"{k + 1} · {names[i][k]}",
                    on_change=lambda: _focus(sid, st.session_state[f"{P}_zoom_channel"]),
                )
            if c == PHOTO:
                values = stage.maps if stage.shape[2] > 1 else stage.maps[:, :, 0]
                scale = None
                st.caption("The photo as the network receives it, values 0–1; hover for each channel's value.")
            else:
                values = stage.maps[:, :, c]
                scale = scales[i][c]
                st.caption(map_stats(values))
            st.caption(explain.caption(stage, stages[i - 1] if i else None))
            for line in arithmetic_lines(stage):
                st.caption(f"Output size, {line}")
            st.button("Close", key=f"{P}_zoom_close", on_click=_unfocus, icon=":material/close:")
        with left:
            # Small maps go as their own pixels, repeated, so the browser doesn't blur them; large ones as usual.
            rgb = None
            if c == PHOTO:
                rgb = lambda: _crisp(render.input_rgb(stage.maps), ENLARGED_SIDE)  # noqa: E731
            elif max(values.shape) < ENLARGED_SIDE // 2:
                rgb = lambda: _crisp(render.colorize(values, scale), ENLARGED_SIDE)  # noqa: E731
            cache_key = (stage.key, c, "stack") if stage.key else None
            fig = map_figure(values, scale, rgb=rgb, height=440, cache_key=cache_key)
            st.plotly_chart(fig, config=PLOTLY_CONFIG, key=f"{P}_zoom_map", theme=None)
