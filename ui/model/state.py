"""The Your model page's settings as one frozen :class:`ModelState`, and the model inspector's pick (a layer
and one value of it) as an :class:`InspectorPick`, with the pure functions between them and the widgets.

The settings live in their widgets; :func:`from_session` and :func:`pick_from_session` read them,
:func:`pick_changes` and :func:`clicked` say what a pick or a click on a map sets. None of them reads session
state by itself, so a test can call them with a plain dict.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass

from cnn_core import backbones, render
from cnn_core.errors import CnnError
from ui.common.fields import from_widgets, one_of
from ui.model import keys

DEMO, UPLOAD, IMAGENET = "Demo: Tiny VGG", "Upload a .keras file", "ImageNet backbone"
TRAINED = "Trained on the Train page"
SOURCES = (DEMO, UPLOAD, TRAINED, IMAGENET)
SCALES = ("Per layer", "Per map")


@dataclass(frozen=True)
class ModelState:
    """Which model the page shows and how its maps are coloured. Refuses values the controls can't show,
    with a CnnError naming the field."""

    source: str = DEMO
    backbone: str = next(iter(backbones.BACKBONES))  # with IMAGENET
    cmap: str = "auto"
    scale: str = "Per layer"  # one of SCALES

    def __post_init__(self) -> None:
        one_of("source", self.source, SOURCES)
        one_of("backbone", self.backbone, tuple(backbones.BACKBONES))
        one_of("cmap", self.cmap, render.COLORMAPS)
        one_of("scale", self.scale, SCALES)

    @property
    def per_map(self) -> bool:
        """Whether each map is stretched over its own range."""
        return self.scale == "Per map"


WIDGETS = {"source": keys.MODEL_SOURCE, "backbone": keys.BACKBONE, "cmap": keys.CMAP, "scale": keys.SCALE}


def from_session(values: Mapping[str, object]) -> ModelState:
    """The state the widgets in ``values`` (session state, or any mapping of widget keys) hold; a widget
    not drawn yet counts as its default."""
    return from_widgets(ModelState, WIDGETS, values)


@dataclass(frozen=True)
class InspectorPick:
    """The value the model inspector explains: a layer's path and a position in its (height, width,
    channels) output; a flat layer's units are channels at row 0, column 0."""

    path: str
    row: int = 0
    col: int = 0
    channel: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path:
            raise CnnError(f"the layer must be a layer's path; got {self.path!r}", "path")
        for name in ("row", "col", "channel"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise CnnError(f"{name} must be a whole number from 0 up; got {v!r}", name)


_PICK = {"path": "layer", "row": "row", "col": "col", "channel": "ch"}


def pick_from_session(values: Mapping[str, object], prefix: str) -> InspectorPick | None:
    """The pick page ``prefix``'s inspector widgets hold, or None before a layer was picked."""
    got = {f: values.get(keys.inspector(prefix, w)) for f, w in _PICK.items()}
    if got["path"] is None:
        return None
    for f in ("row", "col", "channel"):
        v = got[f]
        got[f] = int(v) if isinstance(v, numbers.Integral) and not isinstance(v, bool) else (0 if v is None else v)
    return InspectorPick(**got)


def pick_changes(prefix: str, pick: InspectorPick) -> dict[str, object]:
    """The widget values that open page ``prefix``'s inspector on ``pick``."""
    return {keys.inspector(prefix, w): getattr(pick, f) for f, w in _PICK.items()}


def clicked(click: Mapping[str, float], shape: tuple[int, int]) -> tuple[int, int]:
    """The (row, column) of a map of ``shape`` (height, width) that a click on its picture landed on;
    ``click`` is the picture's {"x", "y", "width", "height"} in screen pixels. Clamped to the map."""
    h, w = shape
    r = int(click["y"] * h / click["height"])
    c = int(click["x"] * w / click["width"])
    return min(max(r, 0), h - 1), min(max(c, 0), w - 1)
