"""The Trained network page's input (a generated sample, a drawing or an upload) and its state in the URL."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st

import cnn_core
from cnn_core import network_link, shapes_data, tiny_vgg
from cnn_core.images import EXTENSIONS, MAX_FILE_BYTES, size_text
from ui.common import history
from ui.common.canvas import MODES, drawing_canvas
from ui.common.inputs import phone_only
from ui.common.maps import display_controls as display_controls_of
from ui.common.service import SERVICE
from ui.common.text import code, plain
from ui.network import keys, state

P = keys.P  # widget-key prefix of this page
SOURCES = state.SOURCES
EXPLAIN_KEY = keys.EXPLAIN
DRAW_PEN = 16  # the canvas's default pen: medium strokes read best (README, "The trained network")


@dataclass(frozen=True)
class NetInput:
    """What the network is given: ``x`` float32 (64, 64, 3) in [0, 1], where it came from, and its URL form."""

    x: np.ndarray
    key: str  # content hash of x
    label: str
    view_source: str  # "sample" or "image", for the URL
    shape: str
    seed: int


def read_link() -> str | None:
    """Apply the page's URL when opened from a link or by Back and Forward; a warning for a link that can't be used."""
    params = history.to_apply(P)
    if params is None:
        return None
    view, warning = network_link.decode_view(params)
    if view is None:
        return warning
    st.session_state.update(state.link_changes(view))
    return None


def sync_url(inp: NetInput, cmap: str, scale: str) -> None:
    """Keep the address bar equal to the view, so copying it shares exactly this."""
    image = _link_picture(inp.key, inp.x) if inp.view_source == "image" else None
    shown = state.NetState(
        source="sample" if inp.view_source == "sample" else "link",
        shape=inp.shape,
        seed=inp.seed,
        explain=_explained(st.session_state.get(keys.EXPLAIN, "pred")),
        cmap=cmap,
        scale=scale,
    )
    history.write(P, network_link.encode_view(state.net_view(shown, image)))


def _explained(choice: object) -> str:
    """The class-to-explain choice, or "pred" for anything that is no choice of that box (a stale label)."""
    return choice if choice in shapes_data.CLASSES else "pred"


@st.cache_data(max_entries=64, show_spinner=False)
def _link_picture(key: str, _x: np.ndarray) -> bytes | None:
    return network_link.link_picture(_as_uint8(_x))


def _as_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def _digest(x: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=16).hexdigest()


def display_controls() -> tuple[str, str]:
    """The sidebar's colour map and colour scale mode."""
    return display_controls_of(
        P, "auto: blue–white–red centred on 0 for signed maps (conv outputs), magma for ReLU and pooling."
    )


def drawing_now() -> bool:
    """Whether this run draws or takes a photo (the page lays out a column for the canvas or the camera before
    the sidebar is built)."""
    return st.session_state.get(keys.SOURCE) in ("draw", "camera")


# The pen's settings, set in the sidebar or (on a phone) in the page's picker: (key, its field, default).
PEN_DEFAULTS = ((keys.TOOL, "tool", "freedraw"), (keys.PEN, "pen", DRAW_PEN), (keys.INK, "ink", "#1f3a93"),
                (keys.PAPER, "paper", "#ffffff"))  # fmt: skip


def _defaults() -> None:
    st.session_state.setdefault(keys.SOURCE, "sample")
    st.session_state.setdefault(keys.SHAPE, state.DEFAULT_SHAPE)
    st.session_state.setdefault(keys.SEED, 0)
    for key, _, value in PEN_DEFAULTS:
        st.session_state.setdefault(key, value)


PHONE_SOURCES = ("sample", "draw", "upload", "camera")  # the camera itself is on the page, beside what it sees


def _from_phone(field: str) -> None:
    st.session_state[state.WIDGETS[field]] = st.session_state[keys.phone(field)]


def phone_picker() -> None:
    """The input choice on the page itself, shown only on narrow screens (the sidebar hides behind »): a
    generated sample of any shape, a drawing on the page's canvas, or an uploaded photo."""
    _defaults()
    ss = st.session_state
    with phone_only(P):
        source = ss[keys.SOURCE]
        ss[keys.phone("source")] = source if source in PHONE_SOURCES else "sample"
        st.selectbox(
            "What the network looks at",
            PHONE_SOURCES,
            format_func=SOURCES.get,
            key=keys.phone("source"),
            on_change=_from_phone,
            args=("source",),
        )
        if ss[keys.phone("source")] == "sample":
            c1, c2 = st.columns(2)
            ss[keys.phone("shape")], ss[keys.phone("seed")] = ss[keys.SHAPE], ss[keys.SEED]
            c1.selectbox("Shape", shapes_data.CLASSES, key=keys.phone("shape"), on_change=_from_phone, args=("shape",))
            c2.number_input(
                "Sample number",
                0,
                network_link.MAX_SEED,
                step=1,
                key=keys.phone("seed"),
                on_change=_from_phone,
                args=("seed",),
            )
        elif ss[keys.phone("source")] == "draw":
            _phone_pen()
        elif ss[keys.phone("source")] == "upload":
            st.file_uploader(
                f"Photo (up to {size_text(MAX_FILE_BYTES)})", type=list(EXTENSIONS), key=keys.phone("upload")
            )


def _from_phone_pen(key: str, field: str) -> None:
    st.session_state[key] = st.session_state[keys.phone(field)]


