"""Editing the layer stack: the spec dict in session state and the widgets that change it.

The spec dict under ``SPEC_KEY`` is the only copy of the stack. Every widget is
drawn from it (its session value is set just before it is drawn) and writes back
through a callback, so loading a file, a starting point or a link only has to
replace that dict. Layers carry stable ids (a list beside the spec, since the
file format has no room for them) that key the few bits of view state a layer
owns: whether it is open, which filter and channel are being edited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from cnn_core.errors import SpecError
from cnn_core.kernels import INITIALISERS, PRESETS
from cnn_core.spec import (
    ACTIVATIONS,
    MAX_DILATION,
    MAX_KERNEL,
    MAX_LAYERS,
    MAX_PAD,
    MAX_POOL,
    MAX_STRIDE,
    Activation,
    Conv2D,
    InputSpec,
    Layer,
    Pool2D,
    Spec,
    parse_spec,
)

from . import stack_model as model
from .text import code, plain

P = "ls"  # widget-key prefix of the layer stack page
SPEC_KEY = f"{P}_spec"
IDS_KEY = f"{P}_ids"
OPEN_KEY = f"{P}_open"
FOCUS_KEY = f"{P}_focus"
STARTER_KEY = f"{P}_starter"
IMPORT_KEY = f"{P}_import"

SLIDER_RANGES = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
MAX_SLIDER_SIDE = 7  # larger kernels are edited in the number grid
GRID_LIMIT = 1e30
SOURCE_LABELS = {"preset": "Preset", "init": "Random (seeded)", "weights": "By hand"}
INIT_LABELS = {"he_normal": "He normal", "glorot_uniform": "Glorot uniform"}
PAD_MODES = {"same": "same", "valid": "valid", "zeros": "zeros on every side", "explicit": "explicit per side"}

ss = st.session_state


# --------------------------------------------------------------------------- state


def init_state() -> None:
    """Start from the default starting point the first time the page runs in a session."""
    if SPEC_KEY not in ss:
        load_spec(model.load_starter(model.DEFAULT_STARTER), starter=model.DEFAULT_STARTER)


def load_spec(spec: Spec | dict | str, starter: str | None = None) -> None:
    """Replace the whole stack (a file, a starting point, a link). Raises SpecError if it isn't valid."""
    spec = parse_spec(spec)
    ss[SPEC_KEY] = spec.to_dict()
    ss[IDS_KEY] = [_new_id() for _ in spec.layers]
    ss[OPEN_KEY] = None
    ss[FOCUS_KEY] = None
    ss[STARTER_KEY] = starter


def current_spec() -> Spec:
    """The stack as a parsed spec; raises SpecError if something stored a broken dict."""
    return parse_spec(ss[SPEC_KEY])


def layer_ids(spec: Spec) -> list[str]:
    """Stable ids of the layers, in order (new ones if the list got out of step with the spec)."""
    ids = ss.get(IDS_KEY)
    if not isinstance(ids, list) or len(ids) != len(spec.layers):
        ids = ss[IDS_KEY] = [_new_id() for _ in spec.layers]
    return ids


def _new_id() -> str:
    n = ss.get(f"{P}_next_id", 0) + 1
    ss[f"{P}_next_id"] = n
    return f"L{n}"


def _store(spec: Spec, ids: list[str] | None = None) -> None:
    spec = parse_spec(spec.to_dict())  # keep the stored dict valid whatever an edit did
    ss[SPEC_KEY] = spec.to_dict()
    if ids is not None:
        ss[IDS_KEY] = ids


def _note(lid: str, text: str | None) -> None:
    ss[f"{P}_{lid}_note"] = text


def _edit(lid: str, change: Callable[[Layer], Layer]) -> None:
    """Callback: apply ``change`` to the layer with id ``lid``."""
    spec = current_spec()
    ids = layer_ids(spec)
    if lid not in ids:
        return
    i = ids.index(lid)
    layers = list(spec.layers)
    try:
        layers[i] = change(layers[i])
        _store(replace(spec, layers=tuple(layers)))
        _note(lid, None)
    except SpecError as e:
        _note(lid, e.detail)


def _edit_input(change: Callable[[InputSpec], InputSpec]) -> None:
    spec = current_spec()
    try:
        _store(replace(spec, input=change(spec.input)))
    except SpecError as e:
        ss[f"{P}_input_note"] = e.detail


