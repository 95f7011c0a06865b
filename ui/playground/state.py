"""The Playground's state: one plain dict in session state that every control is a view of.

Streamlit forgets a widget's value when the widget is not drawn in a run (another page, a bad upload, the
slider view hidden behind the grid). So nothing here lives in widget keys: the dict under ``STATE_KEY``
holds every setting and the kernel, widgets read their value from it before they are drawn and write back
through their ``on_change`` callbacks. Every editor of the kernel (sliders, the number grid, a future
drawing canvas) changes it through one setter, :func:`set_kernel`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from cnn_core.kernels import PRESETS
from cnn_core.spec import ACTIVATIONS, COLORS, MAX_KERNEL, MAX_SIDE, POOL_MODES, Activation, Conv2D, Pool2D, Spec

P = "pg"  # widget-key prefix of this page
STATE_KEY = f"{P}_state"

MAX_SIZE = MAX_KERNEL  # kernel sides the editor offers: 1×1 .. 15×15 (the spec's limit)
SLIDER_MAX = 7  # larger kernels are edited in the number grid or painted on the canvas
STRIDES = (1, 2, 3, 4)
POOL_CHOICES = (1, 2, 3, 4, 5)
BIAS_LIMIT = 2.0
PADDINGS = ("same", "valid", "zeros on every side")
EDITORS = ("Sliders", "Number grid", "Canvas")
# The colour scales this page offers (keys of cnn_core.render.SCALE_MODES). "map" is left out: every stage
# here has one channel, so it equals "layer".
SCALE_CHOICES = ("layer", "global", "robust")
SIZE_MODES = {
    "aspect": "Longer side, keep the shape",
    "exact": "Height × width",
    "none": "The photo's own size",
}
# The tutorial's example photo is 300×300: the longer side at 300 keeps it exactly as the article shows it.
LONG_SIDE = 300
DEFAULT_PRESET = "edge"


def default_state() -> dict[str, Any]:
    """The reference article's worked example: grey 300×300, outline kernel, ReLU, 2×2 max pooling."""
    return {
        "source": "Sample",
        "sample": "camera",
        "color": "grayscale",
        "size_mode": "aspect",
        "long_side": LONG_SIDE,
        "h": LONG_SIDE,
        "w": LONG_SIDE,
        "cmap": "auto",
        "scale": "layer",
        "kernel": _kernel_entry(PRESETS[DEFAULT_PRESET].array(), DEFAULT_PRESET, 0),
        "editor": "Sliders",
        "stride": 1,
        "padding": "same",
        "pad": 1,
        "dilation": 1,
        "bias": 0.0,
        "act": "relu",
        "alpha": 0.2,
        "pool_on": True,
        "pool_mode": "max",
        "pool_size": 2,
        "pool_stride": 2,
        "pool_padding": "same",
    }


def state() -> dict[str, Any]:
    """The page's state, created with the defaults on a session's first visit."""
    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = default_state()
    return st.session_state[STATE_KEY]


# --- the kernel: one setter for every editor ---------------------------------------------------------------


def _kernel_entry(weights: np.ndarray, preset: str, version: int) -> dict[str, Any]:
    return {"weights": np.asarray(weights, dtype=np.float64).tolist(), "preset": preset, "version": version}


