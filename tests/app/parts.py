"""What a page shows after a step that redrew only some of its parts (keyed fragments), for the parts tests of the
Playground and the Layer stack.

A browser keeps every part a run did not redraw as it was. These helpers read what a run drew as a visitor reads
it, and compare the page a browser shows after a partial run (the parts kept from before the step, the parts the
step redrew) with the page a plain run draws.
"""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests import band_tiles, map_views

# How long a run took differs from run to run, and a second run of the same maps finds them cached: these lines
# are compared without their times.
TIMINGS = re.compile(r"\d+(\.\d+)? ms|cached|\(one fused call\)|nothing was recomputed|[\d.]+ s\b")
WIDGETS = ("slider", "select_slider", "selectbox", "radio", "number_input", "toggle", "checkbox")


def shown(at: AppTest) -> dict:
    """What a run drew, by what a visitor reads: texts (markdown, captions, alerts; times left out), widgets (by
    key: type, label, options and value), the map views' data, and the pictures and files it offers (images'
    and download buttons' addresses, which name their content)."""
    texts = [
        (e.type, TIMINGS.sub("…", e.value))
        for kind in ("markdown", "caption", "warning", "info", "error")
        for e in at.get(kind)
    ]
    widgets = {}
    for kind in WIDGETS:
        for e in at.get(kind):
            if e.key:
                widgets[e.key] = (kind, e.label, tuple(getattr(e, "options", ()) or ()), repr(e.value))
    files = [("image", i.url) for e in at.get("image") for i in e.proto.imgs]
    files += [("image", src) for src in band_tiles.pictures(at)]
    texts += [("map", f"{h}: {c}") for h, c in zip(map_views.headings(at), map_views.captions(at))]
    texts += [("band", f"{t} {r}") for t, r in zip(band_tiles.titles(at), band_tiles.ranges(at))]
    texts += [("tile", f"{t['name']}: {t['caption']}") for b in band_tiles.bands(at) for t in b["tiles"]]
    files += [("download", e.proto.url) for e in at.get("download_button")]
    return {"texts": texts, "widgets": widgets, "maps": map_views.views(at), "files": files}


def stale(before: dict, step: dict, after: dict, moved: tuple[str, object] | None = None) -> list[str]:
    """What a browser would show wrongly after ``step`` (a partial run): a widget it kept from ``before`` (the one
    the visitor ``moved`` (key, value) showing its new value) that the plain run ``after`` draws differently, or a
    text, picture or file the plain run draws that neither run put on screen."""
    kept = dict(before["widgets"])
    if moved is not None:
        kept[moved[0]] = (*kept[moved[0]][:3], repr(moved[1]))
    wrong = []
    for key, drawn in after["widgets"].items():
        on_page = step["widgets"].get(key, kept.get(key))
        if on_page != drawn:
            wrong.append(f"widget {key}: the page shows {on_page}, the page drawn whole shows {drawn}")
    for kind in ("texts", "files"):
        on_screen = set(step[kind]) | set(before[kind])
        wrong += [f"{kind[:-1]} {t!r} is missing" for t in after[kind] if t not in on_screen]
    return wrong