def _draw(widget, key: str, value, lid: str | None, change, *args, **kwargs):
    """Draw a widget showing ``value`` (from the spec) whose changes go through ``change``."""
    ss[key] = value
    if lid is None:
        return widget(*args, key=key, on_change=_edit_input, args=(change,), **kwargs)
    return widget(*args, key=key, on_change=_edit, args=(lid, change), **kwargs)


def _value(key: str):
    return ss[key]


# --------------------------------------------------------------------------- whole-stack actions


def _load_starter(name: str) -> None:
    load_spec(model.load_starter(name), starter=name)
    ss[f"{P}_import_msg"] = None


def _restack(change: Callable[[list, list[str]], tuple[list, list[str]] | None]) -> None:
    """Callback helper: apply ``change`` to the layer list and its ids together (None leaves them as they are)."""
    spec = current_spec()
    done = change(list(spec.layers), list(layer_ids(spec)))
    if done is not None and len(done[0]) <= MAX_LAYERS:
        _store(replace(spec, layers=tuple(done[0])), done[1])


def _add(kind: str) -> None:
    lid = _new_id()
    _restack(lambda layers, ids: ([*layers, model.new_layer(kind)], [*ids, lid]))
    ss[OPEN_KEY] = lid


def _remove(lid: str) -> None:
    def change(layers, ids):
        if lid in ids:
            i = ids.index(lid)
            return layers[:i] + layers[i + 1 :], ids[:i] + ids[i + 1 :]
        return None

    _restack(change)
    if ss.get(OPEN_KEY) == lid:
        ss[OPEN_KEY] = None


def _duplicate(lid: str) -> None:
    new = _new_id()

    def change(layers, ids):
        if lid in ids:
            i = ids.index(lid)
            return layers[: i + 1] + [layers[i]] + layers[i + 1 :], ids[: i + 1] + [new] + ids[i + 1 :]
        return None

    _restack(change)
    if new in ss[IDS_KEY]:
        ss[OPEN_KEY] = new


def _move(lid: str, delta: int) -> None:
    def change(layers, ids):
        if lid in ids:
            i = ids.index(lid)
            return model.moved(layers, i, delta), model.moved(ids, i, delta)
        return None

    _restack(change)


def _toggle_open(lid: str) -> None:
    ss[OPEN_KEY] = None if ss.get(OPEN_KEY) == lid else lid


def starting_points() -> None:
    """One button per starting point in assets/stacks."""
    st.markdown("**Start from**")
    with st.container(horizontal=True, gap="small"):
        for name, (label, about) in model.STARTERS.items():
            st.button(label, key=f"{P}_start_{name}", help=about, on_click=_load_starter, args=(name,))
    name = ss.get(STARTER_KEY)
    if name in model.STARTERS:
        st.caption(f"Loaded **{model.STARTERS[name][0]}**: {model.STARTERS[name][1]}")


# --------------------------------------------------------------------------- the input


def input_controls(spec: Spec, image_shape: tuple[int, ...] | None) -> None:
    """Sidebar controls for the spec's input: colour and the size the photo is resized to."""
    inp = spec.input
    _draw(
        st.sidebar.radio,
        f"{P}_color",
        inp.color,
        None,
        lambda i: replace(i, color=_value(f"{P}_color")),
        "Colour",
        ["grayscale", "rgb"],
        horizontal=True,
        help="rgb gives the first layer three input channels (red, green, blue).",
    )

    def toggle(i: InputSpec) -> InputSpec:
        if not _value(f"{P}_resize"):
            return replace(i, size=None)
        h, w = image_shape[:2] if image_shape else (128, 128)
        return replace(i, size=(min(int(h), 4096), min(int(w), 4096)))

    _draw(st.sidebar.checkbox, f"{P}_resize", inp.size is not None, None, toggle, "Resize before the network")
    if inp.size is not None:
        c1, c2 = st.sidebar.columns(2)
        with c1:
            _draw(
                st.number_input,
                f"{P}_h",
                inp.size[0],
                None,
                lambda i: replace(i, size=(int(_value(f"{P}_h")), i.size[1])),
                "Height",
                1,
                4096,
            )
        with c2:
            _draw(
                st.number_input,
                f"{P}_w",
                inp.size[1],
                None,
                lambda i: replace(i, size=(i.size[0], int(_value(f"{P}_w")))),
                "Width",
                1,
                4096,
            )
    note = ss.pop(f"{P}_input_note", None)
    if note:
        st.sidebar.warning(plain(note))


