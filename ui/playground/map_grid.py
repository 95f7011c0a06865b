"""The Playground's 2×2 block of maps, drawn from plain arrays: no TensorFlow needed, so the first screen
(ui/playground/first_screen.py) draws it before TensorFlow has loaded, exactly as the page does afterwards."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnn_core import render
from ui.common import screen
from ui.common.figures import PLOTLY_CONFIG, map_figure
from ui.playground import keys

MAPS_CONTAINER = keys.MAPS
MAP_HEIGHT = 245


@dataclass(frozen=True)
class Cell:
    """One map of the block: its heading, float32 (height, width, channels) values, colour scale (None: the
    input in its own colours), the line under it, and what identifies its values for the picture cache."""

    heading: str
    maps: np.ndarray
    scale: render.ColorScale | None
    caption: str
    cache_key: tuple | None = None


def draw(cell: Cell, key: str, dpr: float = 1.0) -> None:
    """One zoomable map with hover values, its picture sent at the size it is shown on a ``dpr`` screen."""
    side = screen.picture_side(max(cell.maps.shape[:2]), MAP_HEIGHT, dpr)
    if cell.scale is None:
        values = cell.maps if cell.maps.shape[2] > 1 else cell.maps[:, :, 0]
        fig = map_figure(
            values,
            None,
            rgb=lambda: render.input_rgb(cell.maps),
            height=MAP_HEIGHT,
            display_side=side,
            cache_key=cell.cache_key,
            align_top=True,
        )
    else:
        # At the top of its box, so a phone's shorter box crops only empty space.
        fig = map_figure(
            cell.maps[:, :, 0],
            cell.scale,
            height=MAP_HEIGHT,
            display_side=side,
            cache_key=cell.cache_key,
            align_top=True,
        )
    st.plotly_chart(fig, config=PLOTLY_CONFIG, key=key, theme=None)


def grid(cells: list[Cell], name: str = MAPS_CONTAINER, dpr: float = 1.0) -> None:
    """The cells two to a row, each titled and with its line of numbers underneath; ``name`` keys the block
    (the page's CSS finds it by that key) and its maps; ``dpr``: the screen's device pixels per CSS pixel."""
    with st.container(key=name):
        for row in range(0, len(cells), 2):
            cols = st.columns(2, gap="small")
            for col, i in zip(cols, range(row, min(row + 2, len(cells)))):
                with col:
                    st.markdown(cells[i].heading)
                    draw(cells[i], keys.map_chart(name, i), dpr)
                    st.caption(cells[i].caption)
