"""Every session-state and widget key of the Layer stack page, made here and nowhere else (with
``ui.common.keys``, as the Playground's are).

Keys start with ``P`` ("ls"). A layer's widgets carry its stable id ("L3"), a filter's widgets its index too,
so a layer keeps its widgets when another is moved or removed. The browser tests find containers by these
names (``st-key-ls_band_L1``); share links and spec files never hold them, so changing a key here changes
no file format.
"""

from __future__ import annotations

from ui.common import keys as common

P = "ls"

# The page's state (ui/stack/state.py reads and writes these as one StackState).
SPEC = common.key(P, "spec")  # the stack as a spec dict, the only copy
IDS = common.key(P, "ids")  # the layers' stable ids, in order
OPEN = common.key(P, "open")  # the id of the layer whose settings are open, or None
FOCUS = common.key(P, "focus")  # (stage id, channel) of the enlarged map, or None
STARTER = common.key(P, "starter")  # the starting point the stack was loaded from, or None
NEXT_ID = common.key(P, "next_id")  # the number of the last id handed out
TILES_SENT = common.key(P, "tiles_sent")  # {tile's place: address} of the pictures this session's page was sent
WEIGHT_STEP = common.key(P, "weight_step")  # set by a weight's edit: its run lets the new bands paint first
PLAN = common.key(P, "plan")  # (spec, input shape, its plan): the parts a change reruns plan the stack once

# The page's parts that rerun on their own (``@st.fragment(key=...)``, views/layer_stack.py): the layers' editor
# with the shapes and files, the maps with what explains them, and inside the editor the open filter's preview
# and the spec file's download, both of which follow the weights.
PART_EDITOR = common.key(P, "part_editor")
PART_MAPS = common.key(P, "part_maps")
PART_PREVIEW = common.key(P, "part_preview")
PART_DOWNLOAD = common.key(P, "part_download")
# What a change reruns: a layer's edit, every part that shows the stack; a weight's step (the editor around its
# slider says the same after it), what the weights decide.
EDIT_PARTS = (PART_MAPS, PART_EDITOR)
WEIGHT_PARTS = (PART_MAPS, PART_PREVIEW, PART_DOWNLOAD)

# Notes and messages shown once.
INPUT_NOTE = common.key(P, "input_note")
IMPORT = common.key(P, "import")
IMPORT_MSG = common.key(P, "import_msg")
LINK_NOTE = common.link_note(P)


def page(name: str) -> str:
    """A page-wide widget's key, e.g. page("color") or page("add_conv2d")."""
    return common.key(P, name)


def layer(lid: str, name: str = "") -> str:
    """The key of widget ``name`` of the layer with id ``lid`` (its prefix when ``name`` is empty)."""
    return common.key(P, lid, name) if name else common.key(P, lid)


def note(lid: str) -> str:
    """Where a refused edit of layer ``lid`` leaves its sentence."""
    return layer(lid, "note")


def stage(sid: str, name: str) -> str:
    """The key of widget ``name`` ("band", "tiles") of the stage with id ``sid``: stage("L1", "band") is
    "ls_band_L1" (the browser tests find st-key-ls_band_L1)."""
    return common.key(P, name, sid)


def zoom_tile(sid: str, channel: int) -> str:
    """The button that enlarges map ``channel`` of stage ``sid``."""
    return common.key(P, "zoom", sid, channel)


def filter_(lid: str, j: int, name: str = "") -> str:
    """The key of widget ``name`` of filter ``j`` of layer ``lid`` (its prefix when ``name`` is empty)."""
    return layer(lid, f"f{j}_{name}" if name else f"f{j}")