def set_kernel(weights, preset: str | None = None) -> None:
    """Replace the kernel (square, 1..MAX_SIZE a side, finite). ``preset`` names where it started from.

    Raises ValueError for a kernel the editor can't hold; nothing changes then.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1] or not 1 <= w.shape[0] <= MAX_SIZE:
        raise ValueError(f"the kernel must be square, 1×1 to {MAX_SIZE}×{MAX_SIZE}; got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("every weight must be a finite number")
    s = state()
    old = s["kernel"]
    s["kernel"] = _kernel_entry(w, preset if preset is not None else old["preset"], old["version"] + 1)


def set_weight(i: int, j: int, value: float) -> None:
    """Change one weight, keeping the others exactly as they are."""
    w = kernel_weights()
    w[i, j] = float(value)
    set_kernel(w)


def kernel_weights() -> np.ndarray:
    """The kernel in use, float64 (k, k)."""
    return np.array(state()["kernel"]["weights"], dtype=np.float64)


def kernel_version() -> int:
    """A number that changes whenever the kernel is replaced (editors key their widgets on it)."""
    return state()["kernel"]["version"]


LOADED = ""  # the "preset" of weights a link or spec file brought: where they started is not known


def started_from() -> str:
    """The preset the kernel started from, or LOADED for weights that came from a link or a spec file."""
    name = state()["kernel"]["preset"]
    return name if name in PRESETS else LOADED


def kernel_preset() -> str | None:
    """The preset the kernel is exactly equal to (as the spec stores it, float32), or None."""
    w = kernel_weights()
    for name in dict.fromkeys([n for n in (started_from(),) if n in PRESETS] + list(PRESETS)):
        p = PRESETS[name].array()
        if p.shape == w.shape and np.array_equal(w.astype(np.float32), p):
            return name
    return None


def kernel_title() -> str:
    """What the header says about the kernel in use: its preset (or that it was edited) and its size."""
    w = kernel_weights()
    k = w.shape[0]
    name = kernel_preset()
    if name is not None:
        return f"{PRESETS[name].label} · {k}×{k}"
    return f"{origin()} · {k}×{k}"


def origin() -> str:
    """Where a kernel that equals no preset came from, said without guessing."""
    if started_from() == LOADED:
        return "custom weights from a link or a spec file"
    return f"edited by hand, started from {PRESETS[started_from()].label}"


def resized_kernel(weights: np.ndarray, k: int) -> np.ndarray:
    """The kernel padded with zeros or cropped to k×k around its centre."""
    old = np.asarray(weights, dtype=np.float64)
    new = np.zeros((k, k))
    n = min(k, old.shape[0])
    o0, n0 = (old.shape[0] - n) // 2, (k - n) // 2
    new[n0 : n0 + n, n0 : n0 + n] = old[o0 : o0 + n, o0 : o0 + n]
    return new


# --- widgets as views of the state --------------------------------------------------------------------------


def widget_key(field: str) -> str:
    return f"{P}_{field}"


def _store(field: str, key: str) -> None:
    state()[field] = st.session_state[key]


def bound(widget: Callable, label: str, field: str, *args, key: str | None = None, **kwargs):
    """Draw ``widget`` showing ``state()[field]``; a change is written back to the state by its callback."""
    key = key or widget_key(field)
    st.session_state[key] = state()[field]
    return widget(label, *args, key=key, on_change=_store, args=(field, key), **kwargs)


# --- sizes ----------------------------------------------------------------------------------------------------


def aspect_size(shape: tuple[int, ...], long_side: int) -> tuple[int, int]:
    """(height, width) with the longer side at ``long_side`` and the photo's proportions."""
    h, w = shape[:2]
    f = long_side / max(h, w)
    return max(1, round(h * f)), max(1, round(w * f))


def input_size(s: dict[str, Any], shape: tuple[int, ...]) -> list[int] | None:
    """The spec's input.size ([height, width], or None to keep the photo's size) for a photo of ``shape``."""
    if s["size_mode"] == "none":
        return None
    if s["size_mode"] == "exact":
        return [int(s["h"]), int(s["w"])]
    return list(aspect_size(shape, int(s["long_side"])))


def resize_note(shape: tuple[int, ...], size: list[int] | None) -> str:
    """'Resized from H×W to h×w pixels (height×width)', or that the photo is used at its own size."""
    h, w = shape[:2]
    if size is None or tuple(size) == (h, w):
        return f"Used at its own size, {h}×{w} pixels (height×width)."
    note = f"Resized from {h}×{w} to {size[0]}×{size[1]} pixels (height×width)"
    if abs(size[1] / size[0] - w / h) > 0.02 * (w / h):
        note += "; stretched, as its proportions differ"
    return note + "."


def settle_size_mode(shape: tuple[int, ...]) -> None:
    """After a spec or link set an exact size, call it 'keep the shape' when that is what it is."""
    s = state()
    if not s.pop("size_check", False) or s["size_mode"] != "exact":
        return
    long_side = max(int(s["h"]), int(s["w"]))
    if list(aspect_size(shape, long_side)) == [int(s["h"]), int(s["w"])]:
        s["size_mode"], s["long_side"] = "aspect", long_side


# --- the spec ---------------------------------------------------------------------------------------------------


def _edited_weights() -> Any:
    """The kernel's weights for the spec, with the preset they were edited from when that is known (so a
    reload or a link still says "started from Sobel x")."""
    weights = kernel_weights().tolist()
    return weights if started_from() == LOADED else {"weights": weights, "from": started_from()}


def spec_dict(s: dict[str, Any], shape: tuple[int, ...]) -> dict[str, Any]:
    """The pipeline spec (v1) the state describes, for a photo of ``shape``."""
    name = kernel_preset()
    padding: Any = s["padding"] if s["padding"] != "zeros on every side" else int(s["pad"])
    act: dict[str, Any] = {"type": "activation", "function": s["act"]}
    if s["act"] == "leaky_relu":
        act["alpha"] = float(s["alpha"])
    layers: list[dict[str, Any]] = [
        {
            "type": "conv2d",
            "filters": [name or _edited_weights()],
            "stride": int(s["stride"]),
            "padding": padding,
            "dilation": int(s["dilation"]),
            "bias": float(s["bias"]),
        },
        act,
    ]
    if s["pool_on"]:
        layers.append(
            {
                "type": "pool2d",
                "mode": s["pool_mode"],
                "size": int(s["pool_size"]),
                "stride": int(s["pool_stride"]),
                "padding": s["pool_padding"],
            }
        )
    return {"version": 1, "input": {"color": s["color"], "size": input_size(s, shape)}, "layers": layers}


