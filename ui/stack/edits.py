"""Edits of a layer stack as data: each function takes frozen ``cnn_core.spec`` layers and returns new ones.

Nothing here imports Streamlit; the widgets in ``stack_layers`` and ``stack_conv`` call these in their callbacks.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from cnn_core import kinds
from cnn_core.errors import SpecError
from cnn_core.kernels import PRESETS, random_kernel
from cnn_core.spec import MAX_KERNEL, Activation, Conv2D, Filter, Layer, Pool2D, Spec

SOURCES = ("preset", "init", "weights")


def _new_conv() -> Conv2D:
    filters = tuple(Filter(preset=p) for p in ("sobel_x", "sobel_y", "edge", "gaussian_3"))
    return Conv2D(filters=filters, bias=(0.0,) * len(filters))


# A new layer of each kind, by the kind's name (the spec's layer type), with settings to start editing from.
_NEW = {
    "conv2d": _new_conv,
    "activation": lambda: Activation("relu"),
    "pool2d": lambda: Pool2D("max", (2, 2), (2, 2), "valid"),
}


def new_layer(kind: str) -> Layer:
    """A layer of ``kind`` with sensible settings to start editing from."""
    if kind not in _NEW:
        *rest, last = _NEW
        raise SpecError(f"{kind!r} is not a layer type; use {', '.join(rest)} or {last}", "type")
    return _NEW[kind]()


def moved(items: list, i: int, delta: int) -> list:
    """A copy of ``items`` with item i moved ``delta`` places (clamped to the ends)."""
    out = list(items)
    j = min(max(i + delta, 0), len(out) - 1)
    out.insert(j, out.pop(i))
    return out


def input_channels(spec: Spec) -> list[int]:
    """How many channels reach each layer (from the input colour and the conv layers' filter counts)."""
    c = spec.input.channels
    out = []
    for layer in spec.layers:
        out.append(c)
        kind, op = kinds.of_spec(layer, c)
        c = kind.channels(op, c)
    return out


def sees_photo(spec: Spec, i: int) -> bool:
    """Whether layer i's input channels are still the photo's colours (no convolution before it)."""
    return not any(kinds.spec_kind(layer).makes_channels for layer in spec.layers[:i])


def filter_source(f: Filter) -> str:
    """Where the filter's weights come from: "preset", "init" or "weights"."""
    return "preset" if f.preset is not None else "init" if f.init is not None else "weights"


def filter_array(f: Filter, depth: int, n_filters: int) -> np.ndarray:
    """The filter's weights as float64: (kh, kw) for presets and 2-D weights, (kh, kw, depth) for initialisers."""
    if f.preset is not None:
        return PRESETS[f.preset].array().astype(np.float64)
    if f.init is not None:
        return random_kernel(f.init, f.seed, f.size, depth, n_filters).astype(np.float64)
    return np.array(f.weights, dtype=np.float64)


def weights_filter(w: np.ndarray) -> Filter:
    """A filter holding explicit weights, 2-D (kh, kw) or 3-D (kh, kw, c)."""
    return Filter(weights=_tuples(np.asarray(w, dtype=np.float64)))


def _tuples(a: np.ndarray):
    return tuple(_tuples(v) for v in a) if a.ndim > 1 else tuple(float(v) for v in a)


def fresh_seed(spec: Spec) -> int:
    """One more than the largest initialiser seed in the stack, so a new random filter differs from the others."""
    filters = [layer.filters for layer in spec.layers if kinds.spec_kind(layer).makes_channels]
    seeds = [f.seed for layer_filters in filters for f in layer_filters if f.init]
    return max(seeds, default=0) + 1


def with_filters(layer: Conv2D, filters: list[Filter], bias: list[float]) -> Conv2D:
    return replace(layer, filters=tuple(filters), bias=tuple(float(b) for b in bias))


def add_filter(layer: Conv2D, seed: int, init: str = "he_normal") -> Conv2D:
    """Append a seeded random filter with bias 0."""
    f = Filter(init=init, seed=seed, init_size=layer.kernel_size)
    return with_filters(layer, [*layer.filters, f], [*layer.bias, 0.0])


def duplicate_filter(layer: Conv2D, j: int) -> Conv2D:
    filters, bias = list(layer.filters), list(layer.bias)
    filters.insert(j + 1, filters[j])
    bias.insert(j + 1, bias[j])
    return with_filters(layer, filters, bias)


def remove_filter(layer: Conv2D, j: int) -> Conv2D:
    if len(layer.filters) == 1:
        return layer
    filters, bias = list(layer.filters), list(layer.bias)
    del filters[j], bias[j]
    return with_filters(layer, filters, bias)


def set_filter_count(layer: Conv2D, n: int, seed: int) -> Conv2D:
    """Drop filters from the end, or append seeded random ones (seeds ``seed``, ``seed + 1``, ...)."""
    n = max(1, n)
    while len(layer.filters) > n:
        layer = remove_filter(layer, len(layer.filters) - 1)
    while len(layer.filters) < n:
        layer = add_filter(layer, seed)
        seed += 1
    return layer


def set_filter(layer: Conv2D, j: int, f: Filter) -> Conv2D:
    filters = list(layer.filters)
    filters[j] = f
    return replace(layer, filters=tuple(filters))


def set_bias(layer: Conv2D, j: int, value: float) -> Conv2D:
    bias = list(layer.bias)
    bias[j] = float(value)
    return replace(layer, bias=tuple(bias))


def presets_for(layer: Conv2D) -> list[str]:
    """Presets a filter of this layer can use: all of them for a lone filter (the layer takes the
    preset's size), else those of the layer's kernel size."""
    if len(layer.filters) == 1:
        return list(PRESETS)
    return [n for n, p in PRESETS.items() if (len(p.weights), len(p.weights[0])) == layer.kernel_size]


def set_preset(layer: Conv2D, j: int, name: str) -> Conv2D:
    """Filter j becomes preset ``name``; raises SpecError if its size doesn't fit the other filters."""
    if name not in presets_for(layer):
        kh, kw = layer.kernel_size
        raise SpecError(f"{PRESETS[name].label} is not {kh}×{kw} like the layer's other filters", "preset")
    return set_filter(layer, j, Filter(preset=name))


def set_source(layer: Conv2D, j: int, source: str, depth: int, seed: int) -> Conv2D:
    """Switch filter j between a preset, a seeded initialiser and hand-edited weights.

    Switching to hand-edited weights keeps exactly the weights the filter had, so the maps don't change.
    """
    f = layer.filters[j]
    if source == filter_source(f):
        return layer
    if source == "weights":
        return set_filter(layer, j, weights_filter(filter_array(f, depth, len(layer.filters))))
    if source == "init":
        return set_filter(layer, j, Filter(init="he_normal", seed=seed, init_size=layer.kernel_size))
    choices = presets_for(layer)
    if not choices:
        kh, kw = layer.kernel_size
        raise SpecError(f"no preset is {kh}×{kw}; presets are 3×3 or 5×5", "preset")
    return set_preset(layer, j, "identity" if "identity" in choices else choices[0])


def fit_size(w: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Crop or zero-pad a kernel's first two axes to ``size``, keeping it centred."""
    out = np.zeros((*size, *w.shape[2:]), dtype=np.float64)
    src, dst = [], []
    for n, m in zip(w.shape[:2], size):
        k = min(n, m)
        src.append(slice((n - k) // 2, (n - k) // 2 + k))
        dst.append(slice((m - k) // 2, (m - k) // 2 + k))
    out[dst[0], dst[1]] = w[src[0], src[1]]
    return out


def resize_kernels(layer: Conv2D, size: tuple[int, int]) -> Conv2D:
    """Give every filter of the layer the kernel size (kh, kw): initialisers draw at the new size,
    presets of that size stay presets, other weights are centre-cropped or zero-padded."""
    size = (min(max(size[0], 1), MAX_KERNEL), min(max(size[1], 1), MAX_KERNEL))
    out = []
    for f in layer.filters:
        if f.size == size:
            out.append(f)
        elif f.init is not None:
            out.append(replace(f, init_size=size))
        else:
            w = PRESETS[f.preset].array() if f.preset else np.array(f.weights, dtype=np.float64)
            out.append(weights_filter(fit_size(w, size)))
    return replace(layer, filters=tuple(out))


def to_per_channel(f: Filter, depth: int, n_filters: int) -> Filter:
    """Explicit (kh, kw, depth) weights that compute exactly what the filter computes now."""
    w = filter_array(f, depth, n_filters)
    if w.ndim == 2:
        w = np.repeat(w[:, :, None], depth, axis=2)
    return weights_filter(w)


def to_shared(f: Filter, depth: int, n_filters: int) -> Filter:
    """Explicit 2-D weights shared by every channel: the mean of the per-channel slices."""
    w = filter_array(f, depth, n_filters)
    return weights_filter(w.mean(axis=2) if w.ndim == 3 else w)


def set_weight(f: Filter, row: int, col: int, channel: int | None, value: float) -> Filter:
    """A hand-edited filter with one weight changed (``channel`` None for a 2-D kernel)."""
    w = np.array(f.weights, dtype=np.float64)
    if channel is None or w.ndim == 2:
        w[row, col] = value
    else:
        w[row, col, channel] = value
    return weights_filter(w)


def set_slice(f: Filter, channel: int | None, w2d: np.ndarray) -> Filter:
    """A hand-edited filter whose whole 2-D kernel (or one channel's slice of a 3-D one) is ``w2d``."""
    w = np.array(f.weights, dtype=np.float64)
    if channel is None or w.ndim == 2:
        w = np.asarray(w2d, dtype=np.float64)
    else:
        w[:, :, channel] = w2d
    return weights_filter(w)


def fit_depth(layer: Conv2D, depth: int) -> Conv2D:
    """Give every 3-D filter ``depth`` channels: extra slices are dropped, missing ones are zeros."""
    out = []
    for f in layer.filters:
        if f.depth is None or f.depth == depth:
            out.append(f)
            continue
        w = np.array(f.weights, dtype=np.float64)
        new = np.zeros((*w.shape[:2], depth))
        k = min(depth, w.shape[2])
        new[:, :, :k] = w[:, :, :k]
        out.append(weights_filter(new))
    return replace(layer, filters=tuple(out))


def all_random(layer: Conv2D, seed: int) -> Conv2D:
    """Every filter of the layer gets seeded He-normal weights (seeds ``seed``, ``seed + 1``, ...)."""
    filters = tuple(
        Filter(init="he_normal", seed=seed + q, init_size=layer.kernel_size) for q in range(len(layer.filters))
    )
    return replace(layer, filters=filters)
