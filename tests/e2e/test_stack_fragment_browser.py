"""The Layer stack's fragment (issue 22): a kernel step reruns the layers, the bands and the share link, not the
page. In a real browser a weight step must still repaint every band after the edited layer, leave the input's
band as it was, and put the new weight in the address bar; a spec file loaded from inside the fragment that
changes the input must still reach the sidebar (the fragment then reruns the whole page)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from cnn_core import share
from cnn_core.spec import parse_spec
from tests.stack_specs import outline_sobel_stack

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

BANDS = "[class*='st-key-ls_band_']"
SPEC = outline_sobel_stack(48)
# Channel 0's tile of every band (the photo's for the input band): its picture's name (its address in the media
# store) and what the picture shows (the address, or the same picture sent inline).
TILES = """() => ['0_photo', '1_0', '2_0', '3_0'].map(k => {
  const img = document.querySelector(`.ls-tile[data-tile="${k}"] img`);
  return img ? [img.dataset.src || null, img.getAttribute('src')] : null;
})"""


def _open(page, url: str, spec: dict) -> None:
    state = share.LinkState(page="stack", sample="chelsea", spec=parse_spec(spec))
    page.goto(f"{url}/layer_stack?{urlencode(share.encode_state(state))}")
    wait_idle(page)
    page.wait_for_function(f'document.querySelectorAll("{BANDS}").length === 4', timeout=60_000)


def _address_spec(page):
    query = {k: v for k, v in parse_qs(urlsplit(page.url).query).items()}
    state, warning = share.decode_state(query)
    assert warning is None, warning
    return state.spec


def test_a_weight_step_repaints_the_later_bands_and_the_address_bar(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _open(page, server.url, SPEC)
    page.locator("[class*='st-key-ls_L'][class*='_open'] button").first.click()
    wait_idle(page)
    slider = page.get_by_role("slider", name="w[1,1]").first
    slider.wait_for(timeout=60_000)
    before = page.evaluate(TILES)
    assert all(before), before
    slider.focus()
    page.keyboard.press("ArrowLeft")  # one step of the ±10 range: 8 → 7.95
    page.wait_for_function(
        f"prev => {{ const now = ({TILES})(); return now[3] && now[3][0] !== prev[3][0]; }}",
        arg=before,
        timeout=60_000,
    )
    wait_idle(page)
    after = page.evaluate(TILES)
    assert after[0] == before[0]  # the input's band: the same photo
    # Each tile's picture is named by its address in Streamlit's media store; a picture new to the page comes in
    # the step's message too (shown at once, not fetched after it), and one the page has keeps its name.
    assert all(name.startswith("/media/") and name.endswith(".png") for name, _ in after), after
    assert all(a[0] != b[0] for a, b in zip(after[1:], before[1:])), "every band after the edited layer is repainted"
    assert all(shown.startswith("data:image/png;base64,") for _, shown in after[1:]), after
    # The address bar holds the new weight (a copied link or Back gives this view), the rest unchanged.
    spec = _address_spec(page)
    weights = spec.layers[0].filters[0].weights
    assert weights[1][1] == pytest.approx(7.95)
    assert [w for r, row in enumerate(weights) for q, w in enumerate(row) if (r, q) != (1, 1)] == [-1.0] * 8
    # The slider is redrawn at its new value, and the bands keep their shapes.
    assert page.locator("[data-testid=stSliderThumbValue]", has_text="7.95").count() == 1
    page.locator(BANDS).nth(3).filter(has_text="24×24×2").wait_for(timeout=60_000)  # its heading, drawn by its view
    assert page.locator("[data-testid=stException]").count() == 0


def test_bands_drawn_anew_fetch_the_pictures_the_session_was_already_sent(server, browser):
    """After a visit to another page, the Layer stack's bands are new to the browser, though their pictures were
    sent inline before in this session: the tiles show them from their addresses."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _open(page, server.url, SPEC)
    page.wait_for_function(f"() => ({TILES})().every(t => t && t[1] && t[1].startsWith('data:'))", timeout=60_000)
    page.get_by_role("link", name="Playground").click()
    page.get_by_role("slider", name="w[1,1]").first.wait_for(timeout=120_000)
    page.get_by_role("link", name="Layer stack").click()
    page.wait_for_function(f'document.querySelectorAll("{BANDS}").length === 4', timeout=120_000)
    wait_idle(page)
    page.wait_for_function(
        """() => { const imgs = [...document.querySelectorAll('.ls-tile img')];
             return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); }""",
        timeout=60_000,
    )
    shown = page.evaluate(TILES)
    assert all(t[1] == t[0] and t[0].startswith("/media/") for t in shown), shown
    assert page.locator("[data-testid=stException]").count() == 0