def _square(pair: tuple[int, int], allowed) -> int | None:
    return pair[0] if pair[0] == pair[1] and pair[0] in allowed else None


def misfit(spec: Spec) -> str | None:
    """Why the Playground can't hold ``spec`` (one clause), or None if it can."""
    layers = spec.layers
    kinds = [type(layer).__name__ for layer in layers]
    shape_ok = kinds in (["Conv2D", "Activation"], ["Conv2D", "Activation", "Pool2D"])
    if not shape_ok:
        names = ", ".join(layer.type for layer in layers) if 0 < len(layers) <= 4 else f"{len(layers)} layers"
        return f"it holds {names}, while the Playground holds conv2d, activation and an optional pool2d"
    conv: Conv2D = layers[0]  # type: ignore[assignment]
    act: Activation = layers[1]  # type: ignore[assignment]
    if len(conv.filters) != 1:
        return f"its convolution has {len(conv.filters)} filters"
    f = conv.filters[0]
    kh, kw = f.size
    if f.init is not None:
        return "its kernel is drawn at random"
    if f.depth is not None:
        return "its kernel has its own weights per input channel"
    if kh != kw or kh > MAX_SIZE:
        return f"its kernel is {kh}×{kw}"
    if _square(conv.stride, STRIDES) is None or _square(conv.dilation, STRIDES) is None:
        return "its stride or dilation differs between the axes or is over 4"
    if abs(conv.bias[0]) > BIAS_LIMIT:
        return f"its bias is beyond ±{BIAS_LIMIT:g}"
    if not 0 <= act.alpha <= 1:
        return "its leaky ReLU slope is outside 0 to 1"
    if not isinstance(conv.padding, str):
        (t, b), (left, r) = conv.padding
        if not t == b == left == r:
            return "its padding differs between the sides"
    if len(layers) == 3:
        pool: Pool2D = layers[2]  # type: ignore[assignment]
        if _square(pool.size, POOL_CHOICES) is None or _square(pool.stride, POOL_CHOICES) is None:
            return "its pooling window or stride differs between the axes or is over 5"
    return None


def load_spec(spec: Spec) -> str | None:
    """Set the whole state from a spec; returns why it doesn't fit (and changes nothing) or None."""
    why = misfit(spec)
    if why is not None:
        return why
    conv, act = spec.layers[0], spec.layers[1]
    pool = spec.layers[2] if len(spec.layers) == 3 else None
    s = state()
    s.update(
        {
            "color": spec.input.color,
            "stride": conv.stride[0],
            "dilation": conv.dilation[0],
            "bias": float(conv.bias[0]),
            "act": act.function,
            "alpha": float(act.alpha),
            "pool_on": pool is not None,
        }
    )
    if spec.input.size is None:
        s["size_mode"] = "none"
    else:
        s["size_mode"], (s["h"], s["w"]) = "exact", spec.input.size
        s["size_check"] = True
    if isinstance(conv.padding, str):
        s["padding"] = conv.padding
    else:
        s["padding"], s["pad"] = "zeros on every side", conv.padding[0][0]
    if pool is not None:
        s.update(
            {
                "pool_mode": pool.mode,
                "pool_size": pool.size[0],
                "pool_stride": pool.stride[0],
                "pool_padding": pool.padding,
            }
        )
    f = conv.filters[0]
    if f.preset is not None:
        set_kernel(PRESETS[f.preset].array(), f.preset)
    else:
        set_kernel(np.array(f.weights, dtype=np.float64), f.started_from or LOADED)
    return None


def check() -> None:
    """Put back defaults for anything a stored state holds that no control can show (defensive)."""
    s, d = state(), default_state()
    allowed = {
        "color": COLORS,
        "size_mode": tuple(SIZE_MODES),
        "scale": SCALE_CHOICES,
        "editor": EDITORS,
        "stride": STRIDES,
        "dilation": STRIDES,
        "padding": PADDINGS,
        "act": ACTIVATIONS,
        "pool_mode": POOL_MODES,
        "pool_size": POOL_CHOICES,
        "pool_stride": POOL_CHOICES,
        "pool_padding": ("same", "valid"),
    }
    for field, default in d.items():
        if field not in s or (field in allowed and s[field] not in allowed[field]):
            s[field] = default
    for field, lo, hi in (("h", 1, MAX_SIDE), ("w", 1, MAX_SIDE), ("long_side", 1, MAX_SIDE)):
        s[field] = int(min(max(s[field], lo), hi))
