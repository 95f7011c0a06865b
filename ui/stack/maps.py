"""The stack's shape table and maps: one band of small channel pictures per stage, and one map enlarged.

The bands are light: each channel is a small palette PNG, shrunk or enlarged to about ``THUMB_SIDE`` pixels,
cached by stage content and served from Streamlit's media store; a band's tiles are one component
(``ui/stack/band_view.py``). Only the enlarged map is a Plotly figure, with hover values and a colour bar.
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import streamlit as st

from cnn_core import render
from cnn_core import stats as core_stats
from cnn_core.pipeline import Stage
from cnn_core.spec import Activation, Conv2D, Pool2D, Spec
from ui.common import explain, inspector, paint_first
from ui.common.figures import PLOTLY_CONFIG, map_figure
from ui.common.maps import arithmetic_lines, map_stats
from ui.common.service import SERVICE
from ui.common.streamlit_internals import media_url
from ui.stack import band_view, keys, worked
from ui.stack.state import FOCUS_KEY, P
from ui.stack.text import channel_names, describe, shape_text

THUMB_SIDE = 160
ENLARGED_SIDE = 480
PHOTO = -1  # the channel number that stands for the input photo in its own colours


# Per-stage statistics and shrunken maps (about 100 KB per channel), shared by every session.
_THUMBS = SERVICE.cache("thumbnails")
_STATS = SERVICE.cache("band statistics")


# --------------------------------------------------------------------------- numbers per channel


@dataclass(frozen=True)
class ChannelStats:
    """The colour ranges of a stage (``render.Ranges``), the mean and share of zeros of every channel, each
    of shape (channels,), and every channel box-averaged to at most ``THUMB_SIDE`` pixels a side."""

    ranges: render.Ranges
    mean: np.ndarray
    zeros: np.ndarray
    small: tuple[np.ndarray, ...]

    @property
    def lo(self) -> np.ndarray:
        return self.ranges.lo

    @property
    def hi(self) -> np.ndarray:
        return self.ranges.hi


# Statistics of new stages are worked out on the compute service's worker threads as soon as the stages
# exist, so they overlap the drawing of the layer editor (NumPy's reductions release the GIL); the maps wait
# for them, or work them out themselves if no worker has started yet.


def start_stats(stages: list[Stage]) -> None:
    """Begin the statistics of every stage not yet cached, in the background (``channel_stats`` collects them).
    Each stage's channels' lineages are noted first (``lineages``), so that a channel whose values can't have
    changed reuses its statistics."""
    for stage, names in zip(stages, lineages(stages)):
        if stage.key and names is not None:
            _LINEAGES.put(stage.key, names, 64 * len(names))
    for stage in stages:
        if stage.key:
            SERVICE.prefetch("band statistics", stage.key, lambda s=stage: _work_out(s), _held)


# A weight's step of one filter changes one channel of its convolution, and of each activation and pooling after it
# (they work channel by channel), until a layer mixes the channels. Each channel of those stages is named by its
# lineage, a digest of what its values follow from: the stage before the convolution (its key), the convolution's
# geometry and that one filter's kernel and bias, then each per-channel layer's settings. TensorFlow gives a channel
# the same values bit for bit whatever the other filters hold (tests/app/test_layer_stack.py checks it at three
# sizes), so a channel whose lineage was seen keeps its statistics, and a step works out one channel a band instead
# of all of them: at 1024² × 8, three stages' statistics took ~36 ms of a step's CPU (benchmarks/README.md, round 12).
_LINEAGES = SERVICE.cache("channel lineages")
_CHANNEL_STATS = SERVICE.cache("channel statistics")


def _digest(*parts) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def lineages(stages: list[Stage]) -> list[list[str] | None]:
    """Each stage's channels' lineages (see above), or None for a stage whose channels have none: the input, a
    stage without a cache key, a layer that mixes channels other than a convolution's own filters."""
    out: list[list[str] | None] = []
    before: list[str] | None = None
    for i, stage in enumerate(stages):
        layer, channels = stage.plan.layer, stage.shape[2]
        names = None
        if i > 0 and stage.key and stages[i - 1].key and isinstance(layer, Conv2D) and len(layer.filters) == channels:
            bias = layer.bias or (0.0,)
            geometry = (stages[i - 1].key, layer.stride, layer.padding, layer.dilation, layer.kernel_size)
            names = [_digest("conv", geometry, layer.filters[c].to_json(), float(bias[c] if len(bias) > 1 else bias[0]))
                     for c in range(channels)]  # fmt: skip
        elif stage.key and isinstance(layer, (Activation, Pool2D)) and before is not None and len(before) == channels:
            settings = layer.to_dict()
            names = [_digest(settings, name) for name in before]
        out.append(names)
        before = names
    return out


