"""Every session-state and widget key of the Layer stack page, made here and nowhere else.

Keys start with ``P`` ("ls"). A layer's widgets carry its stable id ("L3"), a filter's widgets its index too,
so a layer keeps its widgets when another is moved or removed. The browser tests find containers by these
names (``st-key-ls_band_L1``), and share links and old sessions never see them: changing a key here changes
no file format.
"""

from __future__ import annotations

P = "ls"

# The page's state (ui/stack/state.py reads and writes these as one StackState).
SPEC = f"{P}_spec"  # the stack as a spec dict, the only copy
IDS = f"{P}_ids"  # the layers' stable ids, in order
OPEN = f"{P}_open"  # the id of the layer whose settings are open, or None
FOCUS = f"{P}_focus"  # (stage id, channel) of the enlarged map, or None
STARTER = f"{P}_starter"  # the starting point the stack was loaded from, or None
NEXT_ID = f"{P}_next_id"  # the number of the last id handed out

# Notes and messages shown once.
INPUT_NOTE = f"{P}_input_note"
IMPORT = f"{P}_import"
IMPORT_MSG = f"{P}_import_msg"
LINK_NOTE = f"{P}_link_note"


def page(name: str) -> str:
    """A page-wide widget's key, e.g. page("color") or page("add_conv2d")."""
    return f"{P}_{name}"


def layer(lid: str, name: str = "") -> str:
    """The key of widget ``name`` of the layer with id ``lid`` (its prefix when ``name`` is empty)."""
    return f"{P}_{lid}_{name}" if name else f"{P}_{lid}"


def note(lid: str) -> str:
    """Where a refused edit of layer ``lid`` leaves its sentence."""
    return layer(lid, "note")


def filter_(lid: str, j: int, name: str = "") -> str:
    """The key of widget ``name`` of filter ``j`` of layer ``lid`` (its prefix when ``name`` is empty)."""
    return layer(lid, f"f{j}_{name}" if name else f"f{j}")
