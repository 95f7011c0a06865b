"""Choosing the input: a bundled sample, an upload, the camera or a drawing, decoded once and cached by content."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st

import cnn_core
from cnn_core.drawing import picture_from_drawing
from cnn_core.images import EXTENSIONS, MAX_FILE_BYTES, image_size, read_file, size_text
from cnn_core.samples import SAMPLES, sample_path
from ui.common import keys
from ui.common.service import SERVICE
from ui.common.text import code, plain


@dataclass(frozen=True)
class Picture:
    """A decoded image and what identifies it."""

    array: np.ndarray  # uint8 (H, W) or (H, W, 3), read-only
    key: str  # content hash, the cache key for everything computed from it
    label: str  # where it came from, for captions
    sample: str | None  # the sample's name, or None for an upload
    from_link: bool = False  # the small copy of a photo that a shared link carried


def _decode(digest: str, downscale: bool, data: bytes) -> tuple[np.ndarray, str]:
    # Keyed by the file's hash (the bytes themselves are not hashed again); the array is shared, read-only,
    # and counts its bytes against the compute service's "decoded photos" share.
    return SERVICE.remembered("decoded photos", (digest, downscale), lambda: _decoded(data, downscale), _array_bytes)


def _decoded(data: bytes, downscale: bool) -> tuple[np.ndarray, str]:
    arr = cnn_core.decode_image(data, downscale=downscale)
    arr.flags.writeable = False
    return arr, hashlib.blake2b(arr.tobytes() + repr(arr.shape).encode(), digest_size=16).hexdigest()


def _array_bytes(decoded: tuple[np.ndarray, str]) -> int:
    return decoded[0].nbytes


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@st.cache_resource(max_entries=len(SAMPLES), show_spinner=False)
def load_sample(name: str) -> Picture:
    data = read_file(sample_path(name), MAX_FILE_BYTES)  # the one bounded reader
    arr, key = _decode(_digest(data), False, data)
    return Picture(arr, key, SAMPLES.get(name, name), name)


def decode_upload(data: bytes, name: str, downscale: bool = False) -> Picture:
    """Decode uploaded bytes; raises cnn_core.ImageError with a friendly message."""
    arr, key = _decode(_digest(data), downscale, data)
    return Picture(arr, key, name, None)


def _session_upload(prefix: str, up, downscale: bool, label: str | None = None) -> Picture:
    # Hash and decode an upload (or camera shot) once per session, not on every rerun.
    memo_key = keys.picker(prefix, "picture_memo")
    memo = st.session_state.get(memo_key)
    if memo and memo[0] == (up.file_id, downscale):
        return memo[1]
    pic = decode_upload(up.getvalue(), label or up.name, downscale)
    st.session_state[memo_key] = ((up.file_id, downscale), pic)
    return pic


LINK_SOURCE = "From the link"


def link_image_key(prefix: str) -> str:
    return keys.picker(prefix, "link_image")


def use_link_picture(prefix: str, image: bytes | None, sample: str | None) -> None:
    """Make the picker show what a shared link names: the small photo it carries, or a bundled sample."""
    if image is not None:
        st.session_state[link_image_key(prefix)] = image
        st.session_state[keys.source(prefix)] = LINK_SOURCE
    else:
        st.session_state[keys.source(prefix)] = "Sample"
        st.session_state[keys.sample(prefix)] = sample


SOURCES = ("Sample", "Upload", "Camera", "Drawing")
DRAW_SIDE = 256  # the input canvas, in pixels


def _on_upload(prefix: str, key: str | None = None) -> None:
    # A file just dropped on the always-visible uploader is what the person wants to see.
    if st.session_state.get(key or keys.picker(prefix, "upload")) is not None:
        st.session_state[keys.source(prefix)] = "Upload"


def _uploader(prefix: str):
    return st.sidebar.file_uploader(
        f"Upload a photo ({', '.join(EXTENSIONS)}; up to {size_text(MAX_FILE_BYTES)} and "
        f"{cnn_core.MAX_PIXELS / 1e6:.1f} megapixels; a larger photo can be downscaled to fit)",
        # No type= filter: Streamlit would answer a file with another extension with an exception,
        # while our decoder reads the bytes whatever the name and explains what it can't read.
        key=keys.picker(prefix, "upload"),
        on_change=_on_upload,
        args=(prefix,),
    )


def _last_good(prefix: str, default_sample: str) -> Picture:
    # What to keep showing while a camera or canvas has nothing yet: the last picture shown, else a sample.
    return st.session_state.get(keys.picker(prefix, "last_picture")) or load_sample(default_sample)


def _camera(prefix: str, default_sample: str) -> Picture:
    shot = st.sidebar.camera_input("Take a photo", key=keys.picker(prefix, "camera"))
    if shot is None:
        last = _last_good(prefix, default_sample)
        st.sidebar.info(
            f"No photo taken yet (the browser may be waiting for permission to use the camera); "
            f"still showing {plain(last.label)}."
        )
        return last
    try:
        return _session_upload(prefix, shot, False, label="the camera photo")
    except cnn_core.ImageError as e:
        last = _last_good(prefix, default_sample)
        st.sidebar.error(f"The camera photo can't be used: {plain(e.detail)}. Still showing {plain(last.label)}.")
        return last


def _drawing(prefix: str, default_sample: str) -> Picture:
    from ui.common.canvas import drawing_canvas

    c1, c2 = st.sidebar.columns(2)
    width = c1.slider("Pen", 2, 40, 10, key=keys.picker(prefix, "draw_pen"))
    ink = c2.color_picker("Ink", "#000000", key=keys.picker(prefix, "draw_ink"))
    with st.sidebar:
        rgba = drawing_canvas(
            keys.picker(prefix, "draw_canvas"), width=DRAW_SIDE, height=DRAW_SIDE, stroke_width=width, stroke_color=ink
        )
    if rgba is None:
        last = _last_good(prefix, default_sample)
        st.sidebar.info(f"Draw on the canvas to make the input; until then, still showing {plain(last.label)}.")
        return last
    try:
        rgb = picture_from_drawing(rgba)
    except cnn_core.ImageError as e:
        last = _last_good(prefix, default_sample)
        st.sidebar.info(f"{e.detail[0].upper()}{e.detail[1:]}; still showing {plain(last.label)}.")
        return last
    rgb.flags.writeable = False
    key = hashlib.blake2b(rgb.tobytes() + repr(rgb.shape).encode(), digest_size=16).hexdigest()
    return Picture(rgb, key, "your drawing", None)


def picture_picker(prefix: str, default_sample: str = "camera") -> Picture | None:
    """Sidebar controls to pick the input: a sample, an upload, the camera or a drawing. None if unusable.

    The upload box is always in view; dropping a file on it switches to it. When a shared link carried a
    small photo (stored under ``link_image_key``), that is one more choice. Errors are shown here, and a
    refused upload leaves the last good picture (or the sample) in use, so the page keeps its maps.
    """
    pic = _pick(prefix, default_sample)
    if pic is not None:
        st.session_state[keys.picker(prefix, "last_picture")] = pic
    return pic


# On a phone the sidebar hides behind its » button: the page shows this picker instead (on wider screens the
# sidebar's is in view, and this one is hidden).
_PHONE_CSS = """<style>
[class*="st-key-{p}_phone_input"] {{ display: none; }}
@media (max-width: 640px) {{ [class*="st-key-{p}_phone_input"] {{ display: block; }} }}
</style>"""


def _from_phone_sample(prefix: str) -> None:
    st.session_state[keys.source(prefix)] = "Sample"
    st.session_state[keys.sample(prefix)] = st.session_state[keys.picker(prefix, "phone_sample")]


def phone_only(prefix: str):
    """A bordered container shown only on narrow screens, where the sidebar hides behind its » button."""
    st.html(_PHONE_CSS.format(p=prefix))
    return st.container(key=keys.picker(prefix, "phone_input"), border=True)


def phone_picker(prefix: str, default_sample: str = "camera") -> None:
    """The input picker in the page itself, shown only on narrow screens: a sample or an upload."""
    with phone_only(prefix):
        names = list(SAMPLES)
        current = st.session_state.get(keys.sample(prefix))
        st.session_state[keys.picker(prefix, "phone_sample")] = current if current in names else default_sample
        c1, c2 = st.columns(2)
        c1.selectbox(
            "Sample photo",
            names,
            format_func=SAMPLES.get,
            key=keys.picker(prefix, "phone_sample"),
            on_change=_from_phone_sample,
            args=(prefix,),
        )
        c2.file_uploader(
            "Or upload one",
            key=keys.picker(prefix, "phone_upload"),
            on_change=_on_upload,
            args=(prefix, keys.picker(prefix, "phone_upload")),
            help=f"{', '.join(EXTENSIONS)}; up to {size_text(MAX_FILE_BYTES)} and {cnn_core.MAX_PIXELS / 1e6:.1f} "
            "megapixels. The camera and drawing are in the sidebar (» at the top left).",
        )


def _pick(prefix: str, default_sample: str) -> Picture | None:
    st.sidebar.subheader("Input image")
    up = _uploader(prefix) or st.session_state.get(keys.picker(prefix, "phone_upload"))
    link_image = st.session_state.get(link_image_key(prefix))
    choices = list(SOURCES) + ([LINK_SOURCE] if link_image else [])
    if st.session_state.get(keys.source(prefix)) not in choices:
        st.session_state[keys.source(prefix)] = "Sample"
    source = st.sidebar.radio("Source", choices, horizontal=True, key=keys.source(prefix))
    if source == LINK_SOURCE:
        try:
            arr, key = _decode(_digest(link_image), False, link_image)
            return Picture(arr, key, "the photo in the link", None, from_link=True)
        except cnn_core.ImageError as e:
            st.sidebar.error(f"The photo in the link can't be used: {plain(e.detail)}")
            return load_sample(default_sample)
    if source == "Sample":
        names = list(SAMPLES)
        if st.session_state.get(keys.sample(prefix)) not in names:
            st.session_state[keys.sample(prefix)] = default_sample
        name = st.sidebar.selectbox("Sample photo", names, format_func=SAMPLES.get, key=keys.sample(prefix))
        return load_sample(name)
    if source == "Camera":
        return _camera(prefix, default_sample)
    if source == "Drawing":
        return _drawing(prefix, default_sample)
    if up is None:
        # The uploader forgets its file when another page is shown; the decoded photo is still here.
        memo = st.session_state.get(keys.picker(prefix, "picture_memo"))
        if memo and memo[1].label != "the camera photo":
            st.sidebar.info(f"Showing {code(memo[1].label)}, uploaded earlier. Upload a photo to replace it.")
            return memo[1]
        st.sidebar.info(
            f"No photo uploaded yet: use the box above. Showing the sample {SAMPLES.get(default_sample, default_sample)}."
        )
        return load_sample(default_sample)
    allowed = st.session_state.get(keys.picker(prefix, "allow_downscale")) == up.file_id
    try:
        pic = _session_upload(prefix, up, allowed)
    except cnn_core.ImageError as e:
        # The page keeps working on the last good picture; only the sidebar says what went wrong.
        last = _last_good(prefix, default_sample)
        still = f" Still showing {plain(last.label)}."
        if "downscale" in e.detail and not allowed:
            st.sidebar.warning(f"{code(up.name)} {plain(e.detail)}{still}")
            st.sidebar.button(
                "Downscale it to fit",
                key=keys.picker(prefix, "downscale"),
                help="Decodes it at half its height and width (a quarter or less if need be): about a second.",
                on_click=lambda: st.session_state.update({keys.picker(prefix, "allow_downscale"): up.file_id}),
            )
        else:
            st.sidebar.error(f"{code(up.name)} {plain(e.detail)}{still}")
        return last
    if allowed:
        h, w = pic.array.shape[:2]
        original = image_size(up.getvalue())
        was = f"from {original[0]}×{original[1]} " if original else ""
        st.sidebar.caption(
            f"Downscaled {was}to {h}×{w} pixels (height×width) to fit the limit of {cnn_core.MAX_PIXELS:,} pixels."
        )
    return pic
