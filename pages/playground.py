"""Playground: one convolution, one activation, one pooling layer on a photo, side by side."""

import streamlit as st

import cnn_core
from cnn_core.render import COLORMAPS
from cnn_core.spec import ACTIVATIONS
from ui import compute, explain, maps, share_panel
from ui.inputs import LINK_SOURCE, link_image_key, picture_picker
from ui.kernel_editor import kernel_editor, set_weights
from ui.playground_state import widgets_from_spec
from ui.text import plain

P = "pg"  # widget-key prefix of this page

# The reference article's worked example, unless a link says otherwise.
DEFAULTS = {
    f"{P}_color": "grayscale", f"{P}_resize": True, f"{P}_h": 300, f"{P}_w": 300,
    f"{P}_cmap": "auto", f"{P}_scale": "layer",
    f"{P}_stride": 1, f"{P}_padding": "same", f"{P}_pad": 1, f"{P}_dilation": 1, f"{P}_bias": 0.0,
    f"{P}_act": "relu", f"{P}_alpha": 0.2,
    f"{P}_pool_on": True, f"{P}_pool_mode": "max", f"{P}_pool_size": 2, f"{P}_pool_stride": 2,
    f"{P}_pool_padding": "same",
}


def apply_link(link) -> str | None:
    """Set every control from a shared link; returns a warning if the link can't be shown here."""
    applied = widgets_from_spec(link.spec)
    if applied is None:
        return (
            "This link's layers don't fit the playground, which holds one single-filter convolution, one "
            "activation and an optional pooling layer; showing the defaults instead. The Layer stack page "
            "builds stacks like it."
        )
    values, weights, preset = applied
    st.session_state.update(values)
    set_weights(P, weights, preset)
    st.session_state[f"{P}_cmap"] = link.view["cmap"]
    st.session_state[f"{P}_scale"] = link.view["scale"] if link.view["scale"] in maps.SCALE_MODES else "layer"
    if link.image is not None:
        st.session_state[link_image_key(P)] = link.image
        st.session_state[f"{P}_source"] = LINK_SOURCE
    else:
        st.session_state[f"{P}_source"] = "Sample"
        st.session_state[f"{P}_sample"] = link.sample
    return None


link, link_warning = share_panel.read_link(P, "playground")
if link is not None:
    link_warning = apply_link(link)
    note = share_panel.link_note(link)
    if note and not link_warning:
        st.session_state[f"{P}_link_note"] = note
for key, value in DEFAULTS.items():
    st.session_state.setdefault(key, value)

st.title("What a convolution does to a photo")
st.markdown(
    "A **kernel** slides over the image and takes a dot product at every position; an **activation** "
    "reshapes the values; **pooling** shrinks the map. Move any slider below and watch every stage change. "
    "The numbers are TensorFlow's own."
)
if link_warning:
    st.warning(link_warning)
if st.session_state.get(f"{P}_link_note"):
    st.info(st.session_state[f"{P}_link_note"])

# --- sidebar: the input and how maps are coloured --------------------------------------------------
picture = picture_picker(P)
color = st.sidebar.radio("Colour", ["grayscale", "rgb"], horizontal=True, key=f"{P}_color")
resize = st.sidebar.checkbox("Resize before the network", key=f"{P}_resize")
size = None
if resize:
    c1, c2 = st.sidebar.columns(2)
    size = [
        c1.number_input("Height", 1, 4096, key=f"{P}_h"),
        c2.number_input("Width", 1, 4096, key=f"{P}_w"),
    ]
st.sidebar.subheader("Display")
cmap = st.sidebar.selectbox(
    "Colour map", COLORMAPS, key=f"{P}_cmap",
    help="auto: a blue–white–red map centred on 0 for signed maps, magma (the article's map) otherwise.",
)
scale_mode = st.sidebar.radio(
    "Colour scale", ["layer", "global"], format_func=maps.SCALE_MODES.get, key=f"{P}_scale",
)


