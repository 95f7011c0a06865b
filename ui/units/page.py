"""The unit page: one channel of one layer, what it looks for and what it does to the current photo.

Ray is imported only inside ``top_pictures`` when a scan is asked for: rendering the page never starts it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from cnn_core import model_maps, render, shapes_data, unit_cam
from cnn_core.errors import CnnError, ModelError
from ui.common import inputs
from ui.common.figures import PLOTLY_CONFIG, map_figure
from ui.common.service import SERVICE
from ui.common.text import plain
from ui.common.unit_links import TINY, YOURS, unit_href
from ui.units import keys, state

P = keys.P
DEFAULT_UNIT = state.DEFAULT_UNIT
TINY_PATH = Path(__file__).resolve().parents[2] / "assets" / "tiny_vgg.keras"
MODEL_BYTES_KEY = keys.MODEL_BYTES  # (name, bytes) of the Your model page's model, set by ui/model/source.py
VIS_STEPS = 128
MAX_PAGE_PICTURES = 1000  # what one scan in the app may read (a ZIP is capped to this too)
SHAPES_PER_CLASS = 100
TOP = 9


@dataclass(frozen=True)
class Unit:
    """The model and the unit the page shows."""

    key: str  # the model file's content hash
    name: str
    label: str
    data: bytes
    model: object
    info: model_maps.ModelInfo
    layer: model_maps.LayerInfo
    channel: int
    kind: str  # TINY or YOURS


def _load(key: str, name: str, data: bytes):
    """The model and its description, kept in the compute service's "loaded models" share by what it holds."""
    return SERVICE.remembered("loaded models", ("unit", key, name), lambda: _loaded(name, data), lambda v: v[2])[:2]


def _loaded(name: str, data: bytes):
    from cnn_core import model_file

    with st.spinner("Checking and loading the model…"):
        model, checked = model_file.load_model(data, name)
    return model, model_maps.describe(model), model_file.resident_bytes(checked)


def unit_from_url() -> tuple[Unit | None, str | None]:
    """The unit the address names (``?unit=LAYER:CHANNEL[&model=yours]``), or the Tiny VGG's default; a warning
    for an address that can't be used (the defaults are shown then)."""
    stored = st.session_state.get(MODEL_BYTES_KEY)
    request, warning = state.requested(st.query_params, stored is not None)
    kind = request.kind
    if kind == YOURS:
        name, data, label = stored[0], stored[1], stored[0]
    else:
        kind, name, data, label = TINY, TINY_PATH.name, TINY_PATH.read_bytes(), "Tiny VGG (trained network)"
    key = hashlib.blake2b(data, digest_size=16).hexdigest()
    try:
        model, info = _load(key, name, data)
    except ModelError as e:
        st.error(f"The model can't be loaded: {plain(e.detail)}.")
        return None, warning
    layers = {x.path: x for x in info.image_layers if not x.note}
    unit, warning = state.fitted(request, {p: int(x.shape[2]) for p, x in layers.items()}, label, warning)
    return Unit(key, name, label, data, model, info, layers[unit.layer], unit.channel, kind), warning


def neighbours(u: Unit) -> None:
    """Links to the previous and next channel and layer (the same channel where it exists)."""
    paths = [x for x in u.info.image_layers if not x.note]
    i = [x.path for x in paths].index(u.layer.path)
    c = int(u.layer.shape[2])
    links = []
    if u.channel > 0:
        links.append(f"[← channel {u.channel - 1}]({unit_href(u.layer.path, u.channel - 1, u.kind)})")
    if u.channel < c - 1:
        links.append(f"[channel {u.channel + 1} →]({unit_href(u.layer.path, u.channel + 1, u.kind)})")
    for j, arrow in ((i - 1, "↑ previous layer"), (i + 1, "↓ next layer")):
        if 0 <= j < len(paths):
            other = paths[j]
            ch = min(u.channel, int(other.shape[2]) - 1)
            links.append(f"[{arrow}: {plain(other.path)}:{ch}]({unit_href(other.path, ch, u.kind)})")
    st.markdown(" · ".join(links))


