"""Fixtures for every test in tests/e2e: a real server and a headless Chromium (built on ``harness``)."""

from __future__ import annotations

import os

import pytest

from .harness import Server, browser_missing, chromium


def need_browser() -> None:
    """Skip when no browser can be driven on a developer machine; fail under CI, where one must be there."""
    why = browser_missing()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"a browser is required under CI: {why}")
        pytest.skip(why)


def _start() -> Server:
    try:
        return Server()
    except RuntimeError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="module")
def server():
    """One `streamlit run app.py` shared by a module's tests, stopped after them."""
    s = _start()
    yield s
    s.stop()


@pytest.fixture()
def fresh_server():
    """A server of the test's own that nobody has visited yet (for first-visit behaviour)."""
    s = _start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium shared by a module's tests; skips (fails under CI) when there is none."""
    need_browser()
    with chromium() as b:
        yield b
