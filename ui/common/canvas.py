"""A drawing canvas as a plain widget: draw with the mouse, get a NumPy picture back (or None while empty).

Wraps ``streamlit-drawable-canvas`` (a Streamlit component built on Fabric.js) so that pages never touch its
result objects. Any page can use it for a drawn input, a kernel sketched by hand, and so on:

    >>> picture = drawing_canvas("net_draw", width=256, height=256, stroke_width=22)
    >>> if picture is not None: ...                 # uint8 (256, 256, 4) RGBA
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image
from streamlit.errors import StreamlitAPIException

MODES = {
    "freedraw": "Free hand",
    "line": "Straight line",
    "rect": "Rectangle",
    "circle": "Circle",
    "polygon": "Polygon (click the first corner again to close)",
}


def _canvas_component():
    """The component's entry point; imported late because the package registers itself with Streamlit."""
    from streamlit_drawable_canvas import st_canvas

    return st_canvas


def drawing_canvas(
    key: str,
    *,
    width: int = 256,
    height: int = 256,
    mode: str = "freedraw",
    stroke_width: int = 20,
    stroke_color: str = "#000000",
    fill_color: str = "#000000",
    background_color: str = "#ffffff",
    grayscale: bool = False,
    initial_drawing: dict | None = None,
) -> np.ndarray | None:
    """Show a canvas and return what is drawn on it.

    Args:
        key: the widget key (the drawing survives reruns under the same key).
        width, height: the canvas size in CSS pixels; the picture returned has exactly this size.
        mode: one of ``MODES``.
        stroke_width, stroke_color, fill_color, background_color: CSS sizes and colours; shapes drawn in
            "rect", "circle" and "polygon" modes are filled with ``fill_color``.
        grayscale: return (height, width) luminance instead of RGBA.
        initial_drawing: a Fabric.js drawing (the ``json`` of an earlier canvas) to start from.

    Returns:
        uint8 (height, width, 4) RGBA, or (height, width) grey if ``grayscale``; None while nothing is drawn
        or when the canvas can't be shown (the page then says so).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    try:
        st_canvas = _canvas_component()
    # The component failed to register (e.g. a bare script runner without its assets), or isn't installed.
    except (StreamlitAPIException, ImportError) as e:
        st.info(f"The drawing canvas can't be shown here ({type(e).__name__}); pick a sample or upload instead.")
        return None
    result = st_canvas(
        fill_color=fill_color,
        stroke_width=stroke_width,
        stroke_color=stroke_color,
        background_color=background_color,
        height=height,
        width=width,
        drawing_mode=mode,
        initial_drawing=initial_drawing,
        return_image_data=True,
        key=key,
    )
    objects = (result.json_data or {}).get("objects") or []
    data = result.image_data if objects else None
    if data is None:
        return None
    return to_picture(np.asarray(data), width, height, grayscale)


def to_picture(data: np.ndarray, width: int, height: int, grayscale: bool = False) -> np.ndarray:
    """A canvas's pixels as uint8 RGBA (height, width, 4), or grey (height, width); resized when the browser
    rendered at another pixel ratio."""
    a = np.asarray(data)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.dstack([a, a, a, np.full_like(a, 255)])
    elif a.shape[2] == 3:
        a = np.dstack([a, np.full(a.shape[:2], 255, np.uint8)])
    im = Image.fromarray(np.ascontiguousarray(a), "RGBA")
    if im.size != (width, height):
        im = im.resize((width, height), Image.Resampling.BILINEAR)
    if grayscale:
        return np.asarray(im.convert("L"))
    return np.asarray(im)