@st.fragment
def playground(picture, input_spec: dict, cmap: str, scale_mode: str) -> None:
    # Drawn first, filled last: the maps sit above the controls that drive them.
    maps_area = st.container()
    st.divider()
    k_col, c_col, a_col = st.columns([5, 3, 3], gap="large")
    with k_col:
        st.subheader("Kernel")
        weights, preset = kernel_editor(P)
    with c_col:
        st.subheader("Convolution")
        stride = st.select_slider("Stride", [1, 2, 3, 4], key=f"{P}_stride")
        pad_mode = st.selectbox("Padding", ["same", "valid", "zeros on every side"], key=f"{P}_padding")
        padding = pad_mode
        if pad_mode == "zeros on every side":
            padding = st.number_input("Zeros per side", 0, 64, key=f"{P}_pad")
        dilation = st.select_slider("Dilation", [1, 2, 3, 4], key=f"{P}_dilation")
        bias = st.slider("Bias", -2.0, 2.0, step=0.05, key=f"{P}_bias")
    with a_col:
        st.subheader("Activation")
        function = st.selectbox("Function", ACTIVATIONS, key=f"{P}_act")
        act = {"type": "activation", "function": function}
        if function == "leaky_relu":
            act["alpha"] = st.slider("Slope below 0 (alpha)", 0.0, 1.0, step=0.01, key=f"{P}_alpha")
        st.subheader("Pooling")
        pool_on = st.toggle("Pooling layer", key=f"{P}_pool_on")
        layers = [
            {"type": "conv2d", "filters": [preset or weights.tolist()], "stride": stride, "padding": padding,
             "dilation": dilation, "bias": bias},
            act,
        ]
        if pool_on:
            mode = st.radio("Mode", ["max", "avg"], horizontal=True, key=f"{P}_pool_mode")
            window = st.select_slider("Window", [1, 2, 3, 4, 5], key=f"{P}_pool_size")
            pstride = st.select_slider("Stride ", [1, 2, 3, 4, 5], key=f"{P}_pool_stride")
            ppad = st.radio("Padding ", ["same", "valid"], horizontal=True, key=f"{P}_pool_padding")
            layers.append({"type": "pool2d", "mode": mode, "size": window, "stride": pstride, "padding": ppad})

    try:
        spec = cnn_core.parse_spec({"version": 1, "input": input_spec, "layers": layers})
    except cnn_core.CnnError as e:
        maps_area.error(f"These settings are not valid. {plain(e)}")
        return
    with maps_area:
        stages = compute.run(picture, spec)
        if stages is None:
            return
        scales = maps.stage_scales(stages, cmap, scale_mode)
        cols = st.columns(len(stages))
        for i, (col, stage, scale) in enumerate(zip(cols, stages, scales)):
            with col:
                arrow = "→ " if i else ""
                st.markdown(f"**{arrow}{stage.title}** · {maps.shape_text(stage.shape)}")
                maps.draw_map(stage, None if scale is None else 0, scale, height=260, key=f"{P}_map{i}")
                st.caption(explain.caption(stage, stages[i - 1] if i else None))
                for line in maps.arithmetic_lines(stage):
                    st.caption(f"Output size, {line}")
                if stage.name != "input":
                    st.caption(maps.map_stats(stage.maps))
        ms = " · ".join(f"{s.title.lower()} {'cached' if s.cached else f'{s.seconds * 1000:.1f} ms'}" for s in stages)
        st.caption(f"Computed by TensorFlow on {stages[0].device} · {ms}")
        link_image = st.session_state.get(link_image_key(P)) if picture.label == "the photo in the link" else None
        state = share_panel.view_state("playground", picture, spec, cmap, scale_mode, link_image)
        share_panel.share_and_export(P, state, picture, stages)


if picture is None:
    st.info("The uploaded file can't be shown; the sidebar says why. Upload another photo or pick a sample.")
else:
    playground(picture, {"color": color, "size": size}, cmap, scale_mode)
