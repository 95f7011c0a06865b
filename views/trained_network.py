"""Trained network: a Tiny VGG the project trained on generated shapes, from the picture to its probabilities."""

import streamlit as st

from cnn_core.errors import CnnError
from ui.network import answer as network_answer
from ui.network import inputs as network_input
from ui.network import views as network_views

link_warning = network_input.read_link()
st.title("A trained network, from pixels to probabilities")
st.markdown(network_views.introduction())
if link_warning:
    st.warning(link_warning)
network_input.phone_picker()

# Drawing: the canvas beside the picture the network sees, the probabilities below; otherwise picture | probabilities.
if network_input.drawing_now():
    draw_area, seen_area = st.columns(2, gap="medium")
    probs_area = st.container()
else:
    draw_area = None
    seen_area, probs_area = st.columns([4, 7], gap="medium")
inp = network_input.input_picker(draw_area)
cmap, scale = network_input.display_controls()
if inp is None:
    st.info(
        "Draw a shape on the canvas, upload a photo, or pick a generated sample in the sidebar to see the network at work."
    )
    st.stop()
try:
    computed = network_views.compute(inp.key, cmap, scale, inp.x)
except CnnError as e:
    st.error(str(e))
    st.stop()
network_input.sync_url(inp, cmap, scale)

network_views.input_section(inp, computed, seen_area, probs_area)
st.header("1 · Every layer's maps", divider="gray")
network_views.maps_section(computed, cmap, scale)
st.header("2 · The learned filters", divider="gray")
network_views.filters_section(inp)
st.header("3 · Flatten", divider="gray")
network_answer.flatten_section(computed.acts)
st.header("4 · Dense layer and softmax", divider="gray")
label = network_answer.dense_section(computed.acts)
st.header("5 · Grad-CAM: where it looked", divider="gray")
network_answer.grad_cam_section(inp, label)
st.header("6 · Inside any layer", divider="gray")
network_answer.inspector_section(computed.acts)
