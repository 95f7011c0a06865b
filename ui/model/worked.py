"""A click on the enlarged map of the Trained network or Your model: the value's worked sum, its receptive field
and the sliding window open in a panel beside the map (under it on a phone), the sum's text first, like the
Layer stack's panel beside its bands."""

from __future__ import annotations

import streamlit as st

from cnn_core.activations import Activations, Explanation
from cnn_core.errors import CnnError
from ui.common import inspector, worked_numbers
from ui.common.text import plain
from ui.model import inspector as model_inspector
from ui.model import keys

# The panel's column stays in view while the page scrolls past the map (the map is shorter than a screen, so
# most of the time it simply sits beside it); at most a screen tall, scrolling inside. On a phone Streamlit
# stacks the columns, and the panel comes directly under the map.
_CSS = """<style>
[data-testid="stColumn"]:has(.st-key-{side}) {{
  position: sticky; top: 3.75rem; align-self: flex-start; max-height: calc(100vh - 4.5rem); overflow-y: auto;
}}
@media (max-width: 640px) {{
  [data-testid="stColumn"]:has(.st-key-{side}) {{ position: static; max-height: none; }}
}}
</style>"""


def clicked(prefix: str, click: tuple[int, int, int] | None, path: str, channel: int, shape: tuple[int, int]):
    """Store a click on the enlarged map (``map_clicks``'s (map, row, column)) and return the open value's
    (row, column) when it is of this layer and channel, else None."""
    ss = st.session_state
    if click is not None:
        h, w = shape
        row, col = min(max(click[1], 0), h - 1), min(max(click[2], 0), w - 1)
        ss[keys.zoom(prefix, "at")] = (path, row, col, int(channel))
        model_inspector.select(prefix, path, row, col, channel)  # the full inspector further down follows it
    at = ss.get(keys.zoom(prefix, "at"))
    if not at or at[0] != path or at[3] != channel or at[1] >= shape[0] or at[2] >= shape[1]:
        return None
    return at[1], at[2]


def columns(prefix: str):
    """The map's column and the panel's, beside it."""
    st.html(_CSS.format(side=keys.zoom(prefix, "side")))
    return st.columns([1, 1], gap="medium")


def _close(prefix: str) -> None:
    st.session_state[keys.zoom(prefix, "at")] = None


def _sum_first(ex: Explanation, exact: bool) -> tuple[str, str]:
    """The worked text split in two: the sum (and the value) first, then every product (may be empty)."""
    d = ex.detail
    if d.kind in ("conv2d", "pool2d", "activation", "input"):
        lines = worked_numbers.worked_text(ex, exact=exact).splitlines()
    else:
        return "", ""
    if d.kind == "conv2d" and getattr(d, "activation", None) is not None:
        lines.append(f"then the layer's own {d.activation.function}: {d.activation.worked}")
    last = next((n for n, line in enumerate(lines) if line.startswith("products + bias")), None)
    if last is None or last == 0:
        return "\n".join(lines), ""
    return "\n".join(lines[last:]), "\n".join(lines[:last])


def side(acts: Activations, prefix: str, path: str, channel: int, at: tuple[int, int] | None) -> None:
    """The panel's column: the clicked value's sum, receptive field and sliding window, or how to open them."""
    with st.container(key=keys.zoom(prefix, "side")):
        if at is None:
            st.caption(
                "Click any value of the map: the sum that made it, the part of the picture it sees and the "
                "sliding window open here."
            )
            return
        row, col = at
        try:
            ex = acts.explain(path, row, col, channel)
        except CnnError as e:
            st.error(f"This value can't be explained: {plain(e.detail)}.")
            return
        with st.container(border=True, key=keys.zoom(prefix, "worked")):
            _panel(acts, prefix, path, ex)


def _panel(acts: Activations, prefix: str, path: str, ex: Explanation) -> None:
    top, close = st.columns([5, 2], vertical_alignment="center")
    top.markdown(f"**{path}**, row {ex.row}, column {ex.col}, channel {ex.channel}: the map holds **{ex.value:.6g}**")
    close.button("Close", key=keys.zoom(prefix, "close"), on_click=_close, args=(prefix,), type="tertiary",
                 icon=":material/close:")  # fmt: skip
    exact = inspector.exact_toggle(prefix, "zoom")
    total, products = _sum_first(ex, exact)
    if total:
        st.code(total, language=None, wrap_lines=True)
        if products:
            n = products.count("\n") + 1
            st.code(products, language=None, wrap_lines=True, height=min(220, 24 * n + 20))
    else:
        model_inspector.render_detail(ex, prefix)
    rf = ex.receptive_field
    if rf.box is not None and ex.detail.kind != "input":
        t, left, b, r = rf.box
        pad = f"; {rf.padding_pixels} of its pixels are padding" if rf.padding_pixels else ""
        pic, caption = st.columns([1, 2], vertical_alignment="center")
        x = acts.maps(acts.input.path)
        pic.image(inspector._outline(inspector._enlarge(model_inspector.picture(x)), x.shape[:2], rf.box),
                  width=140)  # fmt: skip
        caption.caption(
            f"Its receptive field (outlined): a {rf.size[0]}×{rf.size[1]} patch of the model's input, rows "
            f"{t}–{b}, columns {left}–{r}{pad}."
        )
    layer = acts[path]
    if layer.kind is not None and layer.kind.window(layer.op) is not None:
        if st.toggle("Watch the window slide", key=keys.zoom(prefix, "anim")):
            model_inspector.slide(acts, layer, ex, prefix, key=keys.zoom(prefix, "anim_fig"))
