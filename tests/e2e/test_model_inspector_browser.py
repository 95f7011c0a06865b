"""A real browser: the Your model and Trained network pages explain a clicked value of any layer (the worked
sum equals the map's value, a Dense unit's largest terms and the rest add up to its logit) and show Grad-CAM
for a chosen layer."""

from __future__ import annotations

import pytest

from .harness import wait_idle

pytestmark = pytest.mark.browser


def _text(page) -> str:
    return page.locator("[data-testid=stMain]").inner_text()


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` (typing filters the list, so none needs scrolling)."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option).first.click()
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
    # The sliding window, its frames computed by the layer's kind.
    page.get_by_text("Watch the window slide").first.click()
    wait_idle(page)
    inspector = page.locator(".st-key-ym_minspector")
    inspector.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert "treated as a whole input" in inspector.inner_text()


def test_trained_network_explains_any_layer_and_takes_grad_cam_from_a_chosen_layer(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    page.goto(server.url + "/trained_network")
    wait_idle(page)
    page.get_by_text("6 · Inside any layer").first.wait_for(timeout=120_000)
    assert "✓ equal" in _text(page)
    _choose(page, "Layer whose maps are weighed", "conv_2_1")
    assert "Grad-CAM takes conv_2_1's maps" in _text(page)
