"""On a phone (390×844) the Units page's photo is picked on the page itself, without opening the sidebar
(issue 21): a generated sample picked there is what the unit's map is computed on, and the sidebar's picker
follows it; on a wide screen the page's picker is hidden."""

from __future__ import annotations

import json

import pytest

from .harness import phone_page, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

PICKER = "[class*='st-key-unit_phone_input']"
UNIT = "/unit?unit=conv_1_1:0"


def _map_values(page) -> list:
    return page.evaluate(
        "() => document.querySelector('.st-key-unit_map .js-plotly-plot')._fullData.find(t => t.type === 'heatmap').z"
    )


def test_the_units_photo_is_picked_without_opening_the_sidebar(server, browser):
    context, page = phone_page(browser, server.url + UNIT)
    page.get_by_text("Its map on the current photo").first.wait_for(timeout=120_000)
    wait_idle(page)
    sidebar = page.locator("[data-testid=stSidebar]")
    assert not sidebar.is_visible() or sidebar.bounding_box()["x"] < 0
    picker = page.locator(PICKER)
    assert picker.is_visible()
    box = picker.bounding_box()
    assert box["y"] + box["height"] < 844  # on the first screen
    page.locator(".st-key-unit_map .js-plotly-plot").wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    before = _map_values(page)
    shape = picker.get_by_role("combobox", name="Generated sample")
    other = "ring" if shape.input_value() != "ring" else "star"
    shape.tap()
    page.get_by_role("option", name=other, exact=True).click()
    wait_idle(page)
    page.wait_for_function(
        "(before) => { const p = document.querySelector('.st-key-unit_map .js-plotly-plot');"
        " const z = p && p._fullData && p._fullData.find(t => t.type === 'heatmap').z;"
        " return z && JSON.stringify(z) !== before; }",
        arg=json.dumps(before),
        timeout=60_000,
    )
    assert shape.input_value() == other
    # The sidebar's picker follows the page's (it is what the map is computed from).
    side = sidebar.get_by_role("combobox", name="Generated sample", include_hidden=True)
    assert side.input_value() == other
    assert page.locator("[data-testid=stException]").count() == 0
    context.close()
    # On a wide screen the sidebar holds the picker, and the page's copy is hidden.
    wide = browser.new_page(viewport={"width": 1440, "height": 900})
    wide.goto(server.url + UNIT)
    wait_idle(wide)
    wide.get_by_text("Its map on the current photo").first.wait_for(timeout=120_000)
    # Hidden by the page's CSS rule, which can land a moment after the elements: wait for it (fails if never).
    wide.locator(PICKER).wait_for(state="hidden", timeout=30_000)
    assert not wide.locator(PICKER).is_visible()
    wide.close()
