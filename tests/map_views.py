"""Reading the Playground's map views (ui/common/map_view.py) in tests: what AppTest received, and what a browser
shows."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import numpy as np

from ui.common import map_view
from ui.common.map_view import IMG_CLASS, ROOT_CLASS

NAME = "cnn_map_view"


def views(at, within: str | None = None) -> list[dict]:
    """The data each map view of an AppTest run received, in page order."""
    return [json.loads(e.proto.json) for e in at.get("bidi_component") if e.proto.component_name == NAME]


def headings(at) -> list[str]:
    """Each map's heading as the page's markdown gave it before the views drew them: "**title** · shape"."""
    return [f"**{v['title']}**{v['subtitle']}" if v["title"] else v["subtitle"] for v in views(at)]


def captions(at) -> list[str]:
    """Each map's line of numbers (the input's: how it was resized), in page order."""
    return [v["caption"] for v in views(at)]


def pictures(at) -> list[str]:
    """The map pictures' data URIs, in page order."""
    return [v["src"] for v in views(at)]


# What a map view's hover grid served by address held, by address (AppTest's media store is gone after its run).
SERVED: dict[str, bytes] = {}


def keep_served(monkeypatch) -> None:
    """Serve map views' large hover grids from ``SERVED`` for the test (addresses as the app would send them),
    so ``hover`` can read the values an AppTest run sent by address."""

    def serve(data: bytes, mimetype: str, where: str) -> str:
        url = f"/media/{hashlib.sha224(data).hexdigest()}.bin"
        SERVED[url] = bytes(data)
        return url

    SERVED.clear()
    monkeypatch.setattr(map_view, "media_url", serve)


def hover(view: dict) -> np.ndarray:
    """A view's hover grid as float32 (rows, cols) or (rows, cols, channels) values, inline or by address."""
    h = view["hover"]
    shape = (h["rows"], h["cols"]) + ((len(h["channels"]),) if h["channels"] else ())
    raw = SERVED[h["url"]] if "url" in h else base64.b64decode(h["b64"])
    return np.frombuffer(raw, np.float32).reshape(shape)


# In a browser: every map view's picture element, in page order...
IMGS = f"document.querySelectorAll('.{ROOT_CLASS} img.{IMG_CLASS}')"
# ...their sources...
SOURCES_JS = f"() => Array.from({IMGS}).map(i => i.getAttribute('src'))"
# ...and how many are on screen (loaded and decoded).
SHOWN_JS = f"() => Array.from({IMGS}).filter(i => i.complete && i.naturalWidth > 0).length"


def wait_maps(page, n: int = 4, timeout: float = 60_000) -> None:
    """Wait until ``n`` map pictures are on screen."""
    page.wait_for_function(f"({SHOWN_JS})() >= {n}", timeout=timeout)


def sources(page) -> list[str]:
    return page.evaluate(SOURCES_JS)


def source_changed(page, index: int, before: str, timeout: float = 60_000) -> None:
    """Wait until map ``index``'s picture is no longer ``before``."""
    page.wait_for_function(
        f"prev => {{ const i = {IMGS}[{index}]; return i && i.getAttribute('src') !== prev; }}",
        arg=before,
        timeout=timeout,
    )


def window_box(page, index: int) -> dict:
    """The on-screen box of map ``index``'s picture (the part the pointer reads), as Playwright gives it."""
    return page.locator(f".{ROOT_CLASS} .cnn-map-window").nth(index).bounding_box()


def click_cell(page, index: int, row: int, col: int) -> None:
    """Click the centre of the value at (row, col) of map ``index`` (unzoomed)."""
    rows, cols = page.evaluate(f"i => {{ const m = document.querySelectorAll('.{ROOT_CLASS}')[i]; "
                               "return [+m.dataset.rows, +m.dataset.cols]; }", index)  # fmt: skip
    box = window_box(page, index)
    page.mouse.click(box["x"] + box["width"] * (col + 0.5) / cols, box["y"] + box["height"] * (row + 0.5) / rows)


def hover_grid(page, index: int) -> np.ndarray | None:
    """Map ``index``'s hover grid as the browser decoded it (rows, cols[, channels]), fetched first if it came by
    address; None if the map has none, or its values could not be fetched."""
    h = page.evaluate(f"async i => {{ const m = document.querySelectorAll('.{ROOT_CLASS}')[i];"
                      " return m ? await m.cnnHover() : null; }", index)  # fmt: skip
    if not h:
        return None
    shape = (h["rows"], h["cols"]) + ((len(h["channels"]),) if h["channels"] else ())
    return np.asarray(h["values"], np.float32).reshape(shape)


def wait_hover(page, index: int, ok, timeout_s: float) -> np.ndarray:
    """Map ``index``'s hover grid once ``ok(grid)`` holds (polled: the grid may have to be fetched, which a page
    function waited on by Playwright can't do); AssertionError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        grid = hover_grid(page, index)
        if grid is not None and ok(grid):
            return grid
        if time.monotonic() > deadline:
            raise AssertionError(f"map {index}'s hover values did not change as expected in {timeout_s} s")
        time.sleep(0.1)
