"""A link copied from the address bar opens the same view in a fresh browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests import map_views

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

FIGS = map_views.IMGS


def _pictures(page) -> list[str]:
    map_views.wait_maps(page, 3)
    return map_views.sources(page)


def _hover(page, i: int) -> list:
    return map_views.hover_grid(page, i).tolist()


def test_changed_setting_survives_in_a_new_context(server, browser):
    url = server.url
    first = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    first.goto(url)
    wait_idle(first)
    default_url = first.url
    before = _pictures(first)
    thumb = first.get_by_role("slider", name="w[0,0]")
    thumb.focus()
    for _ in range(30):
        first.keyboard.press("ArrowRight")
    # 30 steps of 0.01 up from −1; wait until the server has seen the last one.
    first.wait_for_function(
        "() => document.querySelector('input[aria-label=\"w[0,0]\"]').value === '-0.7'", timeout=30_000
    )
    first.wait_for_function(
        "prev => document.querySelectorAll('.cnn-map img')[1].getAttribute('src') !== prev",
        arg=before[1],
        timeout=30_000,
    )
    for _ in range(3):  # settle: no rerun left in flight (twice a loaded full-suite run, load 10–20, waited
        # 120 s here in vain; wait longer, and on a timeout the harness says what the page showed)
        wait_idle(first, 240_000)
        first.wait_for_timeout(500)
    assert first.url != default_url
    shared = first.url
    assert "c=" in shared and len(shared) < 2000
    want_pictures, want_values = _pictures(first), _hover(first, 1)

    second = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    second.goto(shared)
    wait_idle(second)
    # The maps arrive one by one (on a loaded machine the input's came after the others once): wait up to
    # 60 s for the same pictures in the same places, then compare (the assertion names any that differ).
    try:
        second.wait_for_function(
            f"want => {{ const got = Array.from({FIGS}, i => i.getAttribute('src')); "
            "return got.length === want.length && got.every((s, i) => s === want[i]); }",
            arg=want_pictures,
            timeout=60_000,
        )
    except PlaywrightTimeout:
        pass  # the assertion below shows the difference
    assert _pictures(second) == want_pictures
    assert _hover(second, 1) == want_values
    assert second.get_by_role("slider", name="w[0,0]").input_value() == "-0.7"
    assert second.locator("[data-testid=stAlertContentWarning]").count() == 0
    assert second.locator("[data-testid=stException]").count() == 0
