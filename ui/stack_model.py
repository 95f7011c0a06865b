"""The layer stack as data: edits of a spec, starting points, and the shape table.

Nothing here imports Streamlit. The page keeps the stack as a spec v1 dict in
session state; its widgets' callbacks parse it, call one of these functions on
the frozen ``cnn_core.spec`` dataclasses, and store ``Spec.to_dict()`` back.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from cnn_core.errors import SpecError
from cnn_core.kernels import PRESETS, random_kernel
from cnn_core.pipeline import StagePlan, plan
from cnn_core.spec import MAX_KERNEL, Activation, Conv2D, Filter, Layer, Pool2D, Spec, parse_spec

STACKS = Path(__file__).resolve().parent.parent / "assets" / "stacks"

# One-click starting points: file stem in assets/stacks -> (button label, what it shows).
STARTERS: dict[str, tuple[str, str]] = {
    "article_12_filters": (
        "Article: 12 filters → ReLU → pool",
        "The reference article's layer on a 32×32 colour photo: twelve 3×3 filters (edge, Sobel, blur, two "
        "colour-opponent kernels with separate weights per channel, three random ones), ReLU, 2×2 max pooling.",
    ),
    "edge_pyramid": (
        "Edge pyramid",
        "Sobel x, Sobel y and the outline kernel, then ReLU and 2×2 pooling, three times over: each channel "
        "keeps its own detector, applied to ever coarser maps (256 → 128 → 64 → 32 pixels).",
    ),
    "vgg_block_random": (
        "Random VGG blocks",
        "Two VGG-style blocks (conv–ReLU–conv–ReLU–pool, 8 then 16 filters) with seeded He-normal weights: "
        "what an untrained network sees.",
    ),
    "lenet_valid": (
        "LeNet-style, valid padding",
        "5×5 kernels without padding, tanh and average pooling on a 28×28 grey image: every layer shrinks the map "
        "(28 → 24 → 12 → 8 → 4).",
    ),
    "article_one_filter": (
        "One outline filter",
        "The playground's example: the outline kernel, ReLU and 2×2 max pooling on a 300×300 grey photo.",
    ),
}
DEFAULT_STARTER = "article_12_filters"

MAX_FILTERS = 32  # per conv layer in this editor (the file format allows more)
SOURCES = ("preset", "init", "weights")


def load_starter(name: str) -> Spec:
    """A starting point from assets/stacks, parsed like any uploaded spec."""
    if name not in STARTERS:
        raise SpecError(f"{name!r} is not a starting point; use one of {', '.join(STARTERS)}", "starter")
    return parse_spec((STACKS / f"{name}.json").read_text(encoding="utf-8"))


def spec_json(spec: Spec) -> str:
    """The spec as JSON a person can read: one line per layer and one per filter. Parses to the same spec."""
    d = spec.to_dict()

    def dump(v) -> str:
        return json.dumps(v, allow_nan=False)

    lines = ["{", f'  "version": {d["version"]},', f'  "input": {dump(d["input"])},', '  "layers": [']
    for i, layer in enumerate(d["layers"]):
        comma = "," if i < len(d["layers"]) - 1 else ""
        if layer["type"] == "conv2d":
            head = dump({k: v for k, v in layer.items() if k != "filters"})
            lines.append(f'    {head[:-1]}, "filters": [')
            filters = layer["filters"]
            lines += [f"      {dump(f)}{',' if j < len(filters) - 1 else ''}" for j, f in enumerate(filters)]
            lines.append(f"    ]}}{comma}")
        else:
            lines.append(f"    {dump(layer)}{comma}")
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- layers


LAYER_TITLES = {"conv2d": "Convolution", "activation": "Activation", "pool2d": "Pooling"}


def new_layer(kind: str) -> Layer:
    """A layer of ``kind`` with sensible settings to start editing from."""
    if kind == "conv2d":
        filters = tuple(Filter(preset=p) for p in ("sobel_x", "sobel_y", "edge", "gaussian_3"))
        return Conv2D(filters=filters, bias=(0.0,) * len(filters))
    if kind == "activation":
        return Activation("relu")
    if kind == "pool2d":
        return Pool2D("max", (2, 2), (2, 2), "valid")
    raise SpecError(f"{kind!r} is not a layer type; use conv2d, activation or pool2d", "type")


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
        if isinstance(layer, Conv2D):
            c = len(layer.filters)
    return out


def sees_photo(spec: Spec, i: int) -> bool:
    """Whether layer i's input channels are still the photo's colours (no convolution before it)."""
    return not any(isinstance(layer, Conv2D) for layer in spec.layers[:i])


def describe(layer: Layer) -> str:
    """A short line with the layer's settings, e.g. "12 filters 3×3 · stride 1 · same"."""
    if isinstance(layer, Conv2D):
        kh, kw = layer.kernel_size
        n = len(layer.filters)
        parts = [
            f"{n} filter{'s' if n > 1 else ''} {kh}×{kw}",
            f"stride {_pair_text(layer.stride)}",
            _padding_text(layer.padding),
        ]
        if layer.dilation != (1, 1):
            parts.append(f"dilation {_pair_text(layer.dilation)}")
        return " · ".join(parts)
    if isinstance(layer, Activation):
        return f"leaky_relu (alpha {layer.alpha:g})" if layer.function == "leaky_relu" else layer.function
    return f"{layer.mode} {layer.size[0]}×{layer.size[1]} · stride {_pair_text(layer.stride)} · {layer.padding}"


