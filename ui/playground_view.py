"""How the Playground lays out its maps: a 2×2 block that stays in view beside (or, on a phone, above) the
controls, and the sentences about each stage below."""

from __future__ import annotations

import streamlit as st

from cnn_core import render
from cnn_core.pipeline import Stage

from . import explain, maps
from .figures import PLOTLY_CONFIG, map_figure
from .kernel_editor import GRID_CONTAINER
from .playground_state import P

MAPS_CONTAINER = f"{P}_maps"
MAP_HEIGHT = 245

# Streamlit stacks columns on narrow screens. The maps' column stays in view (sticky) while the controls
# scroll; the kernel's sliders and the 2×2 maps keep their grid on a phone, where the maps go first and
# shrink (their colour bars give way to the min/max line under each map).
_CSS = f"""
<style>
[data-testid="stColumn"]:has(.st-key-{MAPS_CONTAINER}) {{
  position: sticky; top: 3.75rem; align-self: flex-start; z-index: 3;
  background: var(--background-color, #fff);
}}
.st-key-{GRID_CONTAINER} [data-testid="stHorizontalBlock"],
.st-key-{MAPS_CONTAINER} [data-testid="stHorizontalBlock"] {{ flex-wrap: nowrap !important; gap: 0.5rem; }}
.st-key-{GRID_CONTAINER} [data-testid="stColumn"],
.st-key-{MAPS_CONTAINER} [data-testid="stColumn"] {{
  min-width: 0 !important; width: auto !important; flex: 1 1 0 !important;
}}
@media (max-width: 640px) {{
  h1 {{ font-size: 1.6rem !important; padding-top: 0 !important; }}
  [data-testid="stColumn"]:has(.st-key-{MAPS_CONTAINER}) {{ order: -1; top: 3.75rem; padding-bottom: 0.25rem; }}
  .st-key-{MAPS_CONTAINER} [data-testid="stElementContainer"]:has([data-testid="stPlotlyChart"]),
  .st-key-{MAPS_CONTAINER} [data-testid="stFullScreenFrame"],
  .st-key-{MAPS_CONTAINER} [data-testid="stPlotlyChart"] {{ max-height: 150px; overflow: hidden; }}
  .st-key-{MAPS_CONTAINER} .colorbar, .st-key-{MAPS_CONTAINER} .modebar-container {{ display: none; }}
  .st-key-{MAPS_CONTAINER} [data-testid="stCaptionContainer"] {{ display: none; }}
  .st-key-{MAPS_CONTAINER} [data-testid="stMarkdownContainer"] p {{ font-size: 0.8rem; margin-bottom: 0; }}
}}
</style>
"""


def style() -> None:
    """The page's layout rules (drawn with the page, so they leave with it)."""
    st.html(_CSS)


def _draw(stage: Stage, scale: render.ColorScale | None, key: str) -> None:
    cache_key = (stage.key, -1 if scale is None else 0) if stage.key else None
    if scale is None:
        values = stage.maps if stage.maps.shape[2] > 1 else stage.maps[:, :, 0]
        fig = map_figure(
            values,
            None,
            rgb=lambda: render.input_rgb(stage.maps),
            height=MAP_HEIGHT,
            cache_key=cache_key,
            align_top=True,
        )
    else:
        # At the top of its box, so a phone's shorter box crops only empty space.
        fig = map_figure(stage.maps[:, :, 0], scale, height=MAP_HEIGHT, cache_key=cache_key, align_top=True)
    st.plotly_chart(fig, config=PLOTLY_CONFIG, key=key, theme=None)


def maps_block(stages: list[Stage], scales: list, resize_note: str) -> None:
    """The stages as a 2×2 block of zoomable maps, each with its shape and its numbers."""
    with st.container(key=MAPS_CONTAINER):
        for row in range(0, len(stages), 2):
            cols = st.columns(2, gap="small")
            for col, i in zip(cols, range(row, min(row + 2, len(stages)))):
                stage, scale = stages[i], scales[i]
                with col:
                    arrow = "→ " if i else ""
                    st.markdown(f"**{arrow}{stage.title}** · {maps.shape_text(stage.shape)}")
                    _draw(stage, scale, f"{P}_map{i}")
                    st.caption(resize_note if stage.name == "input" else maps.map_stats(stage.maps, (stage.key, "all") if stage.key else None))


def stage_notes(stages: list[Stage]) -> None:
    """What each stage did, in words and with the output-size formula filled in."""
    cols = st.columns(len(stages))
    for i, (col, stage) in enumerate(zip(cols, stages)):
        with col:
            st.caption(f"{stage.title}. {explain.caption(stage, stages[i - 1] if i else None)}")
            for line in maps.arithmetic_lines(stage):
                st.caption(f"Output size, {line}")
