"""The Playground's state: one frozen dataclass in session state that every control is a view of.

Streamlit forgets a widget's value when the widget is not drawn in a run (another page, a bad upload, the
slider view hidden behind the grid). So nothing here lives in widget keys: the :class:`PlaygroundState`
under ``keys.STATE`` holds every setting and the kernel, widgets read their value from it before they are
drawn and write back through their ``on_change`` callbacks (:func:`bound`). A state is never changed in
place: :func:`update` stores a new one. Every editor of the kernel changes it through one setter,
:func:`set_kernel`. The functions from a state to what it means (:func:`spec_dict`, :func:`input_size`,
:func:`kernel_title`, ...) are pure: they take the state or its kernel and read nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import streamlit as st

from cnn_core.kernels import PRESETS
from cnn_core.spec import ACTIVATIONS, COLORS, MAX_KERNEL, MAX_SIDE, POOL_MODES, Activation, Conv2D, Pool2D, Spec
from ui.common.fields import show as show_value
from ui.playground import keys

P = keys.P  # widget-key prefix of this page

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
LOADED = ""  # the "preset" of weights a link or spec file brought: where they started is not known


@dataclass(frozen=True)
class Kernel:
    """The kernel in use: its weights, the preset it started from (or LOADED) and a version that changes
    with every replacement (editors key their widgets on it)."""

    weights: tuple[tuple[float, ...], ...]
    preset: str
    version: int = 0

    @classmethod
    def of(cls, weights, preset: str, version: int = 0) -> Kernel:
        """From any square array-like of numbers."""
        w = np.asarray(weights, dtype=np.float64)
        return cls(tuple(tuple(float(v) for v in row) for row in w), preset, version)

    def array(self) -> np.ndarray:
        """A fresh float64 (k, k) copy of the weights."""
        return np.array(self.weights, dtype=np.float64)

    @property
    def size(self) -> int:
        return len(self.weights)


def _default_kernel() -> Kernel:
    return Kernel.of(PRESETS[DEFAULT_PRESET].array(), DEFAULT_PRESET)


@dataclass(frozen=True)
class PlaygroundState:
    """Every setting of the page. The defaults are the reference article's worked example: grey 300×300,
    outline kernel, ReLU, 2×2 max pooling."""

    # the input
    source: str = "Sample"
    sample: str = "camera"
    color: str = "grayscale"
    size_mode: str = "aspect"  # a key of SIZE_MODES
    long_side: int = LONG_SIDE
    h: int = LONG_SIDE
    w: int = LONG_SIDE
    size_check: bool = False  # a spec or link set an exact size: settle it to "aspect" once the photo is known
    # the display
    cmap: str = "auto"
    scale: str = "layer"
    # the convolution
    kernel: Kernel = field(default_factory=_default_kernel)
    editor: str = "Sliders"
    stride: int = 1
    padding: str = "same"  # one of PADDINGS
    pad: int = 1  # zeros per side, for "zeros on every side"
    dilation: int = 1
    bias: float = 0.0
    # the activation
    act: str = "relu"
    alpha: float = 0.2
    # the pooling
    pool_on: bool = True
    pool_mode: str = "max"
    pool_size: int = 2
    pool_stride: int = 2
    pool_padding: str = "same"


FIELDS = tuple(f.name for f in fields(PlaygroundState))


def default_state() -> PlaygroundState:
    """The state of a session's first visit."""
    return PlaygroundState()


# --- the session's state: read and replace -------------------------------------------------------------------


def state() -> PlaygroundState:
    """The page's state, created with the defaults on a session's first visit."""
    s = st.session_state.get(keys.STATE)
    if not isinstance(s, PlaygroundState):  # first visit (or a state from an older version of this module)
        s = st.session_state[keys.STATE] = default_state()
    return s


def store(s: PlaygroundState) -> PlaygroundState:
    """Make ``s`` the page's state."""
    st.session_state[keys.STATE] = s
    return s


def update(**changes: Any) -> PlaygroundState:
    """Store the state with ``changes`` (field=value) applied; a name that is no field raises TypeError."""
    return store(replace(state(), **changes))


# --- the kernel: one setter for every editor -----------------------------------------------------------------


def with_kernel(s: PlaygroundState, weights, preset: str | None = None) -> PlaygroundState:
    """``s`` with the kernel replaced (square, 1..MAX_SIZE a side, finite); ``preset`` names where it started.

    Raises ValueError for a kernel the editor can't hold.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1] or not 1 <= w.shape[0] <= MAX_SIZE:
        raise ValueError(f"the kernel must be square, 1×1 to {MAX_SIZE}×{MAX_SIZE}; got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("every weight must be a finite number")
    old = s.kernel
    return replace(s, kernel=Kernel.of(w, preset if preset is not None else old.preset, old.version + 1))


def set_kernel(weights, preset: str | None = None) -> None:
    """Replace the session's kernel (see :func:`with_kernel`); nothing changes when it raises ValueError."""
    store(with_kernel(state(), weights, preset))


