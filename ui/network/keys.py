"""Every session-state and widget key of the Trained network page, made here and nowhere else (with
``ui.common.keys``).

Keys start with ``P`` ("net"). The app and browser tests name widgets by these keys ("net_shape",
"net_explain"); the page's links (cnn_core/network_link.py) never hold them, so changing a key here changes
no link.
"""

from __future__ import annotations

from ui.common import keys as common

P = "net"

# The settings (ui/network/state.py reads them as one NetState).
SOURCE = common.source(P)
SHAPE = common.key(P, "shape")
SEED = common.key(P, "seed")
EXPLAIN = common.key(P, "explain")
CMAP = common.cmap(P)
SCALE = common.scale(P)
LINK_IMAGE = common.key(P, "link_image")  # the picture a link carried (PNG or JPEG bytes)

# The sidebar's inputs.
UPLOAD = common.key(P, "upload")
CAMERA = common.key(P, "camera")
TOOL = common.key(P, "tool")
PEN = common.key(P, "pen")
INK = common.key(P, "ink")
PAPER = common.key(P, "paper")
CANVAS = common.key(P, "canvas")

# The sections' widgets.
PROBS_TOP = common.key(P, "probs_top")
ZOOM_LAYER = common.key(P, "zoom_layer")
ZOOM_CHANNEL = common.key(P, "zoom_ch")
ZOOM_CLICKS = common.key(P, "zoom_clicks")
ZOOM_WRAP = common.key(P, "zoom_wrap")
ZOOM_FIGURE = common.key(P, "zoom_fig")
FILTER_LAYER = common.key(P, "flayer")
FILTER = common.key(P, "ffilter")
FLAT_STRIP = common.key(P, "flat_strip")
FLAT_INDEX = common.key(P, "flat_index")
PROBS = common.key(P, "probs")
CAM_LAYER = common.key(P, "cam_layer")
CAM_COARSE = common.key(P, "cam_coarse")
CAM_ALPHA = common.key(P, "cam_alpha")


def phone(name: str) -> str:
    """The phone picker's copy of a sidebar widget: phone("shape") is "net_phone_shape"."""
    return common.key(P, "phone", name)


def filter_channel(layer: int) -> str:
    """The input-channel choice of the filters of conv layer ``layer`` (each layer has its own channels)."""
    return common.key(P, "fch", layer)
