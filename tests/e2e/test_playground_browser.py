"""A real browser against a real server: upload a photo, move a kernel slider, see the maps change."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
pytestmark = pytest.mark.browser


def _need_browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required under CI but was not found at {CHROMIUM}")
        pytest.skip("Chromium is not installed (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    _need_browser()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not answer its health check within 90 s")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture()
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        pg = browser.new_page(viewport={"width": 1500, "height": 1100})
        yield pg
        browser.close()


def _idle(page, timeout=90_000):
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=timeout)


def _conv_picture(page) -> str:
    """The PNG the browser shows for the convolution map (second figure)."""
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=60_000)
    return page.evaluate("document.querySelectorAll('.js-plotly-plot')[1].layout.images[0].source")


def test_upload_move_slider_maps_change(page, server):
    page.goto(server)
    _idle(page)
    assert page.locator("text=Input").first.is_visible()
    page.get_by_text("Upload", exact=True).click()
    _idle(page)
    page.locator("input[type=file]").set_input_files(str(ROOT / "assets" / "coffee.png"))
    page.wait_for_selector("text=coffee.png", timeout=30_000)
    _idle(page)
    before = _conv_picture(page)

    # The centre weight's slider: focus its thumb and step it with the keyboard.
    thumb = page.get_by_role("slider", name="w[1,1]")
    thumb.focus()
    for _ in range(20):
        page.keyboard.press("ArrowLeft")
    _idle(page)
    page.wait_for_function(
        "prev => document.querySelectorAll('.js-plotly-plot')[1].layout.images[0].source !== prev",
        arg=before, timeout=30_000,
    )
    after = _conv_picture(page)
    assert after != before
    # 20 steps of 0.05 down from the outline kernel's centre weight of 8.
    assert page.get_by_role("slider", name="w[1,1]").input_value() == "7"
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stAlertContentError]").count() == 0
