"""Click where you look on the Layer stack (issue 21): at 1440×900 a click on a pixel of a band's channel tile
picks that layer, channel and pixel, and its worked sum opens beside the bands, inside the viewport without
scrolling, as text whose numbers add up as shown; "Exact values" shows every float32 digit."""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pytest

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

BANDS = "[class*='st-key-ls_band_']"
PANEL = ".st-key-ls_worked"


def _sum_adds_up(line: str) -> bool:
    left, right = line.split(": ", 1)[1].rsplit(" = ", 1)
    return sum((Decimal(t.strip("()")) for t in left.split(" + ")), Decimal(0)) == Decimal(right)


def test_a_click_on_a_band_tile_opens_that_values_sum_in_view(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"{server.url}/layer_stack")
    wait_idle(page)
    page.wait_for_function(f'document.querySelectorAll("{BANDS}").length === 4', timeout=60_000)
    # Stage 1 (the convolution), its channel 2: scroll the band into view and click a pixel of the tile.
    tile = page.locator(".ls-tile[data-tile='1_2'] img")
    tile.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    box = tile.bounding_box()
    h, w = 32, 32  # the default stack's 32×32 input, SAME padding
    row, col = 9, 22
    page.mouse.click(box["x"] + box["width"] * (col + 0.5) / w, box["y"] + box["height"] * (row + 0.5) / h)
    panel = page.locator(PANEL)
    panel.wait_for(timeout=60_000)
    wait_idle(page)
    # The panel's heading can be on screen before its sum (a loaded run once read the text between the two):
    # read it once the sum line is there.
    panel.get_by_text("products + bias:", exact=False).first.wait_for(timeout=60_000)
    text = panel.inner_text()
    head = text.splitlines()[0]
    assert head.startswith("1 · Convolution"), head
    assert f", channel 2, row {row}, column {col}: the map holds" in head
    # The sum is text, in the viewport without scrolling, and its numbers add up as shown.
    line = page.get_by_text("products + bias:", exact=False).first
    lb = line.bounding_box()
    assert lb is not None and 0 <= lb["y"] and lb["y"] + lb["height"] <= 900
    sum_line = next(x for x in text.splitlines() if x.startswith("products + bias:"))
    assert _sum_adds_up(sum_line)
    # 3×3 kernel over 3 input channels: 27 products, each input × weight.
    assert sum(1 for x in text.splitlines() if re.match(r"(pad 0|-?[0-9.]+) × -?[0-9.]+ = -?[0-9.]+$", x)) == 27
    # The tile's layer and channel are enlarged under the band, and Inside the operation opened there.
    page.locator(".st-key-ls_zoom_wrap .js-plotly-plot").wait_for(timeout=60_000)  # Plotly draws after the run
    page.wait_for_function(
        "() => { const p = document.querySelector('.st-key-ls_zoom_wrap .js-plotly-plot');"
        " return p && p._fullData && p._fullData.some(t => t.type === 'heatmap'); }",
        timeout=60_000,
    )
    inspector = page.locator(".st-key-ls_inspector")
    assert f"row {row}, column {col}, channel 2: the map holds" in inspector.inner_text()
    held = float(head.split("the map holds ")[1])
    value = page.evaluate(
        f"""() => document.querySelector('.st-key-ls_zoom_wrap .js-plotly-plot')._fullData
                   .find(t => t.type === 'heatmap').z[{row}][{col}]"""
    )
    assert abs(held - value) <= 1e-5 * max(1.0, abs(value))

    # Exact values: TensorFlow's float32 value with every digit, and the terms as written added exactly.
    panel.get_by_text("Exact values").click()
    page.wait_for_function(
        f"() => document.querySelector('{PANEL}').innerText.includes(\"TensorFlow's float32 value: \")",
        timeout=60_000,
    )
    wait_idle(page)
    exact = panel.inner_text().splitlines()
    tf_value = next(x for x in exact if x.startswith("TensorFlow's float32 value: ")).split(": ")[1].split(" ")[0]
    assert np.float32(tf_value) == np.float32(value)
    assert _sum_adds_up(next(x for x in exact if x.startswith("products + bias as written, added exactly: ")))
    # Inside the operation shows the same setting (one per page).
    inspector.get_by_text("TensorFlow's float32 value:", exact=False).first.wait_for(timeout=60_000)

    # A click on a pooling tile moves the panel there; Close closes it.
    pool = page.locator(".ls-tile[data-tile='3_0'] img")
    pool.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    pb = pool.bounding_box()
    page.mouse.click(pb["x"] + pb["width"] * 0.3, pb["y"] + pb["height"] * 0.6)
    page.wait_for_function(
        f"() => document.querySelector('{PANEL}').innerText.startsWith('3 · ')",
        timeout=60_000,
    )
    wait_idle(page)
    assert "largest of the window" in panel.inner_text()
    panel_box = panel.bounding_box()
    assert 0 <= panel_box["y"] < 900
    panel.get_by_role("button", name="Close").click()
    wait_idle(page)
    assert page.locator(PANEL).count() == 0
    assert page.locator("[data-testid=stException]").count() == 0
    page.close()