# --------------------------------------------------------------------------- the layer list


def layer_list(spec: Spec, sp: model.StackPlan, preview: Callable[[int, int], None] | None = None) -> None:
    """Every layer as a row with its buttons; the open one shows all its settings below its row.

    ``preview(i, j)``, if given, draws what filter j of layer i outputs, beside that filter's settings.
    """
    ids = layer_ids(spec)
    depths = model.input_channels(spec)
    if not spec.layers:
        st.info("No layers yet: add one below, or pick a starting point.")
    for i, (lid, layer) in enumerate(zip(ids, spec.layers)):
        is_open = ss.get(OPEN_KEY) == lid
        with st.container(border=True, key=f"{P}_row_{lid}"):
            if i + 1 < len(sp.plans):
                status = f"→ {model.shape_text(sp.plans[i + 1].shape)}"
            elif i == sp.bad_layer:
                status = ":red[✗ can't be built]"
            else:
                status = ":gray[not run]"
            with st.container(horizontal=True, vertical_alignment="center", gap="small"):
                st.markdown(f"**{i + 1} · {model.LAYER_TITLES[layer.type]}** {status}", width="stretch")
                st.button(
                    ":material/close_fullscreen:" if is_open else ":material/tune:",
                    key=f"{P}_{lid}_open",
                    help="Close the settings" if is_open else "Edit this layer's settings",
                    on_click=_toggle_open,
                    args=(lid,),
                    type="primary" if is_open else "secondary",
                )
                st.button(
                    ":material/arrow_upward:",
                    key=f"{P}_{lid}_up",
                    help="Move up",
                    disabled=i == 0,
                    on_click=_move,
                    args=(lid, -1),
                    type="tertiary",
                )
                st.button(
                    ":material/arrow_downward:",
                    key=f"{P}_{lid}_down",
                    help="Move down",
                    disabled=i == len(ids) - 1,
                    on_click=_move,
                    args=(lid, 1),
                    type="tertiary",
                )
                st.button(
                    ":material/content_copy:",
                    key=f"{P}_{lid}_dup",
                    help="Duplicate",
                    disabled=len(ids) >= MAX_LAYERS,
                    on_click=_duplicate,
                    args=(lid,),
                    type="tertiary",
                )
                st.button(
                    ":material/delete:",
                    key=f"{P}_{lid}_del",
                    help="Remove",
                    on_click=_remove,
                    args=(lid,),
                    type="tertiary",
                )
            st.caption(model.describe(layer))
            if i == sp.bad_layer and sp.error is not None:
                st.caption(f":red[{plain(sp.error.detail).replace(']', chr(92) + ']')}]")
            if is_open:
                note = ss.get(f"{P}_{lid}_note")
                if note:
                    st.warning(plain(note))
                if isinstance(layer, Conv2D):
                    _conv_panel(spec, i, lid, layer, depths[i], preview)
                elif isinstance(layer, Activation):
                    _activation_panel(lid, layer)
                else:
                    _pool_panel(lid, layer)
    st.markdown("**Add a layer at the end**")
    with st.container(horizontal=True, gap="small"):
        for kind, label in (("conv2d", "Convolution"), ("activation", "Activation"), ("pool2d", "Pooling")):
            st.button(
                label,
                key=f"{P}_add_{kind}",
                on_click=_add,
                args=(kind,),
                icon=":material/add:",
                disabled=len(spec.layers) >= MAX_LAYERS,
            )


def _pair_inputs(lid: str, name: str, label: str, pair: tuple[int, int], hi: int, setter) -> None:
    """Two number inputs (height, width) for a pair setting such as stride or dilation."""
    k = f"{P}_{lid}_{name}"
    c1, c2 = st.columns(2)
    with c1:
        _draw(
            st.number_input,
            f"{k}_h",
            pair[0],
            lid,
            lambda L: setter(L, (int(_value(f"{k}_h")), getattr(L, name)[1])),
            f"{label} ↓",
            1,
            hi,
        )
    with c2:
        _draw(
            st.number_input,
            f"{k}_w",
            pair[1],
            lid,
            lambda L: setter(L, (getattr(L, name)[0], int(_value(f"{k}_w")))),
            f"{label} →",
            1,
            hi,
        )


