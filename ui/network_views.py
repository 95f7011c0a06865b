"""The Trained network page's sections: the input, every layer's maps, the learned filters, flatten, dense and
softmax, and Grad-CAM. Each section is one function that takes plain values from the core."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cnn_core import network_link, render, tiny_vgg
from cnn_core.shapes_data import CLASSES

from . import network_pictures as pics
from .figures import PLOTLY_CONFIG, map_figure
from .network_input import EXPLAIN_KEY, NetInput, P

ABOUT = {
    "input": "the 64×64 RGB picture, values 0–1",
    "conv": "10 learned 3×3 filters over every input channel, plus a bias (valid padding: 2 pixels narrower)",
    "relu": "max(0, x): negative values become 0",
    "pool": "the largest value in each 2×2 block: half the size",
}


@st.cache_resource(show_spinner="Loading the trained network…")
def model():
    """The shipped Tiny VGG, loaded once per server process (safe mode, not compiled)."""
    import gc

    m = tiny_vgg.load_model()
    tiny_vgg.forward(m, np.zeros((64, 64, 3), np.float32))  # build the probe model and warm TensorFlow up
    gc.freeze()  # keep TensorFlow's import-time objects out of Streamlit's after-rerun collection
    return m


@dataclass(frozen=True)
class Computed:
    run: tiny_vgg.Forward
    bands: tuple[pics.Band, ...]
    scales: tuple
    seconds: float  # forward pass, every band and the probabilities, on the server


@st.cache_resource(max_entries=32, show_spinner=False)
def compute(key: str, cmap: str, mode: str, _x: np.ndarray) -> Computed:
    """The forward pass and every layer's band, cached by the input's content and the colour settings."""
    m = model()  # loaded once; not part of an input change
    t0 = time.perf_counter()
    run = tiny_vgg.forward(m, _x)
    scales = pics.layer_scales(list(run.layers), cmap, mode)
    bands = tuple(pics.band(layer, s) for layer, s in zip(run.layers, scales))
    return Computed(run, bands, tuple(scales), time.perf_counter() - t0)


def explained_class(run: tiny_vgg.Forward) -> int:
    choice = st.session_state.get(EXPLAIN_KEY, "pred")
    return run.predicted if choice not in CLASSES else CLASSES.index(choice)


# --------------------------------------------------------------------------- headline


def introduction() -> str:
    card = tiny_vgg.model_card()
    score = ""
    if card:
        score = (
            f" It scores **{card['held_out_accuracy']:.1%}** on {card['held_out_samples']:,} pictures it never saw "
            f"(check it: `python -m cnn_core.train evaluate --seed {card['held_out_seed']} "
            f"--samples {card['held_out_samples']}`, or any other seed)."
        )
    return (
        "A **Tiny VGG** (CNN Explainer's architecture: two blocks of conv → ReLU → conv → ReLU → max pool, then "
        f"flatten, dense and softmax) that this project trained on generated pictures of {len(CLASSES)} shapes: "
        f"{', '.join(CLASSES[:-1])} and {CLASSES[-1]}.{score} Pick a sample, draw a shape or upload a photo, "
        "and follow it through every layer."
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
    run = c.run
    with seen_area:
        st.image(pics.crisp_png(inp.x), width=256)
        st.caption(
            f"What the network sees: {inp.label}, 64×64. Every input is brought there the same way: the centre "
            "square, resized bilinearly, RGB 0–1."
        )
    with probs_area:
        p = run.probabilities
        st.markdown(f"#### It's a **{CLASSES[run.predicted]}** · {p[run.predicted]:.1%}")
        st.plotly_chart(probability_chart(p, run.predicted), config=PLOTLY_CONFIG, key=f"{P}_probs_top", theme=None)
        if inp.view_source == "image" and inp.label.startswith("your photo"):
            st.caption(
                f"The network only knows {len(CLASSES)} shapes. Softmax has no 'none of these': a photo of anything "
                "else still gets one of them, often with a confident-looking probability."
            )
        st.caption(f"Forward pass, every map and the probabilities: {c.seconds * 1000:.0f} ms on the server.")


# --------------------------------------------------------------------------- maps


def maps_section(c: Computed, cmap: str, mode: str) -> None:
    st.caption(
        "One band per layer, every channel side by side. Colours follow the sidebar's colour map; the range "
        "under each band is what its colours span. Pick a map below the bands to read its values."
    )
    layers = c.run.layers
    for i, (layer, b) in enumerate(zip(layers, c.bands)):
        h, w, ch = layer.maps.shape
        head, legend = st.columns([5, 2], vertical_alignment="bottom")
        head.markdown(f"**{i} · {layer.name}** · {h}×{w}×{ch}  \n:gray[{ABOUT[layer.kind]}]")
        s = [x for x in b.scales if x is not None]
        if i > 0 and s:
            with legend:
                st.image(pics.legend_png(s[0].cmap), width="stretch")
                st.caption("each map its own range" if mode == "map" else _range(s[0]))
        st.image(b.png, width="stretch" if len(b.labels) > 6 else "content")
    st.markdown("##### Enlarge one map")
    names = [f"{i} · {m.name} ({m.maps.shape[0]}×{m.maps.shape[1]})" for i, m in enumerate(layers)]
    left, right = st.columns([1, 2], gap="large")
    with left:
        i = st.selectbox("Layer", range(len(layers)), format_func=names.__getitem__, key=f"{P}_zoom_layer", index=2)
        layer = layers[i]
        k = st.number_input("Channel", 1, layer.maps.shape[2], 1, key=f"{P}_zoom_ch") - 1
        k = min(k, layer.maps.shape[2] - 1)
        values = layer.maps[:, :, k]
        st.caption(
            f"min {values.min():.4g} · max {values.max():.4g} · mean {values.mean():.4g} · "
            f"zeros {np.mean(values == 0):.0%}"
        )
    with right:
        fig = map_figure(values, c.scales[i][k], height=360, cache_key=None)
        st.plotly_chart(fig, config=PLOTLY_CONFIG, key=f"{P}_zoom_fig", theme=None)


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
        layer = st.radio("Conv layer", range(4), format_func=names.__getitem__, horizontal=True, key=f"{P}_flayer")
        kernel, bias = tiny_vgg.conv_filters(m, names[layer])
        png, scale = pics.kernel_grid(kernel, cell=12)
        st.image(png, width=160 if kernel.shape[2] == 3 else 520)
        st.caption(
            f"rows: filters 1–10 · columns: input channels 1–{kernel.shape[2]} "
            f"({'red, green, blue' if kernel.shape[2] == 3 else 'the previous layer' + chr(39) + 's maps'}) · "
            f"weights from {scale.vmin:.3g} (blue) to {scale.vmax:.3g} (red)"
        )
    with right:
        c1, c2 = st.columns(2)
        f = c1.number_input("Filter", 1, kernel.shape[3], 1, key=f"{P}_ffilter") - 1
        ch_names = ["red", "green", "blue"] if kernel.shape[2] == 3 else [str(k + 1) for k in range(kernel.shape[2])]
        ch = c2.selectbox(
            "Input channel", range(kernel.shape[2]), format_func=ch_names.__getitem__, key=f"{P}_fch_{layer}"
        )
        st.markdown(f"**Filter {f + 1} of {names[layer]}, input channel {ch_names[ch]}** · bias {bias[f]:.4f}")
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


# --------------------------------------------------------------------------- flatten


def flatten_section(run: tiny_vgg.Forward) -> None:
    pooled = run.layers[-1].maps
    h, w, c = pooled.shape
    st.markdown(
        f"The last pooled maps ({h}×{w}×{c}) are laid out in one vector of **{run.flat.size:,}** numbers. "
        "TensorFlow keeps maps **channels-last** — (row, column, channel) — and flattens in that order, so the "
        f"channel changes fastest: index = (row · {w} + column) · {c} + channel."
    )
    idx = np.arange(run.flat.size)
    rows, rest = np.divmod(idx, w * c)
    cols, chans = np.divmod(rest, c)
    custom = np.stack([rows, cols, chans + 1], axis=1)
    scale = render.choose_scale(float(run.flat.min()), float(run.flat.max()), "magma")
    strip = "data:image/png;base64," + base64.b64encode(pics.value_strip_png(run.flat, scale)).decode()
    # The strip is a picture; an invisible heatmap over it answers the hover with each entry's origin.
    fig = go.Figure(
        go.Heatmap(
            z=run.flat[None, :].astype(np.float64),
            customdata=custom[None, :, :],
            opacity=0,
            showscale=False,
            hovertemplate="index %{x}<br>channel %{customdata[2]}, row %{customdata[0]}, col %{customdata[1]}"
            "<br>value %{z:.4f}<extra></extra>",
        )
    )
    fig.update_layout(
        height=90,
        margin={"l": 0, "r": 0, "t": 0, "b": 24},
        yaxis={"visible": False, "range": [-0.5, 0.5]},
        xaxis={"range": [-0.5, run.flat.size - 0.5], "tickfont": {"size": 10}, "showgrid": False},
        plot_bgcolor="rgba(0,0,0,0)",
        paper_bgcolor="rgba(0,0,0,0)",
        images=[
            {
                "source": strip,
                "xref": "x",
                "yref": "y",
                "x": -0.5,
                "y": 0.5,
                "sizex": run.flat.size,
                "sizey": 1,
                "sizing": "stretch",
                "layer": "below",
                "xanchor": "left",
                "yanchor": "top",
            }
        ],
    )
    st.plotly_chart(fig, config=PLOTLY_CONFIG, key=f"{P}_flat_strip", theme=None)
    left, right = st.columns([1, 2], gap="large")
    with left:
        i = st.number_input("Pick an entry", 0, run.flat.size - 1, 0, key=f"{P}_flat_index")
        row, col, ch = tiny_vgg.flat_position(int(i), pooled.shape)
        st.markdown(
            f"Entry **{i}** = {run.flat[i]:.4f} comes from **channel {ch + 1}, row {row}, column {col}** of "
            f"max_pool_2: ({row} · {w} + {col}) · {c} + {ch} = {i}."
        )
    with right:
        values = pooled[:, :, ch]
        sc = render.choose_scale(float(values.min()), float(values.max()), "magma")
        rgb = render.colorize(values, sc)
        rgb[row, col] = (0, 200, 255)
        st.image(
            pics._png(np.kron(rgb, np.ones((12, 12, 1), np.uint8))),
            caption=f"max_pool_2, channel {ch + 1}; the picked entry in cyan",
            width=156,
        )


# --------------------------------------------------------------------------- dense and softmax


def dense_section(run: tiny_vgg.Forward) -> int:
    """Logits, the explained class's contributions, and the softmax worked out; returns the explained class."""
    kernel, bias = tiny_vgg.dense_weights(model())
    options = ["pred", *CLASSES]
    st.selectbox(
        "Class to explain (here and in Grad-CAM)",
        options,
        key=EXPLAIN_KEY,
        format_func=lambda o: f"the prediction ({CLASSES[run.predicted]})" if o == "pred" else o,
    )
    label = explained_class(run)
    st.markdown(
        f"The dense layer gives each class a score, its **logit**: zᵢ = Σ flatten[j] · W[j, i] + bᵢ, a sum of "
        f"{run.flat.size:,} products plus a bias. W is {kernel.shape[0]:,}×{kernel.shape[1]}."
    )
    z = run.logits
    e = np.exp(z.astype(np.float64) - z.max())
    soft = e / e.sum()
    table = pd.DataFrame(
        {
            "class": CLASSES,
            "logit zᵢ": z,
            "bias bᵢ": bias,
            "exp(zᵢ − max z)": e,
            "probability": soft,
        }
    )
    st.dataframe(
        table.style.format(
            {"logit zᵢ": "{:.3f}", "bias bᵢ": "{:.3f}", "exp(zᵢ − max z)": "{:.4g}", "probability": "{:.2%}"}
        ).apply(
            lambda r: ["font-weight: bold; background-color: #fdecea" if r.name == label else "" for _ in r], axis=1
        ),
        hide_index=True,
    )
    k = label
    left, right = st.columns([3, 2], gap="large")
    left.markdown(
        f"**Softmax, worked out for {CLASSES[k]}:** pᵢ = exp(zᵢ) / Σⱼ exp(zⱼ). Subtracting the largest logit "
        f"({z.max():.3f}) from every zⱼ first changes nothing but keeps exp from overflowing:  \n"
        f"p({CLASSES[k]}) = exp({z[k]:.3f} − {z.max():.3f}) / ({' + '.join(f'{v:.4g}' for v in e)})  \n"
        f"= {e[k]:.4g} / {e.sum():.4g} = **{soft[k]:.2%}**"
    )
    with right:
        st.plotly_chart(
            probability_chart(run.probabilities, k, height=200), config=PLOTLY_CONFIG, key=f"{P}_probs", theme=None
        )
    st.markdown(f"##### The largest terms of {CLASSES[k]}'s logit (weight × activation)")
    pooled_shape = run.layers[-1].maps.shape
    top = tiny_vgg.top_contributions(run.flat, kernel, k, pooled_shape, k=8)
    contrib = tiny_vgg.contributions(run.flat, kernel, k, pooled_shape)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "flatten index": t.index,
                    "channel": t.channel + 1,
                    "row": t.row,
                    "col": t.col,
                    "activation": t.activation,
                    "weight": t.weight,
                    "weight × activation": t.product,
                }
                for t in top
            ]
        ).style.format({"activation": "{:.3f}", "weight": "{:.3f}", "weight × activation": "{:+.3f}"}),
        hide_index=True,
    )
    st.caption(
        f"All {run.flat.size:,} terms sum to {contrib.sum():.3f}; plus the bias {bias[k]:.3f} that is the "
        f"logit {z[k]:.3f}. Zero activations add nothing, whatever their weight."
    )
    m = float(np.abs(contrib).max()) or 1.0
    scale = render.ColorScale("diverging", -m, m)
    b = pics.band(tiny_vgg.LayerMaps("contributions", "pool", contrib), [scale] * contrib.shape[2], cell=65)
    st.image(b.png, width="stretch")
    st.caption(
        f"Every term mapped back onto max_pool_2's 10 maps (13×13 each, channels 1–10 from the left): red "
        f"pushes {CLASSES[k]}'s logit up, blue pulls it down; the scale runs from {-m:.3g} to {m:.3g}."
    )
    return label


