"""Editing the Playground's kernel: a preset to start from, then a slider or a number per weight, or a drawing.

The editors are views of the one kernel in :mod:`ui.playground.state`; each writes through
``set_kernel`` / ``set_weight``, so switching between them (or pages) never changes a weight.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnn_core.kernels import PRESETS
from ui.common import explain, paint_first
from ui.common.fields import show as show_value
from ui.common.number_grid import grid_edits, refused_text
from ui.playground import keys
from ui.playground import state as pgs
from ui.playground.kernel_canvas import kernel_canvas

MAX_SIZE = pgs.MAX_SIZE
# The sliders span the smallest of these that holds every weight; beyond the last, a slider shows its end.
SLIDER_RANGES = (10.0, 20.0, 50.0, 100.0)
GRID_CONTAINER = keys.KERNEL_GRID  # the CSS keeps this block a grid on a phone


def slider_range(weights: np.ndarray) -> float:
    """The sliders' common half-range: the smallest of SLIDER_RANGES that holds every weight."""
    top = float(np.abs(weights).max()) if weights.size else 0.0
    for r in SLIDER_RANGES:
        if top <= r:
            return r
    return SLIDER_RANGES[-1]


EDITED = "__edited__"  # the preset box's entry while the kernel is edited, so picking its preset is a change


# A new kernel redraws its editor and the maps; one weight moved on its slider redraws only the maps (the slider
# already shows its value), and the editor too when its heading changes (a preset becomes "edited by hand"): the
# heading, the preset box and the caption under it all follow from the kernel's title.
WHOLE_KERNEL = (keys.PART_MAPS, keys.PART_KERNEL)


def _on_preset() -> None:
    name = st.session_state[keys.PRESET]
    if name in PRESETS:
        pgs.set_kernel(PRESETS[name].array(), name)
    st.rerun(list(WHOLE_KERNEL))


def _preset_label(name: str) -> str:
    return "Edited by hand (pick a preset to reset)" if name == EDITED else PRESETS[name].label


def _on_size() -> None:
    pgs.set_kernel(pgs.resized_kernel(pgs.state().kernel.array(), st.session_state[keys.KERNEL_SIZE]))
    st.rerun(list(WHOLE_KERNEL))


def _on_slider(i: int, j: int) -> None:
    before = pgs.kernel_title(pgs.state().kernel)
    pgs.set_weight(i, j, st.session_state[keys.weight(i, j)])
    paint_first.note_step(keys.WEIGHT_STEP)
    st.rerun(list(WHOLE_KERNEL) if pgs.kernel_title(pgs.state().kernel) != before else [keys.PART_MAPS])


def _on_grid(key: str) -> None:
    w = pgs.state().kernel.array()
    cells, refused = grid_edits(st.session_state[key])
    for row, col, value in cells:
        w[row, col] = value
    st.session_state[keys.GRID_REFUSED] = refused
    pgs.set_kernel(w)
    paint_first.note_step(keys.WEIGHT_STEP)
    st.rerun(list(WHOLE_KERNEL))


def _sliders(w: np.ndarray) -> None:
    k = w.shape[0]
    r = slider_range(w)
    with st.container(key=GRID_CONTAINER):
        for i in range(k):
            cols = st.columns(k, gap="small")
            for j in range(k):
                key = keys.weight(i, j)
                show_value(st.session_state, key, float(np.clip(w[i, j], -r, r)))
                cols[j].slider(
                    f"w[{i},{j}]",
                    -r,
                    r,
                    step=r / 1000,  # 0.01 on ±10: a preset's 0.04 sits on a step, so a step right and back keeps it
                    key=key,
                    format="%.4g",
                    on_change=_on_slider,
                    args=(i, j),
                    label_visibility="collapsed" if k > 5 else "visible",
                )
    beyond = [f"w[{i},{j}] = {w[i, j]:.6g}" for i, j in zip(*np.nonzero(np.abs(w) > r))]
    if beyond:
        st.warning(
            f"{', '.join(beyond)} {'is' if len(beyond) == 1 else 'are'} beyond the sliders' ±{r:g}: "
            f"the slider shows its end while the kernel keeps the value. Edit it in the number grid."
        )
    elif r > SLIDER_RANGES[0]:
        st.caption(f"The sliders span ±{r:g} to hold the largest weight.")


def _grid(w: np.ndarray) -> None:
    k = w.shape[0]
    key = keys.grid(pgs.state().kernel.version)
    refused = st.session_state.pop(keys.GRID_REFUSED, None)
    if refused:
        text = refused_text(refused)
        st.warning(text[0].upper() + text[1:] + ".")
    df = pd.DataFrame(w, columns=[str(j) for j in range(k)])
    st.data_editor(
        df,
        key=key,
        on_change=_on_grid,
        args=(key,),
        hide_index=False,
        column_config={str(j): st.column_config.NumberColumn(format="%.4g", required=True) for j in range(k)},
    )


def kernel_editor(channels: int) -> None:
    """Draw the editor of the kernel in use (``channels``: the input's, for the preset's explanation)."""
    kernel = pgs.state().kernel
    w = kernel.array()
    k = w.shape[0]
    st.markdown(f"**Kernel** · {pgs.kernel_title(kernel)}")
    c1, c2 = st.columns([3, 2])
    name = pgs.kernel_preset(kernel)
    # An edited kernel shows as its own entry: picking the preset it started from is then a change, and resets it.
    st.session_state[keys.PRESET] = name if name is not None else EDITED
    c1.selectbox(
        "Start from a preset",
        list(PRESETS) + ([EDITED] if name is None else []),
        format_func=_preset_label,
        key=keys.PRESET,
        on_change=_on_preset,
    )
    st.session_state[keys.KERNEL_SIZE] = k
    c2.selectbox(
        "Kernel size",
        list(range(1, MAX_SIZE + 1)),
        key=keys.KERNEL_SIZE,
        on_change=_on_size,
        format_func=lambda n: f"{n}×{n}",
    )
    if name is not None:
        st.caption(explain.preset_explanation(name, channels))
    else:
        said = pgs.origin(kernel)
        st.caption(f"{said[0].upper()}{said[1:]}. Pick a preset to start again from it.")
    editors = list(pgs.EDITORS) if k <= pgs.SLIDER_MAX else [e for e in pgs.EDITORS if e != "Sliders"]
    if pgs.state().editor not in editors:
        pgs.update(editor="Canvas")
    mode = pgs.bound(
        st.radio,
        "Edit weights with",
        "editor",
        editors,
        horizontal=True,
        label_visibility="collapsed",
        key=keys.EDITOR,
    )
    if mode == "Sliders":
        _sliders(w)
    elif mode == "Canvas":
        # The maps were drawn before this editor, so a new drawing reruns the page to show them.
        kernel_canvas(keys.KERNEL_CANVAS, (k, k), pgs.set_kernel, current=w, rerun=True)
    else:
        _grid(w)
