"""Layer stack: build a pipeline of any length and compare every stage's channel maps."""

from dataclasses import replace

import streamlit as st

from cnn_core.errors import SpecError
from ui.common import compute, maps, share_panel
from ui.common.inputs import link_image_key, phone_picker, picture_picker, use_link_picture
from ui.common.text import plain
from ui.stack import files as stack_files
from ui.stack import keys as stack_keys
from ui.stack import layers as stack_layers
from ui.stack import maps as stack_maps
from ui.stack import plan as stack_plan
from ui.stack import starters as stack_starters
from ui.stack import state as stack_state

P = stack_keys.P

stack_starters.init_state()
link, link_warning = share_panel.read_link(P, "stack")
if link is not None:
    stack_state.load_spec(link.spec)
    st.session_state[stack_keys.page("cmap")] = link.view["cmap"]
    st.session_state[stack_keys.page("scale")] = link.view["scale"]
    if not share_panel.keeps_photo(P, link):
        use_link_picture(P, link.image, link.sample)
    if share_panel.link_note(link) and not share_panel.keeps_photo(P, link):
        st.session_state[stack_keys.LINK_NOTE] = share_panel.link_note(link)
share_panel.header(
    P,
    "Layer stack",
    "Stack convolutions, activations and pooling layers in any order and see what each stage makes of the "
    "photo: one band of channel maps per stage. Click any pixel of a map to see the sum that made it; click a "
    "map's name to enlarge it and read its values.",
    link_warning,
)

phone_picker(P, default_sample="chelsea")

# --- sidebar: the input and how maps are coloured --------------------------------------------------
picture = picture_picker(P, default_sample="chelsea")
try:
    spec = stack_state.current_spec()
except SpecError as e:
    st.error(f"The stored stack can't be read ({plain(e)}). Pick a starting point to begin again.")
    stack_starters.starting_points()
    st.stop()
stack_layers.input_controls(spec, picture.array.shape if picture is not None else None)
cmap, scale_mode = maps.display_controls(P, "auto: a blue–white–red map centred on 0 for signed maps, magma otherwise.")
per_band = st.sidebar.select_slider("Maps per band", [4, 6, 8, 12], value=8, key=stack_keys.page("per_band"))

# What the page drew outside the stack's fragment from the stack itself: the sidebar's input controls and the
# starting point's caption. A change made inside the fragment that alters them (a spec file loaded) reruns
# the whole page; every other change (a weight, a layer added, a band paged) reruns only the fragment.
outside = (spec.input, st.session_state.get(stack_keys.STARTER))
stack_starters.starting_points()


@st.fragment
def stack(picture, cmap: str, scale_mode: str, per_band: int, outside: tuple) -> None:
    """The layers, their shapes, the file box, every band and the share link: what a change of the stack
    redraws. A kernel step reruns only this, not the header, the sidebar or the starting points."""
    try:
        spec = stack_state.current_spec()
    except SpecError:
        st.rerun(scope="app")  # the page says what is wrong and offers the starting points
    if (spec.input, st.session_state.get(stack_keys.STARTER)) != outside:
        st.rerun(scope="app")
    # --- one plan and one call into the core: the layers that can be built run (the table names the first
    # that can't)
    stages = None
    sp = stack_plan.plan_stack(spec, picture.array.shape if picture is not None else (1, 1))
    if picture is not None:
        stages = compute.run(picture, replace(spec, layers=spec.layers[: sp.runnable]), sp.plans)
        if stages:
            stack_maps.start_stats(stages)

    # --- the layout: the layers and their shapes above the maps. The maps are drawn first, so a step's new
    # maps reach the browser before the editor's widgets are redrawn (the old ones stay meanwhile).
    edit_col, table_col = st.columns([3, 2], gap="large")
    st.subheader("Maps")
    maps_box = st.container()
    if picture is None:
        maps_box.info("The uploaded file can't be shown; the sidebar says why. Upload another photo or pick a sample.")
    elif stages:
        with maps_box:
            stack_maps.maps_area(stages, stack_state.layer_ids(spec), spec, cmap, scale_mode, per_band)
            ms = compute.timing_text(stages, lambda s: str(s.index), digits=0)
            st.caption(f"Computed by TensorFlow on {stages[0].device} · per stage: {ms}")
            link_image = st.session_state.get(link_image_key(P)) if picture.from_link else None
            share_panel.share_and_export(
                P, share_panel.view_state("stack", picture, spec, cmap, scale_mode, link_image), picture, stages
            )
    with edit_col:
        st.subheader("Layers")
        preview = (lambda i, j: stack_maps.filter_preview(stages, i, j)) if stages else None
        stack_layers.layer_list(spec, sp, preview)
    with table_col:
        st.subheader("Shapes")
        if picture is not None:
            stack_plan.shape_table(spec, sp)
        st.subheader("Files")
        stack_files.import_export(spec)


stack(picture, cmap, scale_mode, per_band, outside)
