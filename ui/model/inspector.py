"""Inside a trained or uploaded network: click a value of any layer and see how it came about; Grad-CAM.

``model_inspector`` is the Playground's inspector for ``cnn_core.activations.Activations``: pick a layer, click
a value of its map (or type its position), and see the worked sum per input channel (a Dense unit: its largest
terms and the sum of the rest), with the receptive field outlined on the picture the model receives and on
the photo. ``grad_cam_panel`` weighs any layer's maps for any output unit (``cnn_core.gradcam``). Both compute
nothing themselves: every number comes from the core.
"""

from __future__ import annotations

import html

import numpy as np
import streamlit as st
from streamlit_image_coordinates import streamlit_image_coordinates

from cnn_core import gradcam, render
from cnn_core.activations import Activations, Explanation
from cnn_core.errors import CnnError
from ui.common import keys as common_keys
from ui.common.inspector import _CSS, RENDERERS, _enlarge, _f, _outline
from ui.common.text import code, plain
from ui.model import keys, state

TOP_TERMS = 10
PICTURE_SIDE = 300


def _picture(values: np.ndarray) -> np.ndarray:
    """uint8 RGB of a (height, width) map on its own range, or of the input (height, width, 1|3)."""
    if values.ndim == 3:
        lo, hi = float(values.min()), float(values.max())
        scaled = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
        return render.input_rgb(scaled.astype(np.float32))
    return render.colorize(values, render.choose_scale(*render.finite_range(values), "auto"))


def _dense(ex: Explanation, d, prefix: str) -> None:
    top, rest = d.largest(TOP_TERMS)
    rows = "".join(
        f"<tr><td>{i}</td><td>({d.positions[i, 0]}, {d.positions[i, 1]}, {d.positions[i, 2]})</td>"
        f"<td>{_f(d.inputs[i])}</td><td>{_f(d.weights[i])}</td><td>{_f(d.products[i])}</td></tr>"
        for i in top
    )
    st.markdown(
        f"A **Dense** unit: {d.inputs.size:,} inputs × weights, plus a bias. The {len(top)} largest terms "
        "(input entry, its row, column and channel before flattening, input × weight = product):"
    )
    head = "<tr><th>entry</th><th>(row, col, ch)</th><th>input</th><th>weight</th><th>product</th></tr>"
    st.html(_CSS + f'<table class="insp-grid">{head}{rows}</table>')
    shown = float(d.products[top].sum())
    act = f"<br>then {html.escape(d.activation.worked)}" if d.activation is not None else ""
    st.html(
        '<div class="insp-sum">'
        f"Σ of these {len(top)}: {_f(shown)}<br>+ Σ of the other {d.inputs.size - len(top):,}: {_f(rest)}<br>"
        f"+ bias {_f(d.bias)} = <b>{d.total:.6g}</b>{act}<br>the layer holds <b>{ex.value:.6g}</b></div>"
    )


def _copy(ex: Explanation, d, prefix: str) -> None:
    st.markdown(f"{d.formula.capitalize()}: **{d.input:.6g}**.")


def _affine(ex: Explanation, d, prefix: str) -> None:
    st.markdown(f"{d.formula}  \n`{d.worked}`")


def _conv_with_activation(ex: Explanation, d, prefix: str) -> None:
    RENDERERS["conv2d"](ex, d, prefix)
    if d.activation is not None:
        st.markdown(f"Then the layer's own **{d.activation.function}**: `{d.activation.worked}`")


_MORE = {"dense": _dense, "flatten": _copy, "zero_padding": _copy, "batch_norm": _affine, "rescaling": _affine}


def _render(ex: Explanation, prefix: str) -> None:
    kind = ex.detail.kind
    if kind == "conv2d":
        _conv_with_activation(ex, ex.detail, prefix)
    elif kind in _MORE:
        _MORE[kind](ex, ex.detail, prefix)
    else:
        RENDERERS[kind](ex, ex.detail, prefix)


def _explainable(acts: Activations) -> list[str]:
    return [x.path for x in acts.layers if x.kind is not None and len(x.shape) in (1, 3)]


