"""Editing one 2-D kernel: a preset to start from, then a slider or a number per weight."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnn_core.kernels import PRESETS

WEIGHT_MIN, WEIGHT_MAX = -10.0, 10.0
MAX_SIZE = 7
# Weights typed into the grid may be far outside the sliders' range, up to this magnitude.
GRID_LIMIT = 1e30


def _weights_key(prefix: str) -> str:
    return f"{prefix}_weights"


def set_weights(prefix: str, weights: np.ndarray, preset: str | None = None) -> None:
    """Replace the kernel being edited (from a callback or before the widgets are drawn)."""
    w = np.asarray(weights, dtype=np.float64)
    st.session_state[_weights_key(prefix)] = w.tolist()
    st.session_state[f"{prefix}_ksize"] = w.shape[0]
    if preset is not None:
        st.session_state[f"{prefix}_preset"] = preset
    st.session_state[f"{prefix}_nonce"] = st.session_state.get(f"{prefix}_nonce", 0) + 1
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            st.session_state[f"{prefix}_w{i}_{j}"] = float(w[i, j])


def current_weights(prefix: str) -> np.ndarray:
    return np.array(st.session_state[_weights_key(prefix)], dtype=np.float64)


def _on_preset(prefix: str) -> None:
    name = st.session_state[f"{prefix}_preset"]
    set_weights(prefix, PRESETS[name].array().astype(np.float64), name)


def _on_size(prefix: str) -> None:
    # Keep the centre of the old kernel; pad with zeros or crop around it.
    old = current_weights(prefix)
    k = st.session_state[f"{prefix}_ksize"]
    new = np.zeros((k, k))
    n = min(k, old.shape[0])
    o0, n0 = (old.shape[0] - n) // 2, (k - n) // 2
    new[n0 : n0 + n, n0 : n0 + n] = old[o0 : o0 + n, o0 : o0 + n]
    set_weights(prefix, new)


def _on_slider(prefix: str, i: int, j: int) -> None:
    w = st.session_state[_weights_key(prefix)]
    w[i][j] = float(st.session_state[f"{prefix}_w{i}_{j}"])


def _on_grid(prefix: str, key: str) -> None:
    w = st.session_state[_weights_key(prefix)]
    refused = []
    for row, cols in st.session_state[key].get("edited_rows", {}).items():
        for col, v in cols.items():
            try:
                fv = float(v)
            except (TypeError, ValueError):
                fv = float("nan")
            if not np.isfinite(fv) or abs(fv) > GRID_LIMIT:
                refused.append(f"w[{row},{col}] = {v}")
                continue
            w[int(row)][int(col)] = fv
    st.session_state[f"{prefix}_grid_refused"] = refused
    for i, r in enumerate(w):
        for j, v in enumerate(r):
            st.session_state[f"{prefix}_w{i}_{j}"] = float(np.clip(v, WEIGHT_MIN, WEIGHT_MAX))


def kernel_editor(prefix: str, default: str = "edge") -> tuple[np.ndarray, str | None]:
    """Draw the editor and return (weights (k, k), preset name if the weights are exactly that preset)."""
    if _weights_key(prefix) not in st.session_state:
        set_weights(prefix, PRESETS[default].array().astype(np.float64), default)
    names = list(PRESETS)
    c1, c2 = st.columns([3, 2])
    c1.selectbox(
        "Start from a preset",
        names,
        format_func=lambda n: PRESETS[n].label,
        key=f"{prefix}_preset",
        on_change=_on_preset,
        args=(prefix,),
    )
    c2.selectbox(
        "Kernel size", list(range(1, MAX_SIZE + 1)), key=f"{prefix}_ksize", on_change=_on_size, args=(prefix,),
        format_func=lambda k: f"{k}×{k}",
    )
    preset = st.session_state[f"{prefix}_preset"]
    w = current_weights(prefix)
    same = w.shape == PRESETS[preset].array().shape and np.array_equal(w.astype(np.float32), PRESETS[preset].array())
    st.caption(PRESETS[preset].explanation if same else f"Edited by hand (started from {PRESETS[preset].label}).")
    mode = st.radio(
        "Edit weights with", ["Sliders", "Number grid"], horizontal=True, key=f"{prefix}_mode",
        label_visibility="collapsed",
    )
    k = w.shape[0]
    if mode == "Sliders":
        for i in range(k):
            cols = st.columns(k)
            for j in range(k):
                key = f"{prefix}_w{i}_{j}"
                if key not in st.session_state:
                    st.session_state[key] = float(np.clip(w[i, j], WEIGHT_MIN, WEIGHT_MAX))
                cols[j].slider(
                    f"w[{i},{j}]", WEIGHT_MIN, WEIGHT_MAX, step=0.05, key=key, format="%.3g",
                    on_change=_on_slider, args=(prefix, i, j), label_visibility="collapsed" if k > 5 else "visible",
                )
        if np.abs(w).max() > WEIGHT_MAX:
            st.caption(f"Weights beyond ±{WEIGHT_MAX:g} show at the sliders' ends; the number grid has their values.")
    else:
        nonce = st.session_state.get(f"{prefix}_nonce", 0)
        key = f"{prefix}_grid_{nonce}"
        df = pd.DataFrame(w, columns=[str(j) for j in range(k)])
        refused = st.session_state.pop(f"{prefix}_grid_refused", None)
        if refused:
            st.warning(
                f"Kept the old value for {', '.join(refused)}: a weight must be a finite number "
                f"between −{GRID_LIMIT:g} and {GRID_LIMIT:g}."
            )
        st.data_editor(
            df, key=key, on_change=_on_grid, args=(prefix, key), hide_index=False,
            column_config={str(j): st.column_config.NumberColumn(format="%.4g", required=True) for j in range(k)},
        )
    return current_weights(prefix), (preset if same else None)