def channel_stats(stage: Stage) -> ChannelStats:
    """Per-channel statistics and shrunken maps in one vectorised pass over the stage (cached by its key)."""
    if not stage.key:
        return _work_out(stage)
    return SERVICE.remembered("band statistics", stage.key, lambda: _work_out(stage), _held)


def _work_out(stage: Stage) -> ChannelStats:
    """The stage's statistics; with its channels' lineages known (``start_stats``), only the channels not seen."""
    names = _LINEAGES.get(stage.key) if stage.key else None
    if names is None or len(names) != stage.shape[2]:
        s = core_stats.channel_stats(stage.maps, THUMB_SIDE)
        return ChannelStats(render.stage_ranges(stage.maps, (s.lo, s.hi)), s.mean, s.zeros, s.small)
    kept = [_CHANNEL_STATS.get(name) for name in names]
    new = [c for c, k in enumerate(kept) if k is None]
    if new:
        maps = stage.maps if len(new) == len(names) else np.ascontiguousarray(stage.maps[:, :, new])
        s = core_stats.channel_stats(maps, THUMB_SIDE)
        for j, c in enumerate(new):
            kept[c] = (float(s.lo[j]), float(s.hi[j]), float(s.mean[j]), float(s.zeros[j]), s.small[j])
            _CHANNEL_STATS.put(names[c], kept[c], s.small[j].nbytes + 256)
    lo, hi, mean, zeros = (np.array([k[i] for k in kept], dtype=np.float64) for i in range(4))
    small = tuple(k[4] for k in kept)
    return ChannelStats(render.stage_ranges(stage.maps, (lo, hi)), mean, zeros, small)


def _held(stats: ChannelStats) -> int:
    """The bytes a stage's statistics hold: its shrunken maps (the rest is a few numbers per channel)."""
    return sum(a.nbytes for a in stats.small)


def band_scales(stages: list[Stage], cmap: str, mode: str) -> list[list[render.ColorScale | None]]:
    """The colour scale of every channel the bands show: ``render.stage_scales`` from the cached ranges."""
    if mode == "robust":  # the percentiles, worked out once per stage and kept with its statistics
        for s in stages:
            stats = channel_stats(s)
            if stats.ranges.p_lo is None and s.key:
                full = replace(stats, ranges=stats.ranges.with_percentiles(s.maps))
                _STATS.put(s.key, full, _held(full))
    return render.stage_scales(stages, cmap, mode, [channel_stats(s).ranges for s in stages])


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


def thumbnail(stage: Stage, channel: int, scale: render.ColorScale | None) -> bytes:
    """A channel (or the photo, ``channel`` PHOTO) as a small PNG, about ``THUMB_SIDE`` pixels a side."""
    key = (stage.key, channel, scale) if stage.key else None
    hit = _THUMBS.get(key) if key else None
    if hit is not None:
        return hit
    if channel == PHOTO:
        png = render.png_bytes(_crisp(render.shrink_for_display(render.input_rgb(stage.maps), THUMB_SIDE), THUMB_SIDE))
    else:
        png = render.map_png(_crisp(channel_stats(stage).small[channel], THUMB_SIDE), scale)
    if key:
        _THUMBS.put(key, png)
    return png


