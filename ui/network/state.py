"""The Trained network page's settings as one frozen :class:`NetState`, and the pure functions between it,
the page's link (``cnn_core.network_link.NetView``) and the widgets.

The settings live in their widgets; :func:`from_session` reads them into a state, :func:`link_changes`
turns a decoded link into widget values and :func:`net_view` turns a state into the view the address bar
shows. None of them reads session state by itself, so a test can call them with a plain dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cnn_core import network_link, render
from cnn_core.shapes_data import CLASSES
from ui.common.fields import from_widgets, one_of, whole
from ui.network import keys

SOURCES = {
    "sample": "Generated sample",
    "draw": "Draw a shape",
    "upload": "Upload a photo",
    "camera": "Camera",
    "link": "From the link",
}
DEFAULT_SHAPE = CLASSES[3]


@dataclass(frozen=True)
class NetState:
    """What the page looks at and how it shows it. Refuses values the controls can't show, with a CnnError
    naming the field."""

    source: str = "sample"  # a key of SOURCES
    shape: str = DEFAULT_SHAPE  # the generated sample's class
    seed: int = 0  # which sample of that class
    explain: str = "pred"  # "pred" for the predicted class, or a class name
    cmap: str = "auto"
    scale: str = "layer"

    def __post_init__(self) -> None:
        one_of("source", self.source, tuple(SOURCES))
        one_of("shape", self.shape, CLASSES)
        whole("seed", self.seed, 0, network_link.MAX_SEED)
        one_of("explain", self.explain, ("pred", *CLASSES))
        one_of("cmap", self.cmap, render.COLORMAPS)
        one_of("scale", self.scale, tuple(render.SCALE_MODES))


# Which widget holds each field of the state.
WIDGETS = {
    "source": keys.SOURCE,
    "shape": keys.SHAPE,
    "seed": keys.SEED,
    "explain": keys.EXPLAIN,
    "cmap": keys.CMAP,
    "scale": keys.SCALE,
}


def from_session(values: Mapping[str, object]) -> NetState:
    """The state the widgets in ``values`` (session state, or any mapping of widget keys) hold; a widget
    not drawn yet counts as its default."""
    return from_widgets(NetState, WIDGETS, values)


def link_changes(view: network_link.NetView) -> dict[str, object]:
    """The widget values a decoded link sets: its sample, class to explain and colours, and its picture
    (then the source is "link")."""
    out: dict[str, object] = {
        keys.SHAPE: view.shape,
        keys.SEED: view.seed,
        keys.EXPLAIN: view.explain,
        keys.CMAP: view.cmap,
        keys.SCALE: view.scale,
    }
    if view.source == "image":
        out[keys.LINK_IMAGE] = view.image
        out[keys.SOURCE] = "link"
    else:
        out[keys.SOURCE] = "sample"
    return out


def net_view(s: NetState, image: bytes | None) -> network_link.NetView:
    """The link of state ``s``: with the picture the network looks at (``image``, PNG bytes) unless it is a
    generated sample or its picture can't travel in a link (then the link shows the sample instead)."""
    source = "image" if s.source != "sample" and image else "sample"
    return network_link.NetView(
        source, s.shape, s.seed, s.explain, s.cmap, s.scale, image if source == "image" else None
    )
