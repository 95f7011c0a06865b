"""A real browser uploads a model file on the "Your model" page and sees its feature maps.

It uploads assets/tiny_vgg.keras when bundled, else a small nested model saved for the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.core import model_builders as mb
from tests.e2e.harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "assets" / "tiny_vgg.keras"
BANDS = "[class*='st-key-ym_band_']"
SHOT_DIR = Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else None


def test_upload_a_model_and_see_its_maps(tmp_path, server, browser):
    model = BUNDLED if BUNDLED.exists() else mb.save(mb.nested(), tmp_path, "my_cnn.keras")
    hostile = mb.rewrite(
        mb.save(mb.sequential(), tmp_path, "s.keras"),
        tmp_path / "hostile.keras",
        lambda c: (
            mb.layers_of(c).insert(1, {"module": "os", "class_name": "system", "registered_name": None, "config": {}}),
            c,
        )[1],
    )
    url = server.url
    page = browser.new_page(viewport={"width": 1500, "height": 3200})
    page.goto(f"{url}/your_model")
    wait_idle(page)
    choice = page.locator("[data-testid=stSidebar]").get_by_text("Upload a .keras file", exact=True)
    if choice.count():  # a choice only when there is another source (the bundled demo, ImageNet)
        choice.click()
        wait_idle(page)
    page.locator(".st-key-ym_model_upload input[type=file]").set_input_files(str(hostile))
    wait_idle(page)
    page.wait_for_selector("[data-testid=stAlertContentError]", timeout=60_000)
    assert "outside Keras" in page.locator("[data-testid=stAlertContentError]").first.inner_text()
    assert page.locator(BANDS).count() == 0

    page.locator(".st-key-ym_model_upload input[type=file]").set_input_files(str(model))
    wait_idle(page)
    # The hostile file's error stays on screen until the rerun for the new file replaces it.
    page.wait_for_function(
        f'document.querySelectorAll("{BANDS}").length >= 2 && '
        '!document.querySelector("[data-testid=stAlertContentError]")',
        timeout=90_000,
    )
    wait_idle(page)
    bands = page.locator(BANDS)
    first = bands.first.inner_text()
    assert "×" in first, first
    # Each band shows its maps as pictures: the colour legend plus at least one channel.
    page.wait_for_function(
        f'[...document.querySelectorAll("{BANDS}")].every(b => b.querySelectorAll("img").length >= 2)',
        timeout=30_000,
    )
    page.wait_for_function(
        f'[...document.querySelectorAll("{BANDS} img")].every(i => i.complete && i.naturalWidth > 0)',
        timeout=30_000,
    )
    assert page.locator("[data-testid=stException]").count() == 0, page.locator(
        "[data-testid=stException]"
    ).all_inner_texts()
    errors = page.locator("[data-testid=stAlertContentError]").all_inner_texts()
    assert not errors, errors
    page.screenshot(path=str(SHOT_DIR / "your_model.png") if SHOT_DIR else str(tmp_path / "shot.png"), full_page=True)
