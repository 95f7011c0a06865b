"""A convolution's settings: kernel size, padding, stride and dilation, its filters, and each filter's
weights (a preset, a seeded initialiser, or sliders and a number grid by hand)."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from cnn_core.errors import SpecError
from cnn_core.kernels import INITIALISERS, PRESETS
from cnn_core.spec import MAX_DILATION, MAX_FILTERS, MAX_KERNEL, MAX_PAD, MAX_STRIDE, Conv2D, Filter, Spec
from ui.common import choices
from ui.common.explain import preset_explanation
from ui.common.number_grid import grid_edits, refused_text
from ui.playground.kernel_canvas import kernel_canvas
from ui.stack import edits, keys
from ui.stack.state import draw, edit, edit_and_show, pair_inputs, ss
from ui.stack.text import filter_label

SLIDER_RANGES = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
MAX_SLIDER_SIDE = 7  # larger kernels are edited in the number grid
SOURCE_LABELS = {"preset": "Preset", "init": "Random (seeded)", "weights": "By hand"}
INIT_LABELS = {"he_normal": "He normal", "glorot_uniform": "Glorot uniform"}
PAD_MODES = {"same": "same", "valid": "valid", "zeros": "zeros on every side", "explicit": "explicit per side"}


def _padding_mode(lid: str, padding) -> str:
    if isinstance(padding, str):
        return padding
    (t, b), (left, r) = padding
    if t == b == left == r and ss.get(keys.layer(lid, "padpref")) != "explicit":
        return "zeros"
    return "explicit"


def _set_padding_mode(L: Conv2D, lid: str, mode: str) -> Conv2D:
    ss[keys.layer(lid, "padpref")] = mode
    if mode in ("same", "valid"):
        return replace(L, padding=mode)
    if isinstance(L.padding, str):
        return replace(L, padding=((1, 1), (1, 1)))
    return L


def _set_pad_side(L: Conv2D, side: int, value: int) -> Conv2D:
    pads = [L.padding[0][0], L.padding[0][1], L.padding[1][0], L.padding[1][1]]
    pads[side] = int(value)
    return replace(L, padding=((pads[0], pads[1]), (pads[2], pads[3])))


def conv_panel(spec: Spec, i: int, lid: str, layer: Conv2D, depth: int, preview) -> None:
    """Every setting of convolution ``layer`` (layer i of ``spec``, id ``lid``, ``depth`` input channels)."""
    kh, kw = layer.kernel_size
    sizes = list(range(1, MAX_KERNEL + 1))
    mode = _padding_mode(lid, layer.padding)
    c1, c2, c3 = st.columns([1, 1, 2])
    with c1:
        draw(st.selectbox, keys.layer(lid, "kh"), kh, lid, lambda L, v: edits.resize_kernels(L, (v, L.kernel_size[1])),
             "Kernel height", sizes, help="Every filter of a layer has the same size.")  # fmt: skip
    with c2:
        draw(st.selectbox, keys.layer(lid, "kw"), kw, lid, lambda L, v: edits.resize_kernels(L, (L.kernel_size[0], v)),
             "Kernel width", sizes)  # fmt: skip
    with c3:
        draw(st.selectbox, keys.layer(lid, "padmode"), mode, lid, lambda L, v: _set_padding_mode(L, lid, v), "Padding",
             list(PAD_MODES), format_func=PAD_MODES.get)  # fmt: skip
    c1, c2 = st.columns(2)
    with c1:
        pair_inputs(lid, "stride", "Stride", layer.stride, MAX_STRIDE, lambda L, p: replace(L, stride=p))
    with c2:
        pair_inputs(lid, "dilation", "Dilation", layer.dilation, MAX_DILATION, lambda L, p: replace(L, dilation=p))
    if mode == "zeros":
        draw(st.number_input, keys.layer(lid, "pad"), layer.padding[0][0], lid,
             lambda L, v: replace(L, padding=((v,) * 2,) * 2), "Zeros on every side", 0, MAX_PAD)  # fmt: skip
    elif mode == "explicit":
        cols = st.columns(4)
        pads = (layer.padding[0][0], layer.padding[0][1], layer.padding[1][0], layer.padding[1][1])
        for side, (col, name) in enumerate(zip(cols, ("Top", "Bottom", "Left", "Right"))):
            with col:
                draw(st.number_input, keys.layer(lid, f"pad{side}"), pads[side], lid,
                     lambda L, v, s=side: _set_pad_side(L, s, v), name, 0, MAX_PAD)  # fmt: skip
    _filters(spec, i, lid, layer, depth, preview)


def _filters(spec: Spec, i: int, lid: str, layer: Conv2D, depth: int, preview) -> None:
    n = len(layer.filters)
    seed = edits.fresh_seed(spec)
    st.markdown(f"**Filters** · each one makes an output channel ({n} → {n} channels)")
    c1, c2 = st.columns([1, 1], vertical_alignment="bottom")
    with c1:
        draw(st.number_input, keys.layer(lid, "count"), n, lid, lambda L, v: edits.set_filter_count(L, int(v), seed),
             "Number of filters", 1, max(MAX_FILTERS, n),
             help="New filters get seeded He-normal weights; removing drops filters from the end.")  # fmt: skip
    with c2:
        st.button("All random (He)", key=keys.layer(lid, "allrandom"), on_click=edit_and_show, args=(lid, lambda L: edits.all_random(L, seed)),
                  help="Give every filter fresh seeded He-normal weights, as in an untrained network.")  # fmt: skip
    sel = keys.layer(lid, "fsel")
    choices.keep_index(ss, sel, n)  # the label changes when the filter is edited
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    with c1:
        j = st.selectbox("Filter to edit", list(range(n)), key=sel,
                         format_func=lambda q: f"{q} · {filter_label(layer.filters[q])}")  # fmt: skip
    with c2, st.container(horizontal=True, gap="small"):
        for name, icon, why, disabled, change in (
            ("fadd", "add", "Add a random filter at the end", n >= MAX_FILTERS, lambda L: edits.add_filter(L, seed)),
            ("fdup", "content_copy", "Duplicate this filter", n >= MAX_FILTERS, lambda L: edits.duplicate_filter(L, j)),
            ("fdel", "delete", "Remove this filter", n == 1, lambda L: edits.remove_filter(L, j)),
        ):
            st.button(f":material/{icon}:", key=keys.layer(lid, name), help=why, disabled=disabled,
                      on_click=edit_and_show, args=(lid, change))  # fmt: skip
    with st.container(border=True):
        if preview is None:
            _filter_panel(spec, i, lid, layer, j, depth, seed)
            return
        settings, shown = st.columns([3, 1], gap="medium")
        with shown:
            preview(i, j)
        with settings:
            _filter_panel(spec, i, lid, layer, j, depth, seed)


def _filter_panel(spec: Spec, i: int, lid: str, layer: Conv2D, j: int, depth: int, seed: int) -> None:
    f = layer.filters[j]
    n = len(layer.filters)
    draw(st.radio, keys.filter_(lid, j, "src"), edits.filter_source(f), lid, lambda L, v: edits.set_source(L, j, v, depth, seed),
         "Weights", list(edits.SOURCES), format_func=SOURCE_LABELS.get, horizontal=True)  # fmt: skip
    if f.preset is not None:
        names = edits.presets_for(layer)
        if f.preset not in names:
            names.insert(0, f.preset)
        draw(st.selectbox, keys.filter_(lid, j, "preset"), f.preset, lid, lambda L, v: edits.set_preset(L, j, v), "Preset", names,
             format_func=lambda p: PRESETS[p].label)  # fmt: skip
        if spec.input.channels == 3 and edits.sees_photo(spec, i):
            # Its input channels are still the photo's red, green and blue: the colour version of the text.
            st.caption(preset_explanation(f.preset, 3))
        else:
            extra = f" Applied to each of the {depth} input channels and summed." if depth > 1 else ""
            st.caption(PRESETS[f.preset].explanation + extra)
    elif f.init is not None:
        c1, c2 = st.columns(2)
        with c1:
            draw(st.selectbox, keys.filter_(lid, j, "init"), f.init, lid,
                 lambda L, v: edits.set_filter(L, j, replace(L.filters[j], init=v)), "Initialiser",
                 list(INITIALISERS), format_func=INIT_LABELS.get)  # fmt: skip
        with c2:
            draw(st.number_input, keys.filter_(lid, j, "seed"), f.seed, lid,
                 lambda L, v: edits.set_filter(L, j, replace(L.filters[j], seed=int(v))), "Seed", 0, 2**31 - 1)  # fmt: skip
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
    # The bias, like a weight's slider, changes what the maps, the filter's preview and the spec file say, and
    # nothing the editor around it says: a step reruns only those (keys.WEIGHT_PARTS).
    draw(st.number_input, keys.filter_(lid, j, "bias"), float(layer.bias[j]), lid, lambda L, v: edits.set_bias(L, j, float(v)),
         "Bias (added to this filter's output)", step=0.05, format="%.4g", parts=keys.WEIGHT_PARTS)  # fmt: skip


def _channel_name(spec: Spec, i: int, c: int) -> str:
    if edits.sees_photo(spec, i) and spec.input.color == "rgb":
        return f"{c} · {('red', 'green', 'blue')[c]}"
    return f"{c}"


def _depth_choice(lid: str, j: int, w: np.ndarray, depth: int, n: int) -> None:
    labels = {
        "shared": "Same weights on every input channel (2-D)",
        "per": f"Separate weights per input channel ({w.shape[0]}×{w.shape[1]}×{depth})",
    }

    def set_depth(L: Conv2D, choice: str) -> Conv2D:
        g = L.filters[j]
        return edits.set_filter(
            L, j, edits.to_per_channel(g, depth, n) if choice == "per" else edits.to_shared(g, depth, n)
        )

    draw(st.radio, keys.filter_(lid, j, "depth"), "per" if w.ndim == 3 else "shared", lid, set_depth, "Input channels", list(labels),
         format_func=labels.get,
         help="A 2-D kernel is applied to every input channel and the results are summed; a 3-D kernel "
         "has its own slice for each channel. Going back to 2-D keeps the mean of the slices.")  # fmt: skip


def _weights_editor(spec: Spec, i: int, lid: str, layer: Conv2D, j: int, depth: int) -> None:
    w = np.array(layer.filters[j].weights, dtype=np.float64)
    per_channel = w.ndim == 3
    if depth > 1 or per_channel:
        _depth_choice(lid, j, w, depth, len(layer.filters))
    channel = None
    if per_channel:
        if w.shape[2] != depth:
            st.warning(f"This kernel has {w.shape[2]} channel slices but the layer's input has {depth} channels.")
            st.button(f"Fit every kernel of this layer to {depth} channels", key=keys.filter_(lid, j, "fit"),
                      help="Drops extra slices or adds slices of zeros.", on_click=edit_and_show,
                      args=(lid, lambda L: edits.fit_depth(L, depth)))  # fmt: skip
        ckey = keys.layer(lid, "ch")
        if ss.get(ckey) not in range(w.shape[2]):
            ss[ckey] = 0
        channel = st.selectbox("Input channel to edit", list(range(w.shape[2])), key=ckey,
                               format_func=lambda c: _channel_name(spec, i, c))  # fmt: skip
        shown = w[:, :, channel]
    else:
        shown = w
    kh, kw = shown.shape
    mkey = keys.layer(lid, "wmode")
    modes = ["Sliders", "Number grid", "Canvas"] if max(kh, kw) <= MAX_SLIDER_SIDE else ["Number grid", "Canvas"]
    if ss.get(mkey) not in modes:
        ss[mkey] = modes[0]
    c1, c2 = st.columns(2)
    with c1:
        mode = st.radio("Edit with", modes, key=mkey, horizontal=True)
    if mode == "Sliders":
        rkey = keys.filter_(lid, j, "range")
        if ss.get(rkey) not in SLIDER_RANGES:
            big = float(np.abs(w).max()) if w.size else 0.0
            ss[rkey] = next((r for r in SLIDER_RANGES if r >= big), SLIDER_RANGES[-1])
        with c2:
            lim = st.selectbox("Slider range ±", SLIDER_RANGES, key=rkey, format_func=lambda r: f"±{r:g}")
        # A row of sliders in one horizontal container, not st.columns: a column is one more element, so one
        # more message, on every kernel step. A step reruns only the parts the weights decide (keys.WEIGHT_PARTS),
        # unless a weight sits beyond the sliders' range: then the line saying so may change too.
        parts = keys.WEIGHT_PARTS if np.abs(shown).max(initial=0) <= lim else None
        for r in range(kh):
            with st.container(horizontal=True, wrap=False, gap="small"):
                for q in range(kw):
                    draw(st.slider, keys.filter_(lid, j, f"c{channel}_w{r}_{q}"), float(np.clip(shown[r, q], -lim, lim)), lid,
                         lambda L, v, r=r, q=q: edits.set_filter(
                             L, j, edits.set_weight(L.filters[j], r, q, channel, float(v))),
                         f"w[{r},{q}]", -lim, lim, step=lim / 200, format="%.3g", parts=parts,
                         label_visibility="visible" if kw <= 4 else "collapsed")  # fmt: skip
        if np.abs(shown).max(initial=0) > lim:
            st.caption(f"Weights beyond ±{lim:g} sit at the sliders' ends; pick a wider range or the number grid.")
    elif mode == "Canvas":
        # The maps above were computed before this editor was drawn, so a new drawing reruns the page.
        kernel_canvas(
            keys.filter_(lid, j, f"c{channel}"),
            (kh, kw),
            lambda w2d: edit(lid, lambda L: edits.set_filter(L, j, edits.set_slice(L.filters[j], channel, w2d))),
            current=shown,
            rerun=True,
        )
    else:
        digest = hashlib.blake2b(shown.tobytes() + repr(shown.shape).encode(), digest_size=6).hexdigest()
        gkey = keys.filter_(lid, j, f"c{channel}_grid_{digest}")
        st.data_editor(
            pd.DataFrame(shown, columns=[str(q) for q in range(kw)]),
            key=gkey,
            on_change=edit_and_show,
            args=(lid, lambda L: _apply_grid(L, j, channel, ss[gkey])),
            column_config={str(q): st.column_config.NumberColumn(format="%.4g", required=True) for q in range(kw)},
        )


def _apply_grid(L: Conv2D, j: int, channel: int | None, grid_state: dict) -> Conv2D:
    """Filter j with the number grid's accepted cells; raises SpecError naming the refused ones."""
    cells, refused = grid_edits(grid_state)
    f: Filter = L.filters[j]
    for row, col, value in cells:
        f = edits.set_weight(f, row, col, channel, value)
    if refused:
        raise SpecError(refused_text(refused), "weights")
    return edits.set_filter(L, j, f)
