"""The edge the Docker image serves (`streamlit run serve.py`): no public metrics, no silently dropped links.

Plain HTTP against a real server (a browser only for the page's own warning). The same requests against
`streamlit run app.py` show what the edge is for: Streamlit 1.67 answers /_stcore/metrics to anyone and
drops a query of over 1,000 parts without a word.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from .harness import Server, wait_idle

pytestmark = [pytest.mark.slow]  # starts its own server: seconds


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def edge():
    try:
        s = Server(script="serve.py")
    except RuntimeError as e:
        pytest.fail(str(e))
    yield s
    s.stop()


@pytest.mark.parametrize(
    "path", ["/_stcore/metrics", "/_stcore/metrics/", "//_stcore//metrics", "/_stcore/metrics?families=session_events"]
)
def test_metrics_are_not_served(edge, path):
    status, body = get(edge.url + path)
    assert status == 404, (status, body[:200])
    assert "session" not in body and "cache" not in body


def test_the_app_health_and_page_still_answer(edge):
    assert get(f"{edge.url}/_stcore/health") == (200, "ok")
    status, page = get(edge.url + "/layer_stack?s=camera")
    assert status == 200 and '<div id="root">' in page


@pytest.mark.parametrize("n", [1001, 5000])
def test_a_link_streamlit_would_drop_is_refused_in_one_sentence(edge, n):
    status, body = get(edge.url + "/layer_stack?" + "&".join(["s=camera"] * n))
    assert status == 400
    assert f"This link could not be used: it has {n:,} parts" in body
    assert '<a href="layer_stack">' in body  # back to the same page, on the same host


@pytest.mark.browser
def test_a_link_streamlit_keeps_reaches_the_page_and_its_warning(edge, browser):
    # 1,000 parts: Streamlit passes them to the page, whose link reader warns about the repeats itself.
    page = browser.new_page()
    page.goto(edge.url + "/?" + "&".join(["s=camera"] * 1000))
    wait_idle(page)
    alert = page.locator("[data-testid=stAlert]").filter(has_text="its part s is given 1000 times; give it once")
    alert.first.wait_for(timeout=60_000)
    page.close()
