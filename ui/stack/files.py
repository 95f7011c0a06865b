"""The stack as a file: download it as spec JSON, or load one."""

from __future__ import annotations

import streamlit as st

from cnn_core.errors import SpecError
from cnn_core.images import size_text
from cnn_core.spec import MAX_SPEC_CHARS, Spec
from ui.common.text import code, plain
from ui.stack import keys
from ui.stack.state import load_spec, rerun_parts, ss

IMPORT_KEY = keys.IMPORT


def _on_import() -> None:
    up = ss.get(IMPORT_KEY)
    if up is None:
        ss[keys.IMPORT_MSG] = None
        return
    try:
        load_spec(up.getvalue())
    except SpecError as e:
        ss[keys.IMPORT_MSG] = ("error", f"{code(up.name)} can't be loaded. {plain(e)}")
        return
    ss[keys.IMPORT_MSG] = ("success", f"Loaded {code(up.name)}.")
    rerun_parts(keys.EDIT_PARTS)  # a new input as well reruns the whole page (views/layer_stack.py)


def download(spec: Spec) -> None:
    """Download the stack as a spec file (the one file format, ``Spec.to_json(indent=2)``)."""
    st.download_button(
        "Download this stack (spec JSON)",
        spec.to_json(indent=2),
        file_name="layer_stack.json",
        mime="application/json",
        key=keys.page("download"),
        on_click="ignore",
        icon=":material/download:",
    )


def upload() -> None:
    """Load a stack from a spec file, with the last file's message."""
    st.file_uploader(
        f"Load a stack from a spec JSON file (up to {size_text(MAX_SPEC_CHARS)})",
        key=IMPORT_KEY,
        max_upload_size=MAX_SPEC_CHARS // 10**6,  # Streamlit's uploader refuses a larger file in one sentence
        on_change=_on_import,
        help="A file downloaded here, or any pipeline spec v1 document.",
    )
    msg = ss.get(keys.IMPORT_MSG)
    if msg:
        (st.error if msg[0] == "error" else st.success)(msg[1])
