"""Choosing the model for the "Your model" page: the bundled demo, an upload, or an ImageNet backbone.

Every model is loaded once per server process and shared, keyed by the file's content hash. Uploaded files
go through ``cnn_core.model_file`` (checked, then loaded in Keras's safe mode); a refusal is shown as one
sentence and remembered for that upload so it isn't checked again on every rerun.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import streamlit as st

from cnn_core import backbones, model_file, model_maps, shapes_data
from cnn_core.errors import ModelError, unexpected
from cnn_core.files import read_bounded
from cnn_core.images import size_text
from ui.common.service import SERVICE
from ui.common.text import code, plain
from ui.model import keys, state

P = keys.P  # widget-key prefix of the page
DEMO_PATH = Path(__file__).resolve().parents[2] / "assets" / "tiny_vgg.keras"
DEMO, UPLOAD, IMAGENET, TRAINED = state.DEMO, state.UPLOAD, state.IMAGENET, state.TRAINED
TRAINED_KEY = keys.TRAINED_MODEL  # (name, .keras bytes, class names): ui/train/page.py


@dataclass(frozen=True)
class LoadedModel:
    """A loaded model and what the page needs from it."""

    key: str  # content hash, the cache key of everything computed from it
    label: str
    info: model_maps.ModelInfo
    computer: model_maps.MapComputer
    value_range: str | None = None  # a range the model requires (ImageNet backbones), else None
    class_names: tuple[str, ...] | None = None


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# Loaded models count against the process's memory budget by their weights and largest declared tensor
# (model_file.resident_bytes); the least recently used go first. One larger than the whole share is used
# but not kept.
_MODELS = SERVICE.cache("loaded models")


def _load(digest: str, name: str, _data: bytes, label: str = "", names: tuple[str, ...] | None = None) -> LoadedModel:
    key = (digest, name, label, names)
    hit = _MODELS.get(key)
    if hit is not None:
        return hit
    with st.spinner("Checking and loading the model…"):
        model, checked = model_file.load_model(_data, name)
        names = names or checked.class_names
        loaded = LoadedModel(
            digest, label or name, model_maps.describe(model), model_maps.MapComputer(model), None, names
        )
    _MODELS.put(key, loaded, model_file.resident_bytes(checked))
    return loaded


@st.cache_data(ttl=600, show_spinner=False)
def _reachable() -> bool:
    return backbones.weights_reachable()


@st.cache_resource(max_entries=2, show_spinner="Downloading the ImageNet weights…")
def _backbone(name: str) -> LoadedModel:
    model = backbones.build_backbone(name)
    names = backbones.class_names()
    return LoadedModel(
        f"imagenet-{name}",
        name,
        model_maps.describe(model),
        model_maps.MapComputer(model),
        "0-255",
        tuple(names) if names else None,
    )


def _upload() -> LoadedModel | None:
    up = st.sidebar.file_uploader(
        f"Your model (.keras, up to {size_text(model_file.MAX_FILE_BYTES)})",
        # No type= filter: a wrong file gets our one-sentence reason instead of Streamlit's generic refusal.
        key=keys.MODEL_UPLOAD,
        help="Save it with model.save('name.keras'). It is checked before Keras opens it; see the limits below.",
    )
    labels = st.sidebar.file_uploader(
        "Class names (optional: a labels.txt, one name a line)",
        key=keys.LABELS_UPLOAD,
        help="Used when the model's metadata.json has no 'classes' or 'labels' list.",
    )
    if up is None:
        return None
    loaded = _checked_upload(up)
    if loaded is not None and labels is not None:
        try:
            names = model_file.class_names_from(labels.getvalue().decode("utf-8"))
        except UnicodeDecodeError:
            names = None
        if names is None:
            st.sidebar.warning(f"{code(labels.name)} holds no class names (UTF-8 text, one a line); not used.")
        else:
            loaded = replace(loaded, class_names=names)
    return loaded


def _checked_upload(up) -> LoadedModel | None:
    memo = st.session_state.get(keys.MODEL_MEMO)
    if memo and memo[0] == up.file_id:
        if isinstance(memo[1], str):
            st.error(f"{code(up.name)} was refused: {plain(memo[1])}.")
            return None
        return memo[1]
    data = up.getvalue()
    try:
        loaded = _load(_digest(data), up.name, data)
    except ModelError as e:
        st.session_state[keys.MODEL_MEMO] = (up.file_id, e.detail)
        st.error(f"{code(up.name)} was refused: {plain(e.detail)}.")
        return None
    st.session_state[keys.MODEL_MEMO] = (up.file_id, loaded)
    st.session_state[keys.MODEL_BYTES] = (up.name, data)  # for the unit pages' scans (ui/units/page.py)
    return loaded


def model_picker() -> LoadedModel | None:
    """Sidebar controls to pick the model; shows refusals itself and returns None when there is no model."""
    st.sidebar.subheader("Model")
    choices = ([DEMO] if DEMO_PATH.exists() else []) + [UPLOAD]
    if TRAINED_KEY in st.session_state:
        choices.append(TRAINED)
    online = _reachable()
    if online:
        choices.append(IMAGENET)
    source = (
        st.sidebar.radio("Model source", choices, key=keys.MODEL_SOURCE, label_visibility="collapsed")
        if len(choices) > 1
        else choices[0]
    )
    if not online:
        st.sidebar.caption(
            f"ImageNet backbones ({', '.join(backbones.BACKBONES)}) are offered where their weights can be "
            f"downloaded; this server can't reach {backbones.WEIGHTS_HOST}."
        )
    if source == DEMO:
        try:
            data = read_bounded(DEMO_PATH, model_file.MAX_FILE_BYTES, "a .keras model file", ModelError)
            st.session_state[keys.MODEL_BYTES] = (DEMO_PATH.name, data)  # for the unit pages' scans
            return _load(_digest(data), DEMO_PATH.name, data, "Tiny VGG (bundled demo)", tuple(shapes_data.CLASSES))
        except ModelError as e:
            st.error(f"The bundled demo model can't be loaded: {plain(e.detail)}.")
            return None
    if source == TRAINED:
        name, data, names = st.session_state[TRAINED_KEY]
        st.session_state[keys.MODEL_BYTES] = (name, data)
        try:
            loaded = _load(_digest(data), name, data, "Trained on the Train page")
        except ModelError as e:
            st.error(f"The trained model can't be loaded: {plain(e.detail)}.")
            return None
        return LoadedModel(loaded.key, loaded.label, loaded.info, loaded.computer, None, tuple(names))
    if source == IMAGENET:
        st.session_state.pop(keys.MODEL_BYTES, None)  # built in code: no file for a unit page to scan
        name = st.sidebar.selectbox(
            "Backbone", list(backbones.BACKBONES), format_func=backbones.BACKBONES.get, key=keys.BACKBONE
        )
        try:
            return _backbone(name)
        except Exception as e:  # Keras raises a bare Exception when a download fails; the rest of the page works
            unexpected(e, f"loading the {name} backbone")
            st.error(f"The {name} weights could not be downloaded ({type(e).__name__}). Upload a model instead.")
            return None
    st.session_state.pop(keys.MODEL_BYTES, None)  # until an upload is accepted
    return _upload()
