"""The sliding window, animated: a kernel or pooling window sweeps a small crop and the output fills in.

The crop is the top-left corner of the stage's input, treated as a whole input of its own, so its padding
follows the layer's rule: "same" pads as TensorFlow does (an odd extra row or column goes to the bottom
and right), explicit padding is kept, "valid" has none. Stride shows as skipped positions and dilation as
spread taps. Plotly frames with a slider and play/pause buttons run in the browser; a number input steps
by keyboard.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from cnn_core.explain import ConvDetail, Explanation, window_cells
from cnn_core.pipeline import Stage, axis_arithmetic
from cnn_core.spec import Conv2D, layer_kernel

from .figures import PrebuiltFigure

CROP = 8  # crop side when the window fits: even, so stride 2 with "same" shows the uneven padding
MAX_CROP = 14
MAX_FRAMES = 144


def geometry(layer) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], object]:
    """(kernel, stride, dilation, padding) of a conv or pool layer."""
    if isinstance(layer, Conv2D):
        return layer.kernel_size, layer.stride, layer.dilation, layer.padding
    return layer.size, layer.stride, (1, 1), layer.padding


def crop_plan(in_shape: tuple[int, int], layer) -> tuple[tuple[int, int], tuple]:
    """The crop size (rows, cols) and the per-axis AxisArithmetic of the layer on it."""
    kernel, stride, dilation, padding = geometry(layer)
    pads = (padding, padding) if isinstance(padding, str) else padding
    sides = []
    for ax in (0, 1):
        span = dilation[ax] * (kernel[ax] - 1) + 1
        n = min(in_shape[ax], max(CROP, min(span + stride[ax], MAX_CROP)))
        sides.append(max(n, 1))
    ar = tuple(axis_arithmetic("hw"[ax], sides[ax], kernel[ax], stride[ax], dilation[ax], pads[ax]) for ax in (0, 1))
    # A window larger than the crop (valid padding, big dilation) needs the crop to grow to fit it once.
    fixed = []
    for ax in (0, 1):
        a = ar[ax]
        if a.out < 1:
            n = min(in_shape[ax], dilation[ax] * (kernel[ax] - 1) + 1 - a.pad_total)
            a = axis_arithmetic("hw"[ax], n, kernel[ax], stride[ax], dilation[ax], pads[ax])
        fixed.append(a)
    return (fixed[0].size, fixed[1].size), tuple(fixed)


def sweep(x: np.ndarray, layer, weights: np.ndarray | None, ar) -> tuple[np.ndarray, list]:
    """Every output of the layer on a 2-D crop x, and each output's tap positions (rows, cols, padding)."""
    kernel, stride, dilation, _ = geometry(layer)
    pads = ((ar[0].pad_before, ar[0].pad_after), (ar[1].pad_before, ar[1].pad_after))
    h, w = x.shape
    out = np.zeros((ar[0].out, ar[1].out))
    taps = []
    for i in range(ar[0].out):
        for j in range(ar[1].out):
            rows, cols = window_cells(i, j, kernel, stride, dilation, pads)
            rr, cc = np.meshgrid(rows, cols, indexing="ij")
            real = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
            vals = np.where(real, x[rr.clip(0, h - 1), cc.clip(0, w - 1)], 0.0)
            if weights is not None:
                out[i, j] = float((vals * weights).sum())
            elif layer.mode == "max":
                out[i, j] = float(vals[real].max()) if real.any() else np.nan
            else:
                out[i, j] = float(vals[real].mean()) if real.any() else np.nan
            taps.append((rr.ravel(), cc.ravel(), ~real.ravel()))
    return out, taps


def _fmt(v: float) -> str:
    return "" if not np.isfinite(v) else f"{v:.2f}"


