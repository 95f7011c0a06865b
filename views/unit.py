"""One unit (a channel of a layer): what it looks for across many pictures and what it does to a photo."""

import streamlit as st

from ui.common.inputs import picture_picker
from ui.common.text import plain
from ui.common.unit_links import TINY
from ui.units import keys as unit_keys
from ui.units import page as unit_page

unit, warning = unit_page.unit_from_url()
if unit is None:
    st.stop()
st.title(f"Unit {plain(unit.layer.path)}:{unit.channel}")
st.markdown(
    f"Channel **{unit.channel}** of **{plain(unit.layer.path)}** ({unit.layer.cls}, "
    f"{'×'.join(str(d) for d in unit.layer.shape)}) in **{plain(unit.label)}**: the picture it responds to most, the "
    "pictures of a collection that excite it most, its weights, and what it makes of the current photo."
)
if warning:
    st.warning(warning)
unit_page.phone_picker(unit)
unit_page.neighbours(unit)

# --- sidebar: the current photo ------------------------------------------------------------------
if unit.kind == TINY:
    photo, photo_key = unit_page.sidebar_sample()
else:
    picture = picture_picker(unit_keys.P, default_sample="chelsea")
    photo, photo_key = (picture.array, picture.key) if picture is not None else (None, "")

vis_col, weights_col = st.columns(2, gap="large")
with vis_col:
    unit_page.feature_visualisation(unit)
with weights_col:
    unit_page.weights(unit)

if photo is not None:
    batch = unit_page.photo_batch(unit, photo)
    if batch is not None:
        unit_page.on_photo(unit, batch, photo_key)

unit_page.top_pictures(unit)
