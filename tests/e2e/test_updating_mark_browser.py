"""While a change computes, the Playground keeps its old maps, dimmed and marked "updating…"; the mark goes when the
new maps arrive. The maps' pictures come at the size the screen shows them (device pixels included)."""

from __future__ import annotations

import base64
import io
import time

import pytest
from PIL import Image

from benchmarks.browser import playground_link
from tests import map_views

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

# Every DOM change in the maps' block, as [the badge's text, old maps dimmed, the convolution's picture].
RECORD_JS = """() => {
  window.__marks = [];
  const box = document.querySelector('.st-key-pg_maps');
  const note = () => {
    const badge = getComputedStyle(box, '::before').content;
    const dim = Array.from(box.querySelectorAll('[data-testid=stElementContainer][data-stale=true]'))
      .filter(e => e.querySelector('.cnn-map'))
      .some(e => parseFloat(getComputedStyle(e).opacity) < 0.9);
    const g = box.querySelectorAll('.cnn-map img')[1];
    window.__marks.push([badge, dim, g && g.getAttribute('src')]);
  };
  note();
  new MutationObserver(note).observe(box, {attributes: true, childList: true, subtree: true});
}"""


def _open(browser, server, scale: float = 1):
    page = browser.new_page(viewport={"width": 1500, "height": 1100}, device_scale_factor=scale)
    page.goto(f"{server.url}/?{playground_link(1024)}")
    page.wait_for_selector("text=1024×1024×1", timeout=120_000)
    wait_idle(page)
    page.wait_for_function(PICTURES_JS, timeout=60_000)
    return page


PICTURES_JS = f"() => ({map_views.SHOWN_JS})() >= 4"


def _sides(page) -> list[int]:
    srcs = map_views.sources(page)
    return [Image.open(io.BytesIO(base64.b64decode(s.split(",", 1)[1]))).size[0] for s in srcs]


def test_old_maps_stay_marked_updating_until_the_new_ones_arrive(browser, server):
    page = _open(browser, server)
    try:
        assert (
            page.evaluate("getComputedStyle(document.querySelector('.st-key-pg_maps'), '::before').content") == "none"
        )
        page.evaluate(RECORD_JS)
        before = page.evaluate("window.__marks[0][2]")
        page.get_by_role("slider", name="w[1,1]").focus()
        page.keyboard.press("ArrowLeft")
        wait_idle(page)
        page.wait_for_timeout(300)
        marks = page.evaluate("window.__marks")
        updating = [m for m in marks if m[0] == '"updating…"']
        assert updating, marks[:5]
        # While marked, the old convolution map is still on screen, dimmed (not a blank space).
        assert any(m[2] == before and m[1] for m in updating)
        # Once the run is over: the new map, no mark, nothing dimmed.
        assert marks[-1][0] == "none" and not marks[-1][1]
        assert marks[-1][2] != before
    finally:
        page.close()


def test_pictures_come_at_the_screens_own_density(browser, server):
    plain = _open(browser, server)
    try:
        assert _sides(plain) == [256] * 4  # 1024² maps shown 245 px tall: 4×4 blocks averaged
    finally:
        plain.close()
    dense = _open(browser, server, scale=2)
    try:
        # The browser says its devicePixelRatio once; the fragment then reruns and draws the maps again at twice
        # the pixels (while it does, the old maps are still there): wait for that rerun to be over.
        deadline = time.monotonic() + 120
        sides = _sides(dense)
        while sides != [512] * 4 and time.monotonic() < deadline:
            dense.wait_for_timeout(500)
            wait_idle(dense)
            sides = _sides(dense)
        assert sides == [512] * 4
    finally:
        dense.close()