def build_figure(x: np.ndarray, out: np.ndarray, taps: list, ar, title: str, start: int = 0) -> go.Figure:
    """Input crop (with padding) on the left, output on the right; one frame per output position."""
    h, w = x.shape
    (pt, pb), (pl, pr) = (ar[0].pad_before, ar[0].pad_after), (ar[1].pad_before, ar[1].pad_after)
    rows = np.arange(-pt, h + pb)
    cols = np.arange(-pl, w + pr)
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    real = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
    z = np.where(real, x[rr.clip(0, h - 1), cc.clip(0, w - 1)], np.nan)
    lo, hi = float(np.nanmin(z)), float(np.nanmax(z))
    labels = np.where(real, np.vectorize(_fmt)(z), "0")
    ho, wo = out.shape
    n = len(taps)

    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.58, 0.42],
        horizontal_spacing=0.08,
        subplot_titles=("input crop (beige: zero padding)", "output"),
    )
    # 0: padding cells, 1: the input, 2: labels, 3: taps, 4: the output so far, 5: current output cell
    fig.add_trace(
        go.Heatmap(
            z=np.where(real, np.nan, 0.0),
            x=cols,
            y=rows,
            showscale=False,
            hoverinfo="skip",
            colorscale=[[0, "#f1dfb6"], [1, "#f1dfb6"]],
            xgap=1,
            ygap=1,
        ),
        1,
        1,
    )
    fig.add_trace(
        go.Heatmap(
            z=z,
            x=cols,
            y=rows,
            colorscale=[[0, "#8a8a8a"], [1, "#ffffff"]],
            zmin=lo,
            zmax=hi if hi > lo else lo + 1,
            showscale=False,
            xgap=1,
            ygap=1,
            hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>",
        ),
        1,
        1,
    )
    fig.add_trace(
        go.Scatter(
            x=cc.ravel(),
            y=rr.ravel(),
            mode="text",
            text=labels.ravel(),
            hoverinfo="skip",
            textfont={"size": 10, "color": "#111111"},
        ),
        1,
        1,
    )

    zmin = float(np.nanmin(out)) if np.isfinite(out).any() else 0.0
    zmax = float(np.nanmax(out)) if np.isfinite(out).any() else 1.0
    fmt = np.vectorize(_fmt, otypes=[object])

    def frame_data(t: int) -> list[dict]:
        # Plain dicts: Plotly's validation of go objects costs ~15 ms per frame, and there can be 100+.
        tr, tc, tpad = taps[t]
        i, j = divmod(t, wo)
        shown = np.full(out.size, np.nan)
        shown[: t + 1] = out.ravel()[: t + 1]
        shown = shown.reshape(out.shape)
        return [
            {
                "type": "scatter",
                "x": tc.tolist(),
                "y": tr.tolist(),
                "mode": "markers",
                "hoverinfo": "skip",
                "marker": {
                    "symbol": "square-open",
                    "size": 22,
                    "line": {"width": 3},
                    "color": ["#ff8800" if p else "#00b4d8" for p in tpad],
                },
            },
            {
                "type": "heatmap",
                "z": [[None if not np.isfinite(v) else float(v) for v in r] for r in shown],
                "x": list(range(wo)),
                "y": list(range(ho)),
                "colorscale": "Magma",
                "showscale": False,
                "zmin": zmin,
                "zmax": zmax if zmax > zmin else zmin + 1,
                "xgap": 1,
                "ygap": 1,
                "text": fmt(shown).tolist(),
                "texttemplate": "%{text}",
                "hovertemplate": "out row %{y}, col %{x}: %{z:.4f}<extra></extra>",
            },
            {
                "type": "scatter",
                "x": [j],
                "y": [i],
                "mode": "markers",
                "hoverinfo": "skip",
                "marker": {"symbol": "square-open", "size": 26, "color": "#00b4d8", "line": {"width": 3}},
            },
        ]

    for tr, col in zip(frame_data(start), (1, 2, 2)):
        fig.add_trace(tr, 1, col)
    frames = []
    for t in range(n):
        i, j = divmod(t, wo)
        frames.append(
            {
                "data": frame_data(t),
                "traces": [3, 4, 5],
                "name": str(t),
                "layout": {"title": {"text": f"{title}: step {t + 1} of {n}, output ({i}, {j}) = {_fmt(out[i, j])}"}},
            }
        )
    play = {"frame": {"duration": 700, "redraw": True}, "fromcurrent": True, "transition": {"duration": 0}}
    still = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate", "transition": {"duration": 0}}
    i0, j0 = divmod(start, wo)
    fig.update_layout(
        title={
            "text": f"{title}: step {start + 1} of {n}, output ({i0}, {j0}) = {_fmt(out[i0, j0])}",
            "font": {"size": 13},
        },
        height=440,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        showlegend=False,
        plot_bgcolor="white",
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "x": 0,
                "y": -0.02,
                "xanchor": "left",
                "yanchor": "top",
                "pad": {"t": 30},
                "buttons": [
                    {"label": "▶ Play", "method": "animate", "args": [None, play]},
                    {"label": "❚❚ Pause", "method": "animate", "args": [[None], still]},
                ],
            }
        ],
        sliders=[
            {
                "active": start,
                "x": 0.3,
                "len": 0.7,
                "y": -0.02,
                "yanchor": "top",
                "pad": {"t": 30},
                "currentvalue": {"prefix": "step ", "font": {"size": 12}},
                "steps": [{"label": str(t + 1), "method": "animate", "args": [[str(t)], still]} for t in range(n)],
            }
        ],
    )
    for col in (1, 2):
        fig.update_yaxes(
            autorange="reversed",
            scaleanchor=f"x{'' if col == 1 else 2}",
            constrain="domain",
            showgrid=False,
            zeroline=False,
            dtick=1,
            row=1,
            col=col,
        )
        fig.update_xaxes(showgrid=False, zeroline=False, dtick=1, constrain="domain", row=1, col=col)
    d = fig.to_dict()
    d["frames"] = frames
    return PrebuiltFigure(d)