def thumbnail_src(stage: Stage, channel: int, scale: render.ColorScale | None, where: str) -> tuple[str, str | None]:
    """The thumbnail for the browser as (address, inline picture or None).

    The address is where Streamlit's media store serves the picture under ``where`` (one name per tile, named by
    its content, so an unchanged tile's address stays the same); it is registered on every run, so it can always
    be fetched. A picture this session's page hasn't been sent at ``where`` comes inline as well (a data URI):
    a weight step changes one tile a band, and fetching it after the step's message cost the paint 50–100 ms
    (benchmarks/README.md, round 12). Where the store can't be reached, the address is the data URI itself."""
    png = thumbnail(stage, channel, scale)
    url = media_url(png, "image/png", where)
    if url is None:
        return _uri(png), None
    sent = st.session_state.setdefault(keys.TILES_SENT, {})
    if sent.get(where) == url:
        return url, None
    sent[where] = url
    return url, _uri(png)


@cache
def legend_strip(cmap: str) -> str:
    """The colour map as a thin horizontal strip, low end on the left."""
    pal = render.palette(cmap)[:255]
    return _uri(render.png_bytes(np.repeat(pal[None, :, :], 10, axis=0)))


def filter_preview(stages: list[Stage], i: int, j: int) -> None:
    """What filter j of layer i outputs (channel j of stage i + 1), on its own colour scale."""
    if i + 1 >= len(stages):
        st.caption("This layer doesn't run yet.")
        return
    stage = stages[i + 1]
    s = channel_stats(stage)
    scale = render.scale_for(float(s.lo[j]), float(s.hi[j]), "auto")
    st.caption(f"Filter {j}'s output")
    st.image(thumbnail(stage, j, scale), width="stretch")
    st.caption(f"{s.lo[j]:.3g} … {s.hi[j]:.3g}  \nmean {s.mean[j]:.3g}  \nzeros {s.zeros[j]:.0%}")


# --------------------------------------------------------------------------- bands


def _focus(sid: str, channel: int) -> None:
    st.session_state[FOCUS_KEY] = (sid, channel)


def _unfocus() -> None:
    st.session_state[FOCUS_KEY] = None


# Drawn by the page's maps part (views/layer_stack.py), a keyed fragment that every change of the stack names
# itself: nested in another fragment, its elements would not be marked stale when only that one reran, and the
# updating mark would not show.
def maps_area(stages: list[Stage], ids: list[str], spec: Spec, cmap: str, mode: str, per_band: int) -> None:
    """Every stage as a band of channel pictures, in order; a click on a picture's name enlarges it under its
    band, a click on the picture opens the worked sum of the value under the pointer beside the bands."""
    sids = ["input", *ids[: len(stages) - 1]]
    stats = [channel_stats(s) for s in stages]
    scales = band_scales(stages, cmap, mode)
    names = channel_names(spec)
    inspector.open_from_link(P, sids, FOCUS_KEY)
    focus = st.session_state.get(FOCUS_KEY)
    if focus and focus[0] not in sids:
        st.session_state[FOCUS_KEY] = None
    st.html(_tiles_css())
    bands, side = worked.columns()
    with bands:
        # The bands first, each with an empty place under it for the enlarged map: a click on a band's tile is
        # known only once its band is drawn, and it may move the enlarged map to another band.
        under = {}
        for i, stage in enumerate(stages):
            sid = sids[i]
            channels = shown_channels(i, stage, cmap)
            with st.container(border=True, key=keys.stage(sid, "band")):
                head, start, pages = _band_header(i, sid, stage, spec, scales[i], mode, cmap, len(channels), per_band)
                shown = channels[start : start + per_band]
                event = _band_grid(i, sid, stage, shown, stats[i], scales[i], names[i], per_band, head)
                if event is not None:
                    worked.tile_event(stages, sids, i, event)
                if pages:
                    _pager(sid, pages, len(channels))
                under[sid] = st.container()
        paint_first.after_maps(keys.WEIGHT_STEP)  # the new bands paint before the rest of the step comes
        # A click on a tile (or on the enlarged map) opens its worked sum beside the bands, in view.
        at = worked.clicked(stages, sids)
        focus = st.session_state.get(FOCUS_KEY)
        if focus and focus[0] in under:
            i = sids.index(focus[0])
            with under[focus[0]]:
                _enlarged(stages, i, focus[0], focus[1], scales, names, sids, cmap, mode)
    with side:
        worked.side(stages, at)


