"""Starting points for the layer stack: the spec files in assets/stacks and the buttons that load them."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cnn_core.errors import SpecError
from cnn_core.files import read_bounded
from cnn_core.spec import MAX_SPEC_CHARS, Spec, parse_spec
from ui.stack import keys
from ui.stack.state import load_spec, ss

STACKS = Path(__file__).resolve().parents[2] / "assets" / "stacks"

# One-click starting points: file stem in assets/stacks -> (button label, what it shows).
STARTERS: dict[str, tuple[str, str]] = {
    "article_12_filters": (
        "Article: 12 filters → ReLU → pool",
        "The reference article's layer on a 32×32 colour photo: twelve 3×3 filters (edge, Sobel, blur, two "
        "colour-opponent kernels with separate weights per channel, three random ones), ReLU, 2×2 max pooling.",
    ),
    "edge_pyramid": (
        "Edge pyramid",
        "Sobel x, Sobel y and the outline kernel, then ReLU and 2×2 pooling, three times over: each channel "
        "keeps its own detector, applied to ever coarser maps (256 → 128 → 64 → 32 pixels).",
    ),
    "vgg_block_random": (
        "Random VGG blocks",
        "Two VGG-style blocks (conv–ReLU–conv–ReLU–pool, 8 then 16 filters) with seeded He-normal weights: "
        "what an untrained network sees.",
    ),
    "lenet_valid": (
        "LeNet-style, valid padding",
        "5×5 kernels without padding, tanh and average pooling on a 28×28 grey image: every layer shrinks the map "
        "(28 → 24 → 12 → 8 → 4).",
    ),
    "article_one_filter": (
        "One outline filter",
        "The playground's example: the outline kernel, ReLU and 2×2 max pooling on a 300×300 grey photo.",
    ),
}
DEFAULT_STARTER = "article_12_filters"


def load_starter(name: str) -> Spec:
    """A starting point from assets/stacks, parsed like any uploaded spec."""
    if name not in STARTERS:
        raise SpecError(f"{name!r} is not a starting point; use one of {', '.join(STARTERS)}", "starter")
    return parse_spec(read_bounded(STACKS / f"{name}.json", MAX_SPEC_CHARS, "a spec JSON file", SpecError).decode())


def init_state() -> None:
    """Start from the default starting point the first time the page runs in a session."""
    if keys.SPEC not in ss:
        load_spec(load_starter(DEFAULT_STARTER), starter=DEFAULT_STARTER)


def _load(name: str) -> None:
    load_spec(load_starter(name), starter=name)
    ss[keys.IMPORT_MSG] = None


def starting_points() -> None:
    """One button per starting point in assets/stacks."""
    st.markdown("**Start from**")
    with st.container(horizontal=True, gap="small"):
        for name, (label, about) in STARTERS.items():
            st.button(label, key=keys.page(f"start_{name}"), help=about, on_click=_load, args=(name,))
    name = ss.get(keys.STARTER)
    if name in STARTERS:
        st.caption(f"Loaded **{STARTERS[name][0]}**: {STARTERS[name][1]}")