def set_weight(i: int, j: int, value: float) -> None:
    """Change one weight, keeping the others exactly as they are."""
    w = state().kernel.array()
    w[i, j] = float(value)
    set_kernel(w)


def started_from(kernel: Kernel) -> str:
    """The preset the kernel started from, or LOADED for weights that came from a link or a spec file."""
    return kernel.preset if kernel.preset in PRESETS else LOADED


def kernel_preset(kernel: Kernel) -> str | None:
    """The preset the kernel is exactly equal to (as the spec stores it, float32), or None."""
    w = kernel.array().astype(np.float32)
    first = started_from(kernel)
    for name in dict.fromkeys(([first] if first in PRESETS else []) + list(PRESETS)):
        p = PRESETS[name].array()
        if p.shape == w.shape and np.array_equal(w, p):
            return name
    return None


def kernel_title(kernel: Kernel) -> str:
    """What the header says about the kernel: its preset (or where it came from) and its size."""
    k = kernel.size
    name = kernel_preset(kernel)
    if name is not None:
        return f"{PRESETS[name].label} · {k}×{k}"
    return f"{origin(kernel)} · {k}×{k}"


def origin(kernel: Kernel) -> str:
    """Where a kernel that equals no preset came from, said without guessing."""
    if started_from(kernel) == LOADED:
        return "custom weights from a link or a spec file"
    return f"edited by hand, started from {PRESETS[started_from(kernel)].label}"


def resized_kernel(weights: np.ndarray, k: int) -> np.ndarray:
    """The kernel padded with zeros or cropped to k×k around its centre."""
    old = np.asarray(weights, dtype=np.float64)
    new = np.zeros((k, k))
    n = min(k, old.shape[0])
    o0, n0 = (old.shape[0] - n) // 2, (k - n) // 2
    new[n0 : n0 + n, n0 : n0 + n] = old[o0 : o0 + n, o0 : o0 + n]
    return new


# --- widgets as views of the state --------------------------------------------------------------------------


def _store_widget(name: str, key: str, rerun: tuple[str, ...]) -> None:
    update(**{name: st.session_state[key]})
    if rerun:
        st.rerun(list(rerun))


def bound(widget: Callable, label: str, name: str, *args, key: str | None = None, rerun=(), **kwargs):
    """Draw ``widget`` showing the state's field ``name``; a change is written back to the state by its callback,
    which then reruns the fragments named in ``rerun`` (their ``@st.fragment`` keys) instead of the widget's
    default (its own fragment, or the whole page)."""
    key = key or keys.setting(name)
    show_value(st.session_state, key, getattr(state(), name))
    return widget(label, *args, key=key, on_change=_store_widget, args=(name, key, tuple(rerun)), **kwargs)


# --- sizes ----------------------------------------------------------------------------------------------------


def aspect_size(shape: tuple[int, ...], long_side: int) -> tuple[int, int]:
    """(height, width) with the longer side at ``long_side`` and the photo's proportions."""
    h, w = shape[:2]
    f = long_side / max(h, w)
    return max(1, round(h * f)), max(1, round(w * f))


def input_size(s: PlaygroundState, shape: tuple[int, ...]) -> list[int] | None:
    """The spec's input.size ([height, width], or None to keep the photo's size) for a photo of ``shape``."""
    if s.size_mode == "none":
        return None
    if s.size_mode == "exact":
        return [int(s.h), int(s.w)]
    return list(aspect_size(shape, int(s.long_side)))


def resize_note(shape: tuple[int, ...], size: list[int] | None) -> str:
    """'Resized from H×W to h×w pixels (height×width)', or that the photo is used at its own size."""
    h, w = shape[:2]
    if size is None or tuple(size) == (h, w):
        return f"Used at its own size, {h}×{w} pixels (height×width)."
    note = f"Resized from {h}×{w} to {size[0]}×{size[1]} pixels (height×width)"
    if abs(size[1] / size[0] - w / h) > 0.02 * (w / h):
        note += "; stretched, as its proportions differ"
    return note + "."


