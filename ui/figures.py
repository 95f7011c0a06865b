"""Plotly figures for feature maps: a small PNG for the picture, a sparse grid for hover values."""

from __future__ import annotations

import base64
import math

import numpy as np
import plotly.graph_objects as go

from cnn_core import render

# The picture is sent at most this many pixels on its longer side...
DISPLAY_SIDE = 480
# ...and hover values on a grid of at most this many cells per side (exact values at the sampled pixels).
HOVER_SIDE = 80


def _colorscale(cmap: str) -> list[list]:
    table = render.lut(cmap)
    idx = np.linspace(0, 255, 11).round().astype(int)
    return [[i / 10, "rgb({},{},{})".format(*table[j])] for i, j in enumerate(idx)]


def map_figure(
    values: np.ndarray,
    scale: render.ColorScale | None,
    *,
    rgb: np.ndarray | None = None,
    height: int = 300,
    hover_side: int = HOVER_SIDE,
    display_side: int = DISPLAY_SIDE,
    colorbar: bool = True,
) -> go.Figure:
    """A zoomable figure of one map (height, width).

    The picture goes to the browser as one PNG (``rgb`` if given, else
    ``values`` coloured through ``scale``). Hovering shows the exact value at
    the pixel under the pointer, read from a grid sampled every few pixels on
    large maps so the page stays light.
    """
    h, w = values.shape[:2]
    if rgb is None:
        rgb = render.colorize(values, scale)
    small = render.shrink_for_display(rgb, display_side)
    uri = "data:image/png;base64," + base64.b64encode(render.png_bytes(small)).decode()
    fig = go.Figure()
    # The image spans pixel centres 0..w-1 / 0..h-1 whatever size it was sent at.
    fig.add_layout_image(
        source=uri, xref="x", yref="y", x=-0.5, y=-0.5, sizex=w, sizey=h,
        sizing="stretch", layer="below", xanchor="left", yanchor="top",
    )
    step_y = max(1, math.ceil(h / hover_side))
    step_x = max(1, math.ceil(w / hover_side))
    ys = np.arange(0, h, step_y)
    xs = np.arange(0, w, step_x)
    sampled = values[::step_y, ::step_x].astype(np.float32)
    show_bar = colorbar and scale is not None
    if sampled.ndim == 3:  # colour input: show every channel's value
        z, custom = sampled[:, :, 0], sampled
        names = "RGB" if sampled.shape[2] == 3 else [f"c{i}" for i in range(sampled.shape[2])]
        values_tpl = " ".join(f"{n} %{{customdata[{i}]:.4f}}" for i, n in enumerate(names))
    else:
        z, custom, values_tpl = sampled, None, "value %{z:.5g}"
    fig.add_trace(
        go.Heatmap(
            z=z, x=xs, y=ys, customdata=custom, opacity=0.0, showscale=False,
            colorscale=_colorscale(scale.cmap) if scale else "gray",
            hovertemplate="row %{y}, col %{x}<br>" + values_tpl + "<extra></extra>",
        )
    )
    if show_bar:
        # An invisible scatter carries the colour bar, so the bar itself is drawn opaque.
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", hoverinfo="skip", showlegend=False,
                marker=dict(
                    colorscale=_colorscale(scale.cmap), cmin=scale.vmin, cmax=scale.vmax, color=[scale.vmin],
                    showscale=True, colorbar=dict(thickness=10, len=0.9, tickfont=dict(size=10), outlinewidth=0),
                ),
            )
        )
    fig.update_xaxes(range=[-0.5, w - 0.5], showgrid=False, zeroline=False, visible=False, constrain="domain")
    fig.update_yaxes(
        range=[h - 0.5, -0.5], showgrid=False, zeroline=False, visible=False, scaleanchor="x", constrain="domain"
    )
    fig.update_layout(
        height=height, margin=dict(l=0, r=0, t=0, b=0), dragmode="zoom",
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)",
    )
    return fig


PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"], "scrollZoom": False}
