"""Drawing stages: titles, figures, captions and the shape arithmetic."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnn_core import render
from cnn_core.pipeline import Stage
from ui.common import keys
from ui.common.explain import percent_text
from ui.common.figures import PLOTLY_CONFIG, map_figure
from ui.common.service import SERVICE


def shape_text(shape: tuple[int, int, int]) -> str:
    return f"{shape[0]}×{shape[1]}×{shape[2]}"


def _key(stage: Stage, channel: int) -> tuple | None:
    return (stage.key, channel) if stage.key else None


def draw_map(stage: Stage, channel: int | None, scale: render.ColorScale | None, *, height: int, key: str) -> None:
    """One map as a zoomable figure with hover values; ``channel`` None draws the input in its own colours."""
    if channel is None:
        values = stage.maps if stage.maps.shape[2] > 1 else stage.maps[:, :, 0]
        fig = map_figure(
            values, None, rgb=lambda: render.input_rgb(stage.maps), height=height, cache_key=_key(stage, -1)
        )
    else:
        fig = map_figure(stage.maps[:, :, channel], scale, height=height, cache_key=_key(stage, channel))
    st.plotly_chart(fig, config=PLOTLY_CONFIG, key=key, theme=None)


# map_stats lines by content identity: an unchanged stage isn't summed again.
_STATS_TEXT = SERVICE.cache("statistics lines")


def map_stats(values: np.ndarray, key: tuple | None = None) -> str:
    """The map's min, max, mean and share of zeros in one line; ``key`` (e.g. (stage key, channel)) keeps it."""
    hit = _STATS_TEXT.get(key) if key else None
    if hit is None:
        hit = _stats_line(values)
        if key:
            _STATS_TEXT.put(key, hit)
    return hit


def _stats_line(values: np.ndarray) -> str:
    lo, hi = render.finite_range(values)
    zero = percent_text(int(np.count_nonzero(values == 0)), values.size)
    bad = int(values.size - np.count_nonzero(np.isfinite(values)))
    text = f"min {lo:.4g} · max {hi:.4g} · mean {float(np.mean(values, dtype=np.float64)):.4g} · zeros {zero}"
    if bad:
        text += f" · {bad:,} values overflowed float32 (shown at the scale's ends, NaN in green)"
    return text


def arithmetic_lines(stage: Stage) -> list[str]:
    """The output-size formula filled in, one line per axis, or one line when both axes agree."""
    a = stage.plan.arithmetic
    if not a:
        return []
    h, w = a
    if (h.size, h.kernel, h.stride, h.dilation, h.pad_before, h.pad_after) == (
        w.size,
        w.kernel,
        w.stride,
        w.dilation,
        w.pad_before,
        w.pad_after,
    ):
        return [f"height and width: {h.formula()}"]
    return [f"{x.axis}: {x.formula()}" for x in a]


def display_controls(prefix: str, auto_help: str) -> tuple[str, str]:
    """The sidebar's colour map and colour-scale mode (every mode of cnn_core.render); returns both."""
    st.session_state.setdefault(keys.cmap(prefix), "auto")
    st.session_state.setdefault(keys.scale(prefix), "layer")
    st.sidebar.subheader("Display")
    cmap = st.sidebar.selectbox("Colour map", render.COLORMAPS, key=keys.cmap(prefix), help=auto_help)
    modes = render.SCALE_MODES
    scale = st.sidebar.radio("Colour scale", list(modes), format_func=modes.get, key=keys.scale(prefix))
    return cmap, scale
