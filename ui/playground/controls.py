"""The Playground's controls: every setting of its three layers, and loading a spec file.

Each widget is a view of the page's state (ui/playground/state.py): it shows the stored value and writes a
change back through its callback.
"""

from __future__ import annotations

import streamlit as st

import cnn_core
from cnn_core.images import size_text
from cnn_core.spec import ACTIVATIONS, MAX_SPEC_CHARS
from ui.common.text import code, plain
from ui.playground import keys
from ui.playground import state as pgs

LAYER_STACK_HINT = "The Layer stack page builds and loads stacks like it."


def _on_spec_file() -> None:
    up = st.session_state.get(keys.SPEC_FILE)
    if up is None:
        st.session_state[keys.SPEC_MSG] = None
        return
    try:
        why = pgs.load_spec(cnn_core.parse_spec(up.getvalue()))
    except cnn_core.CnnError as e:
        st.session_state[keys.SPEC_MSG] = ("error", f"{code(up.name)} can't be loaded. {plain(e)}")
        return
    if why:
        st.session_state[keys.SPEC_MSG] = (
            "warning",
            f"{code(up.name)} doesn't fit the Playground ({plain(why)}). {LAYER_STACK_HINT}",
        )
    else:
        st.session_state[keys.SPEC_MSG] = ("success", f"Loaded {code(up.name)}.")
        st.session_state[keys.RERUN_APP] = True


def layer_controls() -> None:
    """Every setting of the convolution, activation and pooling; each widget shows and writes the state, and a
    change redraws these settings (one may show or hide another) and the maps."""
    s = pgs.state()
    again = (keys.PART_MAPS, keys.PART_LAYERS)
    c_col, a_col = st.columns(2, gap="medium")
    with c_col:
        st.markdown("**Convolution**")
        pgs.bound(st.select_slider, "Stride", "stride", list(pgs.STRIDES), rerun=again)
        pgs.bound(st.selectbox, "Padding", "padding", list(pgs.PADDINGS), rerun=again)
        if s.padding == "zeros on every side":
            pgs.bound(st.number_input, "Zeros per side", "pad", 0, 64, rerun=again)
        pgs.bound(st.select_slider, "Dilation", "dilation", list(pgs.STRIDES), rerun=again)
        pgs.bound(st.slider, "Bias", "bias", -pgs.BIAS_LIMIT, pgs.BIAS_LIMIT, step=0.05, rerun=again)
    with a_col:
        st.markdown("**Activation**")
        pgs.bound(st.selectbox, "Function", "act", ACTIVATIONS, rerun=again)
        if s.act == "leaky_relu":
            pgs.bound(st.slider, "Slope below 0 (alpha)", "alpha", 0.0, 1.0, step=0.01, rerun=again)
        st.markdown("**Pooling**")
        pgs.bound(st.toggle, "Pooling layer", "pool_on", rerun=again)
        if s.pool_on:
            pgs.bound(st.radio, "Mode", "pool_mode", ["max", "avg"], horizontal=True, rerun=again)
            pgs.bound(st.select_slider, "Window", "pool_size", list(pgs.POOL_CHOICES), rerun=again)
            pgs.bound(st.select_slider, "Stride ", "pool_stride", list(pgs.POOL_CHOICES), rerun=again)
            pgs.bound(st.radio, "Padding ", "pool_padding", ["same", "valid"], horizontal=True, rerun=again)


def spec_file() -> None:
    """Load a spec JSON file into the page (the share panel downloads one)."""
    st.file_uploader(
        f"Load a spec JSON file (a download from here or the Layer stack; up to {size_text(MAX_SPEC_CHARS)})",
        key=keys.SPEC_FILE,
        max_upload_size=MAX_SPEC_CHARS // 10**6,  # Streamlit's uploader refuses a larger file in one sentence
        on_change=_on_spec_file,
    )
    msg = st.session_state.get(keys.SPEC_MSG)
    if msg:
        getattr(st, msg[0])(msg[1])
    if st.session_state.pop(keys.RERUN_APP, False):
        st.rerun()  # the sidebar's controls show the loaded colour and size too
