"""On a phone (390×844): the Layer stack's default stack fits in under 6 screens, its maps are small tiles that
enlarge on a tap, and the photo can be picked without opening the sidebar."""

from __future__ import annotations

import pytest

from tests import map_views

from .harness import phone_page, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

BANDS = "[class*='st-key-ls_band_']"


def test_layer_stack_default_is_under_six_screens_with_tiles(server, browser):
    context, page = phone_page(browser, f"{server.url}/layer_stack")
    page.wait_for_function(f'document.querySelectorAll("{BANDS}").length === 4', timeout=60_000)
    # Every band's heading and tiles drawn (by its component's own code, a moment after the band's box).
    page.wait_for_function(
        f'Array.from(document.querySelectorAll("{BANDS}")).every(b => b.querySelector(".ls-band-head b") && b.querySelector(".ls-tile img"))',
        timeout=60_000,
    )
    page.wait_for_timeout(1500)
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    assert height < 6 * 844, f"{height} px is {height / 844:.1f} screens"
    # A band's maps sit four to a line.
    tiles = page.locator("[class*='st-key-ls_tiles_'] .ls-tile")
    widths = [tiles.nth(k).bounding_box()["width"] for k in range(4)]
    assert max(widths) < 100
    tops = {round(tiles.nth(k).bounding_box()["y"]) for k in range(4)}
    assert len(tops) == 1
    # A tap on a tile's name enlarges it.
    band = page.locator(BANDS).nth(1)
    band.scroll_into_view_if_needed()
    band.get_by_role("button", name="0 · Outline").tap()
    wait_idle(page)
    page.get_by_text("Close", exact=False).first.wait_for(timeout=60_000)
    assert page.locator("[data-testid=stException]").count() == 0
    context.close()


def test_the_photo_is_picked_without_opening_the_sidebar(server, browser):
    context, page = phone_page(browser, server.url)
    map_views.wait_maps(page)
    before = page.evaluate("document.querySelectorAll('.cnn-map img')[0].getAttribute('src')")
    picker = page.locator("[class*='st-key-pg_phone_input']")
    assert picker.is_visible()
    box = picker.bounding_box()
    assert box["y"] + box["height"] < 2 * 844  # near the top of the page
    combo = picker.get_by_role("combobox", name="Sample photo")
    combo.click()
    combo.fill("Chelsea")
    page.get_by_role("option", name="Chelsea").first.click()
    wait_idle(page)
    page.wait_for_function(
        "prev => document.querySelectorAll('.cnn-map img')[0].getAttribute('src') !== prev",
        arg=before,
        timeout=60_000,
    )
    assert page.locator("[data-testid=stException]").count() == 0
    context.close()


def test_the_phone_picker_is_hidden_on_a_wide_screen(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(server.url)
    wait_idle(page)
    map_views.wait_maps(page)
    assert not page.locator("[class*='st-key-pg_phone_input']").is_visible()
    page.close()
