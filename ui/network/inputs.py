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

P = "net"  # widget-key prefix of this page
SOURCES = {
    "sample": "Generated sample",
    "draw": "Draw a shape",
    "upload": "Upload a photo",
    "camera": "Camera",
    "link": "From the link",
}
EXPLAIN_KEY = f"{P}_explain"
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
    st.session_state[f"{P}_shape"] = view.shape
    st.session_state[f"{P}_seed"] = view.seed
    st.session_state[EXPLAIN_KEY] = view.explain
    st.session_state[f"{P}_cmap"] = view.cmap
    st.session_state[f"{P}_scale"] = view.scale
    if view.source == "image":
        st.session_state[f"{P}_link_image"] = view.image
        st.session_state[f"{P}_source"] = "link"
    else:
        st.session_state[f"{P}_source"] = "sample"
    return None


def sync_url(inp: NetInput, cmap: str, scale: str) -> None:
    """Keep the address bar equal to the view, so copying it shares exactly this."""
    image = _link_picture(inp.key, inp.x) if inp.view_source == "image" else None
    view = network_link.NetView(
        source=inp.view_source if (inp.view_source == "sample" or image) else "sample",
        shape=inp.shape,
        seed=inp.seed,
        explain=st.session_state.get(EXPLAIN_KEY, "pred"),
        cmap=cmap,
        scale=scale,
        image=image,
    )
    history.write(P, network_link.encode_view(view))


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
    return st.session_state.get(f"{P}_source") in ("draw", "camera")


# The pen's settings, set in the sidebar or (on a phone) in the page's picker.
PEN_DEFAULTS = {"tool": "freedraw", "pen": DRAW_PEN, "ink": "#1f3a93", "paper": "#ffffff"}


def _defaults() -> None:
    st.session_state.setdefault(f"{P}_source", "sample")
    st.session_state.setdefault(f"{P}_shape", shapes_data.CLASSES[3])
    st.session_state.setdefault(f"{P}_seed", 0)
    for field, value in PEN_DEFAULTS.items():
        st.session_state.setdefault(f"{P}_{field}", value)


PHONE_SOURCES = ("sample", "draw", "upload", "camera")  # the camera itself is on the page, beside what it sees


def _from_phone(field: str) -> None:
    st.session_state[f"{P}_{field}"] = st.session_state[f"{P}_phone_{field}"]


def phone_picker() -> None:
    """The input choice on the page itself, shown only on narrow screens (the sidebar hides behind »): a
    generated sample of any shape, a drawing on the page's canvas, or an uploaded photo."""
    _defaults()
    ss = st.session_state
    with phone_only(P):
        source = ss[f"{P}_source"]
        ss[f"{P}_phone_source"] = source if source in PHONE_SOURCES else "sample"
        st.selectbox(
            "What the network looks at",
            PHONE_SOURCES,
            format_func=SOURCES.get,
            key=f"{P}_phone_source",
            on_change=_from_phone,
            args=("source",),
        )
        if ss[f"{P}_phone_source"] == "sample":
            c1, c2 = st.columns(2)
            ss[f"{P}_phone_shape"], ss[f"{P}_phone_seed"] = ss[f"{P}_shape"], ss[f"{P}_seed"]
            c1.selectbox("Shape", shapes_data.CLASSES, key=f"{P}_phone_shape", on_change=_from_phone, args=("shape",))
            c2.number_input(
                "Sample number",
                0,
                network_link.MAX_SEED,
                step=1,
                key=f"{P}_phone_seed",
                on_change=_from_phone,
                args=("seed",),
            )
        elif ss[f"{P}_phone_source"] == "draw":
            _phone_pen()
        elif ss[f"{P}_phone_source"] == "upload":
            st.file_uploader(
                f"Photo (up to {size_text(MAX_FILE_BYTES)})", type=list(EXTENSIONS), key=f"{P}_phone_upload"
            )


def _phone_pen() -> None:
    """The pen's settings in the page's picker, the sidebar's copies following them."""
    ss = st.session_state
    for field in PEN_DEFAULTS:
        ss[f"{P}_phone_{field}"] = ss[f"{P}_{field}"]
    c1, c2 = st.columns(2)
    c1.selectbox("Tool", list(MODES), format_func=MODES.get, key=f"{P}_phone_tool", on_change=_from_phone,
                 args=("tool",))  # fmt: skip
    c2.slider("Pen width", 4, 64, key=f"{P}_phone_pen", on_change=_from_phone, args=("pen",))
    c3, c4 = st.columns(2)
    c3.color_picker("Ink", key=f"{P}_phone_ink", on_change=_from_phone, args=("ink",))
    c4.color_picker("Paper", key=f"{P}_phone_paper", on_change=_from_phone, args=("paper",))


def input_picker(draw_area) -> NetInput | None:
    """The sidebar's input choice; a drawing or a camera photo is made in ``draw_area`` (a container on the page).

    Returns None while there is nothing to run (an empty canvas, no upload yet, an unreadable file).
    """
    _defaults()
    options = [k for k in SOURCES if k != "link" or st.session_state.get(f"{P}_link_image")]
    st.sidebar.subheader("Input")
    source = st.sidebar.radio("What the network looks at", options, format_func=SOURCES.get, key=f"{P}_source")
    if source == "sample":
        shape = st.sidebar.selectbox("Shape", shapes_data.CLASSES, key=f"{P}_shape")
        seed = st.sidebar.number_input(
            "Sample number",
            0,
            network_link.MAX_SEED,
            step=1,
            key=f"{P}_seed",
            help="Each number draws a different picture of the shape: colours, size, position, rotation, noise.",
        )
        x = tiny_vgg.prepare_input(shapes_data.sample(shape, int(seed)))
        return NetInput(x, _digest(x), f"a generated {shape} (sample {seed})", "sample", shape, int(seed))
    shape, seed = st.session_state[f"{P}_shape"], int(st.session_state[f"{P}_seed"])
    if source == "link":
        try:
            # The link carries the network's own input: framed once already, so not framed again.
            x = tiny_vgg.prepare_input(cnn_core.decode_image(st.session_state[f"{P}_link_image"]), frame=False)
        except cnn_core.CnnError as e:
            st.sidebar.error(f"The picture in the link can't be read. {plain(e)}")
            return None
        return NetInput(x, _digest(x), "the picture in the link", "image", shape, seed)
    if source == "upload":
        up = st.sidebar.file_uploader(
            f"Photo (up to {size_text(MAX_FILE_BYTES)})",
            type=list(EXTENSIONS),
            key=f"{P}_upload",
            help="The centre square is taken and shrunk to 64×64.",
        ) or st.session_state.get(f"{P}_phone_upload")
        hint = "Upload a photo to see what the network makes of it."
        return _photo(up, hint, "", f"your photo {code(up.name)}" if up else "", shape, seed)
    if source == "camera":
        with draw_area if draw_area is not None else st.sidebar:
            shot = st.camera_input("Take a photo", key=f"{P}_camera")
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
    mode = st.sidebar.selectbox("Tool", list(MODES), format_func=MODES.get, key=f"{P}_tool")
    width = st.sidebar.slider("Pen width", 4, 64, key=f"{P}_pen")
    c1, c2 = st.sidebar.columns(2)
    ink = c1.color_picker("Ink", key=f"{P}_ink")
    paper = c2.color_picker("Paper", key=f"{P}_paper")
    with area:
        st.write("")  # room for the canvas's toolbar, which sits above it
        picture = drawing_canvas(
            f"{P}_canvas",
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
