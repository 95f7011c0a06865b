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
MAPS = keys.key(P, "maps")  # the 2×2 block of maps (the CSS keeps it in view)
WORKED = keys.key(P, "worked")  # the worked sum's card
CLICKED = keys.key(P, "clicked")  # (stage, row, col) of the map value last clicked, or None when closed
WORKED_CLOSE = keys.key(P, "worked_close")
WEIGHT_STEP = keys.key(P, "weight_step")  # set by a weight's edit: its run lets the new maps paint first
SCREEN = keys.key(P, "screen")  # the probe that reports the screen's devicePixelRatio (ui/common/screen.py)
FIRST_MAPS = keys.key(P, "first_maps")  # the stored first screen's block, drawn before TensorFlow loads
FIRST_PROBE = keys.key(P, "first_probe")  # the first screen's probe, which preloads Plotly (first_paint.py)

# The page's parts that rerun on their own (``@st.fragment(key=...)``): a kernel step reruns the maps (and what
# explains them) but not the sliders that made it, so the browser redraws a few elements instead of the page.
PART_MAPS = keys.key(P, "part_maps")  # the maps, the worked sum beside them and what explains them, below
PART_KERNEL = keys.key(P, "part_kernel")  # the kernel's heading, preset, size and editor
PART_LAYERS = keys.key(P, "part_layers")  # the convolution's, activation's and pooling's settings


def setting(field: str) -> str:
    """The widget of one field of the state (``setting("stride")`` is "pg_stride")."""
    return keys.key(P, field)


def weight(i: int, j: int) -> str:
    """The slider of weight [i, j]."""
    return keys.key(P, f"w{i}_{j}")


def map_chart(block: str, i: int) -> str:
    """The i-th map of a block of maps (``MAPS`` or ``FIRST_MAPS``): "pg_map0" … for the live block."""
    return keys.key(P, f"map{i}") if block == MAPS else keys.key(block, i)


def grid(version: int) -> str:
    """The number grid of one version of the kernel (a new kernel is a new grid)."""
    return keys.key(P, "grid", version)
