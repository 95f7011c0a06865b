"""Back and Forward undo and redo edits; a rerun that changes nothing adds no entry; leaving takes one press."""

from __future__ import annotations

import pytest

from tests import map_views

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

BANDS = "[class*='st-key-ls_band_']"


def _maps(page) -> list[str]:
    map_views.wait_maps(page)
    return map_views.sources(page)


def _settle(page) -> None:
    for _ in range(2):  # a rerun may follow the first (the fragment's, or a URL write)
        wait_idle(page)
        page.wait_for_timeout(700)


def _pick_preset(page, label: str) -> None:
    box = page.get_by_role("combobox", name="Start from a preset")
    box.click()
    box.fill(label)  # the list is virtualised: type to filter it, then take the first match
    page.get_by_role("option", name=label).first.click()
    _settle(page)


def test_back_and_forward_on_the_playground(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(server.url)
    _settle(page)
    start_len = page.evaluate("history.length")
    outline = _maps(page)
    # A rerun that changes nothing (a colour-map pick of the same value is not possible, so: open the
    # share panel) adds no entry.
    page.get_by_text("Share or download this view").click()
    _settle(page)
    assert page.evaluate("history.length") == start_len

    _pick_preset(page, "Box blur")
    blur = _maps(page)
    assert blur[1] != outline[1]
    _pick_preset(page, "Sharpen")
    sharpen = _maps(page)
    assert sharpen[1] != blur[1]
    assert page.evaluate("history.length") == start_len + 2

    page.go_back()
    _settle(page)
    assert _maps(page) == blur
    assert "Box blur" in page.get_by_text("Kernel ·", exact=False).first.inner_text()
    page.go_back()
    _settle(page)
    assert _maps(page) == outline
    page.go_forward()
    _settle(page)
    assert _maps(page) == blur
    assert page.locator("[data-testid=stException]").count() == 0


def test_layer_stack_edits_undo_and_leaving_takes_one_press(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(server.url)
    _settle(page)
    _maps(page)
    page.locator("[data-testid=stSidebarNav] a").nth(1).click()
    _settle(page)
    page.wait_for_function(f'document.querySelectorAll("{BANDS}").length === 4', timeout=60_000)
    for n in (5, 6, 7):
        page.locator(".st-key-ls_add_pool2d button").first.click()
        _settle(page)
        page.wait_for_function(f'document.querySelectorAll("{BANDS}").length === {n}', timeout=60_000)
    for n in (6, 5, 4):  # each Back undoes one edit
        page.go_back()
        _settle(page)
        page.wait_for_function(f'document.querySelectorAll("{BANDS}").length === {n}', timeout=60_000)
        assert "/layer_stack" in page.url
    page.go_back()  # one more press leaves the page
    _settle(page)
    assert "/layer_stack" not in page.url
    assert len(_maps(page)) >= 4
    page.go_forward()
    _settle(page)
    page.wait_for_function(f'document.querySelectorAll("{BANDS}").length === 4', timeout=60_000)
    assert page.locator("[data-testid=stException]").count() == 0