# --------------------------------------------------------------------------- Grad-CAM


@st.cache_resource(max_entries=64, show_spinner=False)
def _grad_cam(key: str, label: int, _x: np.ndarray) -> tiny_vgg.GradCam:
    return tiny_vgg.grad_cam(model(), _x, label)


def grad_cam_section(inp: NetInput, label: int) -> None:
    cam = _grad_cam(inp.key, label, inp.x)
    st.markdown(
        f"Where the network looked for **{CLASSES[label]}**: Grad-CAM takes the last convolution's maps "
        f"(relu_2_2, 26×26×10), weighs each map k by αₖ, the average gradient of {CLASSES[label]}'s logit with "
        "respect to it, and keeps the positive part of the sum: ReLU(Σₖ αₖ Aₖ), resized onto the picture."
    )
    a, b, c = st.columns([1, 1, 1], gap="medium")
    a.image(pics.crisp_png(inp.x), caption="the input", width="stretch")
    if cam.heat.max() > 0:
        b.image(pics.heat_overlay(inp.x, cam.heat), caption=f"Grad-CAM for {CLASSES[label]}", width="stretch")
    else:
        b.info(f"Nothing in this picture raises {CLASSES[label]}'s logit: the weighted sum is negative everywhere.")
    weights_tab, coarse_tab = c.tabs(["αₖ per map", "the 26×26 map"])
    with coarse_tab:
        top = float(cam.coarse.max())
        fig = map_figure(cam.coarse, render.ColorScale("magma", 0.0, top if top > 0 else 1.0), height=220)
        st.plotly_chart(fig, config=PLOTLY_CONFIG, key=f"{P}_cam_coarse", theme=None)
        st.caption(f"ReLU(Σₖ αₖ Aₖ) before resizing; hover for values (largest {top:.4g}).")
    with weights_tab:
        fig = go.Figure(
            go.Bar(
                x=[str(k + 1) for k in range(len(cam.weights))],
                y=cam.weights,
                marker_color=["#b2182b" if v > 0 else "#2166ac" for v in cam.weights],
                hovertemplate="map %{x}: αₖ = %{y:.4g}<extra></extra>",
            )
        )
        fig.update_layout(
            height=220,
            margin={"l": 0, "r": 0, "t": 8, "b": 0},
            xaxis={"title": "map k", "automargin": True},
            yaxis={"automargin": True},
            plot_bgcolor="rgba(0,0,0,0)",
            paper_bgcolor="rgba(0,0,0,0)",
        )
        st.plotly_chart(fig, config=PLOTLY_CONFIG, key=f"{P}_cam_alpha", theme=None)
        st.caption("Red maps count for the class, blue against it.")
