"""The app works offline: no page asks any host but its own server for anything (fonts, icons, scripts).

Every request the browser makes to another host is aborted and recorded, as on a strict or air-gapped host.
Each page must then still be whole: its title, the navigation with its icons drawn in the bundled icon
font, its maps or tables, no error box, and the Playground's kernel canvas (a component) and the drawing
input. Any outside request fails the test, naming it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

LOCAL = {"127.0.0.1", "localhost"}
# What must be on each page when it is whole: a selector and how many of it at least.
PAGES = {
    "/": ("What a convolution does to a photo", ".cnn-map img", 4),
    "/layer_stack": ("Layer stack", "[data-testid=stImage] img, .js-plotly-plot, img", 2),
    "/trained_network": (
        "A trained network, from pixels to probabilities",
        "[data-testid=stImage] img, .js-plotly-plot, img",
        2,
    ),
    "/your_model": ("Your model", "[data-testid=stDataFrame], [data-testid=stTable], table", 1),
}


@pytest.fixture()
def offline(browser):
    """A browser page that may reach only the local server; ``page.outside`` lists what it tried elsewhere."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    outside: list[str] = []

    def route(r):
        if urlsplit(r.request.url).hostname in LOCAL:
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    # data: URLs never reach the route; blob: and the like stay in the browser.
    context.route(lambda url: urlsplit(url).scheme in ("http", "https", "ws", "wss"), route)
    page = context.new_page()
    page.set_default_timeout(120_000)  # a loaded 2-core machine redraws slowly; clicks wait for a still page
    page.outside = outside
    yield page
    context.close()


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_is_whole_without_any_outside_request(server, offline, path):
    heading, selector, at_least = PAGES[path]
    page = offline
    page.goto(server.url + path)
    wait_idle(page)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length >= n", arg=[selector, at_least], timeout=60_000
    )
    assert page.locator("[data-testid=stException]").count() == 0
    nav = page.locator("[data-testid=stSidebarNav]")
    assert "Layer stack" in nav.inner_text() and "Your model" in nav.inner_text()
    # The navigation's icons are ligatures of the icon font Streamlit bundles: drawn only if it loaded.
    page.wait_for_function("document.fonts.status === 'loaded'", timeout=30_000)
    assert page.evaluate("document.fonts.check('24px \"Material Symbols Rounded\"', 'tune')")
    assert page.evaluate(
        "[...document.fonts].some(f => f.family.includes('Material Symbols') && f.status === 'loaded')"
    ), "the bundled icon font did not load"
    assert page.outside == [], f"{path} asked other hosts for: {sorted(set(page.outside))}"


def test_the_canvas_components_work_without_any_outside_request(server, offline):
    page = offline
    page.goto(server.url)
    wait_idle(page)
    page.get_by_role("radiogroup").filter(has_text="Canvas").get_by_text("Canvas", exact=True).click()
    wait_idle(page)
    page.locator("canvas.upper-canvas").first.wait_for(timeout=60_000)  # the kernel canvas component drew
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.get_by_role("radiogroup").filter(has_text="Drawing").get_by_text("Drawing", exact=True).click()
    wait_idle(page)
    sidebar.locator("canvas.upper-canvas").first.wait_for(timeout=60_000)  # the drawing input's canvas drew
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.outside == [], f"the canvases asked other hosts for: {sorted(set(page.outside))}"
