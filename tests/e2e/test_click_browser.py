"""Click where you look: at 1440×900, a click on a pixel of the Playground's convolution map shows its worked sum
beside the maps, inside the viewport, as text whose numbers add up as shown."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests import map_views

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds


def _click_cell(page, figure: int, row: int, col: int, side: int) -> None:
    map_views.click_cell(page, figure, row, col)


def test_a_click_on_the_convolution_map_shows_its_worked_sum_in_view(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(server.url)
    wait_idle(page)
    map_views.wait_maps(page)
    _click_cell(page, 1, 93, 126, 300)
    panel = page.locator(".st-key-pg_worked")
    panel.wait_for(timeout=60_000)
    wait_idle(page)
    text = panel.inner_text()
    # The cell under the pointer, exactly.
    head = text.splitlines()[0]
    assert head.startswith("Convolution, row ")
    row, col = (int(v) for v in head.split("row ")[1].split(":")[0].split(", column "))
    assert (row, col) == (93, 126)
    # The sum is text in the page, and it is in view without scrolling.
    sum_line = page.get_by_text("products + bias:", exact=False).first
    box = sum_line.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 900
    assert page.evaluate("window.scrollY") == 0
    # Its numbers add up as shown, and the total is the value under the pointer (the map's hover value).
    line = next(x for x in text.splitlines() if x.startswith("products + bias:"))
    left, right = line.split(": ", 1)[1].rsplit(" = ", 1)
    assert sum(Decimal(t.strip("()")) for t in left.split(" + ")) == Decimal(right)
    value = float(map_views.hover_grid(page, 1)[row, col])
    assert abs(float(right) - value) <= 0.5 * 10 ** -len(right.split(".")[1]) + 1e-6
    # The full inspector further down is opened at the same value.
    assert page.get_by_text(f"row {row}, column {col}, channel 0", exact=False).count() >= 1
    # A click on the pooling map moves it there.
    _click_cell(page, 3, 10, 20, 150)
    page.wait_for_function(
        "() => document.querySelector('.st-key-pg_worked').innerText.startsWith('Pooling')", timeout=60_000
    )
    assert "largest of the window" in page.locator(".st-key-pg_worked").inner_text()
    page.get_by_role("button", name="Close").first.click()
    wait_idle(page)
    assert page.locator(".st-key-pg_worked").count() == 0
    assert page.locator("[data-testid=stException]").count() == 0


def test_a_click_on_the_layer_stacks_enlarged_map_explains_that_value_in_place(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"{server.url}/layer_stack")
    wait_idle(page)
    band = page.locator("[class*='st-key-ls_band_']").nth(1)
    band.get_by_role("button", name="0 · Outline").click()
    wait_idle(page)
    zoom = page.locator(".st-key-ls_zoom_wrap .js-plotly-plot")
    zoom.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    h, w = page.evaluate(
        """() => { const p = document.querySelector('.st-key-ls_zoom_wrap .js-plotly-plot');
                   const z = p._fullData.find(t => t.type === 'heatmap').z; return [z.length, z[0].length]; }"""
    )
    zoom.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    before = page.evaluate("document.querySelector('[data-testid=stMain]').scrollTop + window.scrollY")
    area = zoom.locator(".nsewdrag").first.bounding_box()
    row, col = h // 4, (3 * w) // 4
    page.mouse.click(area["x"] + area["width"] * (col + 0.5) / w, area["y"] + area["height"] * (row + 0.5) / h)
    inspector = page.locator(".st-key-ls_inspector")
    page.wait_for_function(
        """start => { const t = document.querySelector('.st-key-ls_inspector').innerText;
                      return t.includes(', channel 0: the map holds') && !t.includes(start); }""",
        arg=f"row {h // 2}, column {w // 2},",  # the inspector's first value, before the click
        timeout=60_000,
    )
    wait_idle(page)
    text = inspector.inner_text()
    head = next(x for x in text.splitlines() if x.startswith("The value at stage 1"))
    got_row, got_col = (int(v) for v in head.split("row ")[1].split(", channel")[0].split(", column "))
    # The cell under the pointer (Plotly's nearest cell; within one of the aimed-at centre).
    assert abs(got_row - row) <= 1 and abs(got_col - col) <= 1
    value = page.evaluate(
        f"""() => document.querySelector('.st-key-ls_zoom_wrap .js-plotly-plot')._fullData
                   .find(t => t.type === 'heatmap').z[{got_row}][{got_col}]"""
    )
    held = float(head.split("the map holds ")[1])
    assert abs(held - value) <= 1e-5 * max(1.0, abs(value))
    # The page did not jump: the map is where it was.
    after = page.evaluate("document.querySelector('[data-testid=stMain]').scrollTop + window.scrollY")
    assert abs(after - before) < 40
    assert page.locator("[data-testid=stException]").count() == 0
    page.close()
