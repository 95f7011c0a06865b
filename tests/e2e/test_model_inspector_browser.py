"""A real browser: the Your model and Trained network pages explain a clicked value of any layer (the worked
sum equals the map's value, a Dense unit's largest terms and the rest add up to its logit) and show Grad-CAM
for a chosen layer."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds


def _text(page) -> str:
    return page.locator("[data-testid=stMain]").inner_text()


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` (typing filters the list, so none needs scrolling)."""
    wait_idle(page)  # a run still drawing the page can re-mount the box and close its list under the pointer
    box = page.get_by_role("combobox", name=label, exact=True)
    box.scroll_into_view_if_needed()
    for attempt in range(3):
        box.click()
        page.keyboard.type(option)
        choice = page.get_by_role("option", name=option).first
        try:
            choice.wait_for(timeout=40_000)
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")  # the list closed (a rerun on a loaded machine): open it again
            wait_idle(page)
            continue
        choice.click()
        break
    wait_idle(page)


def test_your_model_explains_a_convolution_and_a_dense_unit_and_shows_grad_cam(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    page.goto(server.url + "/your_model")
    wait_idle(page)
    page.get_by_text("Inside a layer").first.wait_for(timeout=120_000)
    text = _text(page)
    assert "✓ equal" in text, "the default convolution's worked sum must equal the map's value"
    assert "receptive field" in text
    assert "Grad-CAM of" in text
    # The Dense head: its largest terms and the rest add up to the logit.
    _choose(page, "Layer", "dense · Dense")
    text = _text(page)
    assert "largest terms" in text and "Σ of the other" in text
    # Clicking the map picks another value of a convolution.
    _choose(page, "Layer", "conv_1_1 · Conv2D")
    before = page.locator("input[aria-label='Row']").first.input_value()
    img = page.locator("[data-testid=stMain] iframe").first
    img.scroll_into_view_if_needed()
    frame = img.content_frame
    pic = frame.locator("img").first
    box = pic.bounding_box()
    pic.click(position={"x": 5, "y": box["height"] - 5})
    wait_idle(page)
    after = page.locator("input[aria-label='Row']").first.input_value()
    assert after != before
    assert "✓ equal" in _text(page)
    # The sliding window, its frames computed by the layer's kind, around the clicked value.
    col = page.locator("input[aria-label='Column']").first.input_value()
    page.get_by_text("Watch the window slide").first.click()
    wait_idle(page)
    inspector = page.locator(".st-key-ym_minspector")
    inspector.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert f"Around row {after}, column {col}:" in inspector.inner_text()
    title = page.evaluate(
        "() => [...document.querySelectorAll('.st-key-ym_minspector .js-plotly-plot')]"
        ".find(p => p.layout.sliders).layout.title.text"
    )
    assert f"output (row {after}, col {col}) = " in title


def _click_enlarged_map(page, prefix: str) -> None:
    """Click a cell of the page's enlarged map; the inspector must open on that value of that map."""
    zoom = page.locator(f".st-key-{prefix}_zoom_wrap .js-plotly-plot")
    zoom.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    heat = f"document.querySelector('.st-key-{prefix}_zoom_wrap .js-plotly-plot')._fullData.find(t => t.type === 'heatmap')"
    h, w = page.evaluate(f"() => {{ const z = {heat}.z; return [z.length, z[0].length]; }}")
    zoom.scroll_into_view_if_needed()
    area = zoom.locator(".nsewdrag").first.bounding_box()
    row, col = h // 5, (4 * w) // 5
    page.mouse.click(area["x"] + area["width"] * (col + 0.5) / w, area["y"] + area["height"] * (row + 0.5) / h)
    page.get_by_text(f"Row {row}, column", exact=False).first.wait_for(timeout=60_000)
    wait_idle(page)
    inspector = page.locator(f".st-key-{prefix}_minspector")
    got_row = int(inspector.locator("input[aria-label='Row']").input_value())
    got_col = int(inspector.locator("input[aria-label='Column']").input_value())
    assert abs(got_row - row) <= 1 and abs(got_col - col) <= 1
    # The inspector explains that value of that map: its headline is the map's value under the pointer.
    value = page.evaluate(f"() => {heat}.z[{got_row}][{got_col}]")
    text = inspector.inner_text()
    where = f"at row {got_row}, column {got_col}, channel 0: "
    assert where in text
    held = float(text.split(where)[1].split()[0])
    assert abs(held - value) <= 1e-5 * max(1.0, abs(value))
    assert page.locator("[data-testid=stException]").count() == 0


def _open(server, browser, path: str, section: str):
    """A wide page at ``path``, once its ``section`` heading is drawn."""
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    page.goto(server.url + path)
    wait_idle(page)
    page.get_by_text(section).first.wait_for(timeout=120_000)
    return page


def test_a_click_on_your_models_enlarged_map_opens_the_inspector_on_that_value(server, browser):
    page = _open(server, browser, "/your_model", "Inside a layer")
    page.get_by_text("Enlarge one map, with the value under the pointer").first.click()
    wait_idle(page)
    _click_enlarged_map(page, "ym")
    page.close()


def test_a_click_on_the_trained_networks_enlarged_map_opens_the_inspector_on_that_value(server, browser):
    page = _open(server, browser, "/trained_network", "6 · Inside any layer")
    _click_enlarged_map(page, "net")
    page.close()


def test_trained_network_explains_any_layer_and_takes_grad_cam_from_a_chosen_layer(server, browser):
    page = _open(server, browser, "/trained_network", "6 · Inside any layer")
    # The worked sum is an st.html block, drawn a moment after the rest of the section.
    page.get_by_text("the map holds").first.wait_for(timeout=60_000)
    assert "✓ equal" in _text(page)
    _choose(page, "Layer whose maps are weighed", "conv_2_1")
    assert "Grad-CAM takes conv_2_1's maps" in _text(page)
