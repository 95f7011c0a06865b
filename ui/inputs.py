"""Choosing the photo: bundled samples or an upload, decoded once and cached by content."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

import cnn_core
from cnn_core.images import EXTENSIONS, MAX_FILE_BYTES
from ui.text import code, plain

ASSETS = Path(__file__).resolve().parent.parent / "assets"

# Subjects shown in the picker; the files and their licences are in assets/.
SAMPLES = {
    "camera": "Cameraman (grayscale)",
    "astronaut": "Astronaut",
    "chelsea": "Chelsea the cat",
    "coffee": "Coffee cup",
    "brick": "Brick wall",
    "text": "Text on a page",
    "rocket": "Rocket launch",
}


@dataclass(frozen=True)
class Picture:
    """A decoded image and what identifies it."""

    array: np.ndarray  # uint8 (H, W) or (H, W, 3), read-only
    key: str  # content hash, the cache key for everything computed from it
    label: str  # where it came from, for captions
    sample: str | None  # the sample's name, or None for an upload


def sample_path(name: str) -> Path:
    for ext in ("png", "jpg"):
        p = ASSETS / f"{name}.{ext}"
        if p.exists():
            return p
    raise cnn_core.ImageError(f"{name!r} is not a bundled sample", "sample")


@st.cache_resource(max_entries=8, show_spinner=False)
def _decode(digest: str, downscale: bool, _data: bytes) -> tuple[np.ndarray, str]:
    # Keyed by the file's hash (the bytes themselves are not hashed again); the array is shared, read-only.
    arr = cnn_core.decode_image(_data, downscale=downscale)
    arr.flags.writeable = False
    return arr, hashlib.blake2b(arr.tobytes() + repr(arr.shape).encode(), digest_size=16).hexdigest()


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@st.cache_resource(max_entries=len(SAMPLES), show_spinner=False)
def load_sample(name: str) -> Picture:
    data = sample_path(name).read_bytes()
    arr, key = _decode(_digest(data), False, data)
    return Picture(arr, key, SAMPLES.get(name, name), name)


def decode_upload(data: bytes, name: str, downscale: bool = False) -> Picture:
    """Decode uploaded bytes; raises cnn_core.ImageError with a friendly message."""
    arr, key = _decode(_digest(data), downscale, data)
    return Picture(arr, key, name, None)


def _session_upload(prefix: str, up, downscale: bool) -> Picture:
    # Hash and decode an upload once per session, not on every rerun.
    memo_key = f"{prefix}_picture_memo"
    memo = st.session_state.get(memo_key)
    if memo and memo[0] == (up.file_id, downscale):
        return memo[1]
    pic = decode_upload(up.getvalue(), up.name, downscale)
    st.session_state[memo_key] = ((up.file_id, downscale), pic)
    return pic


LINK_SOURCE = "From the link"


def link_image_key(prefix: str) -> str:
    return f"{prefix}_link_image"


def picture_picker(prefix: str, default_sample: str = "camera") -> Picture | None:
    """Sidebar controls to pick a sample or upload a photo. Shows errors itself; None if unusable.

    When a shared link carried a small photo (stored under ``link_image_key``), it is a third choice.
    """
    st.sidebar.subheader("Input image")
    link_image = st.session_state.get(link_image_key(prefix))
    choices = ["Sample", "Upload"] + ([LINK_SOURCE] if link_image else [])
    source = st.sidebar.radio(
        "Source", choices, horizontal=True, key=f"{prefix}_source", label_visibility="collapsed"
    )
    if source == LINK_SOURCE:
        try:
            arr, key = _decode(_digest(link_image), False, link_image)
            return Picture(arr, key, "the photo in the link", None)
        except cnn_core.ImageError as e:
            st.sidebar.error(f"The photo in the link can't be used: {plain(e.detail)}")
            return load_sample(default_sample)
    if source == "Sample":
        names = list(SAMPLES)
        if st.session_state.get(f"{prefix}_sample") not in names:
            st.session_state[f"{prefix}_sample"] = default_sample
        name = st.sidebar.selectbox("Sample photo", names, format_func=SAMPLES.get, key=f"{prefix}_sample")
        return load_sample(name)
    up = st.sidebar.file_uploader(
        f"Upload a photo ({', '.join(EXTENSIONS)}; up to {MAX_FILE_BYTES // 2**20} MiB)",
        # No type= filter: Streamlit would answer a file with another extension with an exception,
        # while our decoder reads the bytes whatever the name and explains what it can't read.
        key=f"{prefix}_upload",
    )
    if up is None:
        st.sidebar.info("No photo uploaded yet; showing the cameraman sample.")
        return load_sample(default_sample)
    allowed = st.session_state.get(f"{prefix}_allow_downscale") == up.file_id
    try:
        pic = _session_upload(prefix, up, allowed)
    except cnn_core.ImageError as e:
        if "downscale" in e.detail and not allowed:
            st.sidebar.warning(f"{code(up.name)} {plain(e.detail)}")
            st.sidebar.button(
                "Downscale it to fit", key=f"{prefix}_downscale",
                on_click=lambda: st.session_state.update({f"{prefix}_allow_downscale": up.file_id}),
            )
        else:
            st.sidebar.error(f"{code(up.name)} {plain(e.detail)}")
        return None
    if allowed:
        h, w = pic.array.shape[:2]
        st.sidebar.caption(f"Shrunk to {w}×{h} pixels to fit the limit of {cnn_core.MAX_PIXELS:,}.")
    return pic
