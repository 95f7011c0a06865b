"""The Trained network page from the last pooled maps to the answer: flatten, the dense layer and softmax, and
Grad-CAM. Each section is one function that takes plain values from the core."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cnn_core import gradients, render, tiny_vgg
from cnn_core.activations import Activations
from cnn_core.errors import CnnError
from cnn_core.shapes_data import CLASSES
from ui.common.figures import PLOTLY_CONFIG, map_figure
from ui.common.text import plain
from ui.common.worked_numbers import fixed, sum_decimals
from ui.network import keys
from ui.network import pictures as pics
from ui.network.inputs import EXPLAIN_KEY, NetInput, P
from ui.network.views import explained_class, model, probability_chart

# --------------------------------------------------------------------------- flatten


def flatten_section(acts: Activations) -> None:
    pooled = acts.image_layers[-1].maps
    flat = acts.maps(tiny_vgg.FLAT)
    h, w, c = pooled.shape
    st.markdown(
        f"The last pooled maps ({h}×{w}×{c}) are laid out in one vector of **{flat.size:,}** numbers. "
        "TensorFlow keeps maps **channels-last** — (row, column, channel) — and flattens in that order, so the "
        f"channel changes fastest: index = (row · {w} + column) · {c} + channel."
    )
    idx = np.arange(flat.size)
    rows, rest = np.divmod(idx, w * c)
    cols, chans = np.divmod(rest, c)
    custom = np.stack([rows, cols, chans], axis=1)  # every index counts from 0
    scale = render.choose_scale(float(flat.min()), float(flat.max()), "magma")
    strip = "data:image/png;base64," + base64.b64encode(pics.value_strip_png(flat, scale)).decode()
    # The strip is a picture; an invisible heatmap over it answers the hover with each entry's origin.
    fig = go.Figure(
        go.Heatmap(
            z=flat[None, :].astype(np.float64),
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
        xaxis={"range": [-0.5, flat.size - 0.5], "tickfont": {"size": 10}, "showgrid": False},
        plot_bgcolor="rgba(0,0,0,0)",
        paper_bgcolor="rgba(0,0,0,0)",
        images=[
            {
                "source": strip,
                "xref": "x",
                "yref": "y",
                "x": -0.5,
                "y": 0.5,
                "sizex": flat.size,
                "sizey": 1,
                "sizing": "stretch",
                "layer": "below",
                "xanchor": "left",
                "yanchor": "top",
            }
        ],
    )
    st.plotly_chart(fig, config=PLOTLY_CONFIG, key=keys.FLAT_STRIP, theme=None)
    left, right = st.columns([1, 2], gap="large")
    with left:
        i = st.number_input("Pick an entry", 0, flat.size - 1, 0, key=keys.FLAT_INDEX)
        row, col, ch = tiny_vgg.flat_position(int(i), pooled.shape)
        st.markdown(
            f"Entry **{i}** = {flat[i]:.4f} comes from **channel {ch}, row {row}, column {col}** of "
            f"max_pool_2: ({row} · {w} + {col}) · {c} + {ch} = {i}."
        )
    with right:
        values = pooled[:, :, ch]
        sc = render.choose_scale(float(values.min()), float(values.max()), "magma")
        rgb = render.colorize(values, sc)
        rgb[row, col] = (0, 200, 255)
        st.image(
            pics._png(np.kron(rgb, np.ones((12, 12, 1), np.uint8))),
            caption=f"max_pool_2, channel {ch}; the picked entry in cyan",
            width=156,
        )


# --------------------------------------------------------------------------- dense and softmax


def dense_section(acts: Activations) -> int:
    """Logits, the explained class's contributions, and the softmax worked out; returns the explained class."""
    flat, probs = acts.maps(tiny_vgg.FLAT), acts.output
    kernel, bias = tiny_vgg.dense_weights(model())
    options = ["pred", *CLASSES]
    st.selectbox(
        "Class to explain (here and in Grad-CAM)",
        options,
        key=EXPLAIN_KEY,
        # The label must not follow the prediction: Streamlit keeps the choice as its label (ui/common/choices.py).
        format_func=lambda o: "the network's prediction" if o == "pred" else o,
    )
    label = explained_class(acts)
    st.markdown(
        f"The dense layer gives each class a score, its **logit**: zᵢ = Σ flatten[j] · W[j, i] + bᵢ, a sum of "
        f"{flat.size:,} products plus a bias. W is {kernel.shape[0]:,}×{kernel.shape[1]}."
    )
    z, t = acts.maps(tiny_vgg.LOGITS), tiny_vgg.temperature(model())
    zt = z.astype(np.float64) / t
    e = np.exp(zt - zt.max())
    table = pd.DataFrame(
        {
            "class": CLASSES,
            "logit zᵢ": z,
            "bias bᵢ": bias,
            "zᵢ / T": zt,
            "exp(zᵢ/T − max)": e,
            "probability": probs,
        }
    )
    st.dataframe(
        table.style.format(
            {
                "logit zᵢ": "{:.3f}",
                "bias bᵢ": "{:.3f}",
                "zᵢ / T": "{:.3f}",
                "exp(zᵢ/T − max)": "{:.4g}",
                "probability": "{:.2%}",
            }
        ).apply(
            lambda r: ["font-weight: bold; background-color: #fdecea" if r.name == label else "" for _ in r], axis=1
        ),
        hide_index=True,
    )
    k = label
    # Enough decimals that the terms shown add up to the denominator shown (not "1 / 1 = 99.99%").
    dec = sum_decimals([(e.tolist(), float(e.sum()))])
    left, right = st.columns([3, 2], gap="large")
    left.markdown(
        f"**Softmax, worked out for {CLASSES[k]}:** pᵢ = exp(zᵢ/T) / Σⱼ exp(zⱼ/T). T = {t:.3f} is the network's "
        "**temperature**: fitted after training on pictures it never saw, so that its probabilities are honest "
        "(of the answers given with 80%, about 80 in 100 are right). Subtracting the largest zⱼ/T "
        f"({zt.max():.3f}) first changes nothing but keeps exp from overflowing:  \n"
        f"p({CLASSES[k]}) = exp({zt[k]:.3f} − {zt.max():.3f}) / ({' + '.join(fixed(v, dec) for v in e)})  \n"
        f"= {fixed(e[k], dec)} / {fixed(e.sum(), dec)} = **{fixed(100 * e[k] / e.sum(), max(2, dec - 2))}%**"
    )
    with right:
        st.plotly_chart(probability_chart(probs, k, height=200), config=PLOTLY_CONFIG, key=keys.PROBS, theme=None)
    st.markdown(f"##### The largest terms of {CLASSES[k]}'s logit (weight × activation)")
    pooled_shape = acts.image_layers[-1].maps.shape
    top = tiny_vgg.top_contributions(flat, kernel, k, pooled_shape, k=8)
    contrib = tiny_vgg.contributions(flat, kernel, k, pooled_shape)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "flatten index": t.index,
                    "channel": t.channel,
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
        f"All {flat.size:,} terms sum to {contrib.sum():.3f}; plus the bias {bias[k]:.3f} that is the "
        f"logit {z[k]:.3f}. Zero activations add nothing, whatever their weight."
    )
    m = float(np.abs(contrib).max()) or 1.0
    scale = render.ColorScale("diverging", -m, m)
    b = pics.band(contrib, [scale] * contrib.shape[2], cell=65)
    st.image(b.png, width="stretch")
    st.caption(
        f"Every term mapped back onto max_pool_2's 10 maps (13×13 each, channels 1–10 from the left): red "
        f"pushes {CLASSES[k]}'s logit up, blue pulls it down; the scale runs from {-m:.3g} to {m:.3g}."
    )
    return label