def test_a_spec_file_loaded_in_the_fragment_reaches_the_sidebar(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _open(page, server.url, SPEC)
    colour = page.locator("[data-testid=stSidebar]").get_by_role("radiogroup", name="Colour")
    assert colour.get_by_role("radio", name="rgb").is_checked()
    grey = {**SPEC, "input": {"color": "grayscale", "size": [40, 40]}}
    path = tmp_path / "grey_stack.json"
    path.write_text(json.dumps(grey), encoding="utf-8")
    page.locator(".st-key-ls_import input[type=file]").set_input_files(str(path))
    page.get_by_text("Loaded").first.wait_for(timeout=60_000)
    wait_idle(page)
    # The sidebar's input controls follow the file (drawn outside the fragment: the whole page reran) ...
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid=stSidebar] input[type=radio]')]
             .some(r => r.checked && r.closest('label').innerText.trim() === 'grayscale')""",
        timeout=60_000,
    )
    assert page.locator("[data-testid=stSidebar] input[type=number]").first.input_value() == "40"
    # ... and so do the bands and the address bar.
    page.locator(BANDS).first.filter(has_text="40×40×1").wait_for(timeout=60_000)  # its heading, drawn by its view
    assert _address_spec(page).input.color == "grayscale"
    assert page.locator("[data-testid=stException]").count() == 0


# Every DOM change, as [the convolution band's badge, its old tiles dimmed, channel 0's picture there].
RECORD_JS = """() => {
  window.__marks = [];
  const band = document.querySelector('[class*=st-key-ls_band_L]');
  const note = () => {
    const stale = Array.from(band.querySelectorAll('[data-testid=stElementContainer][data-stale=true]'))
      .filter(e => e.querySelector('img'));
    const img = band.querySelector('.ls-tile[data-tile="1_0"] img');
    window.__marks.push([getComputedStyle(band, '::before').content, stale.length > 0, img && img.getAttribute('src')]);
  };
  note();
  new MutationObserver(note).observe(document.body, {attributes: true, childList: true, subtree: true});
}"""


def test_old_tiles_stay_marked_updating_until_the_new_ones_arrive(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    big = {**SPEC, "input": {"color": "rgb", "size": [1024, 1024]}}  # a step long enough to be seen
    _open(page, server.url, big)
    page.locator("[class*='st-key-ls_L'][class*='_open'] button").first.click()
    wait_idle(page)
    slider = page.get_by_role("slider", name="w[1,1]").first
    slider.wait_for(timeout=60_000)
    page.evaluate(RECORD_JS)
    first = page.evaluate("window.__marks[0]")
    assert first[0] == "none" and not first[1]
    slider.focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "prev => { const m = window.__marks[window.__marks.length - 1]; return m[2] && m[2] !== prev; }",
        arg=first[2],
        timeout=60_000,
    )
    wait_idle(page)
    page.wait_for_timeout(300)
    marks = page.evaluate("window.__marks")
    # While the step computed, the old tiles were still there, flagged stale, under the band's "updating…" mark.
    assert any(m[0] == '"updating…"' and m[1] and m[2] == first[2] for m in marks), marks[:5]
    # Once the run is over: the new tile, no mark, nothing stale.
    assert marks[-1][0] == "none" and not marks[-1][1] and marks[-1][2] != first[2]
    assert page.locator("[data-testid=stException]").count() == 0
