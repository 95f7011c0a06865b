"""Plain-language captions: what each stage just did, with its own numbers."""

from __future__ import annotations

from cnn_core import kinds
from cnn_core.kernels import PRESETS
from cnn_core.kinds import percent_text  # noqa: F401  (its home is cnn_core.kinds; ui.common.maps imports it from here)
from cnn_core.pipeline import Stage


def preset_explanation(name: str, channels: int) -> str:
    """What preset ``name`` does to an input with ``channels`` channels (1 grey, 3 colour)."""
    p = PRESETS[name]
    return p.explanation if channels == 1 else p.rgb_explanation


def caption(stage: Stage, previous: Stage | None) -> str:
    """One or two sentences about what produced ``stage``: the layer's kind describes itself."""
    h, w, c = stage.shape
    layer = stage.plan.layer
    if layer is None:
        kind = "one grey channel" if c == 1 else "three colour channels (red, green, blue)"
        return f"The photo as the network receives it: {h}×{w} pixels with {kind}, every value scaled to 0–1."
    in_shape = previous.shape if previous is not None else (h, w, 1)
    kind, op = kinds.of_spec(layer, in_shape[2])
    return kind.describe(op, in_shape, stage.shape, stage.maps)
