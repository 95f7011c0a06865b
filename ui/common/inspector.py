"""Inside the operation: click any value of a map and see the sum that made it and its receptive field.

One call, ``inspector(stages, prefix)``, draws the whole panel: a clickable picture of the map (and number
inputs for keyboard users), the worked sum from ``cnn_core.explain`` paged per input channel, the
receptive field outlined on the input photo, and the sliding-window animation. The clicked position lives
in session state under ``at_key(prefix)`` and in the URL as ``at``.
"""

from __future__ import annotations

import html
import io
import time
from dataclasses import replace

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw
from streamlit_image_coordinates import streamlit_image_coordinates

import cnn_core
from cnn_core import render, share
from cnn_core.explain import ActivationDetail, ConvDetail, Explanation, InputDetail, PoolDetail
from cnn_core.pipeline import Stage
from ui.common import animation, keys, screen, worked_numbers
from ui.common.fields import show as show_value
from ui.common.figures import shrunk
from ui.common.service import SERVICE

PICTURE_SIDE = 340  # the clickable picture's longer side on screen, in pixels
MAX_SENT_SIDE = 480  # a larger map is shrunk to this before it is sent (shown at PICTURE_SIDE)
CHANNELS_AS_RADIO = 8  # more input channels than this get a number input to page through them
JPEG_QUALITY = 90  # pictures go as JPEG: ~1 ms to encode a 480² picture where PNG takes 20–70 ms
MARK = (0, 229, 255)
PAD_LIGHT, PAD_DARK = (
    (241, 223, 182),
    (222, 196, 140),
)  # padding is beige everywhere, the animation too  # the clicked cell and the receptive field: cyan shows on magma, grey and blue–red


def at_key(prefix: str) -> str:
    return keys.inspector(prefix, "insp_at")


def exact_key(prefix: str) -> str:
    """Where a page keeps whether its worked sums show exact values (one setting for all its toggles)."""
    return keys.inspector(prefix, "exact")


def _store_exact(prefix: str, key: str) -> None:
    st.session_state[exact_key(prefix)] = st.session_state[key]


def exact_toggle(prefix: str, where: str) -> bool:
    """The "Exact values" toggle of a worked sum; every toggle of the page shows and sets the same setting."""
    key = keys.inspector(prefix, "exact", where)
    show_value(st.session_state, key, bool(st.session_state.get(exact_key(prefix), False)))
    return st.toggle(
        "Exact values",
        key=key,
        on_change=_store_exact,
        args=(prefix, key),
        help="Every digit of each float32 input, weight and map value as TensorFlow holds it (the shortest "
        "decimal that reads back as the same float32), each product and the sum worked out exactly, and how far "
        "float32 rounding moved TensorFlow's total from it.",
    )


def remember_link(prefix: str, link: share.LinkState) -> None:
    """Open on the value a shared link points at."""
    if link.at is not None:
        st.session_state[at_key(prefix)] = tuple(link.at)
        st.session_state[keys.inspector(prefix, "insp_open")] = True


def open_from_link(prefix: str, sids: list[str], focus_key: str) -> None:
    """Once after a link with a position opened: enlarge the map it points at (the Layer stack)."""
    if st.session_state.pop(keys.inspector(prefix, "insp_open"), False):
        at = st.session_state.get(at_key(prefix))
        if at is not None and at[0] < len(sids):
            st.session_state[focus_key] = (sids[at[0]], at[3])


def with_position(prefix: str, state: share.LinkState) -> share.LinkState:
    """The link state with the explained value added, so the address bar carries it."""
    at = st.session_state.get(at_key(prefix))
    return replace(state, at=tuple(at)) if at is not None else state


# --------------------------------------------------------------------------- pictures


class _Pictures:
    """Coloured map pictures by (stage key, channel), so a click costs no recolouring of a large map (kept in
    the compute service's "inspector pictures" cache)."""

    def get(self, stage: Stage, channel: int) -> np.ndarray:
        # Sent at the size it is shown, PICTURE_SIDE CSS pixels on the visitor's screen.
        side = min(MAX_SENT_SIDE, screen.picture_side(max(stage.shape[:2]), PICTURE_SIDE, screen.known_dpr()))
        if not stage.key:
            return _colour(stage, channel, side)
        return SERVICE.remembered(
            "inspector pictures", (stage.key, channel, side), lambda: _colour(stage, channel, side)
        )