def _activation_panel(lid: str, layer: Activation) -> None:
    k = f"{P}_{lid}"
    _draw(
        st.selectbox,
        f"{k}_fn",
        layer.function,
        lid,
        lambda L: replace(L, function=_value(f"{k}_fn")),
        "Function",
        ACTIVATIONS,
    )
    if layer.function == "leaky_relu":
        _draw(
            st.number_input,
            f"{k}_alpha",
            float(layer.alpha),
            lid,
            lambda L: replace(L, alpha=float(_value(f"{k}_alpha"))),
            "Slope below 0 (alpha)",
            -1000.0,
            1000.0,
            step=0.05,
            format="%.4g",
        )


def _pool_panel(lid: str, layer: Pool2D) -> None:
    k = f"{P}_{lid}"
    c1, c2 = st.columns(2)
    with c1:
        _draw(
            st.radio,
            f"{k}_mode",
            layer.mode,
            lid,
            lambda L: replace(L, mode=_value(f"{k}_mode")),
            "Mode",
            ["max", "avg"],
            horizontal=True,
        )
    with c2:
        _draw(
            st.radio,
            f"{k}_pad",
            layer.padding,
            lid,
            lambda L: replace(L, padding=_value(f"{k}_pad")),
            "Padding",
            ["valid", "same"],
            horizontal=True,
        )
    _pair_inputs(lid, "size", "Window", layer.size, MAX_POOL, lambda L, p: replace(L, size=p))
    _pair_inputs(lid, "stride", "Stride", layer.stride, MAX_STRIDE, lambda L, p: replace(L, stride=p))


# --------------------------------------------------------------------------- convolution


def _padding_mode(lid: str, padding) -> str:
    if isinstance(padding, str):
        return padding
    (t, b), (left, r) = padding
    if t == b == left == r and ss.get(f"{P}_{lid}_padpref") != "explicit":
        return "zeros"
    return "explicit"


def _set_padding_mode(L: Conv2D, lid: str) -> Conv2D:
    mode = _value(f"{P}_{lid}_padmode")
    ss[f"{P}_{lid}_padpref"] = mode
    if mode in ("same", "valid"):
        return replace(L, padding=mode)
    if isinstance(L.padding, str):
        return replace(L, padding=((1, 1), (1, 1)))
    return L


def _set_pad_side(L: Conv2D, side: int, value: int) -> Conv2D:
    pads = [L.padding[0][0], L.padding[0][1], L.padding[1][0], L.padding[1][1]]
    pads[side] = int(value)
    return replace(L, padding=((pads[0], pads[1]), (pads[2], pads[3])))


def _conv_panel(spec: Spec, i: int, lid: str, layer: Conv2D, depth: int, preview) -> None:
    k = f"{P}_{lid}"
    kh, kw = layer.kernel_size
    sizes = list(range(1, MAX_KERNEL + 1))
    mode = _padding_mode(lid, layer.padding)
    c1, c2, c3 = st.columns([1, 1, 2])
    with c1:
        _draw(
            st.selectbox,
            f"{k}_kh",
            kh,
            lid,
            lambda L: model.resize_kernels(L, (_value(f"{k}_kh"), L.kernel_size[1])),
            "Kernel height",
            sizes,
            help="Every filter of a layer has the same size.",
        )
    with c2:
        _draw(
            st.selectbox,
            f"{k}_kw",
            kw,
            lid,
            lambda L: model.resize_kernels(L, (L.kernel_size[0], _value(f"{k}_kw"))),
            "Kernel width",
            sizes,
        )
    with c3:
        _draw(
            st.selectbox,
            f"{k}_padmode",
            mode,
            lid,
            lambda L: _set_padding_mode(L, lid),
            "Padding",
            list(PAD_MODES),
            format_func=PAD_MODES.get,
        )
    c1, c2 = st.columns(2)
    with c1:
        _pair_inputs(lid, "stride", "Stride", layer.stride, MAX_STRIDE, lambda L, p: replace(L, stride=p))
    with c2:
        _pair_inputs(lid, "dilation", "Dilation", layer.dilation, MAX_DILATION, lambda L, p: replace(L, dilation=p))
    if mode == "zeros":
        _draw(
            st.number_input,
            f"{k}_pad",
            layer.padding[0][0],
            lid,
            lambda L: replace(L, padding=((_value(f"{k}_pad"),) * 2,) * 2),
            "Zeros on every side",
            0,
            MAX_PAD,
        )
    elif mode == "explicit":
        cols = st.columns(4)
        pads = (layer.padding[0][0], layer.padding[0][1], layer.padding[1][0], layer.padding[1][1])
        for side, (col, name) in enumerate(zip(cols, ("Top", "Bottom", "Left", "Right"))):
            with col:
                _draw(
                    st.number_input,
                    f"{k}_pad{side}",
                    pads[side],
                    lid,
                    lambda L, s=side: _set_pad_side(L, s, _value(f"{k}_pad{s}")),
                    name,
                    0,
                    MAX_PAD,
                )
    _filters(spec, i, lid, layer, depth, preview)


