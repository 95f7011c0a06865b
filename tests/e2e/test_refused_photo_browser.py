"""A refused photo keeps the page: a 20 MP upload leaves the maps and the kernel editor of the last good picture,
says the limit before and after, and "Downscale it to fit" names the true original size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests import map_views

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

FIGS = map_views.IMGS


def _maps(page) -> list[str]:
    map_views.wait_maps(page)
    return map_views.sources(page)


def _sidebar_has(page, text: str, timeout: int = 60_000) -> None:
    page.wait_for_function(
        "t => document.querySelector('[data-testid=stSidebar]').innerText.includes(t)", arg=text, timeout=timeout
    )


def _phone_photo(path) -> None:
    """A 5000×4000 (width×height) JPEG, 20 MP: a smooth gradient, small to write."""
    gx, gy = np.meshgrid(np.linspace(0, 255, 50), np.linspace(255, 0, 40))
    small = np.dstack([gx, gy, np.full((40, 50), 90.0)])
    Image.fromarray(small.astype(np.uint8)).resize((5000, 4000), Image.Resampling.BILINEAR).save(path, quality=85)


def test_a_20_megapixel_photo_keeps_the_page_and_downscales_with_its_true_size(server, browser, tmp_path):
    photo = tmp_path / "phone.jpg"
    _phone_photo(photo)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(server.url)
    wait_idle(page)
    before = _maps(page)
    # The limit is said before any file is chosen.
    assert "16.8 megapixels" in page.locator("[data-testid=stSidebar] [data-testid=stFileUploader]").inner_text()
    page.locator("[data-testid=stSidebar] input[type=file]").first.set_input_files(str(photo))
    _sidebar_has(page, "over the limit")
    wait_idle(page)
    text = page.locator("[data-testid=stSidebar]").inner_text()
    assert "4000×5000 (height×width) = 20,000,000 pixels" in text and "Still showing" in text
    # The main area still has the last good picture's maps and the kernel editor.
    assert _maps(page) == before
    assert page.get_by_role("slider", name="w[1,1]").count() == 1
    assert page.locator("[data-testid=stException]").count() == 0

    page.get_by_role("button", name="Downscale it to fit").click()
    _sidebar_has(page, "Downscaled from 4000×5000 to 2000×2500 pixels (height×width)")
    wait_idle(page)
    page.wait_for_function(f"prev => {FIGS}[0].getAttribute('src') !== prev", arg=before[0], timeout=60_000)
    assert page.locator("[data-testid=stException]").count() == 0
