"""The Playground's 2×2 block of maps, drawn from plain arrays: no TensorFlow needed, so the first screen
(ui/playground/first_screen.py) draws it before TensorFlow has loaded, exactly as the page does afterwards.

Each map is a ``ui.common.map_view`` picture component (not a Plotly figure): a kernel step swaps three
pictures, which the browser does in a few milliseconds (benchmarks/README.md, round 8).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnn_core import render
from ui.common import map_view, screen
from ui.common.figures import hover_steps, kept, picture_uri
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


def _uri(cell: Cell, side: int) -> str:
    """The map's picture at most ``side`` pixels a side, as a PNG data URI (cached by the cell's key)."""
    if cell.scale is None:
        values = cell.maps if cell.maps.shape[2] > 1 else cell.maps[:, :, 0]
        return picture_uri(values, None, lambda: render.input_rgb(cell.maps), side, cell.cache_key)
    return picture_uri(cell.maps[:, :, 0], cell.scale, None, side, cell.cache_key)


def view_data(cell: Cell, side: int, where: str | None = None) -> dict:
    """What the browser gets for one map: its picture, colour bar and hover grid (made once per cell key, so an
    unchanged map, such as the input while a weight moves, is neither encoded nor built again). A large hover
    grid goes by address in the media store under ``where`` (``map_view.hover_payload``)."""

    def make() -> tuple[dict, dict, bytes]:
        h, w = cell.maps.shape[:2]
        values = cell.maps if cell.scale is None and cell.maps.shape[2] > 1 else cell.maps[:, :, 0]
        meta, raw = map_view.hover_grid(values, hover_steps(h, w))
        alt = cell.heading.replace("**", "")
        view = map_view.view_data(_uri(cell, side), h, w, MAP_HEIGHT, cell.scale, None, alt, heading_parts(cell.heading),
                                  cell.caption)  # fmt: skip
        return view, meta, raw

    if cell.cache_key is None:
        view, meta, raw = make()
    else:
        view, meta, raw = kept(("map view", cell.cache_key, cell.scale, side, MAP_HEIGHT, cell.maps.shape, cell.heading,
                                cell.caption), make)  # fmt: skip
    return {**view, "hover": map_view.hover_payload(meta, raw, where)}


def draw(cell: Cell, key: str, dpr: float = 1.0) -> tuple[int, int] | None:
    """One map with its colour bar, hover values, box zoom and clicks, its picture sent at the size it is shown on
    a ``dpr`` screen; the (row, column) clicked if a click on it triggered this run."""
    side = screen.picture_side(max(cell.maps.shape[:2]), MAP_HEIGHT, dpr)
    return map_view.map_view(key, view_data(cell, side, f"hover values {key}"))


def heading_parts(heading: str) -> tuple[str, str]:
    """A cell's heading "**title** · shape" as (title, the rest), the way the map view shows it."""
    m = re.fullmatch(r"\*\*(.*?)\*\*(.*)", heading, flags=re.S)
    return (m.group(1), m.group(2)) if m else ("", heading)


def grid(cells: list[Cell], name: str = MAPS_CONTAINER, dpr: float = 1.0) -> tuple[int, int, int] | None:
    """The cells two to a row, each titled and with its line of numbers underneath; ``name`` keys the block
    (the page's CSS finds it by that key) and its maps; ``dpr``: the screen's device pixels per CSS pixel.
    Returns (map index, row, column) of the value clicked if a click on a map triggered this run, else None.

    One element per map: its heading and numbers are drawn by its map view, and the views sit two to a row by the
    map view's own CSS (a grid), not in Streamlit's columns: a step re-sends 5 elements, not 19."""
    clicked = None
    with st.container(key=name):
        for i, cell in enumerate(cells):
            at = draw(cell, keys.map_chart(name, i), dpr)
            if at is not None:
                clicked = (i, *at)
    return clicked