def _filters(spec: Spec, i: int, lid: str, layer: Conv2D, depth: int, preview) -> None:
    k = f"{P}_{lid}"
    n = len(layer.filters)
    seed = model.fresh_seed(spec)
    st.markdown(f"**Filters** · each one makes an output channel ({n} → {n} channels)")
    c1, c2 = st.columns([1, 1], vertical_alignment="bottom")
    with c1:
        _draw(
            st.number_input,
            f"{k}_count",
            n,
            lid,
            lambda L: model.set_filter_count(L, int(_value(f"{k}_count")), seed),
            "Number of filters",
            1,
            max(model.MAX_FILTERS, n),
            help="New filters get seeded He-normal weights; removing drops filters from the end.",
        )
    with c2:
        st.button(
            "All random (He)",
            key=f"{k}_allrandom",
            on_click=_edit,
            help=("Give every filter fresh seeded He-normal weights, as in an untrained network."),
            args=(lid, lambda L: _all_random(L, seed)),
        )
    sel = f"{k}_fsel"
    if ss.get(sel) not in range(n):
        ss[sel] = 0
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    with c1:
        j = st.selectbox(
            "Filter to edit",
            list(range(n)),
            key=sel,
            format_func=lambda q: f"{q + 1} · {model.filter_label(layer.filters[q])}",
        )
    with c2, st.container(horizontal=True, gap="small"):
        st.button(
            ":material/add:",
            key=f"{k}_fadd",
            help="Add a random filter at the end",
            disabled=n >= model.MAX_FILTERS,
            on_click=_edit,
            args=(lid, lambda L: model.add_filter(L, seed)),
        )
        st.button(
            ":material/content_copy:",
            key=f"{k}_fdup",
            help="Duplicate this filter",
            disabled=n >= model.MAX_FILTERS,
            on_click=_edit,
            args=(lid, lambda L: model.duplicate_filter(L, j)),
        )
        st.button(
            ":material/delete:",
            key=f"{k}_fdel",
            help="Remove this filter",
            disabled=n == 1,
            on_click=_edit,
            args=(lid, lambda L: model.remove_filter(L, j)),
        )
    with st.container(border=True):
        if preview is None:
            _filter_panel(spec, i, lid, layer, j, depth, seed)
            return
        settings, shown = st.columns([3, 1], gap="medium")
        with shown:
            preview(i, j)
        with settings:
            _filter_panel(spec, i, lid, layer, j, depth, seed)


def _all_random(L: Conv2D, seed: int) -> Conv2D:
    filters = tuple(
        model.Filter(init="he_normal", seed=seed + q, init_size=L.kernel_size) for q in range(len(L.filters))
    )
    return replace(L, filters=filters)