def sliding_window(stages: list[Stage], ex: Explanation, prefix: str) -> None:
    """The animation for the explained stage's layer, on a crop of its input."""
    s = stages[ex.stage]
    layer = s.plan.layer
    prev = stages[ex.stage - 1]
    (ch, cw), ar = crop_plan(prev.shape[:2], layer)
    if isinstance(layer, Conv2D):
        in_ch = int(st.session_state.get(f"{prefix}_insp_page", 0)) if isinstance(ex.detail, ConvDetail) else 0
        in_ch = min(in_ch, prev.shape[2] - 1)
        weights = layer_kernel(layer, prev.shape[2])[:, :, in_ch, ex.channel].astype(np.float64)
        what = f"filter {ex.channel} on input channel {in_ch}" + (
            " (that channel's partial sums, no bias)" if prev.shape[2] > 1 else " (no bias)"
        )
    else:
        in_ch, weights = ex.channel, None
        what = f"{layer.mode} pooling of channel {in_ch}"
    x = prev.maps[:ch, :cw, in_ch].astype(np.float64)
    out, taps = sweep(x, layer, weights, ar)
    n = len(taps)
    if n > MAX_FRAMES:
        st.caption(f"This layer makes {n} positions even on a small crop; showing the first {MAX_FRAMES}.")
        taps = taps[:MAX_FRAMES]
    kernel, stride, dilation, padding = geometry(layer)
    pads = f"{ar[0].pad_before} top, {ar[0].pad_after} bottom, {ar[1].pad_before} left, {ar[1].pad_after} right"
    st.caption(
        f"The top-left {ch}×{cw} corner of stage {ex.stage - 1}, treated as a whole input: {what}. "
        f"Window {kernel[0]}×{kernel[1]}, stride {stride[0]}×{stride[1]}, dilation {dilation[0]}×{dilation[1]}, "
        f"padding {padding if isinstance(padding, str) else 'explicit'} → {pads}. Blue squares are the taps, "
        "orange ones fall on padding. Play, pause or drag the slider; or step with the number below."
    )
    key = f"{prefix}_anim_step"
    if st.session_state.get(key, 1) > len(taps):
        st.session_state[key] = 1
    step = st.number_input(f"Step (1–{len(taps)})", 1, len(taps), key=key)
    fig = build_figure(x, out, taps, ar, f"stage {ex.stage}", start=int(step) - 1)
    st.plotly_chart(fig, key=f"{prefix}_anim", config={"displaylogo": False}, theme=None)
