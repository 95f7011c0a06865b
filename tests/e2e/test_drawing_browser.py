"""A real browser: paint a kernel on the Playground's canvas and see the kernel and maps change; find the
upload box on the first screen and see an uploaded photo's maps."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests import map_views

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds


def _maps(page) -> list[str]:
    """The pictures the Playground's maps show (image sources of the Plotly figures)."""
    map_views.wait_maps(page)
    return map_views.sources(page)


def _kernel_header(page) -> str:
    return page.get_by_text("Kernel ·", exact=False).first.inner_text()


def test_a_stroke_on_the_kernel_canvas_changes_the_kernel_and_the_maps(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    page.goto(server.url)
    wait_idle(page)
    before_maps, before_header = _maps(page), _kernel_header(page)
    assert "Outline" in before_header
    page.get_by_role("radiogroup").filter(has_text="Canvas").get_by_text("Canvas", exact=True).click()
    wait_idle(page)
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=60_000)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    # One diagonal stroke of positive ink from the top-left cell to the bottom-right one.
    page.mouse.move(box["x"] + 15, box["y"] + 15)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 15, box["y"] + box["height"] - 15, steps=20)
    page.mouse.up()
    page.wait_for_function(
        "() => [...document.querySelectorAll('p')].some(p => p.innerText.includes('edited by hand'))",
        timeout=60_000,
    )
    wait_idle(page)
    assert "edited by hand" in _kernel_header(page)
    after = _maps(page)
    assert after[0] == before_maps[0]  # the input is the same photo
    assert after[1] != before_maps[1]  # the convolution now uses the painted kernel
    page.close()


def test_the_upload_box_is_on_the_first_screen_and_its_photo_gives_maps(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(server.url)
    wait_idle(page)
    box = page.locator("[data-testid=stSidebar] [data-testid=stFileUploaderDropzone]").first
    box.wait_for(timeout=30_000)
    bb = box.bounding_box()
    assert bb is not None and bb["y"] + bb["height"] <= 900, "the upload box is not on the first screen"
    rng = np.random.default_rng(4)
    photo = tmp_path / "noise.png"
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, size=(90, 150, 3), dtype=np.uint8)).save(buf, format="PNG")
    photo.write_bytes(buf.getvalue())
    before = _maps(page)
    page.locator("[data-testid=stSidebar] input[type=file]").first.set_input_files(str(photo))
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stSidebar] *')].some("
        "e => e.childElementCount === 0 && e.innerText && e.innerText.includes('Resized from 90×150'))",
        timeout=60_000,
    )
    wait_idle(page)
    after = _maps(page)
    assert after[0] != before[0] and after[1] != before[1]
    page.close()