def _filter_panel(spec: Spec, i: int, lid: str, layer: Conv2D, j: int, depth: int, seed: int) -> None:
    k = f"{P}_{lid}_f{j}"
    f = layer.filters[j]
    n = len(layer.filters)
    _draw(
        st.radio,
        f"{k}_src",
        model.filter_source(f),
        lid,
        lambda L: model.set_source(L, j, _value(f"{k}_src"), depth, seed),
        "Weights",
        list(model.SOURCES),
        format_func=SOURCE_LABELS.get,
        horizontal=True,
    )
    if f.preset is not None:
        names = model.presets_for(layer)
        if f.preset not in names:
            names.insert(0, f.preset)
        _draw(
            st.selectbox,
            f"{k}_preset",
            f.preset,
            lid,
            lambda L: model.set_preset(L, j, _value(f"{k}_preset")),
            "Preset",
            names,
            format_func=lambda p: PRESETS[p].label,
        )
        extra = f" Applied to each of the {depth} input channels and summed." if depth > 1 else ""
        st.caption(PRESETS[f.preset].explanation + extra)
    elif f.init is not None:
        c1, c2 = st.columns(2)
        with c1:
            _draw(
                st.selectbox,
                f"{k}_init",
                f.init,
                lid,
                lambda L: model.set_filter(L, j, replace(L.filters[j], init=_value(f"{k}_init"))),
                "Initialiser",
                list(INITIALISERS),
                format_func=INIT_LABELS.get,
            )
        with c2:
            _draw(
                st.number_input,
                f"{k}_seed",
                f.seed,
                lid,
                lambda L: model.set_filter(L, j, replace(L.filters[j], seed=int(_value(f"{k}_seed")))),
                "Seed",
                0,
                2**31 - 1,
            )
        fan_in = f.size[0] * f.size[1] * depth
        if f.init == "he_normal":
            how = f"normal with standard deviation √(2 / {fan_in}) = {np.sqrt(2 / fan_in):.3g}"
        else:
            fan_out = f.size[0] * f.size[1] * n
            how = f"uniform within ±√(6 / ({fan_in} + {fan_out})) = ±{np.sqrt(6 / (fan_in + fan_out)):.3g}"
        st.caption(
            f"Separate random weights for each of the {depth} input channel{'s' if depth > 1 else ''}, "
            f"{how}: what an untrained network starts with. The same seed always gives the same weights."
        )
    else:
        _weights_editor(spec, i, lid, layer, j, depth)
    _draw(
        st.number_input,
        f"{k}_bias",
        float(layer.bias[j]),
        lid,
        lambda L: model.set_bias(L, j, float(_value(f"{k}_bias"))),
        "Bias (added to this filter's output)",
        step=0.05,
        format="%.4g",
    )


def _channel_name(spec: Spec, i: int, c: int) -> str:
    if model.sees_photo(spec, i) and spec.input.color == "rgb":
        return f"{c + 1} · {('red', 'green', 'blue')[c]}"
    return f"{c + 1}"


