"""The layer stack in words: layer titles, one-line descriptions, filter and channel names."""

from __future__ import annotations

from cnn_core import kinds
from cnn_core.kernels import PRESETS
from cnn_core.spec import LAYER_TYPES, Activation, Conv2D, Filter, Layer, Pool2D, Spec
from ui.common.maps import shape_text

__all__ = ["LAYER_TITLES", "channel_names", "describe", "filter_label", "shape_text"]

LAYER_TITLES = {t: kinds.KINDS[t].title for t in LAYER_TYPES}


def describe(layer: Layer) -> str:
    """A short line with the layer's settings, e.g. "12 filters 3×3 · stride 1 · same"."""
    return _SETTINGS_TEXT[layer.type](layer)


def _conv_text(layer: Conv2D) -> str:
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


def _activation_text(layer: Activation) -> str:
    return f"leaky_relu (alpha {layer.alpha:g})" if layer.function == "leaky_relu" else layer.function


def _pool_text(layer: Pool2D) -> str:
    return f"{layer.mode} {layer.size[0]}×{layer.size[1]} · stride {_pair_text(layer.stride)} · {layer.padding}"


# The settings line of each spec layer, by its kind's name (the spec's layer type).
_SETTINGS_TEXT = {"conv2d": _conv_text, "activation": _activation_text, "pool2d": _pool_text}


def _pair_text(p: tuple[int, int]) -> str:
    return str(p[0]) if p[0] == p[1] else f"{p[0]}×{p[1]}"


def _padding_text(p) -> str:
    if isinstance(p, str):
        return p
    (t, b), (left, r) = p
    if t == b == left == r:
        return f"pad {t}"
    return f"pad {t},{b},{left},{r}"


def filter_label(f: Filter) -> str:
    """A short name for a filter, e.g. "Sobel x", "He #3" or "hand, 3-D"."""
    if f.preset is not None:
        return PRESETS[f.preset].label.split(" (")[0]
    if f.init is not None:
        return f"{'He' if f.init == 'he_normal' else 'Glorot'} #{f.seed}"
    return "hand, 3-D" if f.depth else "by hand"


def channel_names(spec: Spec) -> list[list[str]]:
    """A name for every channel of every stage: the photo's colours, then the filter that made each channel
    (activations and pooling keep their input's channels)."""
    current = ["red", "green", "blue"] if spec.input.color == "rgb" else ["grey"]
    out = [current]
    for layer in spec.layers:
        if kinds.spec_kind(layer).makes_channels:
            current = [filter_label(f) for f in layer.filters]
        out.append(current)
    return out
