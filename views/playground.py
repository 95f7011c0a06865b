"""Playground: one convolution, one activation, one pooling layer on a photo, side by side.

Every control is a view of one typed state (ui/playground/state.py), so nothing is lost when the
page is left, an upload fails or the kernel editor changes.
"""

import streamlit as st

from ui.playground import first_screen

# A fresh server's first visitor sees the default maps now, while the imports below load TensorFlow.
first_maps = first_screen.show()

import cnn_core  # noqa: E402  (after the first screen, on purpose)
from cnn_core import render  # noqa: E402
from cnn_core.render import COLORMAPS, SCALE_MODES  # noqa: E402
from cnn_core.spec import MAX_SIDE  # noqa: E402
from ui.common import compute, inspector, paint_first, share_panel  # noqa: E402
from ui.common.inputs import LINK_SOURCE, link_image_key, phone_picker, picture_picker  # noqa: E402
from ui.common.text import plain  # noqa: E402
from ui.playground import controls, kernel_editor, keys, view  # noqa: E402
from ui.playground import state as pgs  # noqa: E402

P = pgs.P

pgs.check()

link, link_warning = share_panel.read_link(P, "playground")
if link is not None:
    why = pgs.load_spec(link.spec)
    if why:
        link_warning = (
            f"This link doesn't fit the Playground ({why}); showing the defaults. {controls.LAYER_STACK_HINT}"
        )
    else:
        scale = link.view["scale"] if link.view["scale"] in pgs.SCALE_CHOICES else "layer"
        pgs.update(cmap=link.view["cmap"], scale=scale)
        if share_panel.keeps_photo(P, link):
            pass  # Back or Forward over an edit made on an upload: the upload stays
        elif link.image is not None:
            st.session_state[link_image_key(P)] = link.image
            pgs.update(source=LINK_SOURCE)
        else:
            pgs.update(source="Sample", sample=link.sample)
        st.session_state[keys.SOURCE], st.session_state[keys.SAMPLE] = pgs.state().source, pgs.state().sample
        if share_panel.link_note(link) and not share_panel.keeps_photo(P, link):
            st.session_state[keys.LINK_NOTE] = share_panel.link_note(link)

share_panel.header(
    P,
    "What a convolution does to a photo",
    "A **kernel** slides over the image and takes a dot product at every position; an **activation** "
    "reshapes the values; **pooling** shrinks the map. Change any weight and watch every stage change. "
    "The numbers are TensorFlow's own.",
    link_warning,
)

phone_picker(P)

# --- sidebar: the input and how maps are coloured --------------------------------------------------
# The picker's own widgets forget their value when another page is shown: give it back from the state.
state = pgs.state()
for key, value in ((keys.SOURCE, state.source), (keys.SAMPLE, state.sample)):
    link_photo_gone = key == keys.SOURCE and value == LINK_SOURCE and not st.session_state.get(link_image_key(P))
    if key not in st.session_state and not link_photo_gone:
        st.session_state[key] = value
picture = picture_picker(P)
pgs.update(
    source=st.session_state.get(keys.SOURCE, state.source), sample=st.session_state.get(keys.SAMPLE, state.sample)
)

pgs.bound(st.sidebar.radio, "Colour", "color", ["grayscale", "rgb"], horizontal=True)
pgs.bound(
    st.sidebar.radio, "Size before the network", "size_mode", list(pgs.SIZE_MODES), format_func=pgs.SIZE_MODES.get
)
if pgs.state().size_mode == "aspect":
    pgs.bound(st.sidebar.number_input, "Longer side (pixels)", "long_side", 1, MAX_SIDE)
elif pgs.state().size_mode == "exact":
    c1, c2 = st.sidebar.columns(2)
    pgs.bound(c1.number_input, "Height", "h", 1, MAX_SIDE)
    pgs.bound(c2.number_input, "Width", "w", 1, MAX_SIDE)
resize_note = ""
if picture is not None:
    pgs.settle_size_mode(picture.array.shape)
    resize_note = pgs.resize_note(picture.array.shape, pgs.input_size(pgs.state(), picture.array.shape))
    st.sidebar.caption(resize_note)
st.sidebar.subheader("Display")
pgs.bound(
    st.sidebar.selectbox,
    "Colour map",
    "cmap",
    COLORMAPS,
    help="auto: a blue–white–red map centred on 0 for signed maps, magma (the article's map) otherwise.",
)
pgs.bound(st.sidebar.radio, "Colour scale", "scale", list(pgs.SCALE_CHOICES), format_func=SCALE_MODES.get)


# The page's parts rerun on their own (their keys say what each holds): a weight's slider reruns the maps and what
# explains them, not the sliders (the browser shows the slider's new value already), nor the layers' settings.
@st.fragment(key=keys.PART_KERNEL)
def kernel_part() -> None:
    kernel_editor.kernel_editor(1 if pgs.state().color == "grayscale" else 3)


@st.fragment(key=keys.PART_LAYERS)
def layers_part() -> None:
    controls.layer_controls()


@st.fragment(key=keys.PART_MAPS)
def maps_part(picture, resize_note: str, worked_slot, below) -> None:
    """The maps; the worked sum of a clicked value (in ``worked_slot``, above the controls); what explains the maps
    (in ``below``): the stage notes, timing, inspector, share panel and spec file. One part, so that nothing
    below the maps can show another kernel's values than the maps do."""
    # Streamlit lets a fragment write into a container made outside it only if it wrote there in the page's whole
    # run: each run starts by making its own block in both, so a later click or a fixed setting can fill them.
    worked_slot, below = worked_slot.container(), below.container()
    s = pgs.state()
    try:
        spec = cnn_core.parse_spec(pgs.spec_dict(s, picture.array.shape))
    except cnn_core.CnnError as e:
        st.error(f"These settings are not valid. {plain(e)}")
        return
    stages = compute.run(picture, spec)
    if stages is None:
        return
    scales = [sc[0] for sc in render.stage_scales(stages, s.cmap, s.scale)]
    click = view.maps_block(stages, scales, resize_note)
    at = view.clicked(stages, click)
    if at is not None:  # a click on a map: its worked sum beside the maps, above the controls
        with worked_slot:
            view.worked_panel(stages, at)
    paint_first.after_maps(keys.WEIGHT_STEP)  # the new maps paint before the rest of the part comes
    with below:
        st.divider()
        view.stage_notes(stages)
        ms = compute.timing_text(stages, lambda x: x.title.lower())
        st.caption(f"Computed by TensorFlow on {stages[0].device} · {ms}")
        inspector.inspector(stages, P)
        link_image = st.session_state.get(link_image_key(P)) if picture.from_link else None
        link_state = share_panel.view_state("playground", picture, spec, s.cmap, s.scale, link_image)
        share_panel.share_and_export(P, link_state, picture, stages)
        controls.spec_file()


if first_maps is not None:
    first_maps.empty()  # the live maps take its place
if picture is None:
    st.info("The uploaded file can't be shown; the sidebar says why. Upload another photo or pick a sample.")
else:
    view.style()
    ctrl_col, maps_col = st.columns([5, 6], gap="medium")
    below_maps = st.container()  # filled by the maps' part, which reruns without the page
    with ctrl_col:
        worked = st.container()  # likewise: a clicked value's worked sum
        kernel_part()
        layers_part()
    with maps_col:
        maps_part(picture, resize_note, worked, below_maps)