def _weights_editor(spec: Spec, i: int, lid: str, layer: Conv2D, j: int, depth: int) -> None:
    k = f"{P}_{lid}_f{j}"
    f = layer.filters[j]
    n = len(layer.filters)
    w = np.array(f.weights, dtype=np.float64)
    per_channel = w.ndim == 3
    if depth > 1 or per_channel:
        labels = {
            "shared": "Same weights on every input channel (2-D)",
            "per": f"Separate weights per input channel ({w.shape[0]}×{w.shape[1]}×{depth})",
        }

        def set_depth(L: Conv2D) -> Conv2D:
            g = L.filters[j]
            if _value(f"{k}_depth") == "per":
                return model.set_filter(L, j, model.to_per_channel(g, depth, n))
            return model.set_filter(L, j, model.to_shared(g, depth, n))

        _draw(
            st.radio,
            f"{k}_depth",
            "per" if per_channel else "shared",
            lid,
            set_depth,
            "Input channels",
            list(labels),
            format_func=labels.get,
            help="A 2-D kernel is applied to every input channel and the results are summed; a 3-D kernel "
            "has its own slice for each channel. Going back to 2-D keeps the mean of the slices.",
        )
    channel = None
    if per_channel:
        if w.shape[2] != depth:
            st.warning(f"This kernel has {w.shape[2]} channel slices but the layer's input has {depth} channels.")
            st.button(
                f"Fit every kernel of this layer to {depth} channels",
                key=f"{k}_fit",
                help="Drops extra slices or adds slices of zeros.",
                on_click=_edit,
                args=(lid, lambda L: model.fit_depth(L, depth)),
            )
        ckey = f"{P}_{lid}_ch"
        if ss.get(ckey) not in range(w.shape[2]):
            ss[ckey] = 0
        channel = st.selectbox(
            "Input channel to edit", list(range(w.shape[2])), key=ckey, format_func=lambda c: _channel_name(spec, i, c)
        )
        shown = w[:, :, channel]
    else:
        shown = w
    kh, kw = shown.shape
    mkey = f"{P}_{lid}_wmode"
    modes = ["Sliders", "Number grid"] if max(kh, kw) <= MAX_SLIDER_SIDE else ["Number grid"]
    if ss.get(mkey) not in modes:
        ss[mkey] = modes[0]
    c1, c2 = st.columns(2)
    with c1:
        mode = st.radio("Edit with", modes, key=mkey, horizontal=True)
    if mode == "Sliders":
        rkey = f"{k}_range"
        if ss.get(rkey) not in SLIDER_RANGES:
            big = float(np.abs(w).max()) if w.size else 0.0
            ss[rkey] = next((r for r in SLIDER_RANGES if r >= big), SLIDER_RANGES[-1])
        with c2:
            lim = st.selectbox("Slider range ±", SLIDER_RANGES, key=rkey, format_func=lambda r: f"±{r:g}")
        for r in range(kh):
            cols = st.columns(kw)
            for q in range(kw):
                key = f"{k}_c{channel}_w{r}_{q}"
                with cols[q]:
                    _draw(
                        st.slider,
                        key,
                        float(np.clip(shown[r, q], -lim, lim)),
                        lid,
                        lambda L, r=r, q=q, key=key: model.set_filter(
                            L, j, model.set_weight(L.filters[j], r, q, channel, float(_value(key)))
                        ),
                        f"w[{r},{q}]",
                        -lim,
                        lim,
                        step=lim / 200,
                        format="%.3g",
                        label_visibility="visible" if kw <= 4 else "collapsed",
                    )
        if np.abs(shown).max(initial=0) > lim:
            st.caption(f"Weights beyond ±{lim:g} sit at the sliders' ends; pick a wider range or the number grid.")
    else:
        digest = hashlib.blake2b(shown.tobytes() + repr(shown.shape).encode(), digest_size=6).hexdigest()
        gkey = f"{k}_c{channel}_grid_{digest}"
        st.data_editor(
            pd.DataFrame(shown, columns=[str(q) for q in range(kw)]),
            key=gkey,
            on_change=_edit,
            args=(lid, lambda L: _apply_grid(L, j, channel, gkey, lid)),
            column_config={str(q): st.column_config.NumberColumn(format="%.4g", required=True) for q in range(kw)},
        )


def _apply_grid(L: Conv2D, j: int, channel: int | None, gkey: str, lid: str) -> Conv2D:
    f = L.filters[j]
    refused = []
    for row, cols in ss[gkey].get("edited_rows", {}).items():
        for col, v in cols.items():
            try:
                fv = float(v)
            except (TypeError, ValueError):
                fv = float("nan")
            if not np.isfinite(fv) or abs(fv) > GRID_LIMIT:
                refused.append(f"w[{row},{col}] = {v}")
                continue
            f = model.set_weight(f, int(row), int(col), channel, fv)
    if refused:
        raise SpecError(
            f"kept the old value for {', '.join(refused)}: a weight must be a finite number between "
            f"−{GRID_LIMIT:g} and {GRID_LIMIT:g}",
            "weights",
        )
    return model.set_filter(L, j, f)


# --------------------------------------------------------------------------- files


def _on_import() -> None:
    up = ss.get(IMPORT_KEY)
    if up is None:
        ss[f"{P}_import_msg"] = None
        return
    try:
        load_spec(up.getvalue())
    except SpecError as e:
        ss[f"{P}_import_msg"] = ("error", f"{code(up.name)} can't be loaded. {plain(e)}")
        return
    ss[f"{P}_import_msg"] = ("success", f"Loaded {code(up.name)}.")


def import_export(spec: Spec) -> None:
    """Download the stack as a spec file, or load one."""
    st.download_button(
        "Download this stack (spec JSON)",
        model.spec_json(spec),
        file_name="layer_stack.json",
        mime="application/json",
        key=f"{P}_download",
        on_click="ignore",
        icon=":material/download:",
    )
    st.file_uploader(
        "Load a stack from a spec JSON file",
        key=IMPORT_KEY,
        on_change=_on_import,
        help="A file downloaded here, or any pipeline spec v1 document.",
    )
    msg = ss.get(f"{P}_import_msg")
    if msg:
        (st.error if msg[0] == "error" else st.success)(msg[1])
