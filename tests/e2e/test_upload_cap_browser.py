"""The upload cap is stated before a file is chosen and a larger file is refused in one visible sentence.

The cap is 50 MB of 10**6 bytes (``cnn_core.images.MAX_FILE_BYTES``). Streamlit's uploader refuses a larger
file in the browser; its sentence is kept for screen readers and a hover tooltip, so app.py's style puts it
in view (before, a refused model showed only a red icon). On Windows Streamlit counts a MB as 2**20 bytes
and lets a 50.4 MB file through; the app's own check then refuses it in the same unit.
"""

from __future__ import annotations

import pytest

from cnn_core.images import MAX_FILE_BYTES

from .harness import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a server and a browser each: seconds

OVER = 50_353_427  # the size of the 4096² PNG that found the mismatch


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    path = tmp_path_factory.mktemp("upload") / "big.png"
    with open(path, "wb") as f:
        f.truncate(OVER)  # sparse: no disk used; its size is all that matters here
    assert OVER > MAX_FILE_BYTES
    return path


def _visible_refusal(uploader) -> str:
    alert = uploader.locator("[data-testid=stFileChip] [role=alert]")
    alert.wait_for(timeout=60_000)
    box = alert.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 8, f"the refusal is not in view: {box}"
    return alert.inner_text()


@pytest.mark.parametrize("page_path", ["/", "/your_model"])
def test_an_oversized_file_is_refused_in_one_visible_sentence(server, browser, big, page_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(120_000)  # a loaded 2-core machine redraws slowly
    page.goto(server.url + page_path)
    wait_idle(page)
    sidebar = page.locator("[data-testid=stSidebar]")
    if page_path == "/your_model":
        sidebar.get_by_text("Upload a .keras file", exact=True).click()
        wait_idle(page)
        label = "Your model (.keras, up to 50 MB)"
    else:
        label = "Upload a photo ("
    uploader = sidebar.locator("[data-testid=stFileUploader]").filter(has_text=label).first
    assert "50MB per file" in uploader.inner_text()  # stated before anything is chosen
    uploader.locator("input[type=file]").set_input_files(big)
    assert _visible_refusal(uploader) == "Error: File must be 50.0MB or smaller."
    page.close()


def test_where_the_browser_counts_mebibytes_the_app_refuses_in_the_same_unit(server, browser, big):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script("Object.defineProperty(navigator, 'platform', {get: () => 'Win32'})")
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(server.url)
    wait_idle(page)
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.locator("input[type=file]").first.set_input_files(big)
    alert = sidebar.locator("[data-testid=stAlert]").filter(has_text="at most 50 MB")
    alert.first.wait_for(timeout=120_000)
    assert "50.4 MB; at most 50 MB is accepted" in alert.first.inner_text()
    context.close()
