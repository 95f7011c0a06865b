"""The Playground's 2×2 block of maps, drawn from plain arrays: no TensorFlow needed, so the first screen
(ui/playground/first_screen.py) draws it before TensorFlow has loaded, exactly as the page does afterwards."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnn_core import render
from ui.common import screen
from ui.common.figures import PLOTLY_CONFIG, map_figure, picture_uri
from ui.playground import keys

MAPS_CONTAINER = keys.MAPS
MAP_HEIGHT = 245
PICTURE_CLASS = "cnn-map-picture"  # a map drawn as a plain picture (the first paint, ui/common/first_paint.py)
# Where Plotly puts a map's colour bar in a MAP_HEIGHT figure (measured in Chromium): the pictures keep the same
# box, so the figures replace them without moving a pixel's worth of layout.
_BAR_WIDTH = 40
_BAR_TOP, _BAR_HEIGHT = 22, 201


@dataclass(frozen=True)
class Cell:
    """One map of the block: its heading, float32 (height, width, channels) values, colour scale (None: the
    input in its own colours), the line under it, and what identifies its values for the picture cache."""

    heading: str
    maps: np.ndarray
    scale: render.ColorScale | None
    caption: str
    cache_key: tuple | None = None


def _uri(cell: Cell, side: int) -> str:
    """The map's picture exactly as its figure sends it (same data URI, from the same cache)."""
    if cell.scale is None:
        values = cell.maps if cell.maps.shape[2] > 1 else cell.maps[:, :, 0]
        return picture_uri(values, None, lambda: render.input_rgb(cell.maps), side, cell.cache_key)
    return picture_uri(cell.maps[:, :, 0], cell.scale, None, side, cell.cache_key)


def _gradient(cmap: str) -> str:
    table = render.lut(cmap)
    stops = ", ".join("rgb({},{},{}) {}%".format(*table[round(i * 25.5)], i * 10) for i in range(11))
    return f"linear-gradient(to top, {stops})"


def picture_html(cell: Cell, side: int) -> str:
    """The map as a plain picture in the box its figure takes (MAP_HEIGHT high, at the top, centred beside its
    colour bar), with the bar drawn from the scale's colour map and its two ends."""
    img = (
        f'<img class="{PICTURE_CLASS}" src="{_uri(cell, side)}" alt="{html.escape(cell.heading.replace("**", ""))}"'
        ' style="display:block;width:100%;height:100%;object-fit:contain;object-position:top center">'
    )
    bar = ""
    if cell.scale is not None:
        label = "position:absolute;left:24px;font-size:10px;line-height:10px;color:#444"
        bar = (
            f'<div class="cnn-map-bar" style="position:relative;flex:none;width:{_BAR_WIDTH}px">'
            f'<div style="position:absolute;left:10px;top:{_BAR_TOP}px;width:10px;height:{_BAR_HEIGHT}px;'
            f'background:{_gradient(cell.scale.cmap)}"></div>'
            f'<span style="{label};top:{_BAR_TOP - 5}px">{cell.scale.vmax:.3g}</span>'
            f'<span style="{label};top:{_BAR_TOP + _BAR_HEIGHT - 5}px">{cell.scale.vmin:.3g}</span></div>'
        )
    return (
        f'<div class="cnn-map-box" style="display:flex;height:{MAP_HEIGHT}px">'
        f'<div style="flex:1 1 0;min-width:0;height:100%">{img}</div>{bar}</div>'
    )


# On a phone the figures are cropped to 150 pixels without their colour bars (ui/playground/view.py): so are
# the pictures.
_PICTURE_CSS = """<style>
@media (max-width: 640px) {
  .cnn-map-box { max-height: 150px; overflow: hidden; }
  .cnn-map-bar { visibility: hidden; }
}
</style>"""


def draw(cell: Cell, key: str, dpr: float = 1.0, picture: bool = False) -> None:
    """One zoomable map with hover values, its picture sent at the size it is shown on a ``dpr`` screen; with
    ``picture``, only that picture, in the same box (a first paint that a figure replaces)."""
    side = screen.picture_side(max(cell.maps.shape[:2]), MAP_HEIGHT, dpr)
    if picture:
        st.html(picture_html(cell, side))
        return
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


def grid(cells: list[Cell], name: str = MAPS_CONTAINER, dpr: float = 1.0, pictures: bool = False) -> None:
    """The cells two to a row, each titled and with its line of numbers underneath; ``name`` keys the block
    (the page's CSS finds it by that key) and its maps; ``dpr``: the screen's device pixels per CSS pixel;
    ``pictures``: plain pictures instead of figures (a first paint)."""
    with st.container(key=name):
        if pictures:
            st.html(_PICTURE_CSS)
        for row in range(0, len(cells), 2):
            cols = st.columns(2, gap="small")
            for col, i in zip(cols, range(row, min(row + 2, len(cells)))):
                with col:
                    st.markdown(cells[i].heading)
                    draw(cells[i], keys.map_chart(name, i), dpr, pictures)
                    st.caption(cells[i].caption)
