"""The Playground's first screen, drawn from assets/first_screen.npz before TensorFlow loads: the stored maps
are the live page's maps, the page swaps them for live ones, and drawing them imports no TensorFlow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnn_core.kernels import PRESETS
from tests import map_views
from tests.core.np_reference import np_activation, np_conv2d, np_pool2d
from ui.playground import first_screen

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "playground.py")


def _close(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(b).max())))


_hover = map_views.hover


def test_stored_first_screen_is_the_live_default_page():
    spec, cells = first_screen.load()
    live_spec, live_cells = first_screen.live()
    assert spec == live_spec
    assert [c.heading for c in cells] == [c.heading for c in live_cells]
    assert [c.caption for c in cells] == [c.caption for c in live_cells]
    for c, live in zip(cells, live_cells):
        _close(c.maps, live.maps)
        assert (c.scale is None) == (live.scale is None)
        if c.scale is not None:
            assert c.scale.cmap == live.scale.cmap
            np.testing.assert_allclose([c.scale.vmin, c.scale.vmax], [live.scale.vmin, live.scale.vmax], rtol=1e-5)


def test_stored_maps_agree_with_numpy():
    spec, cells = first_screen.load()
    conv, act, pool = spec["layers"]
    assert (conv["filters"], conv["padding"], act["function"], pool["mode"], pool["size"]) == (
        ["edge"],
        "same",
        "relu",
        "max",
        2,
    )
    x = cells[0].maps
    kernel = PRESETS["edge"].array()[:, :, None, None]
    want_conv = np_conv2d(x, kernel, padding="same")
    want_act = np_activation(want_conv, "relu")
    want_pool = np_pool2d(want_act, "max", 2, 2, pool["padding"])
    for got, want in zip(cells[1:], (want_conv, want_act, want_pool)):
        _close(got.maps, want.astype(np.float32))


def _show_only() -> None:
    from ui.playground import first_screen

    first_screen.show()


def test_first_screen_draws_the_stored_maps(monkeypatch):
    monkeypatch.setattr(first_screen, "wanted", lambda: True)
    at = AppTest.from_function(_show_only, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    # Map views (their pixels are checked in test_map_views.py), no Plotly figures: nothing to load first.
    assert not at.get("plotly_chart")
    assert len(map_views.views(at)) == 4
    _, cells = first_screen.load()
    assert map_views.headings(at) == [c.heading for c in cells]
    assert any(first_screen.NOTE in i.value for i in at.info)


def test_page_replaces_the_first_screen_with_live_maps(monkeypatch):
    monkeypatch.setattr(first_screen, "wanted", lambda: True)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert not any(first_screen.NOTE in i.value for i in at.info)
    figs = map_views.views(at)
    assert len(figs) == 4  # only the live block is left
    _, cells = first_screen.load()
    for fig, cell in zip(figs[1:], cells[1:]):
        _close(_hover(fig), cell.maps[:, :, 0])
    # A kernel step after it computes as usual.
    at.slider(key="pg_w1_1").set_value(4.0).run()
    assert not at.exception, at.exception
    assert not np.allclose(_hover(map_views.views(at)[1]), cells[1].maps[:, :, 0])


@pytest.mark.parametrize("module", ["ui.playground.first_screen", "ui.playground.map_grid"])
def test_first_screen_imports_no_tensorflow(module):
    code = f"import sys, {module}; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