def settled_size_mode(s: PlaygroundState, shape: tuple[int, ...]) -> PlaygroundState:
    """After a spec or link set an exact size, call it 'keep the shape' when that is what it is for ``shape``."""
    if not s.size_check:
        return s
    s = replace(s, size_check=False)
    if s.size_mode != "exact":
        return s
    long_side = max(int(s.h), int(s.w))
    if list(aspect_size(shape, long_side)) == [int(s.h), int(s.w)]:
        s = replace(s, size_mode="aspect", long_side=long_side)
    return s


def settle_size_mode(shape: tuple[int, ...]) -> None:
    """:func:`settled_size_mode` on the session's state."""
    s = state()
    if s.size_check:
        store(settled_size_mode(s, shape))


# --- the spec ---------------------------------------------------------------------------------------------------


def _edited_weights(kernel: Kernel) -> Any:
    """The kernel's weights for the spec, with the preset they were edited from when that is known (so a
    reload or a link still says "started from Sobel x")."""
    weights = kernel.array().tolist()
    return weights if started_from(kernel) == LOADED else {"weights": weights, "from": started_from(kernel)}


def spec_dict(s: PlaygroundState, shape: tuple[int, ...]) -> dict[str, Any]:
    """The pipeline spec (v1) the state describes, for a photo of ``shape``."""
    name = kernel_preset(s.kernel)
    padding: Any = s.padding if s.padding != "zeros on every side" else int(s.pad)
    act: dict[str, Any] = {"type": "activation", "function": s.act}
    if s.act == "leaky_relu":
        act["alpha"] = float(s.alpha)
    layers: list[dict[str, Any]] = [
        {
            "type": "conv2d",
            "filters": [name or _edited_weights(s.kernel)],
            "stride": int(s.stride),
            "padding": padding,
            "dilation": int(s.dilation),
            "bias": float(s.bias),
        },
        act,
    ]
    if s.pool_on:
        layers.append(
            {
                "type": "pool2d",
                "mode": s.pool_mode,
                "size": int(s.pool_size),
                "stride": int(s.pool_stride),
                "padding": s.pool_padding,
            }
        )
    return {"version": 1, "input": {"color": s.color, "size": input_size(s, shape)}, "layers": layers}


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


def from_spec(s: PlaygroundState, spec: Spec) -> tuple[PlaygroundState, str | None]:
    """(``s`` set from ``spec``, None), or (``s`` unchanged, why the spec doesn't fit the Playground)."""
    why = misfit(spec)
    if why is not None:
        return s, why
    conv, act = spec.layers[0], spec.layers[1]
    pool = spec.layers[2] if len(spec.layers) == 3 else None
    changes: dict[str, Any] = {
        "color": spec.input.color,
        "stride": conv.stride[0],
        "dilation": conv.dilation[0],
        "bias": float(conv.bias[0]),
        "act": act.function,
        "alpha": float(act.alpha),
        "pool_on": pool is not None,
    }
    if spec.input.size is None:
        changes["size_mode"] = "none"
    else:
        changes.update(size_mode="exact", h=spec.input.size[0], w=spec.input.size[1], size_check=True)
    if isinstance(conv.padding, str):
        changes["padding"] = conv.padding
    else:
        changes.update(padding="zeros on every side", pad=conv.padding[0][0])
    if pool is not None:
        changes.update(
            pool_mode=pool.mode, pool_size=pool.size[0], pool_stride=pool.stride[0], pool_padding=pool.padding
        )
    f = conv.filters[0]
    s = replace(s, **changes)
    if f.preset is not None:
        return with_kernel(s, PRESETS[f.preset].array(), f.preset), None
    return with_kernel(s, np.array(f.weights, dtype=np.float64), f.started_from or LOADED), None


def load_spec(spec: Spec) -> str | None:
    """Set the session's whole state from a spec; returns why it doesn't fit (and changes nothing) or None."""
    s, why = from_spec(state(), spec)
    if why is None:
        store(s)
    return why


# What each choice field may hold; anything else (a stored state no control can show) goes back to its default.
_ALLOWED = {
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


def checked(s: PlaygroundState) -> PlaygroundState:
    """``s`` with defaults for any choice no control can show and the sizes clamped to 1..MAX_SIDE."""
    d = default_state()
    changes: dict[str, Any] = {
        name: getattr(d, name) for name, allowed in _ALLOWED.items() if getattr(s, name) not in allowed
    }
    for name in ("h", "w", "long_side"):
        changes[name] = int(min(max(getattr(s, name), 1), MAX_SIDE))
    return replace(s, **changes)


def check() -> None:
    """Put back defaults for anything the session's state holds that no control can show (defensive)."""
    s = state()
    fixed = checked(s)
    if fixed != s:
        store(fixed)
