"""Trained network: a Tiny VGG the project trained on generated shapes, from the picture to its probabilities."""

import streamlit as st

from cnn_core.errors import CnnError
from ui import network_input, network_views

link_warning = network_input.read_link()
st.title("A trained network, from pixels to probabilities")
st.markdown(network_views.introduction())
if link_warning:
    st.warning(link_warning)

draw_area = st.container()
inp = network_input.input_picker(draw_area)
cmap, scale = network_input.display_controls()
if inp is None:
    st.info("Draw a shape on the canvas (or pick a generated sample in the sidebar) to see the network at work.")
    st.stop()
try:
    computed = network_views.compute(inp.key, cmap, scale, inp.x)
except CnnError as e:
    st.error(str(e))
    st.stop()
network_input.sync_url(inp, cmap, scale)

network_views.input_section(inp, computed, draw_area_used=inp.view_source == "image")
st.caption(f"Forward pass, every map and the probabilities: {computed.seconds * 1000:.0f} ms on the server.")
st.header("1 · Every layer's maps", divider="gray")
network_views.maps_section(computed, cmap, scale)
st.header("2 · The learned filters", divider="gray")
network_views.filters_section(inp)
st.header("3 · Flatten", divider="gray")
network_views.flatten_section(computed.run)
st.header("4 · Dense layer and softmax", divider="gray")
label = network_views.dense_section(computed.run)
st.header("5 · Grad-CAM: where it looked", divider="gray")
network_views.grad_cam_section(inp, label)