def _colour(stage: Stage, channel: int, side: int = MAX_SENT_SIDE) -> np.ndarray:
    """The map as uint8 RGB at most ``side`` a side; channel -1 is the input photo in its colours."""
    if channel < 0:
        return render.shrink_for_display(render.input_rgb(stage.maps), side)
    values = shrunk(stage.maps[:, :, channel], side, (stage.key, channel) if stage.key else None)
    return render.colorize(values, render.choose_scale(*render.finite_range(stage.maps[:, :, channel]), "auto"))


_PICTURES = _Pictures()


def _enlarge(rgb: np.ndarray) -> np.ndarray:
    """Repeat pixels of a small picture so each map cell is a visible, clickable square."""
    f = max(1, PICTURE_SIDE // max(rgb.shape[:2]))
    return np.repeat(np.repeat(rgb, f, axis=0), f, axis=1) if f > 1 else rgb


def _outline(rgb: np.ndarray, shape: tuple[int, int], box: tuple[int, int, int, int], width: int = 2) -> Image.Image:
    """The picture with a rectangle around map cells box = (top, left, bottom, right), inclusive."""
    img = Image.fromarray(np.ascontiguousarray(rgb))
    sy, sx = img.height / shape[0], img.width / shape[1]
    t, left, b, r = box
    x0, y0 = int(left * sx), int(t * sy)
    x1, y1 = max(int((r + 1) * sx) - 1, x0 + 2), max(int((b + 1) * sy) - 1, y0 + 2)
    draw = ImageDraw.Draw(img)
    draw.rectangle((x0 - 1, y0 - 1, x1 + 1, y1 + 1), outline=(0, 0, 0), width=width + 2)
    draw.rectangle((x0, y0, x1, y1), outline=MARK, width=width)
    return img


# --------------------------------------------------------------------------- the position


def _clamp(at, stages: list[Stage]) -> tuple[int, int, int, int]:
    k = min(max(int(at[0]), 0), len(stages) - 1)
    h, w, c = stages[k].shape
    return (k, min(max(int(at[1]), 0), h - 1), min(max(int(at[2]), 0), w - 1), min(max(int(at[3]), 0), c - 1))


def _set_at(prefix: str, at) -> None:
    st.session_state[at_key(prefix)] = tuple(int(v) for v in at)


# The map, row, column and channel widgets show the inspected value, which a click, a link or a change of map
# also sets. They take it as value= under a key that changes with each such change (a new generation), instead of
# having it written into their session keys: a rerun the browser asked for while the run that moved the value was
# still going (a second click, the first-paint probe's upgrade) carries the widgets' old values, and under the
# same keys Streamlit would take those for the visitor typing them and put the old value back. Under the new
# keys the old values belong to widgets that are gone, and nothing reads them. Typing in a widget moves the
# value without a new generation, so the box being typed in stays where it is.


def _pick_key(prefix: str, part: str) -> str:
    gen = st.session_state.get(keys.inspector(prefix, "insp_gen"), 0)
    return keys.inspector(prefix, part, gen) if gen else keys.inspector(prefix, part)


def _drawn(prefix: str, at: tuple[int, int, int, int]) -> None:
    """Use a new generation of picking widgets unless the current ones already show ``at``."""
    ss = st.session_state
    drawn = keys.inspector(prefix, "insp_drawn")
    if ss.get(drawn) not in (None, at):
        gen = keys.inspector(prefix, "insp_gen")
        ss[gen] = ss.get(gen, 0) + 1
    ss[drawn] = at


def _from_inputs(prefix: str) -> None:
    ss = st.session_state
    k, _, _, ch = ss[at_key(prefix)]
    row, col = ss[_pick_key(prefix, "insp_row")], ss[_pick_key(prefix, "insp_col")]
    _set_at(prefix, (k, row, col, ss.get(_pick_key(prefix, "insp_ch"), ch)))
    ss[keys.inspector(prefix, "insp_drawn")] = ss[at_key(prefix)]  # the boxes already show it


def _from_stage(prefix: str, stages_shapes: list) -> None:
    ss = st.session_state
    k = ss[_pick_key(prefix, "insp_stage")]
    _, row, col, ch = ss[at_key(prefix)]
    old = stages_shapes[ss[at_key(prefix)][0]]
    new = stages_shapes[k]
    # Keep the same place in the picture when the stage changes size (e.g. after pooling).
    _set_at(prefix, (k, row * new[0] // max(old[0], 1), col * new[1] // max(old[1], 1), min(ch, new[2] - 1)))


# --------------------------------------------------------------------------- the panel


def inspector(stages: list[Stage], prefix: str, *, stage: int | None = None, channel: int | None = None) -> None:
    """Click any value of a map and see how it was computed.

    Args:
        stages: the computed stages (read, never recomputed).
        prefix: the page's widget-key prefix.
        stage, channel: fix the map (the Layer stack's enlarged map); None lets the visitor choose.
    """
    if not stages:
        return
    ss = st.session_state
    default = (stage if stage is not None else min(1, len(stages) - 1), 0, 0, channel or 0)
    at = ss.get(at_key(prefix))
    if at is None:
        k0 = default[0]
        at = (k0, stages[k0].shape[0] // 2, stages[k0].shape[1] // 2, default[3])
    if stage is not None and (at[0] != stage or (channel is not None and at[3] != channel)):
        at = (stage, at[1], at[2], channel if channel is not None else at[3])
    at = _clamp(at, stages)
    _set_at(prefix, at)
    k, row, col, ch = at
    s = stages[k]
    h, w, c = s.shape

    _drawn(prefix, at)

    with st.container(border=True, key=keys.inspector(prefix, "inspector")):
        st.markdown("#### Inside the operation")
        st.caption(
            "Click any value of the map (or type its row and column) to see the sum that made it, "
            "every weight and every input, and the part of the photo it looks at."
        )
        if stage is None:
            st.radio(
                "Map",
                list(range(len(stages))),
                index=k,
                key=_pick_key(prefix, "insp_stage"),
                horizontal=True,
                format_func=lambda i: f"{i} · {stages[i].title}",
                on_change=_from_stage,
                args=(prefix, [x.shape for x in stages]),
            )
        pick, field = st.columns(2, gap="large")
        with pick:
            c1, c2, c3 = st.columns(3)
            c1.number_input(
                "Row", 0, h - 1, row, key=_pick_key(prefix, "insp_row"), on_change=_from_inputs, args=(prefix,)
            )
            c2.number_input(
                "Column", 0, w - 1, col, key=_pick_key(prefix, "insp_col"), on_change=_from_inputs, args=(prefix,)
            )
            if channel is None and c > 1:
                c3.number_input(
                    "Channel", 0, c - 1, ch, key=_pick_key(prefix, "insp_ch"), on_change=_from_inputs, args=(prefix,)
                )
            else:
                c3.markdown(f"Channel  \n**{ch}** of {c}")
            pic = _enlarge(_PICTURES.get(s, ch))
            img = _outline(pic, (h, w), (row, col, row, col))
            streamlit_image_coordinates(
                img,
                width=min(PICTURE_SIDE, img.width),
                key=keys.inspector(prefix, "insp_click"),
                cursor="crosshair",
                image_format="JPEG",
                jpeg_quality=JPEG_QUALITY,
                on_click=lambda: _from_click(prefix, (k, h, w, ch)),
            )
        t0 = time.perf_counter()
        ex = cnn_core.explain(stages, k, row, col, ch)
        ms = (time.perf_counter() - t0) * 1000
        _sync_url(at)
        with field:
            _receptive_field(stages, ex)
        _headline(s, ex)
        _detail(ex, prefix)
        st.caption(f"Explained in {ms:.1f} ms from the maps already computed; nothing was recomputed.")
        if s.plan.layer is not None and s.name in ("conv2d", "pool2d"):
            # A toggle rather than an expander: the animation's frames are built only when asked for.
            if st.toggle("Watch the window slide", key=keys.inspector(prefix, "anim_on")):
                animation.sliding_window(stages, ex, prefix)


def _from_click(prefix: str, where: tuple[int, int, int, int]) -> None:
    """The component's click (x, y in the picture as drawn) as a map cell."""
    click = st.session_state.get(keys.inspector(prefix, "insp_click"))
    if not click:
        return
    k, h, w, ch = where
    r = min(max(int(click["y"] / max(click["height"], 1) * h), 0), h - 1)
    q = min(max(int(click["x"] / max(click["width"], 1) * w), 0), w - 1)
    _set_at(prefix, (k, r, q, ch))


def _sync_url(at) -> None:
    text = ".".join(str(v) for v in at)
    if "c" in st.query_params and st.query_params.get("at") != text:
        st.query_params["at"] = text


def _headline(s: Stage, ex: Explanation) -> None:
    st.markdown(
        f"The value at **stage {ex.stage} · {s.title}**, row {ex.row}, column {ex.col}, channel {ex.channel}: "
        f"the map holds **{ex.value:.6g}**"
    )


CLOSEUP_SIDE = 200


def closeup(stage0: Stage, rf) -> Image.Image:
    """The receptive field and a margin around it, pixel for pixel, with padding in beige squares.

    Drawn from the unclipped field, so the part that falls outside the photo shows as padding.
    """
    h, w = stage0.shape[:2]
    mh, mw = max(2, rf.size[0] // 3), max(2, rf.size[1] // 3)
    top, left = rf.start[0] - mh, rf.start[1] - mw
    rows = np.arange(top, rf.start[0] + rf.size[0] + mh)
    cols = np.arange(left, rf.start[1] + rf.size[1] + mw)
    # A field larger than the close-up can hold is shown box-averaged by PIL below; cap the cells read.
    if rows.size * cols.size > 400 * 400:
        return Image.new("RGB", (CLOSEUP_SIDE, CLOSEUP_SIDE), (240, 240, 240))
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
    rgb = render.input_rgb(stage0.maps[rr.clip(0, h - 1), cc.clip(0, w - 1)])
    hatch = np.where(((rr + cc) % 2 == 0)[:, :, None], PAD_LIGHT, PAD_DARK).astype(np.uint8)
    rgb = np.where(inside[:, :, None], rgb, hatch)
    f = max(1, CLOSEUP_SIDE // max(rgb.shape[:2]))
    big = np.repeat(np.repeat(rgb, f, axis=0), f, axis=1)
    return _outline(big, rgb.shape[:2], (mh, mw, mh + rf.size[0] - 1, mw + rf.size[1] - 1))


def _field_picture(photo_stage: Stage, photo: np.ndarray, box: tuple[int, int, int, int]) -> bytes:
    """The photo with the receptive field outlined, as JPEG bytes; kept while the photo, the box and the picture's
    size stay (a kernel step changes none of them, so it is not drawn and encoded again)."""

    def make() -> bytes:
        buf = io.BytesIO()
        _outline(photo, photo_stage.shape[:2], box).save(buf, format="JPEG", quality=90)  # st.image's quality
        return buf.getvalue()

    if not photo_stage.key:
        return make()
    return SERVICE.remembered("inspector pictures", ("field", photo_stage.key, box, photo.shape), make)


def _closeup_jpeg(stage0: Stage, rf) -> bytes:
    """``closeup`` as the JPEG st.image made of it (quality 100), kept while the photo and the field stay: a
    weight step changes neither, so it is not drawn and encoded again."""

    def make() -> bytes:
        buf = io.BytesIO()
        closeup(stage0, rf).save(buf, format="JPEG", quality=100)
        return buf.getvalue()

    if not stage0.key:
        return make()
    return SERVICE.remembered("inspector pictures", ("closeup", stage0.key, rf.start, rf.size), make)


def _receptive_field(stages: list[Stage], ex: Explanation) -> None:
    rf = ex.receptive_field
    h, w = stages[0].shape[:2]
    photo = _enlarge(_PICTURES.get(stages[0], -1))
    whole, close = st.columns([3, 2])
    if rf.box is not None:
        whole.image(_field_picture(stages[0], photo, rf.box), width="stretch", output_format="JPEG")
    else:
        whole.image(photo, width="stretch", output_format="JPEG")
    # As JPEG bytes: st.image passes JPEG through, where it would decode PNG bytes and encode them as JPEG.
    close.image(
        _closeup_jpeg(stages[0], rf), caption="close-up; beige = padding", width="stretch", output_format="JPEG"
    )
    if ex.stage == 0:
        st.caption("An input pixel looks only at itself.")
        return
    where = (
        "lies wholly in the padding"
        if rf.box is None
        else (f"covers rows {rf.box[0]}–{rf.box[2]} and columns {rf.box[1]}–{rf.box[3]} of the input")
    )
    pad = rf.padding_pixels
    pad_text = (
        f"{pad:,} of its {rf.size[0] * rf.size[1]:,} pixels ({rf.padding_share:.0%}) fall in padding"
        if pad
        else ("none of it falls in padding")
    )
    jump = f"{rf.jump[0]}" if rf.jump[0] == rf.jump[1] else f"{rf.jump[0]} down, {rf.jump[1]} across"
    size = f"{rf.size[0]}×{rf.size[1]}"
    st.markdown(
        f"Its **receptive field** (outlined): this value depends on a **{size}** pixel window of the input; it {where}; "
        f"{pad_text}. Neighbouring values of this stage look **{jump}** pixel{'s' if rf.jump != (1, 1) else ''} "
        "apart (the jump)."
    )
    st.caption("Through every layer: r_out = r_in + (k − 1)·d·j_in and j_out = j_in·s.")


# --------------------------------------------------------------------------- the worked sums

_CSS = """
<style>
.insp-grid {border-collapse: collapse; font-family: ui-monospace, monospace; font-size: 12px; margin: 4px 0}
.insp-grid td {border: 1px solid #bbb; padding: 3px 6px; text-align: right; line-height: 1.25}
.insp-grid td.pad {background: repeating-linear-gradient(45deg, #f1dfb6, #f1dfb6 4px, #dec48c 4px, #dec48c 8px);
  color: #6b5a33}
.insp-grid td.win {background: #fff3b0; font-weight: 700}
.insp-grid td.pos {background: #fdecea}
.insp-grid td.neg {background: #e8f0fd}
.insp-grid th {font-weight: 400; color: #777; padding: 2px 6px}
.insp-sum {font-family: ui-monospace, monospace; font-size: 13px}
</style>
"""


def _f(v: float) -> str:
    return f"{v:.4g}"


def _grid(cells: list[list[str]], classes: list[list[str]], rows: list[int], cols: list[int]) -> str:
    head = "<tr><th></th>" + "".join(f"<th>col {c}</th>" for c in cols) + "</tr>"
    body = "".join(
        f"<tr><th>row {r}</th>" + "".join(f'<td class="{k}">{v}</td>' for v, k in zip(line, kl)) + "</tr>"
        for r, line, kl in zip(rows, cells, classes)
    )
    return f'<table class="insp-grid">{head}{body}</table>'


def _activation(ex: Explanation, d: ActivationDetail, prefix: str) -> None:
    st.markdown(
        f"**{d.function}**: {d.formula}  \nInput (the value at the same place one stage back): "
        f"**{d.input:.6g}**  \n`{d.worked}`"
    )


def _input(ex: Explanation, d: InputDetail, prefix: str) -> None:
    st.markdown(f"An input pixel: its 0–255 level divided by 255 gives **{d.value:.6g}** (≈ {d.value * 255:.0f}/255).")


def _detail(ex: Explanation, prefix: str) -> None:
    """The worked detail, drawn by the renderer for the detail's kind."""
    render_detail = RENDERERS.get(ex.detail.kind)
    if render_detail is not None:
        render_detail(ex, ex.detail, prefix)


def _conv(ex: Explanation, d: ConvDetail, prefix: str) -> None:
    kh, kw = d.kernel_size
    n = d.in_channels
    key = keys.inspector(prefix, "insp_page")
    if st.session_state.get(key, 0) >= n:
        st.session_state[key] = 0
    if n == 1:
        page = 0
    elif n <= CHANNELS_AS_RADIO:
        page = st.radio("Input channel", list(range(n)), key=key, horizontal=True)
    else:
        page = st.number_input(f"Input channel (of {n})", 0, n - 1, key=key)
    st.markdown(
        f"A **{kh}×{kw}** kernel over **{n}** input channel{'s' if n > 1 else ''}: {kh * kw * n:,} products. "
        f"Input channel **{page}**: each cell shows *input × weight = product*; beige striped cells are zero padding."
    )
    exact = exact_toggle(prefix, "inspector")
    if exact:
        _conv_exact(ex, d, page)
        return
    rows, cols = d.rows[:, 0].tolist(), d.cols[0].tolist()
    partial = d.partial_sums
    dec = worked_numbers.sum_decimals(
        [(d.products[:, :, page].ravel().tolist(), float(partial[page])), ([*partial.tolist(), d.bias], d.total)]
    )
    cells, classes = [], []
    for i in range(kh):
        line, kl = [], []
        for j in range(kw):
            x, wt, p = d.inputs[i, j, page], d.weights[i, j, page], d.products[i, j, page]
            if d.padding[i, j]:
                line.append(f"pad 0 × {_f(wt)}<br>= 0")
                kl.append("pad")
            else:
                line.append(f"{_f(x)} × {_f(wt)}<br>= {worked_numbers.fixed(p, dec)}")
                kl.append("pos" if p > 0 else "neg" if p < 0 else "")
        cells.append(line)
        classes.append(kl)
    st.html(_CSS + _grid(cells, classes, rows, cols))
    if n <= 16:
        channels = (
            f"Σ over channels: {worked_numbers.written_sum(partial.tolist(), float(partial.sum()), dec)}"
            if n > 1
            else (
                f"Σ of the products: {worked_numbers.shown_total(d.products[:, :, page].ravel().tolist(), float(partial.sum()), dec)}"
            )
        )
    else:
        top = np.argsort(-np.abs(partial))[:5]
        channels = (
            f"Σ over {n} channels = {_f(float(partial.sum()))} (largest: "
            + ", ".join(f"channel {i}: {_f(float(partial[i]))}" for i in top)
            + ")"
        )
    ok = abs(d.total - ex.value) <= 1e-5 * max(1.0, float(np.abs(d.products).sum()) + abs(d.bias))
    st.html(
        '<div class="insp-sum">'
        f"Channel {page}'s products: "
        f"{html.escape(worked_numbers.written_sum(d.products[:, :, page].ravel().tolist(), float(partial[page]), dec))}"
        f"<br>{html.escape(channels)}<br>"
        f"+ bias {worked_numbers.fixed(d.bias, dec)} = <b>{worked_numbers.fixed(d.total, dec)}</b><br>"
        f"the map holds <b>{ex.value:.6g}</b> {'✓ equal' if ok else '✗ differs'}"
        " (to float32 rounding)</div>"
    )
    if n > 1:
        with st.expander(f"Every channel's partial sum ({n})"):
            st.dataframe({"input channel": list(range(n)), "partial sum": [float(v) for v in partial]}, hide_index=True)


def _conv_exact(ex: Explanation, d: ConvDetail, page: int) -> None:
    """Input channel ``page``'s products with every digit, then the whole sum added exactly beside TensorFlow's
    float32 value."""
    kh, kw = d.kernel_size
    x32 = worked_numbers.float32_text
    cells = [
        [
            f"pad 0 × {x32(d.weights[i, j, page])}<br>= 0"
            if d.padding[i, j]
            else f"{x32(d.inputs[i, j, page])} × {x32(d.weights[i, j, page])}<br>= {x32(d.products[i, j, page])}"
            for j in range(kw)
        ]
        for i in range(kh)
    ]
    classes = [["pad" if d.padding[i, j] else "" for j in range(kw)] for i in range(kh)]
    st.html(_CSS + _grid(cells, classes, d.rows[:, 0].tolist(), d.cols[0].tolist()))
    st.html(
        '<div class="insp-sum">'
        + "<br>".join(html.escape(line) for line in worked_numbers.worked_text(ex, exact=True).splitlines()[-2:])
        + "</div>"
    )
    st.caption(
        "Inputs, weights and products are float32 numbers, as TensorFlow multiplies them: each is written with the "
        "fewest digits that read back as the same float32. The terms as written are added exactly; TensorFlow adds "
        "in float32, in an order of its own, so its total differs from that by float32 rounding."
    )


def _pool(ex: Explanation, d: PoolDetail, prefix: str = "") -> None:
    ph, pw = d.size
    rows = sorted({c.row for c in d.window})
    cols = sorted({c.col for c in d.window})
    cells, classes = [], []
    for i in range(ph):
        line, kl = [], []
        for j in range(pw):
            cell = d.window[i * pw + j]
            if cell.padding:
                line.append("pad")
                kl.append("pad")
            else:
                line.append(_f(cell.value))  # type: ignore[arg-type]
                kl.append("win" if d.mode == "max" and cell == d.winner else "")
        cells.append(line)
        classes.append(kl)
    st.markdown(f"A **{ph}×{pw}** {d.mode} pooling window on the previous stage's channel {ex.channel}.")
    st.html(_CSS + _grid(cells, classes, rows, cols))
    if d.mode == "max":
        w = d.winner
        st.markdown(
            f"The largest real cell wins: row {w.row}, column {w.col} → **{ex.value:.6g}**. Padding never wins."
            if w is not None
            else "No real cell in this window."
        )
    else:
        pad = ph * pw - d.count
        note = f" ({pad} padding cell{'s' if pad > 1 else ''} not counted)" if pad else ""
        st.markdown(f"Sum of the **{d.count}** real cells{note}: {d.sum:.6g} ÷ {d.count} = **{ex.value:.6g}**")


# One renderer per kind of detail (``detail.kind``); a kind without one shows its headline only.
RENDERERS = {"conv2d": _conv, "activation": _activation, "pool2d": _pool, "input": _input}