# A band's tiles are one component (ui/stack/band_view.py), ``per_band`` to a line. While a step computes, the old
# tiles stay, dimmed, and their band says "updating…": Streamlit flags every element of the previous run that this
# run has not redrawn yet (data-stale), so the mark clears itself band by band.
def _tiles_css() -> str:
    stale = '[data-testid="stElementContainer"][data-stale="true"]'
    return f"""<style>
[class*="st-key-ls_band_"] {{ position: relative; }}
[class*="st-key-ls_band_"] {stale}:has(.ls-band-tiles) {{ opacity: 0.55; }}
[class*="st-key-ls_band_"]:has({stale} .ls-band-tiles)::before {{
  content: "updating…"; position: absolute; top: 0.25rem; right: 0.5rem; z-index: 5; padding: 0.05rem 0.5rem;
  font-size: 0.75rem; border-radius: 0.5rem; background: rgba(255, 189, 69, 0.9); color: #31333f;
}}
</style>"""


def _band_header(
    i: int, sid: str, stage: Stage, spec: Spec, scales: list, mode: str, cmap: str, count: int, per_band: int
) -> tuple[dict, int, list[str] | None]:
    """The stage's name, shape and colour legend, for the band's component to draw above its tiles; the index of
    the first map to show; and the pager's choices when the band has more maps than fit (else None)."""
    layer = stage.plan.layer
    about = describe(layer) if layer is not None else f"{spec.input.color} photo, values 0–1"
    head = {"title": f"{i} · {stage.title}", "shape": shape_text(stage.shape), "about": about, "legend": None,
            "range": ""}  # fmt: skip
    if scales:
        if scales[0] is None:  # the input in its own colours: its channels are brightness 0–1
            head.update(legend=legend_strip("gray"), range="0 … 1")
        else:
            text = "each map has its own range (under it)" if mode == "map" else render.range_text(scales[0])
            head.update(legend=legend_strip(scales[0].cmap), range=text)
    pages = math.ceil(count / per_band)
    if pages <= 1:
        return head, 0, None
    labels = [f"{p * per_band}–{min((p + 1) * per_band, count) - 1}" for p in range(pages)]
    pkey = keys.stage(sid, "page")
    if st.session_state.get(pkey) not in labels:
        st.session_state[pkey] = labels[0]
    return head, labels.index(st.session_state[pkey]) * per_band, labels


def _pager(sid: str, labels: list[str], count: int) -> None:
    """Which maps of a band with more than fit are shown (under its tiles; read before them from its state)."""
    st.radio(f"Maps (of {count})", labels, key=keys.stage(sid, "page"), horizontal=True)


def _band_grid(
    i: int,
    sid: str,
    stage: Stage,
    channels: list[int],
    stats: ChannelStats,
    scales: list,
    names: list[str],
    per_band: int,
    head: dict,
) -> tuple | None:
    """The band's heading and tiles, one component; what a click on a tile asked for (``band_view.band_view``)."""
    tiles = []
    for c in channels:
        if c == PHOTO:
            caption = "in its own colours"
        else:
            caption = f"{stats.lo[c]:.3g} … {stats.hi[c]:.3g}\nmean {stats.mean[c]:.3g}\nzeros {stats.zeros[c]:.0%}"
        label = "photo" if c == PHOTO else f"{c} · {names[c] if c < len(names) else ''}"
        where = f"cnn-stack-tile.{sid}.{c}"
        src, inline = thumbnail_src(stage, c, None if c == PHOTO else scales[c], where)
        tiles.append(band_view.tile(i, c, src, caption, label, inline))
    return band_view.band_view(keys.stage(sid, "tiles"), tiles, per_band, head)


