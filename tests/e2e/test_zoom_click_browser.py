"""Click where you look on the Trained network and Your model (issue 21): at 1440×900 a click on a value of the
enlarged map opens its worked sum beside the map, inside the viewport without any scrolling, as text that names
the clicked row and column and holds the map's value there; the receptive field and the sliding window open
in the same panel, and "Inside ... layer" further down follows the click."""

from __future__ import annotations

from decimal import Decimal

import pytest

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

WIDE = {"width": 1440, "height": 900}


def _heat(prefix: str) -> str:
    return f"document.querySelector('.st-key-{prefix}_zoom_wrap .js-plotly-plot')._fullData.find(t => t.type === 'heatmap')"


def _sum_adds_up(line: str) -> bool:
    left, right = line.split(": ", 1)[1].rsplit(" = ", 1)
    return sum((Decimal(t.strip("()")) for t in left.split(" + ")), Decimal(0)) == Decimal(right)


def _click_and_check(page, prefix: str, layer: str | None) -> None:
    zoom = page.locator(f".st-key-{prefix}_zoom_wrap .js-plotly-plot")
    zoom.wait_for(timeout=60_000)
    page.wait_for_function(f"() => {{ try {{ return !!({_heat(prefix)}).z; }} catch (e) {{ return false; }} }}")
    zoom.scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    h, w = page.evaluate(f"() => {{ const z = {_heat(prefix)}.z; return [z.length, z[0].length]; }}")
    area = zoom.locator(".nsewdrag").first.bounding_box()
    row, col = h // 4, (3 * w) // 5
    scrolled = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTop + window.scrollY")
    page.mouse.click(area["x"] + area["width"] * (col + 0.5) / w, area["y"] + area["height"] * (row + 0.5) / h)
    panel = page.locator(f".st-key-{prefix}_zoom_worked")
    panel.wait_for(timeout=60_000)
    wait_idle(page)
    # Nothing scrolled: the page stays where the visitor clicked.
    after = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTop + window.scrollY")
    assert abs(after - scrolled) <= 2, (scrolled, after)
    text = panel.inner_text()
    head = text.splitlines()[0]
    if layer is None:  # the layer chosen above the map (Your model's default: its first of the page)
        layer = head.split(",")[0]
        assert layer in page.locator("[data-testid=stExpander]", has_text="Enlarge one map").inner_text()
    assert head.startswith(f"{layer}, row "), head
    got_row = int(head.split(", row ")[1].split(",")[0])
    got_col = int(head.split(", column ")[1].split(",")[0])
    assert abs(got_row - row) <= 1 and abs(got_col - col) <= 1, (head, row, col)
    held = float(head.split("the map holds ")[1])
    value = page.evaluate(f"() => {_heat(prefix)}.z[{got_row}][{got_col}]")
    assert abs(held - value) <= 1e-5 * max(1.0, abs(value)), (held, value)
    # The sum is the panel's first block of text, and it is inside the viewport.
    first = panel.locator("[data-testid=stCode]").first
    box = first.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= WIDE["height"], box
    head_box = panel.bounding_box()
    assert 0 <= head_box["y"] < WIDE["height"], head_box
    sum_text = first.inner_text()
    line = next((x for x in sum_text.splitlines() if x.startswith(("products + bias:", "each input channel"))), None)
    if line is None:  # a convolution over many channels: the channel sums and the bias, on the line after
        line = "sum: " + sum_text.splitlines()[1]
    assert _sum_adds_up(line), sum_text
    # The full inspector further down follows the click.
    inspector = page.locator(f".st-key-{prefix}_minspector")
    assert int(inspector.locator("input[aria-label='Row']").input_value()) == got_row
    assert int(inspector.locator("input[aria-label='Column']").input_value()) == got_col
    # The sliding window opens in the panel, around the clicked value.
    panel.get_by_text("Watch the window slide").click()
    panel.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    wait_idle(page)
    assert f"Around row {got_row}, column {got_col}:" in panel.inner_text()
    assert "receptive field" in panel.inner_text()
    # Close closes it.
    panel.get_by_role("button", name="Close").click()
    wait_idle(page)
    assert page.locator(f".st-key-{prefix}_zoom_worked").count() == 0
    assert page.locator("[data-testid=stException]").count() == 0


def test_a_click_on_the_trained_networks_enlarged_map_opens_its_sum_beside_it_in_view(server, browser):
    page = browser.new_page(viewport=WIDE)
    page.goto(server.url + "/trained_network")
    wait_idle(page)
    page.get_by_text("Enlarge one map").first.wait_for(timeout=120_000)
    # The default enlarged layer is 2 (conv_1_2): pick the first convolution, whose sum has 27 products.
    box = page.get_by_role("combobox", name="Layer", exact=True).first
    box.scroll_into_view_if_needed()
    box.click()
    page.keyboard.type("conv_1_1")
    page.get_by_role("option", name="1 · conv_1_1", exact=False).first.click()
    wait_idle(page)
    _click_and_check(page, "net", "conv_1_1")
    page.close()


def test_a_click_on_your_models_enlarged_map_opens_its_sum_beside_it_in_view(server, browser):
    page = browser.new_page(viewport=WIDE)
    page.goto(server.url + "/your_model")
    wait_idle(page)
    page.get_by_text("Inside a layer").first.wait_for(timeout=120_000)
    expander = page.get_by_text("Enlarge one map, with the value under the pointer").first
    expander.scroll_into_view_if_needed()
    expander.click()
    wait_idle(page)
    _click_and_check(page, "ym", None)
    page.close()
