"""Every session-state and widget key of the Your model page, and of the model inspector and Grad-CAM panel
it shares with other pages, made here and nowhere else (with ``ui.common.keys``).

The page's keys start with ``P`` ("ym"). The inspector and the Grad-CAM panel are drawn on several pages,
so their keys take the page's prefix: ``inspector("net", "row")`` is "net_mi_row". The app and browser tests
name widgets by these keys ("ym_model_upload", ``st-key-ym_minspector``); no link holds them.
"""

from __future__ import annotations

from ui.common import keys as common
from ui.train import keys as train_keys

P = "ym"

# The settings (ui/model/state.py reads them as one ModelState).
MODEL_SOURCE = common.key(P, "model_source")
BACKBONE = common.key(P, "backbone")
CMAP = common.cmap(P)
SCALE = common.scale(P)

# The model's files.
MODEL_UPLOAD = common.key(P, "model_upload")
LABELS_UPLOAD = common.key(P, "labels_upload")
MODEL_MEMO = common.key(P, "model_memo")  # (upload's file id, LoadedModel or why it was refused)
MODEL_BYTES = common.key(P, "model_bytes")  # (file name, .keras bytes): read by the unit pages' scans
TRAINED_MODEL = train_keys.MODEL  # (file name, .keras bytes, class names) the Train page handed over

# The enlarged map.
ZOOM_LAYER = common.key(P, "zoom_layer")
ZOOM_CHANNEL = common.key(P, "zoom_channel")
ZOOM_CLICKS = common.key(P, "zoom_clicks")
ZOOM_WRAP = common.key(P, "zoom_wrap")
ZOOM_MAP = common.key(P, "zoom_map")


def value_range(model: str) -> str:
    """The pixel-range choice for the model with content hash ``model`` (each model keeps its own)."""
    return common.key(P, "range", model)


def maps_page(model: str) -> str:
    """The page of layers shown for the model with content hash ``model``."""
    return common.key(P, "page", model)


def band(stem: str) -> str:
    """The container of one layer's band of maps (``stem``: the layer's file-name form)."""
    return common.key(P, "band", stem)


def channels(stem: str) -> str:
    """The choice of which channels one layer's band shows."""
    return common.key(P, "ch", stem)


def inspector(prefix: str, name: str = "") -> str:
    """Widget ``name`` ("layer", "row", "col", "ch", "click", "anim", "anim_fig") of page ``prefix``'s model
    inspector; with no name, the inspector's container."""
    return common.key(prefix, "mi", name) if name else common.key(prefix, "minspector")


ZOOM_PARTS = ("at", "side", "worked", "close", "anim", "anim_fig")


def zoom(prefix: str, part: str) -> str:
    """Part ``part`` of the panel beside page ``prefix``'s enlarged map (ui/model/worked.py): "at", the value
    whose sum is open; "side", its column; "worked", the open panel; "close", "anim", "anim_fig", its widgets."""
    if part not in ZOOM_PARTS:
        raise KeyError(f"{part!r} is not one of {', '.join(ZOOM_PARTS)}")
    return common.key(prefix, "zoom", part)


def gradcam(prefix: str, name: str = "") -> str:
    """Widget ``name`` ("layer", "unit") of page ``prefix``'s Grad-CAM panel; with no name, its container."""
    return common.key(prefix, "gc", name) if name else common.key(prefix, "gradcam")
