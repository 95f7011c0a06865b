"""Widget and session-state keys, made in one place.

Every key is a page's prefix ("pg", "ls", "net", ...) and its parts joined by "_", so a page's keys never
collide with another page's and a test can name any widget. A page's own keys live in its ``keys`` module
(``ui/playground/keys.py``), built with :func:`key`; the keys shared by every page's input picker are below.
"""

from __future__ import annotations


def key(prefix: str, *parts: object) -> str:
    """The key of a page's widget or value: ``key("pg", "w", 0)`` is "pg_w_0"; ``key("pg", "w0_1")`` "pg_w0_1"."""
    return "_".join((prefix, *(str(p) for p in parts)))


def source(prefix: str) -> str:
    """The input picker's source radio (Sample, Upload, Camera, Drawing, or a link's picture)."""
    return key(prefix, "source")


def sample(prefix: str) -> str:
    """The input picker's sample choice."""
    return key(prefix, "sample")


def link_note(prefix: str) -> str:
    """The note a share link left for the page header (e.g. that its photo was downscaled)."""
    return key(prefix, "link_note")


def cmap(prefix: str) -> str:
    """The display controls' colour map (ui/common/maps.py)."""
    return key(prefix, "cmap")


def scale(prefix: str) -> str:
    """The display controls' colour-scale mode (ui/common/maps.py)."""
    return key(prefix, "scale")
