"""Your model: upload a .keras CNN and page through every feature map it makes of a photo."""

import streamlit as st

from cnn_core import model_maps
from cnn_core.errors import CnnError
from cnn_core.render import COLORMAPS
from ui.common.inputs import phone_picker, picture_picker
from ui.common.text import plain
from ui.model import inspector as model_inspector
from ui.model import keys as model_keys
from ui.model import state as model_state
from ui.model import views as model_views
from ui.model.source import P, model_picker

st.title("Your model")
st.markdown(
    "Upload a CNN saved with `model.save('name.keras')` and see what every layer makes of a photo: each layer "
    "whose output is image-shaped (height × width × channels), layers inside nested models included."
)

phone_picker(P, default_sample="chelsea")

# --- sidebar: the model, the photo, the display ------------------------------------------------------
loaded = model_picker()
model_views.caps(expanded=loaded is None)
picture = picture_picker(P, default_sample="chelsea")
st.sidebar.subheader("Display")
st.sidebar.selectbox(
    "Colour map",
    COLORMAPS,
    key=model_keys.CMAP,
    help="auto: a blue–white–red map centred on 0 for signed maps, magma otherwise.",
)
st.sidebar.radio(
    "Colour scale",
    model_state.SCALES,
    key=model_keys.SCALE,
    horizontal=True,
    help="Per map stretches each map over its own range: faint maps become visible.",
)
settings = model_state.from_session(st.session_state)
cmap, per_map = settings.cmap, settings.per_map

if loaded is None:
    st.info("Choose a model in the sidebar: upload a `.keras` file saved with `model.save('name.keras')`.")
    st.stop()
info = loaded.info

st.subheader(f"Model: {loaded.label}")
model_views.summary(info)

st.subheader("Your photo, fitted to the model")
if picture is None:
    st.info("The uploaded photo can't be used; the sidebar says why. Upload another or pick a sample.")
    st.stop()
default = loaded.value_range or model_maps.default_range(info)
ranges = list(model_maps.VALUE_RANGES)
value_range = st.radio(
    "Pixel values fed to the model",
    ranges,
    index=ranges.index(default),
    horizontal=True,
    format_func=model_maps.VALUE_RANGES.get,
    key=model_keys.value_range(loaded.key),
    disabled=loaded.value_range is not None,
    help="Use the range the model was trained on. The default follows its first Rescaling layer.",
)
try:
    prepared = model_maps.prepare_photo(picture.array, info, value_range)
except CnnError as e:
    st.error(f"This photo can't be fed to the model: {plain(e.detail)}.")
    st.stop()
model_views.input_panel(info, picture, prepared)

st.subheader("Feature maps")
photo_key = f"{picture.key}-{value_range}"
fed = model_views.Fed(loaded, info, prepared, photo_key, value_range)
model_views.maps_browser(fed, cmap, per_map)
acts = model_inspector.activations(f"{loaded.key}-{photo_key}", loaded.computer, prepared.batch)
model_views.enlarge(fed, cmap, acts)

st.subheader("Output")
model_views.output_panel(loaded, info, prepared, photo_key)

st.subheader("Inside the network")
model_inspector.model_inspector(acts, P, picture.array)
model_inspector.grad_cam_panel(
    loaded.computer,
    acts,
    prepared.batch,
    P,
    loaded.class_names,
    f"{loaded.key}-{photo_key}",
    source=st.session_state.get(model_keys.MODEL_BYTES),
)
