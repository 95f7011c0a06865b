"""A real browser against a real server: the Layer stack page draws one band per stage, and adding a layer adds one."""

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

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
BANDS = "[class*='st-key-ls_band_']"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=5).read() == b"ok"
    except OSError:
        return False


@pytest.fixture(scope="module")
def server():
    """`streamlit run app.py` on a free port, stopped after the module's tests."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required under CI but was not found at {CHROMIUM}")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while not _healthy(url):
            if time.time() > deadline or proc.poll() is not None:
                pytest.fail("streamlit did not answer its health check within 90 s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture()
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _idle(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=90_000)


def test_add_layer_adds_a_band(server, browser):
    # The very first visit to a fresh server goes straight to the page, as a shared link would. Its URL
    # matches its file name, so Streamlit's first (pages/-folder) routing finds it: no "Page not found".
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.goto(f"{server}/layer_stack")
    _idle(page)
    assert page.get_by_text("Page not found").count() == 0
    page.wait_for_function(f'document.querySelectorAll("{BANDS}").length >= 4', timeout=60_000)
    assert page.get_by_text("Page not found").count() == 0
    # The article's stack: input, convolution, activation, pooling.
    assert page.locator(BANDS).count() == 4
    assert "16×16×12" in page.locator(BANDS).nth(3).inner_text()

    page.locator(".st-key-ls_add_pool2d button").first.click()
    _idle(page)
    page.wait_for_function(f'document.querySelectorAll("{BANDS}").length === 5', timeout=60_000)
    last = page.locator(BANDS).nth(4).inner_text()
    assert "4 · Pooling" in last and "8×8×12" in last
    # Every band shows its maps as pictures (at most 8 per band, plus its colour legend).
    assert page.locator(BANDS).nth(4).locator("img").count() == 1 + 8
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stAlertContentError]").count() == 0