def _pair_text(p: tuple[int, int]) -> str:
    return str(p[0]) if p[0] == p[1] else f"{p[0]}×{p[1]}"


def _padding_text(p) -> str:
    if isinstance(p, str):
        return p
    (t, b), (left, r) = p
    if t == b == left == r:
        return f"pad {t}"
    return f"pad {t},{b},{left},{r}"


# --------------------------------------------------------------------------- filters of a conv layer


def filter_source(f: Filter) -> str:
    """Where the filter's weights come from: "preset", "init" or "weights"."""
    return "preset" if f.preset is not None else "init" if f.init is not None else "weights"


def filter_label(f: Filter) -> str:
    """A short name for a filter, e.g. "Sobel x", "He #3" or "hand, 3-D"."""
    if f.preset is not None:
        return PRESETS[f.preset].label.split(" (")[0]
    if f.init is not None:
        return f"{'He' if f.init == 'he_normal' else 'Glorot'} #{f.seed}"
    return "hand, 3-D" if f.depth else "by hand"


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
    seeds = [f.seed for layer in spec.layers if isinstance(layer, Conv2D) for f in layer.filters if f.init]
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


# --------------------------------------------------------------------------- the shape table


@dataclass(frozen=True)
class StackPlan:
    """The plan of the longest runnable start of the stack, and why the rest can't run."""

    plans: list[StagePlan]  # the input, then one per runnable layer
    error: SpecError | None = None
    bad_layer: int | None = None  # 0-based index of the layer that can't be built, when one can be named

    @property
    def runnable(self) -> int:
        """How many layers run."""
        return len(self.plans) - 1


def plan_stack(spec: Spec, input_shape: tuple[int, ...]) -> StackPlan:
    """``cnn_core.plan`` for the whole stack; if it fails, the plan of the layers before the failing one."""
    try:
        return StackPlan(plan(spec, input_shape))
    except SpecError as e:
        m = re.match(r"layers\[(\d+)\]", e.field or "")
        bad = int(m.group(1)) if m else None
        for k in range(len(spec.layers) - 1 if bad is None else bad, -1, -1):
            try:
                return StackPlan(plan(replace(spec, layers=spec.layers[:k]), input_shape), e, bad)
            except SpecError:
                continue
        return StackPlan([], e, bad)


def shape_text(shape: tuple[int, int, int]) -> str:
    return f"{shape[0]}×{shape[1]}×{shape[2]}"


def table_rows(sp: StackPlan, spec: Spec) -> list[dict]:
    """One row per stage (input first): what it is, its output shape, weights and multiply-adds.

    A layer that can't be built gets a row saying so; the layers after it get none.
    """
    rows = []
    for p in sp.plans:
        rows.append(
            {
                "Stage": f"{p.index} · {p.title}",
                "Output H×W×C": shape_text(p.shape),
                "Weights": p.params,
                "Multiply-adds": p.madds,
            }
        )
    if sp.bad_layer is not None and sp.bad_layer < len(spec.layers):
        layer = spec.layers[sp.bad_layer]
        rows.append(
            {
                "Stage": f"{sp.bad_layer + 1} · {LAYER_TITLES[layer.type]}",
                "Output H×W×C": "✗ can't be built",
                "Weights": None,
                "Multiply-adds": None,
            }
        )
    return rows


def error_text(sp: StackPlan, spec: Spec) -> str | None:
    """The plan's error in words that name the layer as the page numbers it, or None."""
    if sp.error is None:
        return None
    if sp.bad_layer is not None and sp.bad_layer < len(spec.layers):
        layer = spec.layers[sp.bad_layer]
        return (
            f"Layer {sp.bad_layer + 1} ({LAYER_TITLES[layer.type].lower()}) can't be built: {sp.error.detail} "
            f"(spec field {(sp.error.field or '').split(' ')[0]}). The maps stop before it."
        )
    return f"This stack can't be built: {sp.error}"


def channel_names(spec: Spec) -> list[list[str]]:
    """A name for every channel of every stage: the photo's colours, then the filter that made each channel
    (activations and pooling keep their input's channels)."""
    current = ["red", "green", "blue"] if spec.input.color == "rgb" else ["grey"]
    out = [current]
    for layer in spec.layers:
        if isinstance(layer, Conv2D):
            current = [filter_label(f) for f in layer.filters]
        out.append(current)
    return out
