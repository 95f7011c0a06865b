"""Train: train a small CNN here, on shapes or your own pictures, and watch its filters and maps change."""

import streamlit as st

from ui.train import page as train_page

st.title("Train")
st.markdown(
    "Where do the filters come from? Train a small CNN here and watch its first layer's filters and a picture's "
    "feature maps change epoch by epoch. Training runs in the background; the page stays usable."
)
st.caption(train_page.caps_text())
choice, query = train_page.controls()
st.caption(
    f"Share link for these settings: `{query}` — it carries the data choice, architecture, seed and epochs; "
    "pictures you upload, photograph, draw or zip don't travel."
)
train_page.live(choice)
