"""A real browser: click a map pixel and read the worked sum; step and play the sliding-window animation."""

from __future__ import annotations

import re

import pytest

import cnn_core

from .harness import ROOT, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

INSPECTOR = ".st-key-pg_inspector"


@pytest.fixture(scope="module")
def stages():
    # The Playground's first screen: the camera sample through the article's default spec.
    return cnn_core.run_pipeline(cnn_core.load_image(ROOT / "assets" / "camera.png"), cnn_core.default_spec())


@pytest.fixture()
def page(server, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.goto(server.url)
    wait_idle(page)
    page.locator(INSPECTOR).wait_for(timeout=60_000)
    yield page
    page.close()


def _click_cell(page, stages, row: int, col: int) -> None:
    """Click cell (row, col) of the convolution map in the inspector's picture, however wide it is drawn."""
    frame = page.frame_locator(f"{INSPECTOR} iframe").first
    picture = frame.locator("img#image")
    picture.wait_for(timeout=60_000)
    box = picture.bounding_box()
    h, w, _ = stages[1].shape
    # (The browser reports whole pixels, so aim a little inside the cell rather than at its centre line.)
    picture.click(position={"x": (col + 0.25) * box["width"] / w, "y": (row + 0.25) * box["height"] / h})
    page.wait_for_function(
        "t => document.querySelector('.st-key-pg_inspector').innerText.includes(t)",
        arg=f"row {row}, column {col}",
        timeout=60_000,
    )
    wait_idle(page)


def test_clicking_a_map_pixel_shows_the_worked_sum_with_the_maps_value(page, stages):
    # Map cell (row 40, col 210) of the 300×300 convolution map.
    row, col = 40, 210
    _click_cell(page, stages, row, col)
    value = float(stages[1].maps[row, col, 0])
    text = page.locator(INSPECTOR).inner_text()
    assert (
        f"The value at stage 1 · Convolution, row {row}, column {col}, channel 0: the map holds {value:.6g}\n" in text
    )
    assert f"the map holds {value:.6g} ✓ equal" in text
    # The 3×3 window's rows and columns, and one worked product of it.
    ex = cnn_core.explain(stages, 1, row, col, 0)
    for r in (row - 1, row, row + 1):
        assert f"row {r}" in text
    d = ex.detail
    assert f"{d.inputs[1, 1, 0]:.4g} × {d.weights[1, 1, 0]:.4g}" in text
    # The keyboard path shows the same numbers, and the position is in the address bar for a link.
    assert page.get_by_label("Row").first.input_value() == str(row)
    assert page.get_by_label("Column").first.input_value() == str(col)
    assert "at=1.40.210.0" in page.url
    assert page.locator("[data-testid=stException]").count() == 0


def _anim_state(page) -> dict:
    return page.evaluate(
        """() => { const g = [...document.querySelectorAll('.js-plotly-plot')].find(p => p.layout.sliders);
                   return {title: g.layout.title.text, active: g._fullLayout.sliders[0].active}; }"""
    )


def test_stepping_and_playing_the_sliding_window_around_the_clicked_value(page, stages):
    # Click map cell (row 40, col 210) first: the animation opens on it, not on the top-left corner.
    _click_cell(page, stages, 40, 210)
    page.get_by_text("Watch the window slide").first.click()
    step = page.get_by_label(re.compile(r"^Step \(1–\d+\)"))
    step.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')].some(p => p.layout.sliders)", timeout=60_000
    )
    assert "Around row 40, column 210: outputs rows 37–43, columns 207–213" in page.locator(INSPECTOR).inner_text()
    state = _anim_state(page)
    assert f"step 25 of 49, output (row 40, col 210) = {stages[1].maps[40, 210, 0]:.2f}" in state["title"]
    assert state["active"] == 24
    # Step by keyboard to the fifth position: the block's first row, fifth column, output (37, 211).
    step.fill("5")
    step.press("Enter")
    wait_idle(page)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.js-plotly-plot')].some(
               p => p.layout.sliders && p.layout.title.text.includes('step 5 of'))""",
        timeout=60_000,
    )
    state = _anim_state(page)
    # Every output is the map's own value at its cell.
    assert f"output (row 37, col 211) = {stages[1].maps[37, 211, 0]:.2f}" in state["title"]
    assert state["active"] == 4
    # Play runs in the browser: the slider moves on by itself; pause stops it.
    page.get_by_text("▶ Play").click()
    page.wait_for_function(
        """() => { const g = [...document.querySelectorAll('.js-plotly-plot')].find(p => p.layout.sliders);
                   return g._fullLayout.sliders[0].active >= 6; }""",
        timeout=30_000,
    )
    page.get_by_text("❚❚ Pause").click()
    page.wait_for_timeout(400)
    paused = _anim_state(page)["active"]
    page.wait_for_timeout(1600)
    assert _anim_state(page)["active"] == paused
    assert page.locator("[data-testid=stException]").count() == 0
