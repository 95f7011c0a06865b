"""Painting a kernel: a canvas with positive and negative ink whose drawing becomes the weights.

The rule that turns the drawing into numbers lives in ``cnn_core.drawing``; this module only draws
the controls and the canvas, and hands new weights to the caller's setter when a stroke ends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw
from streamlit_drawable_canvas import st_canvas

import cnn_core
from cnn_core import drawing
from cnn_core.render import lut
from ui.common import keys

CANVAS_SIDE = 240
INKS = {"Positive": drawing.POSITIVE_INK, "Negative": drawing.NEGATIVE_INK, "Eraser": drawing.ERASER}


def _grid_background(size: tuple[int, int]) -> Image.Image:
    # Light lines where the kernel's cells meet, so the painter sees which cell a stroke lands in.
    # The background is not part of what the canvas sends back, so the lines are never ink.
    im = Image.new("RGB", (CANVAS_SIDE, CANVAS_SIDE), "white")
    d = ImageDraw.Draw(im)
    kh, kw = size
    for i in range(1, kh):
        y = round(i * CANVAS_SIDE / kh)
        d.line([(0, y), (CANVAS_SIDE, y)], fill=(214, 218, 226))
    for j in range(1, kw):
        x = round(j * CANVAS_SIDE / kw)
        d.line([(x, 0), (x, CANVAS_SIDE)], fill=(214, 218, 226))
    return im


def heat_map(weights: np.ndarray, side: int = 160) -> Image.Image:
    """The kernel as a signed heat map: blue negative, white 0, red positive, symmetric about 0."""
    w = np.asarray(weights, dtype=np.float64)
    m = float(np.max(np.abs(w))) if w.size else 0.0
    t = np.full(w.shape, 0.5) if m == 0 or not np.isfinite(m) else 0.5 + 0.5 * np.clip(w / m, -1, 1)
    rgb = lut("diverging")[np.rint(t * 255).astype(np.int64)]
    kh, kw = w.shape
    cell = max(side // max(kh, kw), 1)
    return Image.fromarray(rgb).resize((kw * cell, kh * cell), Image.Resampling.NEAREST)


def kernel_canvas(
    key: str,
    size: tuple[int, int],
    set_weights: Callable[[np.ndarray], None],
    *,
    current: np.ndarray | None = None,
    rerun: bool = False,
) -> None:
    """Draw the painting controls and canvas; when a stroke ends, pass the drawn weights to ``set_weights``.

    Args:
        key: a widget-key prefix unique on the page.
        size: (kh, kw), the kernel grid the drawing is averaged onto.
        set_weights: called with float64 (kh, kw) weights whenever the drawing (or how it is
            turned into weights) changed since the last call.
        current: the kernel in use, drawn beside the canvas as a signed heat map.
        rerun: rerun the page after a change, for pages that drew their maps before this editor.
    """
    c1, c2 = st.columns([3, 2])
    ink = c1.radio("Ink", list(INKS), horizontal=True, key=keys.key(key, "ink"))
    brush = c2.slider("Brush", 2, 60, 18, key=keys.key(key, "brush"), help="Brush width in canvas pixels")
    c3, c4 = st.columns([3, 2])
    strength_key = keys.key(key, "strength")
    if current is not None and strength_key not in st.session_state:
        # Full ink starts at the kernel's largest weight (in half steps), so the canvas shows every weight.
        top = float(np.abs(current).max()) if np.size(current) else 0.0
        st.session_state[strength_key] = float(min(max(np.ceil(top * 2) / 2, 0.5), 100.0))
    norm = c3.selectbox(
        "Normalise", list(drawing.NORMALISATIONS), format_func=drawing.NORMALISATIONS.get, key=keys.key(key, "norm")
    )
    strength = c4.number_input(
        "Full ink =",
        -100.0,
        100.0,
        step=0.5,
        key=strength_key,
        help="The weight of a cell filled with positive ink (before normalisation)",
    )
    paint_col, heat_col = st.columns([3, 2])
    with paint_col:
        # The canvas's undo / redo / clear card appears above its top-right corner on hover: this line
        # leaves it room, so it no longer covers the controls above.
        st.caption(f"Draw ({size[0]}×{size[1]} grid):")
        start = None if current is None else np.asarray(current, dtype=np.float64)
        result = _canvas(key, size, ink, brush, start, strength)
    if current is not None:
        with heat_col:
            w = np.asarray(current, dtype=np.float64)
            st.image(heat_map(w), caption=f"The kernel in use: blue < 0 < red, largest |w| = {np.abs(w).max():.3g}")
    st.caption(
        "Red ink adds weight, blue ink takes it away, and the eraser paints zero. Each weight is the "
        "average ink in its cell of the grid, times *Full ink*. Hover the grid for undo, redo and clear."
        + (
            " The canvas starts as the kernel in use (weights beyond Full ink at full ink); a stroke changes "
            "only the cells it passes over, the others keep their exact values."
            if current is not None
            else ""
        )
    )
    rgba = result.image_data
    if rgba is None:
        return
    objects = (result.json_data or {}).get("objects") or []
    _apply(key, size, rgba, objects, start, norm, strength, set_weights, rerun)


def _canvas(key: str, size: tuple[int, int], ink: str, brush: int, start: np.ndarray | None, strength: float):
    # Keyed by the kernel it starts from: a new kernel (a stroke applied, a preset picked) redraws the canvas.
    tag = "" if start is None else "_" + hashlib.blake2b(start.tobytes(), digest_size=6).hexdigest()
    drawing_json = None if start is None else drawing.kernel_drawing(start, (CANVAS_SIDE, CANVAS_SIDE), strength)
    return st_canvas(
        stroke_width=int(brush),
        stroke_color=INKS[ink],
        background_image=_grid_background(size),
        height=CANVAS_SIDE,
        width=CANVAS_SIDE,
        drawing_mode="freedraw",
        initial_drawing=drawing_json,
        return_image_data=True,
        key=keys.key(key, "canvas", f"{size[0]}x{size[1]}{tag}"),
    )


def _apply(key, size, rgba, objects, start, norm, strength, set_weights, rerun) -> None:
    # Only a drawing (or a way of reading it) not applied yet changes the kernel.
    digest = hashlib.blake2b(np.ascontiguousarray(rgba).data, digest_size=16).hexdigest()
    stamp = (digest, tuple(size), norm, float(strength))
    memo = keys.key(key, "canvas_applied")
    if st.session_state.get(memo) == stamp:
        return
    if start is None and not np.any(drawing.signed_ink(rgba) != 0):
        # A fresh or cleared canvas: keep the kernel as it is and say nothing.
        st.session_state[memo] = stamp
        return
    try:
        if start is None:
            weights = drawing.kernel_from_drawing(rgba, size, strength=strength, normalise=norm)
        else:
            weights = drawing.edit_kernel(start, rgba, objects, strength=strength, normalise=norm)
    except cnn_core.CnnError as e:
        st.warning(f"The drawing was not applied: {e.detail}.")
        return
    st.session_state[memo] = stamp
    if weights is None:  # no stroke yet: the canvas only shows the kernel
        return
    set_weights(weights)
    if rerun:
        st.rerun()
