"""The Trained network page up to the last pooled maps: the model and its cached forward pass, the input and
the prediction, every layer's maps and the learned filters (``network_answer`` goes on from flatten)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cnn_core import network_link, render, tiny_vgg
from cnn_core.activations import Activations
from cnn_core.shapes_data import CLASSES, NONE
from ui.common import unit_links
from ui.common.figures import PLOTLY_CONFIG, map_figure
from ui.common.map_clicks import map_clicks
from ui.model import worked
from ui.network import keys
from ui.network import pictures as pics
from ui.network.inputs import EXPLAIN_KEY, NetInput, P

# What each layer does, by its kind's name (None: the input).
ABOUT = {
    None: "the 64×64 RGB picture, values 0–1",
    "conv2d": "10 learned 3×3 filters over every input channel, plus a bias (valid padding: 2 pixels narrower)",
    "activation": "max(0, x): negative values become 0",
    "pool2d": "the largest value in each 2×2 block: half the size",
}


@st.cache_resource(show_spinner="Loading the trained network…")
def model():
    """The shipped Tiny VGG, loaded once per server process (safe mode, not compiled)."""
    m = tiny_vgg.load_model()
    tiny_vgg.activations(m, np.zeros((64, 64, 3), np.float32))  # build the forward pass and warm TensorFlow up
    return m


@dataclass(frozen=True)
class Computed:
    acts: Activations  # every layer's maps, computed
    bands: tuple[pics.Band, ...]
    scales: tuple
    seconds: float  # forward pass, every band and the probabilities, on the server


@st.cache_resource(max_entries=32, show_spinner=False)
def compute(key: str, cmap: str, mode: str, _x: np.ndarray) -> Computed:
    """The forward pass and every layer's band, cached by the input's content and the colour settings."""
    m = model()  # loaded once; not part of an input change
    t0 = time.perf_counter()
    acts = tiny_vgg.activations(m, _x)
    maps = [layer.maps for layer in acts.image_layers]
    scales = pics.layer_scales(maps, cmap, mode)
    bands = tuple(pics.band(x, s, picture=i == 0) for i, (x, s) in enumerate(zip(maps, scales)))
    return Computed(acts, bands, tuple(scales), time.perf_counter() - t0)


def explained_class(acts: Activations) -> int:
    choice = st.session_state.get(EXPLAIN_KEY, "pred")
    return tiny_vgg.predicted(acts) if choice not in CLASSES else CLASSES.index(choice)


# --------------------------------------------------------------------------- headline


def introduction() -> str:
    card = tiny_vgg.model_card()
    score = ""
    if card:
        score = (
            f" It scores **{card['held_out_accuracy']:.1%}** on {card['held_out_samples']:,} generated pictures it "
            f"never saw (check it: `python -m cnn_core.train evaluate --seed {card['held_out_seed']} "
            f"--samples {card['held_out_samples']}`, or any other seed)."
        )
        if "drawn_accuracy" in card:
            score += (
                f" On drawings made by separate code it reads **{card['drawn_accuracy']:.1%}** of the shapes and "
                f"answers 'none' or 'not sure' to {card['none_share']:.0%} of non-shapes."
            )
    shapes = [c for c in CLASSES if c != CLASSES[NONE]]
    return (
        "A **Tiny VGG** (CNN Explainer's architecture: two blocks of conv → ReLU → conv → ReLU → max pool, then "
        f"flatten, dense and softmax) that this project trained on generated and drawn-style pictures of "
        f"{len(shapes)} shapes: {', '.join(shapes[:-1])} and {shapes[-1]} (a **circle** is a filled disk, a "
        f"**ring** an open outline of one), and a seventh answer, **none**, for anything else.{score} Pick a "
        "sample, draw a shape or upload a photo, and follow it through every layer."
    )


def probability_chart(probs: np.ndarray, highlight: int, height: int = 260) -> go.Figure:
    colours = ["#c0392b" if k == highlight else "#9aa5b1" for k in range(len(CLASSES))]
    fig = go.Figure(
        go.Bar(
            x=probs * 100,
            y=list(CLASSES),
            orientation="h",
            marker_color=colours,
            text=[f"{p:.1%}" for p in probs],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:.2f}%<extra></extra>",
        )
    )
    fig.update_layout(
        height=height,
        margin={"l": 0, "r": 40, "t": 4, "b": 0},
        xaxis={"range": [0, 112], "visible": False},
        yaxis={"autorange": "reversed", "automargin": True},
        plot_bgcolor="rgba(0,0,0,0)",
        paper_bgcolor="rgba(0,0,0,0)",
    )
    return fig


def input_section(inp: NetInput, c: Computed, seen_area, probs_area) -> None:
    """The 64×64 picture the network sees, the prediction and the probabilities, in the two areas given."""
    predicted = tiny_vgg.predicted(c.acts)
    with seen_area:
        st.image(pics.crisp_png(inp.x), width=256)
        st.caption(
            f"What the network sees: {inp.label}, 64×64. Every input is brought there the same way: a drawing on "
            "plain paper is cropped to its ink (with a margin), anything else to its centre square; then it is "
            "resized bilinearly, RGB 0–1."
        )
    with probs_area:
        p = c.acts.output
        answer = tiny_vgg.verdict(p)
        if answer.sure:
            st.markdown(f"#### It's a **{CLASSES[predicted]}** · {p[predicted]:.1%}")
        elif answer.label == NONE:
            st.markdown(f"#### **None of these** shapes · {p[predicted]:.1%}")
        else:
            st.markdown(f"#### Not sure: **{CLASSES[answer.label]}** or **{CLASSES[answer.runner_up]}**?")
        st.plotly_chart(probability_chart(p, predicted), config=PLOTLY_CONFIG, key=keys.PROBS_TOP, theme=None)
        if not answer.sure:
            lead = "The network answers none of these" if answer.label == NONE else "The network isn't sure"
            st.info(
                f"{lead}: {answer.reason}. It learned a 'none' class from noise, scribbles, "
                "stripes and photo crops, and its probabilities are calibrated: of the answers it gives 80%, "
                "about 80 in 100 are right."
            )
        st.caption(f"Forward pass, every map and the probabilities: {c.seconds * 1000:.0f} ms on the server.")


# --------------------------------------------------------------------------- maps


def maps_section(c: Computed, cmap: str, mode: str) -> None:
    st.caption(
        "One band per layer, every channel side by side. Colours follow the sidebar's colour map; the range "
        "under each band is what its colours span. Pick a map below the bands to read its values."
    )
    layers = c.acts.image_layers
    for i, (layer, b) in enumerate(zip(layers, c.bands)):
        h, w, ch = layer.maps.shape
        head, legend = st.columns([5, 2], vertical_alignment="bottom")
        about = ABOUT[layer.kind.name if layer.kind is not None else None]
        head.markdown(f"**{i} · {layer.path}** · {h}×{w}×{ch}  \n:gray[{about}]")
        s = [x for x in b.scales if x is not None]
        if i > 0 and s:
            with legend:
                st.image(pics.legend_png(s[0].cmap), width="stretch")
                st.caption("each map its own range" if mode == "map" else _range(s[0]))
        st.image(b.png, width="stretch" if len(b.labels) > 6 else "content")
        if i > 0:
            st.markdown(f":small[{unit_links.channel_links(layer.path, ch)}]")
    st.markdown("##### Enlarge one map")
    names = [f"{i} · {m.path} ({m.maps.shape[0]}×{m.maps.shape[1]})" for i, m in enumerate(layers)]
    pick_layer, pick_channel, stats = st.columns([2, 1, 2], gap="medium", vertical_alignment="bottom")
    i = pick_layer.selectbox("Layer", range(len(layers)), format_func=names.__getitem__, key=keys.ZOOM_LAYER, index=2)
    layer = layers[i]
    k = pick_channel.number_input(
        f"Channel (0–{layer.maps.shape[2] - 1})", 0, layer.maps.shape[2] - 1, 0, key=keys.ZOOM_CHANNEL
    )
    k = min(k, layer.maps.shape[2] - 1)
    values = layer.maps[:, :, k]
    stats.caption(
        f"min {values.min():.4g} · max {values.max():.4g} · mean {values.mean():.4g} · zeros {np.mean(values == 0):.0%}"
    )
    # A click on the map opens its worked sum beside it (and *6 · Inside any layer* on the same value).
    click = map_clicks(keys.ZOOM_CLICKS, keys.ZOOM_WRAP)
    at = worked.clicked(P, click, layer.path, k, values.shape)
    left, right = worked.columns(P)
    with left, st.container(key=keys.ZOOM_WRAP):
        st.plotly_chart(
            map_figure(values, c.scales[i][k], height=360, cache_key=None),
            config=PLOTLY_CONFIG,
            key=keys.ZOOM_FIGURE,
            theme=None,
        )
    with right:
        worked.side(c.acts, P, layer.path, k, at)


def _range(scale: render.ColorScale) -> str:
    if scale.diverging:
        return f"{scale.vmin:.3g} · 0 · {scale.vmax:.3g}"
    return f"{scale.vmin:.3g} … {scale.vmax:.3g}"


# --------------------------------------------------------------------------- learned filters


def _app_base(page_path: str) -> str:
    """The app's address for another page, from this page's address."""
    url = st.context.url or ""
    if not url:
        return ""
    parts = urlsplit(url)
    root = parts.path.rsplit("/", 1)[0]
    return urlunsplit((parts.scheme, parts.netloc, f"{root}/{page_path}", "", ""))


@st.cache_data(max_entries=64, show_spinner=False)
def _filter_links(key: str, layer: int, f: int, ch: int, base_pg: str, base_stack: str, _x: np.ndarray):
    m = model()
    convs = [tiny_vgg.conv_filters(m, name) for name in tiny_vgg.CONV_LAYERS]
    kernel, bias = convs[layer]
    image = network_link.link_picture(np.clip(np.rint(_x * 255), 0, 255).astype(np.uint8))
    pg = network_link.filter_link(
        base_pg, "playground", network_link.playground_spec(kernel[:, :, :, f], float(bias[f]), ch, pool=False), image
    )
    stack = network_link.filter_link(base_stack, "stack", network_link.stack_spec(convs, layer, f), image)
    return pg, stack


def filters_section(inp: NetInput) -> None:
    m = model()
    st.caption(
        "Each conv layer learned 10 filters. A filter has one 3×3 kernel per input channel (3 for the first "
        "layer: red, green, blue; 10 after that); it multiplies each with its channel, adds everything and "
        "the bias. Blue weights are negative, red positive, white 0."
    )
    names = list(tiny_vgg.CONV_LAYERS)
    left, right = st.columns([1, 1], gap="large")
    with left:
        layer = st.radio("Conv layer", range(4), format_func=names.__getitem__, horizontal=True, key=keys.FILTER_LAYER)
        kernel, bias = tiny_vgg.conv_filters(m, names[layer])
        png, scale = pics.kernel_grid(kernel, cell=12)
        st.image(png, width=160 if kernel.shape[2] == 3 else 520)
        st.caption(
            f"rows: filters 0–{kernel.shape[3] - 1} · columns: input channels 0–{kernel.shape[2] - 1} "
            f"({'red, green, blue' if kernel.shape[2] == 3 else 'the previous layer' + chr(39) + 's maps'}) · "
            f"weights from {scale.vmin:.3g} (blue) to {scale.vmax:.3g} (red)"
        )
    with right:
        c1, c2 = st.columns(2)
        f = c1.number_input("Filter", 0, kernel.shape[3] - 1, 0, key=keys.FILTER)
        ch_names = ["red", "green", "blue"] if kernel.shape[2] == 3 else [str(k) for k in range(kernel.shape[2])]
        ch = c2.selectbox(
            "Input channel", range(kernel.shape[2]), format_func=ch_names.__getitem__, key=keys.filter_channel(layer)
        )
        st.markdown(f"**Filter {f} of {names[layer]}, input channel {ch_names[ch]}** · bias {bias[f]:.4f}")
        w = kernel[:, :, ch, f]
        st.dataframe(pd.DataFrame(w, columns=["col 0", "col 1", "col 2"]).style.format("{:.4f}"), hide_index=True)
        (pg_url, pg_why), (stack_url, stack_why) = _filter_links(
            inp.key, layer, f, ch, _app_base(""), _app_base("layer_stack"), inp.x
        )
        if pg_url:
            st.link_button(
                "Open this kernel in the Playground",
                pg_url,
                icon=":material/tune:",
                width="stretch",
                help="This 3×3 kernel on the picture in grey, with ReLU (weights rounded to 4 decimals).",
            )
        else:
            st.caption(f"Playground: {pg_why}")
        if stack_url:
            st.link_button(
                "Open this filter in the Layer stack",
                stack_url,
                icon=":material/layers:",
                width="stretch",
                help="The network's layers up to this one, with this filter's whole 3×3×C kernel.",
            )
        else:
            st.caption(
                f"No Layer stack link for {names[layer]}: the weights of every layer before it don't fit in a "
                f"link ({stack_why.split(': ', 1)[-1]}). The Playground link above works."
            )
        st.caption(
            "The Playground gets this one channel's 3×3 kernel, on the picture in grey. The Layer stack gets "
            "the network's own layers up to this one on the colour picture, so the filter sees exactly what it "
            "sees here; weights are rounded to 4 decimals to fit in the link."
        )
