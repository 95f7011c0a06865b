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

# What the page drew outside its parts from the stack itself: the sidebar's input controls and the starting
# point's caption. A change made inside a part that alters them (a spec file loaded) reruns the whole page.
outside = (spec.input, st.session_state.get(stack_keys.STARTER))
stack_starters.starting_points()


# The page's parts rerun on their own (views/playground.py does the same; ui/stack/keys.py names them): a layer's
# edit reruns the editor and the maps, not the header, the sidebar or the starting points; a weight's step reruns
# only the maps, the open filter's preview and the spec file's download (the editor around its slider says the
# same after it); a click on a map, a band's pager or a map enlarged reruns only the maps.
def _spec(outside: tuple):
    """The stack now; the whole page reruns instead if it can't be read, or if its input or starting point is no
    longer what the page drew outside its parts."""
    try:
        spec = stack_state.current_spec()
    except SpecError:
        st.rerun(scope="app")  # the page says what is wrong and offers the starting points
    if (spec.input, st.session_state.get(stack_keys.STARTER)) != outside:
        st.rerun(scope="app")
    return spec


def _stack(picture, outside: tuple, run: bool = True, quiet: bool = False):
    """The stack now, its plan, and (``run``) its stages: None without a photo, or if they can't run. One plan
    and one call into the core, cached, so the parts one step reruns share it: the layers that can be built run
    (the table names the first that can't)."""
    spec = _spec(outside)
    shape = picture.array.shape if picture is not None else (1, 1)
    held = st.session_state.get(stack_keys.PLAN)
    if held is not None and held[0] == spec and held[1] == shape:
        sp = held[2]
    else:
        sp = stack_plan.plan_stack(spec, shape)
        st.session_state[stack_keys.PLAN] = (spec, shape, sp)
    stages = None
    if run and picture is not None:
        stages = compute.run(picture, replace(spec, layers=spec.layers[: sp.runnable]), sp.plans, quiet=quiet)
    return spec, sp, stages


@st.fragment(key=stack_keys.PART_MAPS)
def maps_part(picture, cmap: str, scale_mode: str, per_band: int, outside: tuple) -> None:
    """Every band of maps, the clicked value's worked sum, the timing and the share link."""
    spec, _, stages = _stack(picture, outside)
    if picture is None:
        st.info("The uploaded file can't be shown; the sidebar says why. Upload another photo or pick a sample.")
        return
    if not stages:
        return
    stack_maps.start_stats(stages)
    stack_maps.maps_area(stages, stack_state.layer_ids(spec), spec, cmap, scale_mode, per_band)
    ms = compute.timing_text(stages, lambda s: str(s.index), digits=0)
    st.caption(f"Computed by TensorFlow on {stages[0].device} · per stage: {ms}")
    link_image = st.session_state.get(link_image_key(P)) if picture.from_link else None
    share_panel.share_and_export(
        P, share_panel.view_state("stack", picture, spec, cmap, scale_mode, link_image), picture, stages
    )


@st.fragment(key=stack_keys.PART_PREVIEW)
def preview_part(picture, outside: tuple, i: int, j: int) -> None:
    """What filter j of layer i outputs, beside that filter's settings."""
    _, _, stages = _stack(picture, outside, quiet=True)
    if stages:
        stack_maps.filter_preview(stages, i, j)
    else:
        st.caption("No output yet: the maps below say why.")


@st.fragment(key=stack_keys.PART_DOWNLOAD)
def download_part(outside: tuple) -> None:
    stack_files.download(_spec(outside))


@st.fragment(key=stack_keys.PART_EDITOR)
def editor_part(picture, outside: tuple) -> None:
    """The layers with the open one's settings, their shapes, and the stack as a file."""
    spec, sp, _ = _stack(picture, outside, run=False)
    edit_col, table_col = st.columns([3, 2], gap="large")
    with edit_col:
        st.subheader("Layers")
        preview = (lambda i, j: preview_part(picture, outside, i, j)) if picture is not None else None
        stack_layers.layer_list(spec, sp, preview)
    with table_col:
        st.subheader("Shapes")
        if picture is not None:
            stack_plan.shape_table(spec, sp)
        st.subheader("Files")
        download_part(outside)
        stack_files.upload()


# The layers and their shapes above the maps. The maps are drawn first, so a change's new maps reach the browser
# before the editor's widgets are redrawn (the old ones stay meanwhile).
editor_box = st.container()
st.subheader("Maps")
maps_part(picture, cmap, scale_mode, per_band, outside)
with editor_box:
    editor_part(picture, outside)
