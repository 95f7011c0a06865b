"""The layer list: one row per layer with its buttons, the input's controls, and the activation and pooling
settings (a convolution's settings are in ``stack_conv``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from cnn_core.spec import ACTIVATIONS, MAX_LAYERS, MAX_POOL, MAX_STRIDE, Activation, InputSpec, Pool2D, Spec
from ui.common.text import plain
from ui.stack import edits, keys, state
from ui.stack.conv import conv_panel
from ui.stack.plan import StackPlan
from ui.stack.state import draw, pair_inputs, ss
from ui.stack.text import LAYER_TITLES, describe, shape_text


def input_controls(spec: Spec, image_shape: tuple[int, ...] | None) -> None:
    """Sidebar controls for the spec's input: colour and the size the photo is resized to."""
    inp = spec.input
    draw(st.sidebar.radio, keys.page("color"), inp.color, None, lambda i, v: replace(i, color=v),
         "Colour", ["grayscale", "rgb"], horizontal=True,
         help="rgb gives the first layer three input channels (red, green, blue).")  # fmt: skip

    def toggle(i: InputSpec, on: bool) -> InputSpec:
        if not on:
            return replace(i, size=None)
        h, w = image_shape[:2] if image_shape else (128, 128)
        return replace(i, size=(min(int(h), 4096), min(int(w), 4096)))

    draw(st.sidebar.checkbox, keys.page("resize"), inp.size is not None, None, toggle, "Resize before the network")
    if inp.size is not None:
        c1, c2 = st.sidebar.columns(2)
        with c1:
            draw(st.number_input, keys.page("h"), inp.size[0], None, lambda i, v: replace(i, size=(int(v), i.size[1])),
                 "Height", 1, 4096)  # fmt: skip
        with c2:
            draw(st.number_input, keys.page("w"), inp.size[1], None, lambda i, v: replace(i, size=(i.size[0], int(v))),
                 "Width", 1, 4096)  # fmt: skip
    note = ss.pop(keys.INPUT_NOTE, None)
    if note:
        st.sidebar.warning(plain(note))


def _row_buttons(i: int, lid: str, count: int, is_open: bool) -> None:
    st.button(
        ":material/close_fullscreen:" if is_open else ":material/tune:",
        key=keys.layer(lid, "open"),
        help="Close the settings" if is_open else "Edit this layer's settings",
        on_click=state.toggle_open,
        args=(lid,),
        type="primary" if is_open else "secondary",
    )
    for name, icon, why, disabled, callback, args in (
        ("up", "arrow_upward", "Move up", i == 0, state.move, (lid, -1)),
        ("down", "arrow_downward", "Move down", i == count - 1, state.move, (lid, 1)),
        ("dup", "content_copy", "Duplicate", count >= MAX_LAYERS, state.duplicate, (lid,)),
        ("del", "delete", "Remove", False, state.remove, (lid,)),
    ):
        st.button(f":material/{icon}:", key=keys.layer(lid, name), help=why, disabled=disabled, on_click=callback,
                  args=args, type="tertiary")  # fmt: skip


def layer_list(spec: Spec, sp: StackPlan, preview: Callable[[int, int], None] | None = None) -> None:
    """Every layer as a row with its buttons; the open one shows all its settings below its row.

    ``preview(i, j)``, if given, draws what filter j of layer i outputs, beside that filter's settings.
    """
    ids = state.layer_ids(spec)
    depths = edits.input_channels(spec)
    if not spec.layers:
        st.info("No layers yet: add one below, or pick a starting point.")
    for i, (lid, layer) in enumerate(zip(ids, spec.layers)):
        is_open = ss.get(keys.OPEN) == lid
        with st.container(border=True, key=keys.page(f"row_{lid}")):
            if i + 1 < len(sp.plans):
                status = f"→ {shape_text(sp.plans[i + 1].shape)}"
            elif i == sp.bad_layer:
                status = ":red[✗ can't be built]"
            else:
                status = ":gray[not run]"
            with st.container(horizontal=True, vertical_alignment="center", gap="small"):
                st.markdown(f"**{i + 1} · {LAYER_TITLES[layer.type]}** {status}", width="stretch")
                _row_buttons(i, lid, len(ids), is_open)
            st.caption(describe(layer))
            if i == sp.bad_layer:
                st.caption(f":red[{plain(sp.error.reason).replace(']', chr(92) + ']')}]")
            if is_open:
                note = ss.get(keys.note(lid))
                if note:
                    st.warning(plain(note))
                EDITORS[layer.type](spec, i, lid, layer, depths[i], preview)
    st.markdown("**Add a layer at the end**")
    with st.container(horizontal=True, gap="small"):
        for kind, label in LAYER_TITLES.items():
            st.button(label, key=keys.page(f"add_{kind}"), on_click=state.add, args=(kind,), icon=":material/add:",
                      disabled=len(spec.layers) >= MAX_LAYERS)  # fmt: skip


def _activation_panel(spec: Spec, i: int, lid: str, layer: Activation, depth: int, preview) -> None:
    draw(
        st.selectbox,
        keys.layer(lid, "fn"),
        layer.function,
        lid,
        lambda L, v: replace(L, function=v),
        "Function",
        ACTIVATIONS,
    )
    if layer.function == "leaky_relu":
        draw(st.number_input, keys.layer(lid, "alpha"), float(layer.alpha), lid, lambda L, v: replace(L, alpha=float(v)),
             "Slope below 0 (alpha)", -1000.0, 1000.0, step=0.05, format="%.4g")  # fmt: skip


def _pool_panel(spec: Spec, i: int, lid: str, layer: Pool2D, depth: int, preview) -> None:
    c1, c2 = st.columns(2)
    with c1:
        draw(st.radio, keys.layer(lid, "mode"), layer.mode, lid, lambda L, v: replace(L, mode=v), "Mode", ["max", "avg"],
             horizontal=True)  # fmt: skip
    with c2:
        draw(st.radio, keys.layer(lid, "pad"), layer.padding, lid, lambda L, v: replace(L, padding=v), "Padding",
             ["valid", "same"], horizontal=True)  # fmt: skip
    pair_inputs(lid, "size", "Window", layer.size, MAX_POOL, lambda L, p: replace(L, size=p))
    pair_inputs(lid, "stride", "Stride", layer.stride, MAX_STRIDE, lambda L, p: replace(L, stride=p))


# The settings panel of each spec layer, by its kind's name (the spec's layer type); each takes
# (spec, layer index, layer id, layer, input channels, filter preview).
EDITORS = {"conv2d": conv_panel, "activation": _activation_panel, "pool2d": _pool_panel}
