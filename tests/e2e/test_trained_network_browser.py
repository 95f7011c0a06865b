"""A real browser on the Trained network page: picking another sample, and drawing on the canvas, change the
probabilities the page shows."""

from __future__ import annotations

import re

import pytest

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

HEADLINE = 'h4:has-text("It\'s a")'


def _headline(page) -> str:
    return page.locator(HEADLINE).first.inner_text(timeout=60_000)


def _probabilities(page) -> list[str]:
    """The bar labels of the first probability chart, e.g. ['0.1%', …, '99.2%']."""
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 1", timeout=60_000)
    return page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot')[0].data[0].text)")


def _wait_changed(page, before: str) -> str:
    page.wait_for_function(
        "prev => { const h = document.querySelector('h4'); return h && h.innerText !== prev; }",
        arg=before,
        timeout=60_000,
    )
    wait_idle(page)
    return _headline(page)


def test_picking_a_sample_and_drawing_change_the_probabilities(server, browser):
    url = server.url
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.goto(f"{url}/trained_network?p=network&in=sample&cls=star&seed=0&k=pred&v=auto.layer")
    wait_idle(page)
    first, first_probs = _headline(page), _probabilities(page)
    assert re.match(r"It's a \w+ · \d+\.\d%", first)

    # Another sample of another class: the headline and the bars change.
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.get_by_role("combobox", name="Shape").click()
    page.get_by_role("option", name="ring").click()
    second = _wait_changed(page, first)
    assert second != first and _probabilities(page) != first_probs
    assert "cls=ring" in page.url

    # Draw: the canvas appears; a filled rectangle dragged on it is classified.
    sidebar.get_by_text("Draw a shape").click()
    wait_idle(page)
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=60_000)
    sidebar.get_by_role("combobox", name="Tool").click()
    page.get_by_role("option", name="Rectangle").click()
    wait_idle(page)
    canvas = page.locator("canvas.upper-canvas").first
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 60, box["y"] + 60)
    page.mouse.down()
    page.mouse.move(box["x"] + 130, box["y"] + 130, steps=8)
    page.mouse.move(box["x"] + 196, box["y"] + 196, steps=8)
    page.mouse.up()
    page.wait_for_selector(HEADLINE, timeout=60_000)
    wait_idle(page)
    drawn = _headline(page)
    assert re.match(r"It's a \w+ · \d+\.\d%", drawn)
    assert "in=image" in page.url and "img=" in page.url
