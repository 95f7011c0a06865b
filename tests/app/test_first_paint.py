"""A session's first maps go out as plain pictures (ui/common/first_paint.py): the pictures are the maps (their
colours match a NumPy computation of the default page), the next run replaces them with the figures, which
show the very same pictures, and a session without a browser gets the figures at once."""

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
from tests.core.np_reference import np_activation, np_conv2d, np_pool2d
from ui.common import first_paint
from ui.playground import first_screen
from ui.playground.map_grid import PICTURE_CLASS

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "playground.py")
SRC = re.compile(r'src="(data:image/png;base64,[^"]+)"')


def _pictures(at: AppTest) -> list[str]:
    """The data URIs of the map pictures the run drew, in page order."""
    bodies = [e.proto.body for e in at.get("html")]
    return [SRC.search(b).group(1) for b in bodies if PICTURE_CLASS in b]


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
def with_browser(monkeypatch):
    """A session with a browser on a warm server (no first screen: TensorFlow is imported)."""
    monkeypatch.setattr(first_paint, "browser_attached", lambda: True)
    monkeypatch.setattr(first_screen, "wanted", lambda: False)


def test_first_run_draws_pictures_of_the_maps(with_browser):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert _figures(at) == []
    _, cells = first_screen.load()
    _check_pictures(_pictures(at), [c.scale for c in cells])
    headings = [c.heading for c in cells]
    assert [m.value for m in at.markdown if m.value in headings] == headings
    assert {c.caption for c in cells[1:]} <= {c.value for c in at.caption}


def test_next_run_draws_the_figures_with_the_same_pictures(with_browser):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    pictures = _pictures(at)
    at.run()  # what the probe's rerun does once Plotly is loaded (any other rerun does the same)
    assert not at.exception, at.exception
    assert _pictures(at) == []
    figs = _figures(at)
    assert [f["layout"]["images"][0]["source"] for f in figs] == pictures
    # ...and stay figures: a kernel step does not bring the pictures back.
    at.slider(key="pg_w1_1").set_value(4.0).run()
    assert _pictures(at) == [] and len(_figures(at)) == 4


def test_after_the_first_screen_the_live_maps_are_figures_at_once(with_browser, monkeypatch):
    # The first screen's pictures were the first paint, and the browser loaded Plotly while TensorFlow imported.
    monkeypatch.setattr(first_screen, "wanted", lambda: True)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert _pictures(at) == []  # the first screen's were emptied
    assert len(_figures(at)) == 4


def test_without_a_browser_the_figures_come_at_once():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert _pictures(at) == []
    assert len(_figures(at)) == 4


def test_first_screen_pictures_are_the_stored_maps(monkeypatch):
    monkeypatch.setattr(first_screen, "wanted", lambda: True)

    def show() -> None:
        from ui.playground import first_screen

        first_screen.show()

    at = AppTest.from_function(show, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert _figures(at) == []  # no Plotly before TensorFlow either
    _, cells = first_screen.load()
    _check_pictures(_pictures(at), [c.scale for c in cells])


def test_the_probe_loads_the_chunk_streamlit_itself_imports():
    name = first_paint.plotly_chunk()
    assert name is not None and re.fullmatch(r"PlotlyChart\.[\w-]+\.js", name)
    # Streamlit's index chunk imports it by that name, beside itself: the probe's URL is the same module.
    index = [p for p in first_paint._STATIC_JS.glob("index.*.js") if f"./{name}" in p.read_text(errors="ignore")]
    assert index
