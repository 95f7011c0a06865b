"""The views of the "Your model" page: the summary, how the photo is fitted, the paged maps and the output.

Maps are computed one page of layers at a time (``cnn_core.model_maps.pages``) and only when that page is
shown; the last few pages are kept in a small shared cache keyed by model, photo and value range.
"""

from __future__ import annotations

import base64
import math
from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from cnn_core import model_file, model_maps, render
from cnn_core.errors import CnnError
from ui.common.figures import PLOTLY_CONFIG, map_figure
from ui.common.map_clicks import map_clicks
from ui.common.service import SERVICE
from ui.common.text import plain
from ui.common.unit_links import YOURS, unit_href
from ui.model import keys, worked
from ui.model.source import LoadedModel, P
from ui.stack.maps import legend_strip

THUMB_SIDE = 150
CHANNELS_PER_ROW = 8
# Pages of maps kept for the whole server (Streamlit's cache, bounded by entries): as many PAGE_BYTES as the
# compute service's "model map pages" share holds (3 at the default budget), and always one.
PAGE_CACHE_ENTRIES = max(1, SERVICE.share("model map pages") // model_maps.PAGE_BYTES)


def caps(expanded: bool = False) -> None:
    """What files are accepted, and why, in one expander."""
    with st.expander("Which model files are accepted, and why", expanded=expanded):
        st.markdown(
            "A model file can carry code. Keras has had a string of bugs in which opening one ran it or "
            "exhausted memory, so every file is checked **before** Keras sees it:\n"
            + "\n".join(f"- {line}" for line in model_file.caps_text())
            + f"\n\nMaps are computed a page at a time (at most {model_maps.PAGE_LAYERS} layers and "
            f"{model_maps.PAGE_BYTES // 2**20} MB of maps per page), so a deep model never holds all its maps at once."
        )


def summary(info: model_maps.ModelInfo) -> None:
    """Every layer with its output shape and weights; nested layers indented under their model."""
    rows = [
        {
            "Layer": "\u2003" * x.depth + x.path.rsplit("/", 1)[-1],
            "Class": x.cls,
            "Output shape": _shape(x.shape),
            "Weights": f"{x.params:,}",
            "Maps": "yes" if x.image and not x.note else "",
        }
        for x in info.layers
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, height=min(420, 35 * (len(rows) + 1) + 3), width="stretch")
    st.caption(
        f"{len(info.layers)} layers ({sum(1 for x in info.layers if x.depth)} inside nested models), "
        f"{info.params:,} weights, {len(info.image_layers)} with image-shaped output (H×W×C)."
    )


def _shape(shape: tuple) -> str:
    return "×".join("any" if d is None else str(d) for d in shape) if shape else "—"


def input_panel(info: model_maps.ModelInfo, picture, prepared: model_maps.Prepared) -> None:
    """The photo as uploaded and as the model gets it, with every change explained."""
    h, w, c = info.input_shape
    size = "any size" if h is None and w is None else f"{_shape((h, w))} pixels"
    st.markdown(
        f"**Input:** {size}, {c} channel{'s' if c != 1 else ''} ({'RGB' if c == 3 else 'grayscale' if c == 1 else 'other'}), {info.input_dtype}"
    )
    left, right, notes = st.columns([1, 1, 2], gap="medium")
    left.image(picture.array, caption=f"Your photo, {picture.array.shape[0]}×{picture.array.shape[1]}", width="stretch")
    b = prepared.batch[0]
    lo, hi = float(b.min()), float(b.max())
    shown = np.clip((b - lo) / (hi - lo), 0, 1) if hi > lo else np.zeros_like(b)
    rgb = render.input_rgb(shown)
    f = 224 // max(rgb.shape[:2])
    if f > 1:  # a small input, its pixels repeated so the browser doesn't blur them
        rgb = np.repeat(np.repeat(rgb, f, axis=0), f, axis=1)
    right.image(
        rgb,
        caption=f"What the model gets, {b.shape[0]}×{b.shape[1]}×{b.shape[2]}, values {lo:.3g} to {hi:.3g}",
        width="stretch",
    )
    with notes:
        for n in prepared.notes:
            st.markdown(f"- {n}")


@st.cache_resource(max_entries=PAGE_CACHE_ENTRIES, show_spinner="Computing this page's maps…")
def _page_maps(
    model_key: str,
    photo_key: str,
    value_range: str,
    page: int,
    _loaded: LoadedModel,
    _batch: np.ndarray,
    _paths: tuple[str, ...],
) -> dict[str, np.ndarray]:
    maps = _loaded.computer.compute(_batch, list(_paths))
    for m in maps.values():
        m.flags.writeable = False
    return maps


def _thumb(values: np.ndarray, scale: render.ColorScale) -> str:
    small = render.shrink_values(values, THUMB_SIDE)
    f = THUMB_SIDE // max(small.shape)
    if f > 1:  # repeat pixels so the browser doesn't blur a small map
        small = np.repeat(np.repeat(small, f, axis=0), f, axis=1)
    return "data:image/png;base64," + base64.b64encode(render.indexed_png(small, scale)).decode()


class Fed(NamedTuple):
    """The model and the photo fed to it: what every view of its maps reads."""

    loaded: LoadedModel
    info: model_maps.ModelInfo
    prepared: model_maps.Prepared
    photo_key: str  # names the photo and its value range in the caches
    value_range: str


def maps_browser(fed: Fed, cmap: str, per_map: bool = False) -> None:
    """Page through the image-shaped layers; each layer is a band of its channel maps, itself paged."""
    loaded, info, prepared, photo_key, value_range = fed
    batch = prepared.batch
    pages = model_maps.pages(info, batch.shape)
    if not pages:
        st.info("No layer of this model outputs an image-shaped (H×W×C) result, so there are no feature maps to show.")
        return
    labels = [f"{i}: {p[0].path} … {p[-1].path}" if len(p) > 1 else f"{i}: {p[0].path}" for i, p in enumerate(pages)]
    key = keys.maps_page(loaded.key)
    if st.session_state.get(key) not in range(len(pages)):
        st.session_state[key] = 0
    total = model_maps.total_map_bytes(info, batch.shape)
    st.selectbox(
        f"Page of layers ({len(pages)} page{'s' if len(pages) > 1 else ''}, counted from 0; "
        f"{len(info.image_layers)} layers with maps)",
        range(len(pages)),
        format_func=lambda i: labels[i],
        key=key,
        help=f"All maps together would take {total / 2**20:,.1f} MB; a page holds at most "
        f"{model_maps.PAGE_LAYERS} layers and {model_maps.PAGE_BYTES // 2**20} MB of them.",
    )
    index = st.session_state[key]
    page = pages[index]
    todo = tuple(x.path for x in page if not x.note and not model_maps.too_big(x, batch.shape))
    try:
        maps = _page_maps(loaded.key, photo_key, value_range, index, loaded, batch, todo) if todo else {}
    except CnnError as e:
        st.error(f"This page can't be computed: {plain(e.detail)}.")
        return
    st.html(_PHONE_CSS.format(band=keys.band(""), n=CHANNELS_PER_ROW))
    for layer in page:
        with st.container(border=True, key=keys.band(layer.file_stem)):
            _band(layer, maps.get(layer.path), cmap, batch.shape, per_map)


# Streamlit stacks columns on a phone, which made every channel map full width (the Tiny VGG demo: about 38
# screens at 390×844). There a band's rows of maps (CHANNELS_PER_ROW columns) stay rows of small tiles, four
# to a line, like the Layer stack's; the head, legend and pager above them still stack.
_PHONE_CSS = """<style>
@media (max-width: 640px) {{
  [class*="st-key-{band}"] [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"]:nth-child({n})) {{
    flex-wrap: wrap !important; gap: 0.35rem;
  }}
  [class*="st-key-{band}"] [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"]:nth-child({n}))
    > [data-testid="stColumn"] {{
    min-width: 0 !important; width: calc(25% - 0.3rem) !important; flex: 0 0 calc(25% - 0.3rem) !important;
  }}
  [class*="st-key-{band}"] [data-testid="stCaptionContainer"] p {{ font-size: 0.7rem; }}
}}
</style>"""


def _band(layer: model_maps.LayerInfo, maps: np.ndarray | None, cmap: str, batch_shape: tuple, per_map: bool) -> None:
    head, legend, pager = st.columns([4, 2, 3], vertical_alignment="center", gap="medium")
    nested = f" · inside {layer.path.rsplit('/', 1)[0]}" if "/" in layer.path else ""
    if maps is None:
        why = (
            layer.note
            or f"its maps would take {model_maps.map_bytes(layer, batch_shape) / 2**20:,.0f} MB, over the "
            f"{model_maps.MAX_LAYER_BYTES // 2**20} MB a layer may use"
        )
        head.markdown(f"**{layer.path}** · {layer.cls}{nested}  \n:gray[not shown: {why}]")
        return
    h, w, c = maps.shape
    head.markdown(f"**{layer.path}** · {layer.cls}{nested}  \n:gray[{h}×{w}×{c}]")
    lo, hi = render.finite_range(maps)
    scale = render.scale_for(lo, hi, cmap)
    with legend:
        st.image(legend_strip(scale.cmap), width="stretch")
        st.caption("each map has its own range (under it)" if per_map else render.range_text(scale) + " (whole layer)")
    per_page = 2 * CHANNELS_PER_ROW
    start = 0
    if c > per_page:
        n = math.ceil(c / per_page)
        labels = [f"{k * per_page}–{min((k + 1) * per_page, c) - 1}" for k in range(n)]
        pkey = keys.channels(layer.file_stem)
        if st.session_state.get(pkey) not in labels:
            st.session_state[pkey] = labels[0]
        with pager:
            chosen = st.selectbox(f"Channels (of {c})", labels, key=pkey)
        start = labels.index(chosen) * per_page
    channels = list(range(start, min(start + per_page, c)))
    linked = keys.MODEL_BYTES in st.session_state  # a unit page can scan this model (not an ImageNet backbone)
    for row in range(0, len(channels), CHANNELS_PER_ROW):
        cols = st.columns(CHANNELS_PER_ROW, gap="small")
        for slot, ch in enumerate(channels[row : row + CHANNELS_PER_ROW]):
            with cols[slot]:
                v = maps[:, :, ch]
                own = render.scale_for(*render.finite_range(v), cmap) if per_map else scale
                st.image(_thumb(v, own), width="stretch")
                name = f"[{ch}]({unit_href(layer.path, ch, YOURS)})" if linked else f"{ch}"
                st.caption(f"{name} · {float(v.min()):.3g} … {float(v.max()):.3g}")


def enlarge(fed: Fed, cmap: str, acts) -> None:
    """One map of the current page, large, with the value under the pointer; a click opens its worked sum
    beside it (``acts``: the network's layers on this photo, ``ui.model.inspector.activations``)."""
    loaded, info, prepared, photo_key, value_range = fed
    batch = prepared.batch
    pages = model_maps.pages(info, batch.shape)
    if not pages:
        return
    index = st.session_state.get(keys.maps_page(loaded.key), 0)
    page = [x for x in pages[index] if not x.note and not model_maps.too_big(x, batch.shape)]
    if not page:
        return
    try:
        maps = _page_maps(loaded.key, photo_key, value_range, index, loaded, batch, tuple(x.path for x in page))
    except CnnError:
        return  # the page above already says why
    with st.expander("Enlarge one map, with the value under the pointer"):
        a, b = st.columns(2)
        path = a.selectbox("Layer", [x.path for x in page], key=keys.ZOOM_LAYER)
        m = maps[path]
        ch = b.number_input(f"Channel (0–{m.shape[2] - 1})", 0, m.shape[2] - 1, 0, key=keys.ZOOM_CHANNEL)
        ch = min(ch, m.shape[2] - 1)
        values = m[:, :, ch]
        scale = render.scale_for(*render.finite_range(values), cmap)
        # A click on the map opens its worked sum beside it (and *Inside the network* on the same value).
        click = map_clicks(keys.ZOOM_CLICKS, keys.ZOOM_WRAP)
        at = worked.clicked(P, click, path, ch, values.shape)
        left, right = worked.columns(P)
        with left, st.container(key=keys.ZOOM_WRAP):
            st.plotly_chart(map_figure(values, scale, height=420), config=PLOTLY_CONFIG, key=keys.ZOOM_MAP, theme=None)
        with right:
            worked.side(acts, P, path, ch, at)


def _unnamed(i: int) -> str:
    return f"class {i} (no names in the model)"


def output_panel(
    loaded: LoadedModel, info: model_maps.ModelInfo, prepared: model_maps.Prepared, photo_key: str
) -> None:
    """The final output: probabilities when it comes out of a softmax, plain values otherwise."""
    try:
        out = _final(loaded.key, photo_key, loaded, prepared.batch)
    except CnnError as e:
        st.error(f"The output can't be computed: {plain(e.detail)}.")
        return
    top = model_maps.top_outputs(out, 10)
    names = loaded.class_names
    label = (lambda i: f"{i}: {names[i]}") if names and len(names) == out.size else _unnamed
    if info.softmax:
        st.markdown(
            f"The last layer applies **softmax**, so these are probabilities (they add up to "
            f"{float(out.sum()):.3f}). The {len(top)} most likely of {out.size}:"
        )
        df = pd.DataFrame({"Output": [label(i) for i, _ in top], "Probability": [v for _, v in top]})
        st.dataframe(
            df,
            hide_index=True,
            column_config={
                "Probability": st.column_config.ProgressColumn(
                    "Probability", min_value=0.0, max_value=1.0, format="%.3f"
                )
            },
        )
    else:
        st.markdown(
            f"The last layer has no softmax, so these are its plain values (shape {_shape(out.shape)}). "
            f"The {len(top)} largest:"
        )
        st.dataframe(
            pd.DataFrame({"Output": [label(i) for i, _ in top], "Value": [f"{v:.4g}" for _, v in top]}), hide_index=True
        )


@st.cache_resource(max_entries=8, show_spinner=False)
def _final(model_key: str, photo_key: str, _loaded: LoadedModel, _batch: np.ndarray) -> np.ndarray:
    return _loaded.computer.final_output(_batch)
