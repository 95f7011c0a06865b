"""A real browser keeps the Playground's kernel and settings: edit in the grid, switch to sliders, leave the
page and come back, and find the same kernel, settings and maps (issue 10, bugs 1 and 2)."""

from __future__ import annotations

import pytest

from tests import map_views

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

EXPECTED = [[-1, -1, 2], [-1, 8, -1], [-1, -1, -1]]  # the outline kernel with w[0,2] typed as 2


def _maps(page) -> list[str]:
    """The pictures the four maps show (PNG data URIs)."""
    map_views.wait_maps(page)
    return map_views.sources(page)


def _sliders(page) -> list[list[float]]:
    return [[float(page.get_by_role("slider", name=f"w[{i},{j}]").input_value()) for j in range(3)] for i in range(3)]


def _type_in_grid(page, row: int, col: int, value: str, k: int = 3) -> None:
    """Type into one cell of the number grid (a canvas): select the cell, type, press Enter."""
    box = page.locator("[data-testid=stDataFrame] canvas").first.bounding_box()
    index_w, row_h = 50, box["height"] / (k + 1)  # the header row, then k rows of the same height
    col_w = (box["width"] - index_w) / k
    page.mouse.dblclick(box["x"] + index_w + col_w * (col + 0.5), box["y"] + row_h * (row + 1.5))
    editor = page.locator("#portal input, #portal textarea").first  # the cell's editor opens over the grid
    editor.wait_for(timeout=10_000)
    editor.fill(value)
    editor.press("Enter")


def _settings(page) -> dict:
    return {
        "kernel": page.get_by_text("Kernel ·", exact=False).first.inner_text(),
        "stride": page.get_by_role("slider", name="Stride").first.get_attribute("aria-valuetext"),
        "rgb": page.get_by_role("radio", name="rgb").is_checked(),
        "grid shown": page.locator("[data-testid=stDataFrame]").count(),
    }


def _in_view(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


def test_maps_stay_in_view_while_editing_at_1440x900(server, browser):
    """Issue 10 §2 (bug 6): with a kernel slider focused, every map and that slider are on screen together."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(server.url)
    wait_idle(page)
    _maps(page)
    slider = page.get_by_role("slider", name="w[2,2]")
    slider.focus()
    page.keyboard.press("ArrowLeft")
    wait_idle(page)
    assert _in_view(page, slider)
    plots = page.locator(".cnn-map")
    assert all(_in_view(page, plots.nth(i)) for i in range(4))
    # Scrolled down to the pooling controls, the maps stay in view beside them.
    page.get_by_text("Pooling layer").scroll_into_view_if_needed()
    page.mouse.move(500, 600)
    page.mouse.wheel(0, 400)
    page.wait_for_timeout(500)
    assert _in_view(page, page.get_by_text("Pooling layer"))
    assert all(_in_view(page, plots.nth(i)) for i in range(4))


def test_grid_edit_survives_sliders_and_a_page_switch(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(server.url)
    wait_idle(page)
    page.get_by_text("rgb", exact=True).click()
    wait_idle(page)
    page.get_by_role("slider", name="Stride").first.focus()
    page.keyboard.press("ArrowRight")
    wait_idle(page)

    page.get_by_text("Number grid", exact=True).click()
    wait_idle(page)
    before_edit = _maps(page)
    _type_in_grid(page, 0, 2, "2")
    wait_idle(page)
    page.wait_for_function(
        "prev => document.querySelectorAll('.cnn-map img')[1].getAttribute('src') !== prev",
        arg=before_edit[1],
        timeout=30_000,
    )
    page.get_by_text("Sliders", exact=True).click()
    wait_idle(page)
    assert _sliders(page) == EXPECTED
    settings, maps = _settings(page), _maps(page)
    assert "edited by hand" in settings["kernel"] and "3×3" in settings["kernel"]
    assert settings["stride"] == "2" and settings["rgb"]

    page.get_by_role("link", name="Layer stack").click()
    wait_idle(page)
    page.wait_for_selector("text=Shapes", timeout=60_000)
    page.get_by_role("link", name="Playground").click()
    wait_idle(page)
    assert _sliders(page) == EXPECTED
    assert _settings(page) == settings
    assert _maps(page) == maps
    assert page.locator("[data-testid=stException]").count() == 0
