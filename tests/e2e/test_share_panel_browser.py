"""The share panel in a real browser: built only when opened, its link equal to the address bar and copyable."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from cnn_core import share

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser: seconds

LABEL = "Copy this link (the address bar holds the same):"


def _settle(page) -> None:
    for _ in range(2):  # a rerun may follow the first (the fragment's, or a URL write)
        wait_idle(page)
        page.wait_for_timeout(500)


def test_the_link_appears_when_the_panel_opens_and_copies(server, browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = ctx.new_page()
    try:
        page.goto(server.url)
        page.wait_for_selector("text=Computed by TensorFlow", state="attached", timeout=120_000)
        _settle(page)
        assert page.get_by_role("textbox", name=LABEL).count() == 0  # closed: nothing of the panel is drawn
        assert page.locator("[data-testid=stCode]").count() == 0  # and nothing loads the code highlighter
        assert page.get_by_role("button", name="Download the spec (JSON)").count() == 0

        page.get_by_text("Share or download this view").click()
        box = page.get_by_role("textbox", name=LABEL)
        box.wait_for(timeout=60_000)
        _settle(page)
        link = box.input_value()
        assert urlsplit(link).port == urlsplit(server.url).port  # a whole address, not just a query
        shown = dict(parse_qsl(urlsplit(link).query))
        address = dict(parse_qsl(urlsplit(page.url).query))
        # The address also keeps the inspector's position ("at"); the link to share leaves it out, as before.
        assert shown == {k: v for k, v in address.items() if k != "at"}
        state, warning = share.decode_state(shown)
        assert warning is None and state.page == "playground"
        assert page.get_by_role("button", name="Download the spec (JSON)").count() == 1

        box.click()
        page.keyboard.press("Control+A")
        page.keyboard.press("Control+C")
        assert page.evaluate("navigator.clipboard.readText()") == link
    finally:
        ctx.close()