# --------------------------------------------------------------------------- Grad-CAM


@st.cache_resource(max_entries=64, show_spinner=False)
def _grad_cam(key: str, label: int, layer: str, _x: np.ndarray) -> tiny_vgg.GradCam:
    # In a separate process with oneDNN off: gradients with oneDNN on can crash the process (cnn_core.gradients).
    return gradients.grad_cam(_x, label, layer)


def grad_cam_section(inp: NetInput, label: int) -> None:
    layers = [layer.name for layer in tiny_vgg.map_layers(model())]
    if st.session_state.get(keys.CAM_LAYER) not in layers:
        st.session_state[keys.CAM_LAYER] = tiny_vgg.GRAD_CAM_LAYER
    layer = st.selectbox(
        "Layer whose maps are weighed", layers, key=keys.CAM_LAYER,
        help="Grad-CAM's usual choice is the last convolution after its ReLU (the default).",
    )  # fmt: skip
    try:
        cam = _grad_cam(inp.key, label, layer, inp.x)
    except CnnError as e:
        st.warning(plain(e.detail))
        return
    h, w = cam.coarse.shape
    st.markdown(
        f"Where the network looked for **{CLASSES[label]}**: Grad-CAM takes {layer}'s maps "
        f"({h}×{w}×{len(cam.weights)}), weighs each map k by αₖ, the average gradient of {CLASSES[label]}'s logit "
        "with respect to it, and keeps the positive part of the sum: ReLU(Σₖ αₖ Aₖ), resized onto the picture."
    )
    a, b, c = st.columns([1, 1, 1], gap="medium")
    a.image(pics.crisp_png(inp.x), caption="the input", width="stretch")
    if cam.heat.max() > 0:
        b.image(pics.heat_overlay(inp.x, cam.heat), caption=f"Grad-CAM for {CLASSES[label]}", width="stretch")
    else:
        b.info(f"Nothing in this picture raises {CLASSES[label]}'s logit: the weighted sum is negative everywhere.")
    weights_tab, coarse_tab = c.tabs(["αₖ per map", f"the {h}×{w} map"])
    with coarse_tab:
        top = float(cam.coarse.max())
        fig = map_figure(cam.coarse, render.ColorScale("magma", 0.0, top if top > 0 else 1.0), height=220)
        st.plotly_chart(fig, config=PLOTLY_CONFIG, key=keys.CAM_COARSE, theme=None)
        st.caption(f"ReLU(Σₖ αₖ Aₖ) before resizing; hover for values (largest {top:.4g}).")
    with weights_tab:
        fig = go.Figure(
            go.Bar(
                x=[str(k) for k in range(len(cam.weights))],
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
        st.plotly_chart(fig, config=PLOTLY_CONFIG, key=keys.CAM_ALPHA, theme=None)
        st.caption("Red maps count for the class, blue against it.")


def inspector_section(acts: Activations) -> None:
    """Click any value of any layer: its worked sum and receptive field (the same inspector as Your model's)."""
    from ui.model import inspector as model_inspector

    model_inspector.model_inspector(acts, P)