def _phone_pen() -> None:
    """The pen's settings in the page's picker, the sidebar's copies following them."""
    ss = st.session_state
    for key, field, _ in PEN_DEFAULTS:
        ss[keys.phone(field)] = ss[key]
    tool, pen, ink, paper = ((key, field) for key, field, _ in PEN_DEFAULTS)
    c1, c2 = st.columns(2)
    c1.selectbox("Tool", list(MODES), format_func=MODES.get, key=keys.phone("tool"), on_change=_from_phone_pen,
                 args=tool)  # fmt: skip
    c2.slider("Pen width", 4, 64, key=keys.phone("pen"), on_change=_from_phone_pen, args=pen)
    c3, c4 = st.columns(2)
    c3.color_picker("Ink", key=keys.phone("ink"), on_change=_from_phone_pen, args=ink)
    c4.color_picker("Paper", key=keys.phone("paper"), on_change=_from_phone_pen, args=paper)


def input_picker(draw_area) -> NetInput | None:
    """The sidebar's input choice; a drawing or a camera photo is made in ``draw_area`` (a container on the page).

    Returns None while there is nothing to run (an empty canvas, no upload yet, an unreadable file).
    """
    _defaults()
    options = [k for k in SOURCES if k != "link" or st.session_state.get(keys.LINK_IMAGE)]
    st.sidebar.subheader("Input")
    source = st.sidebar.radio("What the network looks at", options, format_func=SOURCES.get, key=keys.SOURCE)
    if source == "sample":
        shape = st.sidebar.selectbox("Shape", shapes_data.CLASSES, key=keys.SHAPE)
        seed = st.sidebar.number_input(
            "Sample number",
            0,
            network_link.MAX_SEED,
            step=1,
            key=keys.SEED,
            help="Each number draws a different picture of the shape: colours, size, position, rotation, noise.",
        )
        x = tiny_vgg.prepare_input(shapes_data.sample(shape, int(seed)))
        return NetInput(x, _digest(x), f"a generated {shape} (sample {seed})", "sample", shape, int(seed))
    shape, seed = st.session_state[keys.SHAPE], int(st.session_state[keys.SEED])
    if source == "link":
        try:
            # The link carries the network's own input: framed once already, so not framed again.
            x = tiny_vgg.prepare_input(cnn_core.decode_image(st.session_state[keys.LINK_IMAGE]), frame=False)
        except cnn_core.CnnError as e:
            st.sidebar.error(f"The picture in the link can't be read. {plain(e)}")
            return None
        return NetInput(x, _digest(x), "the picture in the link", "image", shape, seed)
    if source == "upload":
        up = st.sidebar.file_uploader(
            f"Photo (up to {size_text(MAX_FILE_BYTES)})",
            type=list(EXTENSIONS),
            key=keys.UPLOAD,
            help="The centre square is taken and shrunk to 64×64.",
        ) or st.session_state.get(keys.phone("upload"))
        hint = "Upload a photo to see what the network makes of it."
        return _photo(up, hint, "", f"your photo {code(up.name)}" if up else "", shape, seed)
    if source == "camera":
        with draw_area if draw_area is not None else st.sidebar:
            shot = st.camera_input("Take a photo", key=keys.CAMERA)
        hint = "Take a photo (the browser may first ask for permission to use the camera)."
        return _photo(shot, hint, "The camera photo can't be used: ", "your photo from the camera", shape, seed)
    return _drawn(draw_area, shape, seed)


def _photo(file, hint: str, failure: str, label: str, shape: str, seed: int) -> NetInput | None:
    """An uploaded or camera photo as the network's input; a hint while there is none, one error if unreadable."""
    if file is None:
        st.sidebar.info(hint)
        return None
    try:
        picture = _decode_upload(file.getvalue())
    except cnn_core.CnnError as e:
        st.sidebar.error(f"{failure}{plain(e)}")
        return None
    x = tiny_vgg.prepare_input(picture)
    return NetInput(x, _digest(x), label, "image", shape, seed)


def _decode_upload(data: bytes) -> np.ndarray:
    """The upload decoded once, shared read-only, in the compute service's "decoded photos" share."""
    key = ("network", hashlib.blake2b(data, digest_size=16).hexdigest())
    return SERVICE.remembered("decoded photos", key, lambda: _read_only(cnn_core.decode_image(data, downscale=True)))


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _drawn(area, shape: str, seed: int) -> NetInput | None:
    st.sidebar.caption(
        "Draw one shape on the canvas on the page: **draw it big or small, filled or outlined**, anywhere, at "
        "any angle. A **circle** is a filled disk, a **ring** a circle's outline; a star may be a pentagram "
        "and a cross two strokes. Anything else should come back as 'none of these'."
    )
    mode = st.sidebar.selectbox("Tool", list(MODES), format_func=MODES.get, key=keys.TOOL)
    width = st.sidebar.slider("Pen width", 4, 64, key=keys.PEN)
    c1, c2 = st.sidebar.columns(2)
    ink = c1.color_picker("Ink", key=keys.INK)
    paper = c2.color_picker("Paper", key=keys.PAPER)
    with area:
        st.write("")  # room for the canvas's toolbar, which sits above it
        picture = drawing_canvas(
            keys.CANVAS,
            width=256,
            height=256,
            mode=mode,
            stroke_width=width,
            stroke_color=ink,
            fill_color=ink,
            background_color=paper,
        )
        st.caption("Undo, redo, edit and clear are in the toolbar above the canvas.")
    if picture is None:
        return None
    x = tiny_vgg.prepare_input(picture)
    return NetInput(x, _digest(x), "your drawing", "image", shape, seed)
