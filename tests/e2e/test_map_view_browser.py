"""The Playground's maps are map views (ui/common/map_view.py): a new session's maps hover, zoom and answer clicks
from their first paint, with Plotly's chunk held back (as on a slow connection or a busy machine), since
they need none of it; and a kernel step keeps a zoomed map zoomed."""

from __future__ import annotations

import pytest

from tests import map_views
from ui.playground.map_grid import MAP_HEIGHT

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

HEIGHTS = "() => Array.from(document.querySelectorAll('.cnn-map')).map(m => m.getBoundingClientRect().height)"
# The picture's on-screen width over the map's own width: how far the map is zoomed in.
ZOOM = """i => { const m = document.querySelectorAll('.cnn-map')[i];
  return m.querySelector('img').getBoundingClientRect().width / m.querySelector('.cnn-map-window').getBoundingClientRect().width; }"""


def test_maps_hover_zoom_and_click_without_plotly(server, browser):
    warm = browser.new_page()  # a warm server: the first visitor has imported TensorFlow
    warm.goto(server.url)
    warm.wait_for_selector("text=Computed by TensorFlow", state="attached", timeout=180_000)
    wait_idle(warm, 180_000)
    warm.close()

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    held = []
    context.route("**/static/js/PlotlyChart.*.js", lambda route: held.append(route))  # never answered
    page = context.new_page()
    hover_fetches = []  # a 300² map's hover values (360 kB) come by address, fetched once the pointer is over it
    page.on("request", lambda r: hover_fetches.append(r.url) if "/media/" in r.url and r.url.endswith(".bin") else None)
    try:
        page.goto(server.url)
        map_views.wait_maps(page, 4, 120_000)
        wait_idle(page, 120_000)
        pictures = map_views.sources(page)
        assert len(pictures) == 4 and all(p.startswith("data:image/png;base64,") for p in pictures)
        assert page.evaluate(HEIGHTS) == [MAP_HEIGHT] * 4
        assert page.get_by_text("Computed by TensorFlow").count() == 1  # the page itself is all there

        # Hover names the row, the column and the value there (every pixel of a 300² map).
        box = map_views.window_box(page, 1)
        x, y = box["x"] + box["width"] * 126.5 / 300, box["y"] + box["height"] * 93.5 / 300
        page.mouse.move(x, y)
        tip = page.locator(".cnn-map .cnn-map-tip").nth(1)
        tip.wait_for(state="visible", timeout=30_000)
        assert len(hover_fetches) == 1, hover_fetches  # only the map under the pointer fetched its values
        value = float(map_views.hover_grid(page, 1)[93, 126])
        text = tip.inner_text()
        assert text.startswith("row 93, col 126") and "every" not in text
        assert abs(float(text.split("value ")[1]) - value) <= 1e-4 * max(1.0, abs(value))

        # A click opens the worked sum of exactly that value.
        page.mouse.click(x, y)
        panel = page.locator(".st-key-pg_worked")
        panel.wait_for(timeout=60_000)
        wait_idle(page, 120_000)
        assert panel.inner_text().startswith("Convolution, row 93, column 126")

        # A dragged box zooms in; a kernel step keeps the zoom and changes the picture; a double click resets.
        box = map_views.window_box(page, 1)
        page.mouse.move(box["x"] + 20, box["y"] + 20)
        page.mouse.down()
        page.mouse.move(box["x"] + 80, box["y"] + 80, steps=4)
        page.mouse.up()
        assert page.evaluate(ZOOM, 1) > 3.5  # a 60-pixel box of a 245-pixel map fills the view
        assert page.locator(".cnn-map button.cnn-map-reset").nth(1).is_visible()
        before = map_views.sources(page)[1]
        page.get_by_role("slider", name="w[1,1]").first.focus()
        page.keyboard.press("ArrowLeft")
        map_views.source_changed(page, 1, before)
        wait_idle(page, 120_000)
        assert page.evaluate(ZOOM, 1) > 3.5
        page.locator(".cnn-map .cnn-map-window").nth(1).dblclick()
        assert abs(page.evaluate(ZOOM, 1) - 1.0) < 0.01
        assert page.locator("[data-testid=stException]").count() == 0
    finally:
        context.close()


def test_hover_values_still_on_their_way_when_a_step_lands_are_kept(server, browser):
    """The input's hover values (by address) are fetched as the pointer comes over it; a kernel step lands before
    they arrive: once they arrive, the tooltip shows them."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    held = []
    context.route("**/media/*.bin", lambda route: held.append(route))  # answered only when the test says
    page = context.new_page()
    try:
        page.goto(server.url)
        page.get_by_role("slider", name="w[1,1]").first.wait_for(timeout=180_000)
        map_views.wait_maps(page, 4, 120_000)
        wait_idle(page, 120_000)
        box = map_views.window_box(page, 0)
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
        deadline = 50
        while not held and deadline:
            page.wait_for_timeout(100)
            deadline -= 1
        assert len(held) == 1, "the input's hover values were not asked for"
        tip = page.locator(".cnn-map .cnn-map-tip").first
        assert not tip.is_visible()  # no values yet
        before = map_views.sources(page)[1]
        page.get_by_role("slider", name="w[1,1]").first.focus()
        page.keyboard.press("ArrowLeft")
        map_views.source_changed(page, 1, before)
        wait_idle(page, 120_000)
        held.pop().continue_()
        tip.wait_for(state="visible", timeout=30_000)
        assert tip.inner_text().startswith("row ")
        assert page.locator("[data-testid=stException]").count() == 0
    finally:
        context.close()
