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


def tiles(node) -> list[list[dict]]:
    """The tiles each band view under ``node`` (an AppTest run or one of its blocks) received, in page order."""
    return [json.loads(e.proto.json)["tiles"] for e in node.get("bidi_component") if e.proto.component_name == NAME]


def pictures(node) -> list[str]:
    """The tiles' pictures (data URIs) under ``node``, in page order."""
    return [t["src"] for band in tiles(node) for t in band]


def enlarge(at, sid: str, channel: int) -> None:
    """What a click on the name of map ``channel`` of stage ``sid`` asks for: that map enlarged under its band (a
    browser test clicks the name itself; AppTest can't send a component's events)."""
    at.session_state[keys.FOCUS] = (sid, channel)