# --------------------------------------------------------------------------- the current photo

DEFAULT_SHAPE = shapes_data.CLASSES[4]  # the Tiny VGG's generated sample, set in the sidebar or the page


def _from_phone(key: str, phone: str) -> None:
    st.session_state[key] = st.session_state[phone]


def phone_picker(u: Unit) -> None:
    """The current photo picked on the page itself, shown only on narrow screens (the sidebar hides behind
    »): a generated sample for the Tiny VGG, a sample photo or an upload for any other model."""
    if u.kind != TINY:
        inputs.phone_picker(P, default_sample="chelsea")
        return
    ss = st.session_state
    ss.setdefault(keys.SHAPE, DEFAULT_SHAPE)
    ss.setdefault(keys.SEED, 0)
    with inputs.phone_only(P):
        ss[keys.PHONE_SHAPE], ss[keys.PHONE_SEED] = ss[keys.SHAPE], ss[keys.SEED]
        c1, c2 = st.columns(2)
        c1.selectbox("Generated sample", shapes_data.CLASSES, key=keys.PHONE_SHAPE, on_change=_from_phone,
                     args=(keys.SHAPE, keys.PHONE_SHAPE))  # fmt: skip
        c2.number_input("Sample number", 0, 9999, key=keys.PHONE_SEED, on_change=_from_phone,
                        args=(keys.SEED, keys.PHONE_SEED))  # fmt: skip


def sidebar_sample() -> tuple[np.ndarray, str]:
    """The Tiny VGG's generated sample chosen in the sidebar (the page's phone picker sets the same keys)."""
    st.session_state.setdefault(keys.SHAPE, DEFAULT_SHAPE)
    st.session_state.setdefault(keys.SEED, 0)
    st.sidebar.subheader("Photo")
    shape = st.sidebar.selectbox("Generated sample", shapes_data.CLASSES, key=keys.SHAPE)
    seed = st.sidebar.number_input("Sample number", 0, 9999, key=keys.SEED)
    return shapes_data.sample(shape, seed), f"shape-{shape}-{seed}"


# --------------------------------------------------------------------------- the unit on its own


@st.cache_resource(max_entries=64, show_spinner=False)
def _visualisation(key: str, layer: str, channel: int, steps: int, name: str, _data: bytes):
    from cnn_core import gradients

    # In the gradient worker (oneDNN off: gradients with it on can crash the process that runs them);
    # bounded by its step count, since a stop request can't reach another process.
    return gradients.on_model("visualise", key, name, _data, layer, channel, steps=steps, seed=0)


def feature_visualisation(u: Unit) -> None:
    st.markdown("##### Feature visualisation")
    with st.spinner(f"Gradient ascent, {VIS_STEPS} steps…"):
        try:
            v = _visualisation(u.key, u.layer.path, u.channel, VIS_STEPS, u.name, u.data)
        except CnnError as e:
            st.error(f"No feature visualisation: {plain(e.detail)}.")
            return
    st.image(_enlarged(v.image, 256), width=256)
    st.caption(
        f"The picture that excites this channel most, found by {v.steps} steps of gradient ascent on its mean "
        f"activation ({v.start:.3g} at the seeded start, {v.activation:.3g} now), jittered, scaled and rotated "
        "at random each step, from a Fourier, colour-decorrelated start."
    )


