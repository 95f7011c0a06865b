"""Plain-language captions: what each stage just did, with its own numbers."""

from __future__ import annotations

import numpy as np

from cnn_core.kernels import PRESETS
from cnn_core.pipeline import Stage
from cnn_core.spec import Activation, Conv2D, Pool2D


def preset_explanation(name: str, channels: int) -> str:
    """What preset ``name`` does to an input with ``channels`` channels (1 grey, 3 colour)."""
    p = PRESETS[name]
    return p.explanation if channels == 1 else p.rgb_explanation


def percent_text(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage that never rounds to 0% or 100% unless it is exactly that."""
    if whole <= 0 or part <= 0:
        return "0%"
    if part >= whole:
        return "100%"
    pct = 100.0 * part / whole
    for digits in (0, 1, 2):
        text = f"{pct:.{digits}f}"
        if 0 < float(text) < 100:
            return f"{text}%"
    return "over 99.99%" if pct > 50 else "under 0.01%"


_ACT = {
    "relu": "ReLU keeps every positive value and turns every negative one into 0",
    "leaky_relu": "Leaky ReLU keeps positive values and shrinks negative ones by a factor of {alpha:g}",
    "tanh": "tanh squashes every value into the range −1 to 1",
    "sigmoid": "The sigmoid squashes every value into the range 0 to 1",
    "elu": "ELU keeps positive values and bends negative ones smoothly towards −1",
    "gelu": "GELU lets large positive values through, damps values near 0 and nearly zeroes large negative ones",
    "linear": "The linear activation passes every value through unchanged",
}


def _padding_words(layer: Conv2D) -> str:
    if layer.padding == "same":
        return '"Same" padding adds a border of zeros so that, at stride 1, the size is kept'
    if layer.padding == "valid":
        return '"Valid" padding: the kernel only visits places where it fits, so the map shrinks'
    (t, b), (left, r) = layer.padding
    return f"The input is padded with zeros ({t} top, {b} bottom, {left} left, {r} right) before sliding"


def caption(stage: Stage, previous: Stage | None) -> str:
    """One or two sentences about what produced ``stage``."""
    h, w, c = stage.shape
    layer = stage.plan.layer
    if layer is None:
        kind = "one grey channel" if c == 1 else "three colour channels (red, green, blue)"
        return f"The photo as the network receives it: {h}×{w} pixels with {kind}, every value scaled to 0–1."
    if isinstance(layer, Conv2D):
        kh, kw = layer.kernel_size
        sh, sw = layer.stride
        dh, dw = layer.dilation
        cin = previous.shape[2] if previous else 1
        step = f"{sh} pixel{'s' if sh > 1 else ''}" if sh == sw else f"{sh} down and {sw} across"
        dil = f", with its taps spread {dh} pixels apart (dilation)" if max(dh, dw) > 1 else ""
        over = f" over all {cin} input channels" if cin > 1 else ""
        n = len(layer.filters)
        depth = f"{n} filter{'s' if n > 1 else ''} → {n} output channel{'s' if n > 1 else ''}"
        frame = (
            " The zeros act as black pixels, so the border can light up."
            if layer.padding != "valid" and kh * kw > 1
            else ""
        )
        return (
            f"A {kh}×{kw} kernel slides {step} at a time{dil}; at each stop it multiplies the patch under it "
            f"by its weights{over} and adds up. {_padding_words(layer)}.{frame} {depth}."
        )
    if isinstance(layer, Activation):
        text = _ACT[layer.function].format(alpha=layer.alpha)
        if layer.function == "relu":
            zeros = percent_text(int(np.count_nonzero(stage.maps == 0)), stage.maps.size)
            return f"{text}: {zeros} of the values are now exactly 0. The shape does not change."
        return f"{text}. The shape does not change."
    if isinstance(layer, Pool2D):
        ph, pw = layer.size
        sh, _ = layer.stride
        what = "keeps the largest value" if layer.mode == "max" else "takes the average"
        tail = " (only the real cells, not padding)" if layer.mode == "avg" and layer.padding == "same" else ""
        before = f"{previous.shape[0]}×{previous.shape[1]}" if previous else "the input"
        return (
            f"{layer.mode.capitalize()} pooling {what} of each {ph}×{pw} window{tail}, stepping {sh} at a time: "
            f"the map goes from {before} to {h}×{w}. Each channel is pooled on its own."
        )
    return ""
