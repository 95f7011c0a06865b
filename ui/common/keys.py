"""Widget and session-state keys, made in one place.

Every key is a page's prefix ("pg", "ls", "net", ...) and its parts joined by "_", so a page's keys never
collide with another page's and a test can name any widget. A page's own keys live in its ``keys`` module
(``ui/playground/keys.py``), built with :func:`key`; the keys of the widgets every page shares (the input
picker, the stage inspector, its animation, the share panel, the display controls) are below. Each shared
widget family has a fixed list of parts, so a misspelt part raises KeyError instead of making a new key.
"""

from __future__ import annotations

# Session-wide, not a page's: the devicePixelRatio the visitor's browser reported (ui/common/screen.py).
SCREEN_DPR = "screen_dpr"


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


# The parts of each shared widget family's keys (the browser tests name some: "pg_phone_input", "ls_inspector").
PICKER_PARTS = (
    "upload",
    "camera",
    "draw_pen",
    "draw_ink",
    "draw_canvas",
    "last_picture",  # the last picture a source gave, shown while a new one is awaited
    "picture_memo",  # (upload's file id, decoded picture or refusal)
    "link_image",  # the picture a share link carried
    "allow_downscale",  # the file id of an upload the visitor allowed to be downscaled
    "downscale",
    "phone_input",  # the phone picker's container
    "phone_sample",
    "phone_upload",
)
INSPECTOR_PARTS = (
    "inspector",  # the container
    "insp_at",  # (stage, row, col, channel) of the inspected value
    "insp_open",
    "insp_stage",
    "insp_row",
    "insp_col",
    "insp_ch",
    "insp_gen",  # the generation of the four picking widgets' keys (ui/common/inspector.py, _pick_key)
    "insp_drawn",  # the (stage, row, col, channel) those widgets were last drawn showing
    "insp_click",
    "insp_page",  # the input channel shown of a convolution's sum
    "exact",  # with a place: the exact-values toggle there
    "anim_on",
)
ANIMATION_PARTS = ("anim", "anim_step", "anim_at")
SHARE_PARTS = ("share_open", "embed", "embed_kept", "zip", "spec_json", "one", "one_ch", "one_png")


def _family(parts: tuple[str, ...], prefix: str, part: str, *more: object) -> str:
    if part not in parts:
        raise KeyError(f"{part!r} is not one of {', '.join(parts)}")
    return key(prefix, part, *more)


def picker(prefix: str, part: str) -> str:
    """A key of page ``prefix``'s input picker (ui/common/inputs.py): ``picker("pg", "upload")``; see PICKER_PARTS."""
    return _family(PICKER_PARTS, prefix, part)


def inspector(prefix: str, part: str, *more: object) -> str:
    """A key of page ``prefix``'s stage inspector (ui/common/inspector.py); see INSPECTOR_PARTS."""
    return _family(INSPECTOR_PARTS, prefix, part, *more)


def animation(prefix: str, part: str) -> str:
    """A key of page ``prefix``'s sliding-window animation (ui/common/animation.py); see ANIMATION_PARTS."""
    return _family(ANIMATION_PARTS, prefix, part)


def share(prefix: str, part: str) -> str:
    """A key of page ``prefix``'s share panel (ui/common/share_panel.py); see SHARE_PARTS."""
    return _family(SHARE_PARTS, prefix, part)
