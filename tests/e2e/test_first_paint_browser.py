"""A new session's first maps are plain pictures, painted without Plotly; the interactive figures replace them
once Plotly is loaded, showing the same pictures, and hover and clicks work on them. Plotly's chunk is held
back here (as on a slow connection or a busy machine) to see the pictures stay until it comes."""

from __future__ import annotations

import pytest

from ui.playground.map_grid import MAP_HEIGHT, PICTURE_CLASS

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

PICTURES = f"""() => Array.from(document.querySelectorAll('img.{PICTURE_CLASS}'))
  .filter(i => i.complete && i.naturalWidth > 0).map(i => i.getAttribute('src'))"""
BOXES = f"""() => Array.from(document.querySelectorAll('img.{PICTURE_CLASS}'))
  .map(i => i.parentElement.parentElement.getBoundingClientRect().height)"""
FIGURES = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).filter(g => {
  const el = g.querySelector('image');
  return el && (el.getAttribute('href') || el.getAttribute('xlink:href') || '').startsWith('data:image');
}).map(g => g.layout.images[0].source)"""


def test_pictures_first_then_figures_that_hover_and_click(server, browser):
    warm = browser.new_page()  # a warm server: the first visitor has imported TensorFlow
    warm.goto(server.url)
    warm.wait_for_selector("text=Computed by TensorFlow", state="attached", timeout=180_000)
    wait_idle(warm, 180_000)
    warm.close()

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    held = []
    context.route("**/static/js/PlotlyChart.*.js", lambda route: held.append(route))  # answered below
    page = context.new_page()
    try:
        page.goto(server.url)
        page.wait_for_function(f"({PICTURES})().length >= 4", timeout=120_000)
        wait_idle(page, 120_000)
        pictures = page.evaluate(PICTURES)
        assert len(pictures) == 4 and all(p.startswith("data:image/png;base64,") for p in pictures)
        assert page.evaluate(BOXES) == [MAP_HEIGHT] * 4  # each in its figure's box
        assert page.get_by_text("Computed by TensorFlow").count() == 1  # the page itself is all there
        # The probe asked for Plotly's chunk; while it is held back the pictures stay and no figure comes.
        for _ in range(300):  # up to 30 s on a loaded machine
            if held:
                break
            page.wait_for_timeout(100)
        assert len(held) == 1
        page.wait_for_timeout(1500)
        assert page.evaluate(FIGURES) == []
        assert page.evaluate(PICTURES) == pictures

        held[0].continue_()
        page.wait_for_function(f"({FIGURES})().length >= 4", timeout=120_000)
        wait_idle(page, 120_000)
        assert page.evaluate(FIGURES) == pictures  # the figures show the very same pictures
        assert page.evaluate(PICTURES) == []

        # Hover shows a value, and a click opens the worked sum of the pixel under the pointer.
        area = page.locator(".js-plotly-plot").nth(1).locator(".nsewdrag").first.bounding_box()
        x, y = area["x"] + area["width"] * 126.5 / 300, area["y"] + area["height"] * 93.5 / 300
        page.mouse.move(x, y)
        page.locator(".js-plotly-plot").nth(1).locator(".hovertext").first.wait_for(timeout=30_000)
        assert "row" in page.locator(".js-plotly-plot").nth(1).locator(".hovertext").first.text_content()
        page.mouse.click(x, y)
        panel = page.locator(".st-key-pg_worked")
        panel.wait_for(timeout=60_000)
        assert panel.inner_text().startswith("Convolution, row ")
        assert page.locator("[data-testid=stException]").count() == 0
    finally:
        context.close()
