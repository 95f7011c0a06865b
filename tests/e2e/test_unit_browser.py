"""A real browser: open a unit page from a map of the Trained network page and from a link of its own, and
find its top pictures (the scan runs on Ray, started by the page)."""

from __future__ import annotations

import os

import pytest

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = os.environ.get("UNIT_SCREENSHOTS")  # a folder outside the repository, to look at the page


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_a_map_on_the_trained_network_page_links_to_its_unit_page(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{server.url}/trained_network")
        wait_idle(page, timeout=180_000)
        link = page.locator('a[href*="unit?unit=conv_1_2:2"]').first
        link.wait_for(timeout=60_000)
        assert link.inner_text() == "3"  # the maps are numbered from 1, the unit from 0
        link.scroll_into_view_if_needed()
        with page.context.expect_page(timeout=60_000) as opened:
            link.click()
        unit = opened.value
        unit.set_viewport_size({"width": 1400, "height": 1000})
        unit.wait_for_load_state()
        wait_idle(unit, timeout=180_000)
        assert "/unit?unit=conv_1_2" in unit.url
        unit.get_by_role("heading", name="Unit conv_1_2:2").wait_for(timeout=60_000)
        text = unit.locator("[data-testid=stMain]").inner_text()
        assert "Feature visualisation" in text and "Grad-CAM for this unit" in text
        assert "conv_1_2, filter 2: one 3×3 kernel per input channel (10)" in text
        _shot(unit, "unit_from_map.png")
        unit.close()
    finally:
        page.close()


def test_a_unit_link_opens_its_page_and_finds_the_top_pictures(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{server.url}/unit?unit=relu_2_1:7")
        wait_idle(page, timeout=180_000)
        page.get_by_role("heading", name="Unit relu_2_1:7").wait_for(timeout=60_000)
        text = page.locator("[data-testid=stMain]").inner_text()
        assert "relu_2_1 has no weights; its channel 7 is channel 7 of conv_2_1" in text
        # Neighbours are links of the same kind.
        assert page.locator('a[href$="unit?unit=relu_2_1:8"]').count() == 1
        assert page.locator('a[href$="unit?unit=conv_2_2:7"]').count() == 1
        page.get_by_text("Bundled samples").click()
        wait_idle(page)
        page.get_by_role("button", name="Find the top pictures").click()
        page.get_by_text("where channel 7 reaches its highest values").wait_for(timeout=300_000)
        wait_idle(page)
        text = page.locator("[data-testid=stMain]").inner_text()
        assert "Of 7 pictures (the bundled sample photos; 0 unreadable, skipped)" in text
        for name in ("camera.png", "chelsea.png", "rocket.jpg"):
            assert name in text
        _shot(page, "unit_from_link.png")
    finally:
        page.close()
