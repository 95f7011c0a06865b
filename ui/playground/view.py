"""How the Playground lays out its maps: a 2×2 block that stays in view beside (or, on a phone, above) the
controls, and the sentences about each stage below."""

from __future__ import annotations

import streamlit as st

import cnn_core
from cnn_core.pipeline import Stage
from ui.common import explain, inspector, maps, screen, worked_numbers
from ui.common.map_view import ROOT_CLASS
from ui.playground import keys, map_grid
from ui.playground.kernel_editor import GRID_CONTAINER
from ui.playground.state import P

MAPS_CONTAINER = map_grid.MAPS_CONTAINER

# While a change computes, the old maps stay, dimmed and marked "updating…"; the mark goes as the new maps
# arrive. Streamlit flags every element of the previous run that the current run has not yet redrawn
# (data-stale), so the rule needs no code on the server and clears itself map by map. Streamlit fades stale
# elements after a delay longer than a step's run now takes, so the maps dim at once, with no fade.
UPDATING_CSS = f"""
.st-key-{MAPS_CONTAINER} {{ position: relative; }}
.st-key-{MAPS_CONTAINER} [data-testid="stElementContainer"][data-stale="true"]:has(.{ROOT_CLASS}) {{
  opacity: 0.55; transition: none;
}}
.st-key-{MAPS_CONTAINER}:has([data-stale="true"] .{ROOT_CLASS})::before {{
  content: "updating…"; position: absolute; top: 0; right: 0; z-index: 5; padding: 0.05rem 0.5rem;
  font-size: 0.75rem; border-radius: 0.5rem; background: rgba(255, 189, 69, 0.9); color: #31333f;
}}
"""

# Streamlit stacks columns on narrow screens. The maps' column stays in view (sticky) while the controls
# scroll; the kernel's sliders and the 2×2 maps keep their grid on a phone, where the maps go first and
# shrink (their colour bars give way to the min/max line under each map).
_CSS = f"""
<style>
[data-testid="stColumn"]:has(.st-key-{MAPS_CONTAINER}) {{
  position: sticky; top: 3.75rem; align-self: flex-start; z-index: 3;
  background: var(--background-color, #fff);
}}
.st-key-{GRID_CONTAINER} [data-testid="stHorizontalBlock"],
.st-key-{MAPS_CONTAINER} [data-testid="stHorizontalBlock"] {{ flex-wrap: nowrap !important; gap: 0.5rem; }}
.st-key-{GRID_CONTAINER} [data-testid="stColumn"],
.st-key-{MAPS_CONTAINER} [data-testid="stColumn"] {{
  min-width: 0 !important; width: auto !important; flex: 1 1 0 !important;
}}
@media (max-width: 640px) {{
  h1 {{ font-size: 1.6rem !important; padding-top: 0 !important; }}
  [data-testid="stColumn"]:has(.st-key-{MAPS_CONTAINER}) {{ order: -1; top: 3.75rem; padding-bottom: 0.25rem; }}
  .st-key-{MAPS_CONTAINER} .{ROOT_CLASS} {{ max-height: 150px !important; overflow: hidden; }}
  .st-key-{MAPS_CONTAINER} .cnn-map-bar {{ display: none !important; }}
  .st-key-{MAPS_CONTAINER} .cnn-map-cap {{ display: none !important; }}
  .st-key-{MAPS_CONTAINER} .cnn-map-head {{ font-size: 0.8rem; margin-bottom: 0; }}
}}
{UPDATING_CSS}
</style>
"""


def style() -> None:
    """The page's layout rules (drawn with the page, so they leave with it)."""
    st.html(_CSS)


def maps_block(stages: list[Stage], scales: list, resize_note: str) -> tuple[int, int, int] | None:
    """The stages as a 2×2 block of zoomable maps, each with its shape and its numbers, their pictures at the size
    the visitor's screen shows them; (stage, row, column) of the value clicked if a click on a map triggered
    this run, else None."""
    dpr = screen.device_pixel_ratio(keys.SCREEN)
    return map_grid.grid(
        [
            map_grid.Cell(
                f"**{'→ ' if i else ''}{stage.title}** · {maps.shape_text(stage.shape)}",
                stage.maps,
                scale,
                resize_note
                if stage.name == "input"
                else maps.map_stats(stage.maps, (stage.key, "all") if stage.key else None),
                (stage.key, -1 if scale is None else 0) if stage.key else None,
            )
            for i, (stage, scale) in enumerate(zip(stages, scales))
        ],
        dpr=dpr,
    )


def stage_notes(stages: list[Stage]) -> None:
    """What each stage did, in words and with the output-size formula filled in."""
    cols = st.columns(len(stages))
    for i, (col, stage) in enumerate(zip(cols, stages)):
        with col:
            # One element per stage: every element a rerun draws is sent and placed again.
            lines = [f"{stage.title}. {explain.caption(stage, stages[i - 1] if i else None)}"]
            lines += [f"Output size, {line}" for line in maps.arithmetic_lines(stage)]
            st.caption("  \n".join(lines))


# --------------------------------------------------------------------------- click where you look

CLICK_KEY = keys.CLICKED  # (stage, row, col) of the map value last clicked, or None when closed


def clicked(stages: list[Stage], click: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
    """The map value whose worked sum is open: ``click`` (this run's click on a map, from ``maps_block``) if any,
    else the last one, kept until closed."""
    if click is not None and 0 <= click[0] < len(stages):
        st.session_state[CLICK_KEY] = click
        # The full inspector further down opens on the same value.
        st.session_state[inspector.at_key(P)] = (*click, 0)
    at = st.session_state.get(CLICK_KEY)
    if at is None or at[0] >= len(stages):
        return None
    h, w = stages[at[0]].shape[:2]
    return (at[0], min(max(at[1], 0), h - 1), min(max(at[2], 0), w - 1))


def _close() -> None:
    st.session_state[CLICK_KEY] = None


def worked_panel(stages: list[Stage], at: tuple[int, int, int]) -> None:
    """How the clicked value was made, as text beside the maps: the sum, then the part of the photo it sees."""
    k, row, col = at
    ex = cnn_core.explain(stages, k, row, col, 0)
    with st.container(border=True, key=keys.WORKED):
        top, close = st.columns([5, 1], vertical_alignment="center")
        top.markdown(f"**{stages[k].title}**, row {row}, column {col}: the map holds **{ex.value:.6g}**")
        close.button("Close", key=keys.WORKED_CLOSE, on_click=_close, type="tertiary", icon=":material/close:")
        exact = inspector.exact_toggle(P, "panel")
        st.code(worked_numbers.worked_text(ex, exact=exact), language=None, wrap_lines=True)
        field = worked_numbers.patch_sentence(ex.receptive_field, "below")
        if k and field:
            st.caption(field)
