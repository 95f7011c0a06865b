"""A fresh server's first visitor: the stored first maps, then the live page in their place, and a kernel step
in the Playground's fragment that changes the maps."""

from __future__ import annotations

import numpy as np
import pytest

from tests import map_views
from ui.playground import first_screen

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

# The hover values each map view holds, as its browser code decoded them from what the server sent.
HOVER_JS = """() => Promise.all(Array.from(document.querySelectorAll('.cnn-map')).map(async m => {
  const h = await m.cnnHover();
  return Array.from({length: h.rows}, (_, r) => h.values.slice(r * h.cols, (r + 1) * h.cols));
}))"""
MAPS_JS = map_views.SHOWN_JS


def test_first_visit_shows_the_default_maps_then_the_live_page(browser, fresh_server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(fresh_server.url)
        page.wait_for_function(f"({MAPS_JS})() >= 4", timeout=180_000)
        _, cells = first_screen.load()
        hover = page.evaluate(HOVER_JS)
        assert len(hover) == 4
        for got, cell in zip(hover[1:], cells[1:]):
            np.testing.assert_allclose(np.array(got, np.float32), cell.maps[:, :, 0], rtol=1e-5, atol=1e-5)
        # The live page takes over: its controls, its own caption, and still four maps.
        page.get_by_role("slider", name="w[1,1]").wait_for(timeout=180_000)
        wait_idle(page, 180_000)
        assert page.get_by_text("Computed by TensorFlow").count()
        assert page.get_by_text(first_screen.NOTE).count() == 0
        assert page.evaluate(MAPS_JS) == 4
        before = np.array(page.evaluate(HOVER_JS)[1], np.float32)
        np.testing.assert_allclose(before, cells[1].maps[:, :, 0], rtol=1e-5, atol=1e-5)
        # One kernel step (the centre weight 8 → a little less) reruns the fragment and changes the maps.
        page.get_by_role("slider", name="w[1,1]").focus()
        page.keyboard.press("ArrowLeft")
        map_views.wait_hover(page, 1, lambda grid: abs(float(grid.flat[0]) - float(before[0, 0])) > 1e-6, 120)
        wait_idle(page, 120_000)
        after = np.array(page.evaluate(HOVER_JS)[1], np.float32)
        x = cells[0].maps[:, :, 0]
        # Only the centre weight moved: the difference is (its change) × the input, everywhere.
        delta = (after - before) / np.where(x == 0, np.nan, x)
        step = float(np.nanmedian(delta))
        assert step < 0
        np.testing.assert_allclose(after - before, step * x, rtol=1e-4, atol=1e-4)
        assert not page.locator("[data-testid=stException]").count()
    finally:
        page.close()