def model_inspector(acts: Activations, prefix: str, photo: np.ndarray | None = None) -> None:
    """Pick a layer and a value of it; see its worked sum and its receptive field.

    Args:
        acts: the network's layers on the current input (maps computed when asked for).
        prefix: the page's widget-key prefix.
        photo: the photo as uploaded, uint8 (height, width[, 3]); the field is outlined on it too.
    """
    paths = _explainable(acts)
    ss = st.session_state
    with st.container(border=True, key=keys.inspector(prefix)):
        st.markdown("#### Inside a layer")
        if not paths:
            st.info("No layer of this model has a kind that explains its values one by one.")
            return
        unexplained = [x for x in acts.layers[1:] if x.kind is None]
        st.caption(
            "Pick a layer, then click any value of its map (or type its position) to see the sum that made it "
            "and the part of the picture it looks at."
            + (f" {len(unexplained)} layer(s) can't be explained value by value, e.g. "
               f"{unexplained[0].path}: {unexplained[0].note}" if unexplained else "")
        )  # fmt: skip
        default = next((p for p in paths if acts[p].kind.name == "conv2d"), paths[0])
        if ss.get(keys.inspector(prefix, "layer")) not in paths:
            ss[keys.inspector(prefix, "layer")] = default
        path = st.selectbox("Layer", paths, key=keys.inspector(prefix, "layer"),
                            format_func=lambda p: f"{p} · {acts[p].name}")  # fmt: skip
        layer = acts[path]
        shape = layer.shape
        flat = len(shape) == 1
        h, w, c = (1, 1, shape[0]) if flat else shape
        for name, top in (("row", h), ("col", w), ("ch", c)):
            k = keys.inspector(prefix, name)
            if ss.get(k, 0) >= top:
                ss[k] = top // 2 if name != "ch" else 0
        pick, field = st.columns(2, gap="large")
        with pick:
            c1, c2, c3 = st.columns(3)
            if flat:
                ss[keys.inspector(prefix, "row")] = ss[keys.inspector(prefix, "col")] = 0
                c3.number_input(f"Unit (0–{c - 1})", 0, c - 1, key=keys.inspector(prefix, "ch"))
            else:
                c1.number_input("Row", 0, h - 1, key=keys.inspector(prefix, "row"))
                c2.number_input("Column", 0, w - 1, key=keys.inspector(prefix, "col"))
                c3.number_input("Channel", 0, c - 1, key=keys.inspector(prefix, "ch"))
            pick = state.pick_from_session(ss, prefix)
            row, col, ch = pick.row, pick.col, pick.channel
            if not flat:
                try:
                    maps = acts.maps(path)
                except CnnError as e:
                    st.error(f"This layer's maps can't be computed: {plain(e.detail)}.")
                    return
                pic = _enlarge(_picture(maps[:, :, ch]))
                streamlit_image_coordinates(
                    _outline(pic, (h, w), (row, col, row, col)), width=min(PICTURE_SIDE, pic.shape[1]),
                    key=keys.inspector(prefix, "click"), cursor="crosshair",
                    on_click=lambda: _from_click(prefix, (h, w)),
                )  # fmt: skip
        try:
            ex = acts.explain(path, row, col, ch)
        except CnnError as e:
            st.error(f"This value can't be explained: {plain(e.detail)}.")
            return
        with field:
            _field(acts, ex, photo)
        where = f"unit {ch}" if flat else f"row {row}, column {col}, channel {ch}"
        st.markdown(f"The value of {code(path)} ({layer.name}) at {where}: **{ex.value:.6g}**")
        st.caption(layer.kind.describe(layer.op, layer.in_shape, layer.shape))
        _render(ex, prefix)
        if layer.kind.window(layer.op) is not None and st.toggle(
            "Watch the window slide", key=keys.inspector(prefix, "anim")
        ):
            _slide(acts, layer, ex, prefix)


def _slide(acts: Activations, layer, ex: Explanation, prefix: str, key: str = "") -> None:
    """The sliding window around the explained value, on the part of the layer's input it reads (the figure's
    widget key: ``key``, by default the inspector's)."""
    from ui.common.animation import build_figure, caption, start_of

    x = acts.maps(layer.input)
    page = int(st.session_state.get(common_keys.inspector(prefix, "insp_page"), 0))
    in_ch = min(page, x.shape[2] - 1) if ex.detail.kind == "conv2d" else ex.channel
    fr = layer.kind.frames_at(layer.op, x, in_ch, ex.channel, (ex.row, ex.col))
    if fr is None:
        return
    st.caption(caption(fr, (ex.row, ex.col), layer.input, getattr(layer.op, "activation", "linear")))
    fig = build_figure(
        fr.crop, fr.out, fr.taps, fr.arithmetic, layer.path, start_of(fr, (ex.row, ex.col)),
        (fr.in_origin, fr.out_origin),
    )  # fmt: skip
    st.plotly_chart(fig, key=key or keys.inspector(prefix, "anim_fig"), config={"displaylogo": False}, theme=None)


# The panel beside an enlarged map (``ui.model.worked``) draws with the same pieces.
picture, render_detail, slide = _picture, _render, _slide


def select(prefix: str, path: str, row: int, col: int, channel: int) -> None:
    """Open the inspector on a value chosen elsewhere on the page (a click on a map above it); call before
    ``model_inspector`` draws its widgets in this run."""
    st.session_state.update(state.pick_changes(prefix, state.InspectorPick(path, int(row), int(col), int(channel))))


def _from_click(prefix: str, shape: tuple[int, int]) -> None:
    click = st.session_state.get(keys.inspector(prefix, "click"))
    if not click:
        return
    st.session_state[keys.inspector(prefix, "row")], st.session_state[keys.inspector(prefix, "col")] = state.clicked(
        click, shape
    )


