"""Links to a unit's page: ``unit?unit=LAYER:CHANNEL`` (and ``&model=yours`` for the Your model page's model)."""

from __future__ import annotations

from urllib.parse import quote

from cnn_core.errors import CnnError

PAGE = "unit"  # the page's url_path in app.py
TINY, YOURS = "tiny", "yours"


def unit_href(layer: str, channel: int, model: str = TINY) -> str:
    """A relative link to the unit page (every page sits at the app's root); channel counts from 0."""
    href = f"{PAGE}?unit={quote(f'{layer}:{channel}', safe='/:')}"
    return href if model == TINY else f"{href}&model={quote(model)}"


def parse_unit(text: str) -> tuple[str, int]:
    """Parse "conv_2_2:3" into ("conv_2_2", 3); CnnError for anything else."""
    layer, sep, ch = (text or "").rpartition(":")
    if not sep or not layer or not ch.isdigit() or len(ch) > 6:
        raise CnnError(f"{text[:80]!r} is not LAYER:CHANNEL, e.g. conv_2_2:3", "unit")
    return layer, int(ch)


def channel_links(layer: str, channels: int, model: str = TINY) -> str:
    """Markdown: one link per channel (numbered from 1, as the maps are), to each channel's unit page."""
    return "Unit pages: " + " ".join(f"[{c + 1}]({unit_href(layer, c, model)})" for c in range(channels))
