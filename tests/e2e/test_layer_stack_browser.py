"""A real browser against a fresh server: a first visit to /layer_stack gets the app's own navigation and
wide layout, draws one band per stage, and adding a layer adds one."""

from __future__ import annotations

import pytest

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

BANDS = "[class*='st-key-ls_band_']"
NAV_LINKS = "[data-testid=stSidebarNav] a"


def test_first_visit_to_layer_stack_then_add_a_layer(fresh_server, browser):
    # The very first request to a server nobody has visited yet goes straight to the page, as a shared
    # link to a hosted demo that has just woken up would.
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.goto(f"{fresh_server.url}/layer_stack")
    wait_idle(page)
    page.wait_for_function(f'document.querySelectorAll("{BANDS}").length >= 4', timeout=60_000)
    assert page.get_by_text("Page not found").count() == 0
    # app.py's navigation (its titles, in its order), not one made from the folder's file names.
    # Each link reads "<icon name>\n\n<title>"; the folder's navigation would list "app", "layer stack", ...
    labels = [a.inner_text().strip().split("\n")[-1] for a in page.locator(NAV_LINKS).all()]
    assert labels == ["Playground", "Layer stack", "Trained network", "Your model", "Units", "Train"]
    # The wide layout: the main column uses most of a 1500-pixel window (the centred layout stops at 736).
    assert page.locator("[data-testid=stMainBlockContainer]").bounding_box()["width"] > 1100
    assert page.title() == "CNN playground"  # app.py's page config ran

    # The article's stack: input, convolution, activation, pooling.
    assert page.locator(BANDS).count() == 4
    page.locator(BANDS).nth(3).filter(has_text="16×16×12").wait_for(timeout=60_000)  # its heading, drawn by its view
    page.locator(".st-key-ls_add_pool2d button").first.click()
    wait_idle(page)
    page.wait_for_function(f'document.querySelectorAll("{BANDS}").length === 5', timeout=60_000)
    # A band's heading and tiles are drawn by its component's own code, a moment after the band's box appears.
    page.wait_for_function(
        f'(() => {{ const b = document.querySelectorAll("{BANDS}")[4]; return b && b.querySelectorAll("img").length === 9; }})()',
        timeout=60_000,
    )
    last = page.locator(BANDS).nth(4).inner_text()
    assert "4 · Pooling" in last and "8×8×12" in last
    # Every band shows its maps as pictures (at most 8 per band, plus its colour legend).
    assert page.locator(BANDS).nth(4).locator("img").count() == 1 + 8
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stAlertContentError]").count() == 0
