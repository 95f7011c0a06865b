"""The router: page config and navigation, nothing heavy (Streamlit re-executes this on every rerun)."""

import streamlit as st

st.set_page_config(page_title="CNN playground", page_icon=":material/grid_on:", layout="wide")

pages = [
    st.Page("pages/playground.py", title="Playground", icon=":material/tune:", default=True),
    st.Page("pages/layer_stack.py", title="Layer stack", icon=":material/layers:", url_path="layer_stack"),
    st.Page("pages/your_model.py", title="Your model", icon=":material/upload_file:", url_path="your_model"),
]
st.navigation(pages).run()
