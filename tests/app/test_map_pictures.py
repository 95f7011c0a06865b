"""The Playground's map pictures are sent at the size they are shown (CSS size × devicePixelRatio, shrunk by whole
factors), and at that size they are still the map: its NumPy box average through the colour scale."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnn_core import render
from tests import map_views
from tests.core.np_reference import np_run_pipeline
from ui.common.keys import SCREEN_DPR
from ui.common.screen import MAX_DPR, picture_side
from ui.playground.map_grid import MAP_HEIGHT

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "playground.py")


@pytest.mark.parametrize(
    "map_side, css, dpr, sent",
    [
        (1024, 245, 1.0, 256),  # 4× smaller: each picture pixel the mean of a 4×4 block
        (1024, 245, 2.0, 512),
        (512, 245, 1.0, 256),
        (1000, 245, 1.0, 250),
        (300, 245, 1.0, 300),  # less than twice the shown size: sent as it is
        (300, 245, 2.0, 300),  # never enlarged
        (4096, 245, 1.5, 373),  # 4096 // 368 = 11, ceil(4096 / 11) = 373
        (7, 245, 1.0, 7),
    ],
)
def test_picture_side(map_side, css, dpr, sent):
    assert picture_side(map_side, css, dpr) == sent


@pytest.mark.parametrize("map_side", [1, 5, 245, 246, 489, 490, 491, 999, 1024, 2048, 4096])
@pytest.mark.parametrize("dpr", [1.0, 1.25, 2.0])
def test_picture_side_never_blurs_and_never_enlarges(map_side, dpr):
    sent = picture_side(map_side, MAP_HEIGHT, dpr)
    assert sent <= map_side
    assert sent >= min(map_side, MAP_HEIGHT * dpr)  # at least one picture pixel per device pixel


def _pictures(at: AppTest) -> list[Image.Image]:
    out = []
    for src in map_views.pictures(at):
        assert src.startswith("data:image/png;base64,")
        out.append(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))
    return out


def _at_1024(dpr: float | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    if dpr is not None:
        at.session_state[SCREEN_DPR] = dpr
    at.run()
    at.radio(key="pg_size_mode").set_value("exact").run()
    at.number_input(key="pg_h").set_value(1024)
    at.number_input(key="pg_w").set_value(1024)
    at.run()
    assert not at.exception, at.exception
    return at


def _box(a: np.ndarray, f: int) -> np.ndarray:
    h, w = a.shape
    return a.reshape(h // f, f, w // f, f).mean(axis=(1, 3), dtype=np.float64).astype(np.float32)


def test_maps_at_1024_are_sent_at_shown_size_and_equal_the_numpy_reference():
    import cnn_core

    at = _at_1024()
    pics = _pictures(at)
    assert [p.size for p in pics] == [(256, 256)] * 4  # was 480² for every map

    # The reference: NumPy's resize, conv → ReLU → 2×2 max pool of the camera photo at 1024², box-averaged to the
    # picture's size and put through the scale the page's colour bar names (the palette index only depends on
    # the scale's ends).
    spec = {**cnn_core.default_spec().to_dict(), "input": {"color": "grayscale", "size": [1024, 1024]}}
    ref = np_run_pipeline(cnn_core.load_image(ROOT / "assets" / "camera.png"), spec)
    views = map_views.views(at)
    for pic, maps, view in zip(pics[1:], ref[1:], views[1:]):
        assert pic.mode == "P"  # one palette index per pixel
        bar = view["bar"]
        scale = render.ColorScale(bar["cmap"], bar["vmin"], bar["vmax"])
        want = render.color_indices(_box(maps[:, :, 0], maps.shape[0] // 256), scale)
        got = np.asarray(pic)
        # Equal up to float rounding at an index boundary.
        assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
        assert np.mean(got == want) > 0.999


def test_a_dense_screen_gets_pictures_twice_as_large():
    at = _at_1024(dpr=2.0)
    assert [p.size for p in _pictures(at)] == [(512, 512)] * 4
    at.session_state[SCREEN_DPR] = 3.0  # capped: the eye cannot tell, the bytes would grow 2.25×
    at.run()
    assert MAX_DPR == 2.0
    assert [p.size for p in _pictures(at)] == [(512, 512)] * 4
