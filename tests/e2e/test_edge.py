"""The edge the Docker image serves (`streamlit run serve.py`): no public metrics, no silently dropped links.

Plain HTTP against a real server (a browser only for the page's own warning). The same requests against
`streamlit run app.py` show what the edge is for: Streamlit 1.67 answers /_stcore/metrics to anyone and
drops a query of over 1,000 parts without a word.
"""

from __future__ import annotations

import gzip
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import streamlit

from .harness import Server, wait_idle

pytestmark = [pytest.mark.slow]  # starts its own server: seconds


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def _serve():
    """`streamlit run serve.py` on a free port for as long as the fixture lasts."""
    try:
        s = Server(script="serve.py")
    except RuntimeError as e:
        pytest.fail(str(e))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def edge():
    yield from _serve()


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


def _fetch(url: str, encoding: str | None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding} if encoding else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def _bundles(edge) -> list[str]:
    """The scripts and styles the app's page asks for, as paths."""
    _, page = get(edge.url + "/")
    found = re.findall(r'(?:src|href)="\.?/?(static/(?:js|css)/[^"]+)"', page)
    assert sum(p.endswith(".js") for p in found) > 10 and any(p.endswith(".css") for p in found), page[:500]
    return ["/" + p for p in found]


@pytest.fixture
def fresh_edge():
    """An edge no browser has asked for a file yet."""
    yield from _serve()


def _compressed_answer(url: str, encoding: str) -> tuple[int, dict, bytes]:
    """The answer to a gzip-taking browser once the edge has had time to compress the file (up to 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        status, headers, body = _fetch(url, encoding)
        if headers.get("content-encoding") == "gzip" or time.monotonic() > deadline:
            return status, headers, body
        time.sleep(0.05)


def test_streamlits_scripts_go_compressed_to_a_browser_that_takes_gzip(fresh_edge):
    bundles = Path(streamlit.__file__).parent / "static" / "static"
    paths = _bundles(fresh_edge)
    # The first request for a file never waits: it gets the file as Streamlit sends it, and starts its compression.
    for path in paths:
        status, headers, body = _fetch(fresh_edge.url + path, "gzip")
        on_disk = (bundles / path.split("/static/", 1)[1]).read_bytes()
        assert status == 200 and "content-encoding" not in headers and body == on_disk, path
    raw = wire = 0
    for path in paths:
        on_disk = (bundles / path.split("/static/", 1)[1]).read_bytes()
        gains = len(gzip.compress(on_disk, 9)) < len(on_disk)
        status, headers, body = (_compressed_answer if gains else _fetch)(fresh_edge.url + path, "gzip, deflate, br")
        assert status == 200, (path, status)
        if headers.get("content-encoding") == "gzip":
            assert gzip.decompress(body) == on_disk  # the very file, byte for byte
            assert len(body) < len(on_disk)
            assert "immutable" in headers["cache-control"] and headers["vary"] == "Accept-Encoding"
            assert headers["content-type"].startswith("text/javascript" if path.endswith(".js") else "text/css")
        else:  # only a file too small to gain from it goes as it is
            assert body == on_disk and not gains, path
        raw, wire = raw + len(on_disk), wire + len(body)
        # A browser that doesn't take gzip, or refuses it, gets the file as Streamlit sends it.
        for encoding in (None, "identity", "gzip;q=0", "br"):
            status, headers, body = _fetch(fresh_edge.url + path, encoding)
            assert status == 200 and "content-encoding" not in headers and body == on_disk, (path, encoding)
    assert wire < raw / 3, (raw, wire)


@pytest.mark.parametrize(
    "path",
    ["/static/js/../../config.toml", "/static/js/%2e%2e/%2e%2e/index.html", "/static/js/none.js", "/static/js/x/y.js"],
)
def test_only_bundled_files_are_compressed(edge, path):
    """Anything but a plain bundle name (a way out of the folder, a missing file, a sub-folder) is Streamlit's."""
    status, headers, _ = _fetch(edge.url + path, "gzip")
    assert headers.get("content-encoding") != "gzip", (path, status, headers)
