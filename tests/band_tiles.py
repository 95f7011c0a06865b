"""Reading the Layer stack's band tiles (ui/stack/band_view.py) in tests: what AppTest received, and what a browser
shows."""

from __future__ import annotations

import json

from ui.stack import keys
from ui.stack.band_view import NAME


def tile(ident: str) -> str:
    """In a browser, tile ``ident`` ("<stage>_<channel>" or "<stage>_photo"): its picture is ``img`` in it, its
    name ``button``."""
    return f'.ls-tile[data-tile="{ident}"]'


def bands(node) -> list[dict]:
    """The data each band view under ``node`` (an AppTest run or one of its blocks) received, in page order:
    ``head`` (title, shape, about, legend, range) and ``tiles``."""
    return [json.loads(e.proto.json) for e in node.get("bidi_component") if e.proto.component_name == NAME]


def titles(node) -> list[str]:
    """Each band's heading as the page shows it in bold, e.g. "**1 · Convolution** · 32×32×12"."""
    return [f"**{b['head']['title']}** · {b['head']['shape']}" for b in bands(node)]


def ranges(node) -> list[str]:
    """The text under each band's colour legend: its range, or how the maps are scaled."""
    return [b["head"]["range"] for b in bands(node)]


def pictures(node) -> list[str]:
    """Every picture of the bands under ``node``, in page order: each band's colour legend, then its tiles."""
    out = []
    for b in bands(node):
        out += [b["head"]["legend"]] if b["head"]["legend"] else []
        out += [t["src"] for t in b["tiles"]]
    return out


def enlarge(at, sid: str, channel: int) -> None:
    """What a click on the name of map ``channel`` of stage ``sid`` asks for: that map enlarged under its band (a
    browser test clicks the name itself; AppTest can't send a component's events)."""
    at.session_state[keys.FOCUS] = (sid, channel)
