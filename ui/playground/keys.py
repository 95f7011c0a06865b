"""Every widget and session-state key of the Playground: no other module spells one."""

from __future__ import annotations

from ui.common import keys

P = "pg"  # the page's prefix

STATE = keys.key(P, "state")  # the page's PlaygroundState
SOURCE = keys.source(P)
SAMPLE = keys.sample(P)
LINK_NOTE = keys.link_note(P)

SPEC_FILE = keys.key(P, "spec_file")
SPEC_MSG = keys.key(P, "spec_msg")  # (st function name, text) the spec file's loading left, or None
RERUN_APP = keys.key(P, "rerun_app")  # set by a loaded spec file: rerun the whole page, sidebar included

PRESET = keys.key(P, "preset")
KERNEL_SIZE = keys.key(P, "ksize")
EDITOR = keys.key(P, "mode")
KERNEL_CANVAS = keys.key(P, "kc")
KERNEL_GRID = keys.key(P, "kernel_grid")  # the sliders' container; the CSS keeps it a grid on a phone
GRID_REFUSED = keys.key(P, "grid_refused")  # the number grid's refused cells, shown once


def setting(field: str) -> str:
    """The widget of one field of the state (``setting("stride")`` is "pg_stride")."""
    return keys.key(P, field)


def weight(i: int, j: int) -> str:
    """The slider of weight [i, j]."""
    return keys.key(P, f"w{i}_{j}")


def grid(version: int) -> str:
    """The number grid of one version of the kernel (a new kernel is a new grid)."""
    return keys.key(P, "grid", version)
