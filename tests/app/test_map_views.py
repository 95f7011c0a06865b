"""The Playground's maps are map-view pictures (ui/common/map_view.py), not Plotly figures, from a session's first
run on: their pictures are the maps (colours checked against a NumPy computation of the default page), their
hover grids hold the maps' values, and the first screen drawn before TensorFlow shows the same."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnn_core import render
from cnn_core.kernels import PRESETS
from tests import map_views
from tests.core.np_reference import np_activation, np_conv2d, np_pool2d
from ui.common import first_paint, map_view
from ui.playground import first_screen

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "playground.py")


_views, _pictures, _hover = map_views.views, map_views.pictures, map_views.hover


def _figures(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _rgb(uri: str) -> np.ndarray:
    png = base64.b64decode(uri.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def _np_maps() -> tuple[np.ndarray, list[np.ndarray]]:
    """The default page's input and its three maps, computed in NumPy from the stored input."""
    _, cells = first_screen.load()
    x = cells[0].maps.astype(np.float64)
    conv = np_conv2d(x, PRESETS["edge"].array()[:, :, None, None], padding="same")
    act = np_activation(conv, "relu")
    return x, [conv, act, np_pool2d(act, "max", 2, 2, "valid")]


def _np_colours(values: np.ndarray, scale: render.ColorScale) -> np.ndarray:
    """The colours a scale gives values: the colour map's table at the value's place between the scale's ends."""
    t = np.clip((values - scale.vmin) / (scale.vmax - scale.vmin), 0, 1)
    return render.lut(scale.cmap)[np.rint(t * 255).astype(int)].astype(np.int16)


def _check_pictures(uris: list[str], scales: list[render.ColorScale | None]) -> None:
    x, maps = _np_maps()
    assert len(uris) == 4
    grey = _rgb(uris[0])  # the input in its own greys: its values × 255 (float32 rounding moves a half by one)
    np.testing.assert_allclose(grey, np.repeat(np.rint(x * 255), 3, axis=2), atol=1)
    for uri, values, scale in zip(uris[1:], maps, scales[1:]):
        got, want = _rgb(uri), _np_colours(values[:, :, 0], scale)
        assert got.shape == want.shape  # 300² and 150² maps are sent whole at 245 CSS pixels
        # Palette rounding moves a colour by at most one step of the table: a few levels of one channel.
        assert np.abs(got - want).max() <= 12
        assert np.abs(got - want).mean() < 1


@pytest.fixture
def warm(monkeypatch):
    """A session on a warm server (no first screen: TensorFlow is imported)."""
    monkeypatch.setattr(first_screen, "wanted", lambda: False)


def test_first_run_draws_map_views_of_the_maps(warm):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    # No Plotly figure among the maps (the inspector's animation further down is the page's only one).
    assert all("sliders" in json.loads(c.proto.spec)["layout"] for c in at.get("plotly_chart"))
    _, cells = first_screen.load()
    _check_pictures(_pictures(at), [c.scale for c in cells])
    # Each map view draws its heading and its line of numbers (one element per map).
    assert map_views.headings(at) == [c.heading for c in cells]
    assert map_views.captions(at)[1:] == [c.caption for c in cells[1:]]


def test_map_views_carry_shape_colour_bar_and_exact_hover_values(warm):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    views = _views(at)
    x, maps = _np_maps()
    _, cells = first_screen.load()
    assert [(v["rows"], v["cols"]) for v in views] == [(300, 300), (300, 300), (300, 300), (150, 150)]
    assert views[0]["bar"] is None  # the input in its own colours
    for view, cell in zip(views[1:], cells[1:]):
        assert (view["bar"]["max"], view["bar"]["min"]) == map_view.bar_labels(cell.scale)
    # Maps up to 320 a side hover every pixel: the grid is the map itself, to float32 (TensorFlow's own values).
    np.testing.assert_allclose(_hover(views[0]), x[:, :, 0], atol=1e-6)
    for view, want in zip(views[1:], maps):
        assert (view["hover"]["sy"], view["hover"]["sx"]) == (1, 1)
        np.testing.assert_allclose(_hover(view), want[:, :, 0], rtol=1e-5, atol=1e-5)


def test_a_kernel_step_changes_the_maps_after_the_input_only(warm):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    before = _pictures(at)
    at.slider(key="pg_w1_1").set_value(4.0).run()
    assert not at.exception, at.exception
    after = _pictures(at)
    assert len(after) == 4 and after[0] == before[0]
    assert all(a != b for a, b in zip(after[1:], before[1:]))


def test_a_large_map_hovers_on_a_sampled_grid_that_says_its_step():
    values = np.arange(1024 * 1000, dtype=np.float32).reshape(1024, 1000)
    hover = map_view.hover_data(values, (7, 7))
    assert (hover["rows"], hover["cols"], hover["sy"], hover["sx"]) == (147, 143, 7, 7)
    got = np.frombuffer(base64.b64decode(hover["b64"]), np.float32).reshape(147, 143)
    np.testing.assert_array_equal(got, values[::7, ::7])


def test_a_large_hover_grid_goes_by_address_and_a_small_one_inline(monkeypatch):
    import ui.common.map_view as mv

    served = []
    monkeypatch.setattr(
        mv, "media_url", lambda data, mimetype, where: served.append((data, mimetype, where)) or "/media/h.bin"
    )
    big = np.arange(300 * 300, dtype=np.float32).reshape(300, 300)  # 360 kB of values
    hover = map_view.hover_data(big, (1, 1), "hover values m1")
    assert hover["url"] == "/media/h.bin" and "b64" not in hover and (hover["rows"], hover["cols"]) == (300, 300)
    assert np.array_equal(np.frombuffer(served[0][0], np.float32).reshape(300, 300), big)
    assert served[0][1:] == ("application/octet-stream", "hover values m1")
    small = np.ones((64, 64), np.float32)  # 16 kB: inline, no fetch on hover
    assert "b64" in map_view.hover_data(small, (1, 1), "hover values m2") and len(served) == 1
    # No media store (outside an app, or one that moved): the values go inline, whatever their size.
    monkeypatch.setattr(mv, "media_url", lambda *a: None)
    got = map_view.hover_data(big, (1, 1), "hover values m1")
    assert np.array_equal(np.frombuffer(base64.b64decode(got["b64"]), np.float32).reshape(300, 300), big)


def test_after_the_first_screen_the_live_maps_are_drawn(monkeypatch):
    # The first screen's maps were the first paint, while TensorFlow imported; the live ones replace them.
    monkeypatch.setattr(first_screen, "wanted", lambda: True)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert len(_views(at)) == 4  # the first screen's were emptied


def test_first_screen_pictures_are_the_stored_maps(monkeypatch):
    monkeypatch.setattr(first_screen, "wanted", lambda: True)

    def show() -> None:
        from ui.playground import first_screen

        first_screen.show()

    at = AppTest.from_function(show, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert _figures(at) == []  # no Plotly before TensorFlow
    _, cells = first_screen.load()
    _check_pictures(_pictures(at), [c.scale for c in cells])


def test_the_probe_loads_the_chunk_streamlit_itself_imports():
    name = first_paint.plotly_chunk()
    assert name is not None and re.fullmatch(r"PlotlyChart\.[\w-]+\.js", name)
    # Streamlit's index chunk imports it by that name, beside itself: the probe's URL is the same module.
    index = [p for p in first_paint._STATIC_JS.glob("index.*.js") if f"./{name}" in p.read_text(errors="ignore")]
    assert index