def _field(acts: Activations, ex: Explanation, photo: np.ndarray | None) -> None:
    """The receptive field outlined on the picture the model receives and on the photo."""
    rf = ex.receptive_field
    x = acts.maps(acts.input.path)
    hh, ww = x.shape[:2]
    pic = _enlarge(_picture(x))
    a, b = st.columns(2)
    if rf.box is not None:
        a.image(_outline(pic, (hh, ww), rf.box), caption=f"what the model receives ({hh}×{ww})", width="stretch")
    else:
        a.image(pic, caption="what the model receives", width="stretch")
    if photo is not None and rf.box is not None:
        ph, pw = photo.shape[:2]
        t, left, bot, r = rf.box  # the model's pixels onto the photo's (the resize stretches each axis)
        box = (int(t * ph / hh), int(left * pw / ww), int((bot + 1) * ph / hh) - 1, int((r + 1) * pw / ww) - 1)
        rgb = photo if photo.ndim == 3 else np.repeat(photo[:, :, None], 3, axis=2)
        b.image(_outline(render.shrink_for_display(rgb[:, :, :3], 480), (ph, pw), box),
                caption=f"the photo ({pw}×{ph})", width="stretch")  # fmt: skip
    size = f"{rf.size[0]}×{rf.size[1]}"
    where = "lies wholly in padding" if rf.box is None else (
        f"covers rows {rf.box[0]}–{rf.box[2]} and columns {rf.box[1]}–{rf.box[3]} of the model's input")  # fmt: skip
    st.markdown(f"Its **receptive field** is {size} pixels of the model's input; it {where}.")


def grad_cam_panel(
    computer, acts: Activations, batch: np.ndarray, prefix: str, names=None, cache_key: str = "", source=None
) -> None:
    """Grad-CAM for the layer and output unit the visitor picks (default: the last convolution, the top unit).

    Args:
        computer: the model's MapComputer.
        acts: the network's layers on this input.
        batch: float32 (1, height, width, channels), what the model receives.
        prefix: the page's widget-key prefix.
        names: class names, when known.
        cache_key: identifies the model and photo, for the cache.
        source: (file name, bytes) of the model's ``.keras`` file. Given, the gradients run in the separate
            gradient process (``cnn_core.gradients``: with oneDNN on they can crash the process that runs them);
            a model built in code (an ImageNet backbone) has no file and is taken here.
    """
    ss = st.session_state
    with st.container(border=True, key=keys.gradcam(prefix)):
        st.markdown("#### Grad-CAM: where the network looked")
        layers = [x.path for x in acts.layers[1:] if len(x.shape) == 3]
        if not layers:
            st.info("No layer of this model has image-shaped maps to weigh.")
            return
        default = gradcam.last_convolution(acts) or layers[-1]
        if ss.get(keys.gradcam(prefix, "layer")) not in layers:
            ss[keys.gradcam(prefix, "layer")] = default
        layer = st.selectbox("Layer whose maps are weighed", layers, key=keys.gradcam(prefix, "layer"),
                             help="Grad-CAM's usual choice is the last convolution (the default).")  # fmt: skip
        out = _output(cache_key, computer, batch)
        n = out.size
        label = (lambda i: f"{i}: {names[i]}") if names is not None and len(names) == n else (lambda i: f"unit {i}")
        unit_key = keys.gradcam(prefix, "unit")
        if ss.get(unit_key) is None or ss[unit_key] >= n:
            ss[unit_key] = int(np.argmax(out))
        unit = st.selectbox("Output unit (class)", list(range(n)), key=unit_key, format_func=label)
        try:
            cam = _cam(cache_key, layer, int(unit), computer, batch, source)
        except CnnError as e:
            st.error(f"Grad-CAM can't be shown here: {plain(e.detail)}.")
            return
        x = batch[0]
        base = _picture(x).astype(np.float32)
        heat = render.colorize(cam.heat, render.choose_scale(0.0, 1.0, "magma")).astype(np.float32)
        blend = (0.5 * base + 0.5 * heat).astype(np.uint8)
        a, b = st.columns(2)
        a.image(_enlarge(blend), caption=f"Grad-CAM of {label(int(unit))} on {layer}", width="stretch")
        b.image(_enlarge(_picture(cam.heat)), caption="the heat alone (1 = the most)", width="stretch")
        st.caption(
            f"The gradient of the {cam.score} of {label(int(unit))} with respect to each of {layer}'s "
            f"{cam.alpha.size} maps, averaged over the map, weighs that map; the weighted sum, with negatives set "
            "to 0, is scaled to 0–1 and stretched over the picture."
        )


@st.cache_resource(max_entries=16, show_spinner=False)
def _output(key: str, _computer, _batch: np.ndarray) -> np.ndarray:
    return np.asarray(_computer.final_output(_batch)).reshape(-1)


@st.cache_resource(max_entries=16, show_spinner="Computing Grad-CAM…")
def _cam(key: str, layer: str, unit: int, _computer, _batch: np.ndarray, _source=None):
    if _source is None:
        return gradcam.grad_cam(_computer, _batch, layer, unit)
    from cnn_core import gradients

    name, data = _source
    return gradients.model_grad_cam(key.split("-")[0], name, data, _batch, layer, unit)


@st.cache_resource(max_entries=4, show_spinner=False)
def activations(key: str, _computer, _batch: np.ndarray) -> Activations:
    """The network's layers on one input, shared by the sessions that show the same model and photo."""
    from cnn_core import model_maps

    return model_maps.activations(_computer, _batch)
