"""The sliding window, animated: a kernel or pooling window sweeps the outputs around the explained value.

The layer's kind computes every frame with TensorFlow (``Kind.frames_at``) on the part of the input the
block of outputs around the value reads, with the layer's own padding, so every output shown is the map's
own; this module only draws. Stride shows as skipped positions and dilation as spread taps. Plotly frames
with a slider and play/pause buttons run in the browser; a number input steps by keyboard.
``crop_plan`` and ``sweep`` keep the older top-left-corner sweep of ``geometry.crop_arithmetic``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from cnn_core import geometry, kinds
from cnn_core.activations import Activations, Explanation
from cnn_core.pipeline import Stage
from ui.common import keys
from ui.common.figures import PrebuiltFigure


def crop_plan(in_shape: tuple[int, int], layer) -> tuple[tuple[int, int], tuple]:
    """The crop size (rows, cols) and the per-axis AxisArithmetic of a spec layer on it."""
    kind, op = kinds.of_spec(layer, 1)
    ar = geometry.crop_arithmetic(in_shape, *kind.window(op))
    return (ar[0].size, ar[1].size), ar


def sweep(x: np.ndarray, layer, weights: np.ndarray | None, ar) -> tuple[np.ndarray, list]:
    """Every output of a spec layer on a 2-D crop (``weights``: one 2-D slice of a convolution's kernel), and
    each output's taps (rows, cols, padding), as the layer's kind computes them with TensorFlow."""
    kind, op = kinds.of_spec(layer, 1)
    if weights is not None:
        w = np.asarray(weights, np.float32)[:, :, None, None]
        op = replace(op, filters=1, weights=lambda: (w, np.zeros(1, np.float32)))
    fr = kind.frames(op, np.asarray(x, np.float32)[:, :, None], 0, 0, ar)
    return fr.out, fr.taps


def _fmt(v: float) -> str:
    return "" if not np.isfinite(v) else f"{v:.2f}"


def _title(title: str, t: int, n: int, row: int, col: int, v: float) -> str:
    return f"{title}: step {t + 1} of {n}, output (row {row}, col {col}) = {_fmt(v)}"


def build_figure(
    x: np.ndarray, out: np.ndarray, taps: list, ar, title: str, start: int = 0, origin: tuple = ((0, 0), (0, 0))
) -> go.Figure:
    """Input crop (with padding) on the left, output on the right; one frame per output position.

    ``origin``: ((row, col) of the crop's first cell in the whole input, (row, col) of the first output in
    the whole map), so the axes and titles count as the maps do.
    """
    h, w = x.shape
    (ir, ic), (orow, ocol) = origin
    (pt, pb), (pl, pr) = (ar[0].pad_before, ar[0].pad_after), (ar[1].pad_before, ar[1].pad_after)
    rr, cc = np.meshgrid(np.arange(-pt, h + pb), np.arange(-pl, w + pr), indexing="ij")
    real = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
    z = np.where(real, x[rr.clip(0, h - 1), cc.clip(0, w - 1)], np.nan)
    rows, cols = np.arange(-pt, h + pb) + ir, np.arange(-pl, w + pr) + ic
    rr, cc = rr + ir, cc + ic
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
                "x": (tc + ic).tolist(),
                "y": (tr + ir).tolist(),
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
                "x": list(range(ocol, ocol + wo)),
                "y": list(range(orow, orow + ho)),
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
                "x": [j + ocol],
                "y": [i + orow],
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
                "layout": {"title": {"text": _title(title, t, n, i + orow, j + ocol, out[i, j])}},
            }
        )
    play = {"frame": {"duration": 700, "redraw": True}, "fromcurrent": True, "transition": {"duration": 0}}
    still = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate", "transition": {"duration": 0}}
    i0, j0 = divmod(start, wo)
    fig.update_layout(
        title={
            "text": _title(title, start, n, i0 + orow, j0 + ocol, out[i0, j0]),
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
    """The animation around the explained value, on the part of the stage's input it reads; every number is
    the kind's, which are the map's own."""
    layer = Activations.from_stages(stages)[str(ex.stage)]
    prev = stages[ex.stage - 1]
    page = int(st.session_state.get(keys.inspector(prefix, "insp_page"), 0))
    in_ch = min(page, prev.shape[2] - 1) if ex.detail.kind == "conv2d" else ex.channel
    fr = layer.kind.frames_at(layer.op, prev.maps, in_ch, ex.channel, (ex.row, ex.col))
    act = getattr(layer.op, "activation", "linear")
    st.caption(caption(fr, (ex.row, ex.col), f"stage {ex.stage - 1}", act))
    key = keys.animation(prefix, "anim_step")
    at = keys.animation(prefix, "anim_at")
    if st.session_state.get(at) != (ex.stage, ex.row, ex.col) or st.session_state.get(key, 1) > len(fr.taps):
        # A new value: start on its own frame.
        st.session_state[at] = (ex.stage, ex.row, ex.col)
        st.session_state[key] = start_of(fr, (ex.row, ex.col)) + 1
    step = st.number_input(f"Step (1–{len(fr.taps)})", 1, len(fr.taps), key=key)
    fig = build_figure(
        fr.crop, fr.out, fr.taps, fr.arithmetic, f"stage {ex.stage}", int(step) - 1, (fr.in_origin, fr.out_origin)
    )
    st.plotly_chart(fig, key=keys.animation(prefix, "anim"), config={"displaylogo": False}, theme=None)


def start_of(fr, at: tuple[int, int]) -> int:
    """The frame of output ``at`` = (row, col) in a sweep around it."""
    return (at[0] - fr.out_origin[0]) * fr.out.shape[1] + (at[1] - fr.out_origin[1])


def _whose(fr, activation: str) -> str:
    """How each output shown relates to the map's value at the same cell."""
    then = f" and {activation}" if activation not in ("linear", None) else ""
    if "partial sums" in fr.what:
        return (
            "Each output is TensorFlow's sum over this one input channel: its share of the map's value there "
            f"(before the bias{then})."
        )
    if "no bias" in fr.what:
        return f"Each output is TensorFlow's, at the map's own cell: the map's value there, before its bias{then}."
    return "Each output is TensorFlow's, at the map's own cell: the map's value there."


def caption(fr, at: tuple[int, int], source: str, activation: str = "linear") -> str:
    """What the animation shows, where, and how the window moves, in one paragraph."""
    ar = fr.arithmetic
    (o0, q0), (ho, wo) = fr.out_origin, fr.out.shape
    (i0, j0) = fr.in_origin
    pads = f"{ar[0].pad_before} top, {ar[0].pad_after} bottom, {ar[1].pad_before} left, {ar[1].pad_after} right"
    padding = fr.padding if isinstance(fr.padding, str) else "explicit"
    return (
        f"Around row {at[0]}, column {at[1]}: outputs rows {o0}–{o0 + ho - 1}, columns {q0}–{q0 + wo - 1} "
        f"({ho}×{wo}), read from rows {i0}–{i0 + ar[0].size - 1}, columns {j0}–{j0 + ar[1].size - 1} of {source}: "
        f"{fr.what}. Window {fr.kernel[0]}×{fr.kernel[1]}, stride {fr.stride[0]}×{fr.stride[1]}, dilation "
        f"{fr.dilation[0]}×{fr.dilation[1]}, padding {padding} (here {pads}). Blue squares are the taps, orange "
        f"ones fall on padding. {_whose(fr, activation)} Play, pause or drag the slider; or step with the number below."
    )
