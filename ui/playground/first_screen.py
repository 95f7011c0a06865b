"""The Playground's first screen, drawn before TensorFlow has loaded.

A fresh server's first visitor would otherwise wait for TensorFlow's import (seconds) before any map. The
default view's maps are known in advance: ``python -m ui.playground.first_screen`` computes them with the
app's own code (TensorFlow, the default state, the bundled sample) and stores them in
``assets/first_screen.npz``; tests/app/test_first_screen.py checks that file against a live computation.
The page draws them at once, as the live page draws its maps (ui/common/map_view.py: no Plotly), with a note that the controls are
on their way, and replaces them with the live page as soon as its imports are done. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import streamlit as st

from cnn_core import render
from ui.common import first_paint
from ui.playground import keys, map_grid
from ui.playground import state as pgs

ASSET = Path(__file__).resolve().parents[2] / "assets" / "first_screen.npz"
NAME = keys.FIRST_MAPS
NOTE = "Starting TensorFlow (once per server): the controls appear in a few seconds."


def wanted() -> bool:
    """Only a fresh session's first look at the default page, while TensorFlow is still to be imported."""
    return (
        "tensorflow" not in sys.modules
        and keys.STATE not in st.session_state
        and not st.query_params
        and ASSET.is_file()
    )


def load(path: Path = ASSET) -> tuple[dict, list[map_grid.Cell]]:
    """(the spec the maps were computed with, the four cells of the block) from the stored file."""
    with np.load(path, allow_pickle=False) as f:
        spec = json.loads(str(f["spec"]))
        cells = []
        for i, (heading, caption) in enumerate(zip(f["headings"].tolist(), f["captions"].tolist())):
            cmap = str(f["cmaps"][i])
            scale = None if not cmap else render.ColorScale(cmap, float(f["vmins"][i]), float(f["vmaxs"][i]))
            cells.append(map_grid.Cell(heading, f[f"maps{i}"], scale, caption))
    return spec, cells


def show() -> object | None:
    """Draw the stored first screen when ``wanted``; the placeholder to clear once the live maps follow."""
    if not wanted():
        return None
    _, cells = load()
    placeholder = st.empty()
    with placeholder.container():
        note_col, maps_col = st.columns([5, 6], gap="medium")
        with maps_col:
            map_grid.grid(cells, NAME)
            # The browser loads Plotly (the inspector's animation below the live maps) while the server imports
            # TensorFlow.
            first_paint.preload(keys.FIRST_PROBE)
        note_col.info(NOTE, icon=":material/hourglass_top:")
    return placeholder


def live() -> tuple[dict, list[map_grid.Cell]]:
    """The default page's spec and cells, computed now with TensorFlow as the page computes them."""
    import cnn_core
    from ui.common import maps
    from ui.common.inputs import load_sample

    state = pgs.default_state()
    picture = load_sample(state.sample)
    spec_dict = pgs.spec_dict(state, picture.array.shape)
    stages = cnn_core.run_pipeline(picture.array, cnn_core.parse_spec(spec_dict))
    scales = [sc[0] for sc in render.stage_scales(stages, state.cmap, state.scale)]
    note = pgs.resize_note(picture.array.shape, pgs.input_size(state, picture.array.shape))
    cells = [
        map_grid.Cell(
            f"**{'→ ' if i else ''}{s.title}** · {maps.shape_text(s.shape)}",
            s.maps,
            sc,
            note if s.name == "input" else maps.map_stats(s.maps),
        )
        for i, (s, sc) in enumerate(zip(stages, scales))
    ]
    return spec_dict, cells


def save(spec: dict, cells: list[map_grid.Cell], path: Path = ASSET) -> None:
    """Store the spec and cells compressed (float32 maps as computed)."""
    np.savez_compressed(
        path,
        spec=np.array(json.dumps(spec, sort_keys=True)),
        headings=np.array([c.heading for c in cells]),
        captions=np.array([c.caption for c in cells]),
        cmaps=np.array([c.scale.cmap if c.scale else "" for c in cells]),
        vmins=np.array([c.scale.vmin if c.scale else 0.0 for c in cells], np.float64),
        vmaxs=np.array([c.scale.vmax if c.scale else 0.0 for c in cells], np.float64),
        **{f"maps{i}": np.ascontiguousarray(c.maps, np.float32) for i, c in enumerate(cells)},
    )


if __name__ == "__main__":
    save(*live())
    print(f"wrote {ASSET} ({ASSET.stat().st_size:,} bytes)")