ZOOM_CONTAINER = worked.ZOOM_CONTAINER


def _enlarged(stages: list[Stage], i: int, sid: str, c: int, scales, names, sids, cmap: str, mode: str) -> None:
    stage = stages[i]
    channels = shown_channels(i, stage, cmap)
    if i == 0 and PHOTO not in channels:
        channels = [PHOTO, *channels]
    if c not in channels:
        c = channels[0]
    with st.container(key=keys.page("enlarged")):
        st.divider()
        left, right = st.columns([3, 2], gap="large")
        with right:
            c1, c2 = st.columns(2)
            with c1:
                st.session_state[keys.page("zoom_stage")] = i
                st.selectbox(
                    "Stage",
                    list(range(len(stages))),
                    key=keys.page("zoom_stage"),
                    format_func=lambda k: f"{k} · {stages[k].title}",
                    on_change=lambda: _focus(sids[st.session_state[keys.page("zoom_stage")]], 0),
                )
            with c2:
                st.session_state[keys.page("zoom_channel")] = c
                st.selectbox(
                    "Map",
                    channels,
                    key=keys.page("zoom_channel"),
                    format_func=lambda k: "photo" if k == PHOTO else f"{k} · {names[i][k]}",
                    on_change=lambda: _focus(sid, st.session_state[keys.page("zoom_channel")]),
                )
            if c == PHOTO:
                values = stage.maps if stage.shape[2] > 1 else stage.maps[:, :, 0]
                scale = None
                st.caption("The photo as the network receives it, values 0–1; hover for each channel's value.")
            else:
                values = stage.maps[:, :, c]
                scale = scales[i][c]
                if scale is not None:
                    own = st.toggle(
                        "This map's own colour range",
                        key=keys.page("zoom_own"),
                        help="Colour this map from its own lowest to highest value (1st to 99th percentile with the "
                        "robust scale) instead of the range the band shares, so a quiet map shows its detail.",
                    )
                    if own:
                        scale = render.map_scale(values, cmap, robust=mode == "robust")
                    st.caption(f"Colours: {render.range_text(scale)}")
                else:
                    st.caption("An input channel: grey from 0 (black) to 1 (white).")
                st.caption(map_stats(values, (stage.key, c) if stage.key else None))
            st.caption(explain.caption(stage, stages[i - 1] if i else None))
            for line in arithmetic_lines(stage):
                st.caption(f"Output size, {line}")
            st.button("Close", key=keys.page("zoom_close"), on_click=_unfocus, icon=":material/close:")
        with left:
            # Small maps go as their own pixels, repeated, so the browser doesn't blur them; large ones as usual.
            rgb = None
            if c == PHOTO:
                rgb = lambda: _crisp(render.input_rgb(stage.maps), ENLARGED_SIDE)  # noqa: E731
            elif scale is None or max(values.shape) < ENLARGED_SIDE // 2:
                rgb = lambda: _crisp(render.picture(values, scale), ENLARGED_SIDE)  # noqa: E731
            cache_key = (stage.key, c, "stack") if stage.key else None
            fig = map_figure(values, scale, rgb=rgb, height=440, cache_key=cache_key)
            # A click on the map (heard by worked.clicked) explains that value beside the bands and below.
            with st.container(key=ZOOM_CONTAINER):
                st.plotly_chart(fig, config=PLOTLY_CONFIG, key=keys.page("zoom_map"), theme=None)
        inspector.inspector(stages, P, stage=i, channel=None if c == PHOTO else c)
