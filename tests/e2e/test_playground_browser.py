"""A real browser against a real server: upload a photo, move a kernel slider, see the maps change."""

from __future__ import annotations

import pytest

from tests import map_views

from .harness import ROOT, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds


@pytest.fixture()
def page(browser):
    p = browser.new_page(viewport={"width": 1500, "height": 1100})
    yield p
    p.close()


_idle = wait_idle


def _conv_picture(page) -> str:
    """The PNG the browser shows for the convolution map (second figure)."""
    map_views.wait_maps(page)
    return page.evaluate("document.querySelectorAll('.cnn-map img')[1].getAttribute('src')")


def test_upload_move_slider_maps_change(page, server):
    page.goto(server.url)
    _idle(page)
    assert page.locator("text=Input").first.is_visible()
    page.get_by_role("radiogroup", name="Source").get_by_text("Upload", exact=True).click()
    _idle(page)
    page.get_by_test_id("stSidebarUserContent").locator("input[type=file]").set_input_files(
        str(ROOT / "assets" / "coffee.png")
    )
    page.wait_for_selector("text=coffee.png", timeout=30_000)
    _idle(page)
    before = _conv_picture(page)

    # The centre weight's slider: focus its thumb and step it with the keyboard.
    thumb = page.get_by_role("slider", name="w[1,1]")
    thumb.focus()
    for _ in range(20):
        page.keyboard.press("ArrowLeft")
    _idle(page)
    page.wait_for_function(
        "prev => document.querySelectorAll('.cnn-map img')[1].getAttribute('src') !== prev",
        arg=before,
        timeout=30_000,
    )
    after = _conv_picture(page)
    assert after != before
    # 20 steps of 0.01 down from the outline kernel's centre weight of 8.
    assert page.get_by_role("slider", name="w[1,1]").input_value() == "7.8"
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stAlertContentError]").count() == 0
