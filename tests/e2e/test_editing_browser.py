"""Editing that keeps its word: re-picking a preset resets it, a slider holds a preset's weight until moved, and
the kernel canvas starts from the kernel in use, taking the first stroke of a finger with no hover before it."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests import map_views

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds


def _maps(page) -> list[str]:
    map_views.wait_maps(page)
    return map_views.sources(page)


def _settle(page) -> None:
    for _ in range(2):
        wait_idle(page)
        page.wait_for_timeout(600)


def _header(page) -> str:
    return page.get_by_text("Kernel ·", exact=False).first.inner_text()


def _pick_preset(page, label: str) -> None:
    box = page.get_by_role("combobox", name="Start from a preset")
    box.click()
    box.fill(label)
    page.get_by_role("option", name=label).first.click()
    _settle(page)


def _slider(page, name: str) -> float:
    return float(page.get_by_role("slider", name=name).input_value())


def _nudge(page, name: str, keys: list[str]) -> None:
    page.get_by_role("slider", name=name).focus()
    for k in keys:
        page.keyboard.press(k)
        _settle(page)


def test_repicking_the_preset_resets_an_edited_kernel(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(server.url)
    _settle(page)
    outline = _maps(page)
    _nudge(page, "w[0,0]", ["ArrowRight"])
    assert "edited by hand" in _header(page)
    assert _maps(page)[1] != outline[1]
    _pick_preset(page, "Outline")
    assert "edited by hand" not in _header(page)
    assert _slider(page, "w[0,0]") == -1
    assert _maps(page) == outline


def test_a_slider_holds_box_blurs_weights_until_moved(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(server.url)
    _settle(page)
    _pick_preset(page, "Box blur 5")  # 0.04 everywhere
    blur = _maps(page)
    assert _slider(page, "w[0,0]") == pytest.approx(0.04, abs=1e-12)
    # A step right and back returns to exactly the preset: the maps and the header say Box blur again.
    _nudge(page, "w[0,0]", ["ArrowRight", "ArrowLeft"])
    assert "Box blur 5×5" in _header(page)
    assert _maps(page) == blur
    _pick_preset(page, "Box blur 3")  # 1/9 everywhere: not on a slider step, held until a slider moves
    page.get_by_role("combobox", name="Function").click()  # another control's rerun keeps the weights
    page.get_by_role("option", name="tanh").first.click()
    _settle(page)
    assert "Box blur 3×3" in _header(page)  # the kernel still equals the preset exactly
    # The thumb says so too (a native range input's own value snaps to the step; the label does not).
    label = page.locator("[data-testid=stSlider]").filter(has=page.get_by_role("slider", name="w[1,1]"))
    assert "0.1111" in label.locator("[data-testid=stSliderThumbValue]").inner_text()


def _touch_stroke(context, page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A finger stroke: touchstart, moves, touchend, with no mouse hover before it."""
    cdp = context.new_cdp_session(page)
    (x0, y0), (x1, y1) = start, end
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    for k in range(1, 11):
        x, y = x0 + (x1 - x0) * k / 10, y0 + (y1 - y0) * k / 10
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_the_canvas_starts_from_the_kernel_and_takes_the_first_touch_stroke(server, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1100}, has_touch=True)
    page = context.new_page()
    page.goto(server.url)
    _settle(page)
    before = _maps(page)
    page.get_by_role("radiogroup").filter(has_text="Canvas").get_by_text("Canvas", exact=True).click()
    _settle(page)
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=60_000)
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    # The outline kernel is drawn: the centre cell (8) full red, a corner cell (−1) faint blue.
    shot = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")).astype(int)
    h, w = shot.shape[:2]
    r, g, b = shot[h // 2, w // 2]
    assert r > 200 and g < 60 and b < 60
    r, g, b = shot[h // 6, w // 6]
    assert b > r and b > g - 5 and r < 250
    assert _maps(page) == before  # showing the kernel changes nothing
    box = canvas.bounding_box()
    # One stroke of positive ink inside the top-left cell only.
    _touch_stroke(context, page, (box["x"] + 15, box["y"] + 15), (box["x"] + 55, box["y"] + 50))
    page.wait_for_function(
        "() => [...document.querySelectorAll('p')].some(p => p.innerText.includes('edited by hand'))",
        timeout=60_000,
    )
    _settle(page)
    assert _maps(page)[1] != before[1]
    page.get_by_role("radiogroup").filter(has_text="Sliders").get_by_text("Sliders", exact=True).click()
    _settle(page)
    weights = [[_slider(page, f"w[{i},{j}]") for j in range(3)] for i in range(3)]
    assert weights[0][0] > -1  # positive ink over the corner's −1
    # Every cell the stroke did not touch keeps its exact weight.
    assert [row[1:] for row in weights] == [[-1, -1], [8, -1], [-1, -1]]
    assert weights[1][0] == -1 and weights[2][0] == -1
    context.close()