def weights(u: Unit) -> None:
    st.markdown("##### Weights")
    w = unit_cam.unit_weights(u.model, u.layer.path, u.channel)
    if w is None:
        st.caption(
            f"{plain(u.layer.path)} ({u.layer.cls}) has no weights of its own, and no convolution makes it directly."
        )
        return
    from ui.network.pictures import kernel_grid

    png, scale = kernel_grid(w.kernel[:, :, :, None], cell=max(4, 48 // max(w.kernel.shape[:2])))
    st.image(png, width=min(640, 60 * w.kernel.shape[2]))
    bias = f" · bias {w.bias:.4g}" if w.bias is not None else ""
    st.caption(
        f"{plain(w.layer)}, filter {u.channel}: one {w.kernel.shape[0]}×{w.kernel.shape[1]} kernel per input channel "
        f"({w.kernel.shape[2]}), blue {scale.vmin:.3g} … red {scale.vmax:.3g}{bias}. {plain(w.note)}"
    )


# --------------------------------------------------------------------------- on the current photo


def photo_batch(u: Unit, picture) -> np.ndarray | None:
    try:
        return model_maps.prepare_photo(picture, u.info).batch
    except CnnError as e:
        st.error(f"This photo can't be fed to the model: {plain(e.detail)}.")
        return None


def on_photo(u: Unit, batch: np.ndarray, photo_key: str) -> None:
    left, right = st.columns(2, gap="large")
    maps = _maps(u.key, u.layer.path, photo_key, u.model, batch)
    values = maps[:, :, u.channel]
    with left:
        st.markdown("##### Its map on the current photo")
        scale = render.scale_for(*render.finite_range(values), "auto")
        st.plotly_chart(map_figure(values, scale, height=320), config=PLOTLY_CONFIG, key=keys.MAP, theme=None)
        st.caption(
            f"{values.shape[0]}×{values.shape[1]} · min {values.min():.4g} · max {values.max():.4g} · "
            f"mean {values.mean():.4g}"
        )
    with right:
        st.markdown("##### Grad-CAM for this unit")
        try:
            cam = _cam(u.key, u.layer.path, u.channel, photo_key, u.name, u.data, batch)
        except CnnError as e:
            st.warning(plain(e.detail))
            return
        st.image(_overlay(batch[0], cam.heat, u.info), width=320)
        st.caption(
            f"Where in the photo this unit's mean activation comes from: the gradient of it with respect to the "
            f"maps of {plain(cam.read)}, averaged per map, weighs those maps (ReLU of the sum, resized to the input)."
        )


@st.cache_resource(max_entries=32, show_spinner=False)
def _maps(key: str, layer: str, photo_key: str, _model, _batch: np.ndarray) -> np.ndarray:
    return unit_cam.unit_maps(_model, layer, _batch)


@st.cache_resource(max_entries=32, show_spinner=False)
def _cam(key: str, layer: str, channel: int, photo_key: str, name: str, _data: bytes, _batch: np.ndarray):
    from cnn_core import gradients

    # In the gradient worker, as every gradient the pages take (cnn_core.gradients).
    return gradients.on_model("unit_grad_cam", key, name, _data, layer, channel, _batch)


def _overlay(fed: np.ndarray, heat: np.ndarray, info) -> np.ndarray:
    """The photo as fed, greyed, under the heat map in magma where it is warm."""
    rng = model_maps.default_range(info)
    x = fed * (255.0 if rng == "0-1" else 1.0) if rng != "-1-1" else (fed + 1) * 127.5
    grey = np.clip(x, 0, 255).mean(axis=2, keepdims=True)
    hot = render.colorize(heat, render.scale_for(0.0, 1.0, "magma")).astype(np.float32)
    a = heat[:, :, None] * 0.75
    out = (grey * (1 - a) + hot * a).astype(np.uint8)
    return _enlarged(out, 320)


def _enlarged(pixels: np.ndarray, side: int) -> np.ndarray:
    p = pixels[:, :, 0] if pixels.ndim == 3 and pixels.shape[2] == 1 else pixels
    f = max(1, side // max(p.shape[:2]))
    return np.repeat(np.repeat(p, f, axis=0), f, axis=1)


# --------------------------------------------------------------------------- top pictures, on Ray


# Finished scans of this server process, by (model, layer, pictures): the first visitor pays, others reuse.
# Each keeps its result and the pictures it shows (the top ones), not every picture scanned.
_SCANS = SERVICE.cache("unit scans")


def _kept(result, items) -> tuple:
    shown = {h.image for hits in result.channels for h in hits}
    return result, [it for it in items if it.name in shown]


def picture_source(u: Unit):
    """The pictures to scan, chosen in the page: (key, items, skipped, label) or None."""
    from cnn_core import unit_sources

    choices = (["Generated shapes"] if u.kind == TINY else []) + ["Bundled samples", "A ZIP of pictures"]
    choice = st.radio("Pictures", choices, horizontal=True, key=keys.SCAN_SOURCE)
    if choice == "Generated shapes":
        n = SHAPES_PER_CLASS * 6
        return f"shapes-{n}", None, [], f"{n} generated shapes (seed 0)"
    if choice == "Bundled samples":
        return "samples", unit_sources.sample_items(), [], "the bundled sample photos"
    up = st.file_uploader(
        f"A ZIP of pictures (the first {MAX_PAGE_PICTURES:,} are scanned)", type=["zip"], key=keys.ZIP
    )
    if up is None:
        return None
    data = up.getvalue()
    try:
        items, skipped = unit_sources.zip_items(data, max_pictures=MAX_PAGE_PICTURES)
    except CnnError as e:
        st.error(f"{plain(up.name)} can't be used: {plain(e.detail)}.")
        return None
    if not items:
        st.error(f"{plain(up.name)} holds no pictures (png, jpg, webp, bmp, gif or tiff).")
        return None
    return (
        "zip-" + hashlib.blake2b(data, digest_size=16).hexdigest(),
        items,
        skipped,
        f"{len(items)} pictures of {plain(up.name)}",
    )


def top_pictures(u: Unit) -> None:
    st.markdown("##### Top pictures")
    source = picture_source(u)
    if source is None:
        return
    key, items, skipped, label = source
    scan_key = (u.key, u.layer.path, key)
    done = _SCANS.get(scan_key)
    if done is None:
        st.caption(
            f"The {TOP} pictures of {label} that excite each channel of {plain(u.layer.path)} most, found by running "
            "all of them through the model on Ray Data. Scanned once per server, then kept."
        )
        if not st.button("Find the top pictures", key=keys.SCAN, icon=":material/search:"):
            return
        done = _run_scan(u, key, items, skipped)
        if done is None:
            return
        done = _kept(*done)
        _SCANS.put(scan_key, done, sum(len(it.data) for it in done[1]) + 64 * sum(map(len, done[0].channels)))
        st.rerun()  # drawn again from the kept scan, without the button
    result, items = done
    hits = result.channels[u.channel]
    st.caption(
        f"Of {result.scanned:,} pictures ({label}; {len(result.skipped)} unreadable, skipped), the {len(hits)} "
        f"where channel {u.channel} reaches its highest values. Red: the receptive field of that value."
    )
    by_name = {it.name: it for it in items}
    cols = st.columns(min(len(hits), 5) or 1)
    from cnn_core import units

    for r, h in enumerate(hits):
        pixels = units.fed_picture(units.read_picture(by_name[h.image]), u.info)
        with cols[r % len(cols)]:
            st.image(unit_cam.outlined(pixels, h.box), width="stretch")
            st.caption(f"{h.value:.3g} · {plain(h.image)}")


def _run_scan(u: Unit, key: str, items, skipped):
    from cnn_core import unit_sources, units

    if items is None:
        with st.spinner("Drawing the shapes…"):
            items = unit_sources.shape_items(SHAPES_PER_CLASS, seed=0)
    items = items[:MAX_PAGE_PICTURES]
    bar = st.progress(0.0, text="Starting Ray and the model…")
    try:
        result = units.scan(
            u.data,
            u.name,
            items,
            u.layer.path,
            top=TOP,
            workers=1,
            skipped=skipped,
            progress=lambda d, n: bar.progress(d / n, text=f"{d:,} of {n:,} pictures"),
        )
    except CnnError as e:
        st.error(f"The scan stopped: {plain(e.detail)}.")
        return None
    bar.empty()
    return result, items
