"""The router: page config and navigation, nothing heavy (Streamlit re-executes this on every rerun)."""

import streamlit as st

from cnn_core import errors
from ui.common import service, streamlit_internals
from ui.common.errors import show_unexpected

# A browser that falls behind on a loaded server is kept (Streamlit's bound of 500 waiting messages is raised),
# or made to reconnect, never left with a page that runs for ever; once per process, a no-op afterwards.
streamlit_internals.keep_clients_connected()
# With no file watcher (.streamlit/config.toml), a session's first run no longer walks every imported module's
# path on the server's event loop (0.2-0.7 s in which no other visitor's page got a byte).
streamlit_internals.skip_module_scan()

# An emoji icon becomes an inline SVG in the browser; a ":material/…:" page icon is fetched from fonts.gstatic.com,
# which an offline or strict host blocks (the navigation's icons come from the font Streamlit bundles).
st.set_page_config(page_title="CNN playground", page_icon="🔳", layout="wide")

pages = [
    st.Page("views/playground.py", title="Playground", icon=":material/tune:", default=True),
    st.Page("views/layer_stack.py", title="Layer stack", icon=":material/layers:", url_path="layer_stack"),
    st.Page(
        "views/trained_network.py", title="Trained network", icon=":material/neurology:", url_path="trained_network"
    ),
    st.Page("views/your_model.py", title="Your model", icon=":material/upload_file:", url_path="your_model"),
    st.Page("views/unit.py", title="Units", icon=":material/center_focus_strong:", url_path="unit"),
    st.Page("views/train.py", title="Train", icon=":material/model_training:", url_path="train"),
]
# Every page uses the width the wide layout offers, with the same margins (Streamlit's default leaves 5rem a side).
st.html(
    "<style>.block-container { padding-left: 2rem; padding-right: 2rem; padding-top: 2rem; }"
    "@media (max-width: 640px) { .block-container { padding: 3.5rem 0.75rem 1rem 0.75rem; } }"
    # A file the uploader refuses (over the upload cap) gets its sentence in view, not just a red icon: Streamlit
    # keeps it for screen readers and a hover tooltip, which a narrow sidebar and a touch screen never show.
    '[data-testid="stFileChip"][aria-invalid="true"] { flex-wrap: wrap; height: auto; }'
    '[data-testid="stFileChip"][aria-invalid="true"] [role="alert"] { position: static; width: 100%; height: auto;'
    " margin: 0.25rem 0 0 0; clip: auto; overflow: visible; white-space: normal; color: #b91c1c; font-size: 0.85rem; }"
    "</style>"
)
try:
    st.navigation(pages).run()
except Exception as e:  # anything a page did not expect: an apology and a logged reference, no traceback
    if errors.strict():  # under the tests: the bug itself, with its traceback
        raise
    show_unexpected(e)
# Once per process, after the first page has imported TensorFlow: its objects leave the collector's reach.
service.start()
