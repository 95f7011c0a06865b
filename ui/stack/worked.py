"""A click on a channel tile of the Layer stack: the value's worked sum in a panel beside the bands that stays
in view while they scroll (on a phone, a sheet at the foot of the screen), like the Playground's."""

from __future__ import annotations

import streamlit as st

import cnn_core
from cnn_core.pipeline import Stage
from ui.common import inspector, worked_numbers
from ui.common.map_clicks import map_clicks
from ui.stack import keys
from ui.stack.state import FOCUS_KEY, P

CLICK_KEY = keys.page("clicked")  # (stage, row, col, channel) of the value last clicked, or None when closed
PANEL = keys.page("worked")
ZOOM_CONTAINER = keys.page("zoom_wrap")  # the enlarged map's container

SIDE = keys.page("side")  # the column beside the bands that holds the panel (hidden while it is closed)

# The bands and the panel's column are always there, so opening the panel only restyles the page (nothing is
# rebuilt, and the browser keeps the clicked tile where it was); closed, the column is hidden and the bands
# take the whole width. Open, it stays in view while the bands scroll; on a phone it is a sheet at the foot.
_CSS = f"""<style>
[data-testid="stColumn"]:has(.st-key-{SIDE}) {{
  position: sticky; top: 3.75rem; align-self: flex-start; z-index: 3;
  max-height: calc(100vh - 4.5rem); overflow-y: auto;
}}
[data-testid="stColumn"]:has(.st-key-{SIDE} .ls-side-closed) {{ display: none; }}
[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] .ls-side-closed) > [data-testid="stColumn"] {{
  width: 100% !important; flex: 1 1 100% !important; max-width: 100% !important;
}}
@media (max-width: 640px) {{
  [data-testid="stColumn"]:has(.st-key-{SIDE}) {{
    position: fixed; top: auto; bottom: 0; left: 0; right: 0; max-height: 45vh; z-index: 50;
    background: var(--background-color, #fff); box-shadow: 0 -4px 12px rgba(0, 0, 0, 0.2); padding: 0.25rem;
  }}
}}
</style>"""


def _select(stages: list[Stage], sids: list[str], i: int, row: int, col: int, channel: int) -> None:
    h, w = stages[i].shape[:2]
    row, col = min(max(row, 0), h - 1), min(max(col, 0), w - 1)
    st.session_state[FOCUS_KEY] = (sids[i], channel)  # the map enlarged under its band
    st.session_state[inspector.at_key(P)] = (i, row, col, max(channel, 0))  # Inside the operation, there
    st.session_state[CLICK_KEY] = (i, row, col, channel)


def tile_event(stages: list[Stage], sids: list[str], i: int, event: tuple) -> None:
    """What a click on a tile of band ``i`` asked for (``band_view.band_view``): its name enlarges its map under
    the band; its picture also opens the worked sum of the value under the pointer."""
    if event[0] == "enlarge":
        st.session_state[FOCUS_KEY] = (sids[i], event[1])
    elif event[0] == "pick" and event[1] < stages[i].shape[2]:
        h, w = stages[i].shape[:2]
        _select(stages, sids, i, int(event[3] * h), int(event[2] * w), event[1])


def clicked(stages: list[Stage], sids: list[str]) -> tuple[int, int, int, int] | None:
    """The value whose worked sum is open: the newest click on a tile (``tile_event``) or on the enlarged map,
    kept until closed."""
    zoom = map_clicks(keys.page("zoom_clicks"), ZOOM_CONTAINER)
    focus = st.session_state.get(FOCUS_KEY)
    if zoom is not None and focus and focus[0] in sids:
        _select(stages, sids, sids.index(focus[0]), zoom[1], zoom[2], focus[1])
    at = st.session_state.get(CLICK_KEY)
    if at is None or at[0] >= len(stages) or at[3] >= stages[at[0]].shape[2]:
        return None
    h, w = stages[at[0]].shape[:2]
    return (at[0], min(at[1], h - 1), min(at[2], w - 1), at[3])


def _close() -> None:
    st.session_state[CLICK_KEY] = None


def columns():
    """The bands' column and the panel's, beside it (drawn with the page's rules for them)."""
    st.html(_CSS)
    return st.columns([3, 2], gap="medium")


def side(stages: list[Stage], at: tuple[int, int, int, int] | None) -> None:
    """The panel's column: the clicked value's sum, or (closed) a mark that hides the column."""
    with st.container(key=SIDE):
        if at is None:
            st.html('<span class="ls-side-closed"></span>')
        else:
            panel(stages, at)


def panel(stages: list[Stage], at: tuple[int, int, int, int]) -> None:
    """How the clicked value was made, as text: the sum first, then every product, then what it sees."""
    k, row, col, c = at
    ex = cnn_core.explain(stages, k, row, col, max(c, 0))
    with st.container(border=True, key=PANEL):
        top, close = st.columns([5, 2], vertical_alignment="center")
        what = "photo" if c < 0 else f"channel {c}"
        top.markdown(f"**{k} · {stages[k].title}**, {what}, row {row}, column {col}: the map holds **{ex.value:.6g}**")
        close.button("Close", key=keys.page("worked_close"), on_click=_close, type="tertiary", icon=":material/close:")
        exact = inspector.exact_toggle(P, "panel")
        lines = worked_numbers.worked_text(ex, exact=exact).splitlines()
        # The sum (and TensorFlow's value) first, so it is in view however many products there are.
        last = next((n for n, line in enumerate(lines) if line.startswith("products + bias")), len(lines))
        st.code("\n".join(lines[last:] or lines), language=None, wrap_lines=True)
        if lines[last:] and last > 0:
            st.code("\n".join(lines[:last]), language=None, wrap_lines=True, height=min(260, 24 * last + 20))
        field = worked_numbers.patch_sentence(ex.receptive_field, "under the enlarged map")
        if k and field:
            st.caption(field)
