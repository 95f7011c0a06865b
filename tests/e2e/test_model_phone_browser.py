"""On a phone (390×844) the Your model page's bands keep their maps as small tiles, four to a line, instead of
one full-width map per line (issue 21: the Tiny VGG demo's maps were about 38 screens tall)."""

from __future__ import annotations

import pytest

from .harness import phone_page, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds


def test_your_models_maps_are_small_tiles_on_a_phone(server, browser):
    context, page = phone_page(browser, server.url + "/your_model")
    band = page.locator("[class*='st-key-ym_band_']").first
    band.wait_for(timeout=120_000)
    wait_idle(page)
    tiles = band.locator("[data-testid=stImage] img")
    tiles.nth(4).wait_for(timeout=60_000)
    boxes = [tiles.nth(i).bounding_box() for i in range(6)]
    # The first of them is the band's colour legend; the maps follow, four to a line.
    maps = boxes[1:]
    assert all(abs(b["y"] - maps[0]["y"]) < 2 for b in maps[:4]), maps
    assert maps[4]["y"] > maps[0]["y"] + maps[0]["height"] - 2, maps
    assert all(b["width"] < 390 / 4 for b in maps), maps
    assert page.locator("[data-testid=stException]").count() == 0
    context.close()
