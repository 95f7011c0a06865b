"""A feature map as a light picture component: the map's PNG, its colour bar, exact hover values, box zoom and
clicks, drawn by a few lines of the browser's own code instead of a Plotly figure.

Why not Plotly here: on a kernel step the Playground redraws three maps, and Plotly's redraw of a figure
(defaults, the invisible hover heatmap painted to a canvas, the colour bar's axis and its text measured by
layout) cost the browser about 85 ms of its main thread per step on the 2-core reference machine
(benchmarks/README.md, round 8). This component swaps one picture's source and two labels. It loads with the
page (no 4.7 MB chunk to fetch and parse first), so a session's first maps are interactive from their first
paint, and no second run is needed to turn pictures into figures. One cost it does not remove: Streamlit runs
a component's code for an update only after loading it again asynchronously, so on a busy browser the new
pictures come with the step's last messages rather than as soon as their own arrive (measured; see the
benchmarks' README).

What the visitor gets, as with the figures before:
- the map's picture, pixels drawn square (no smoothing), at the top of its box, beside a colour bar with its
  two ends (the input photo has no bar);
- hovering shows the row, the column and the value there: every pixel up to ``figures.HOVER_SIDE`` a side,
  and on larger maps the nearest point of a grid sampled every few pixels, which it says;
- dragging a box zooms into it; a double click, or the "reset zoom" button, shows the whole map again; the
  zoom stays while the map keeps its size (a kernel step), so a region can be watched while weights move;
- a click (no drag) on a value reports that value's row and column, exactly (not the hover grid's point),
  to the server, which opens its worked sum (a double click's second click reports nothing).

Above the map its heading (``title`` in bold, then ``subtitle``), under it its line of numbers (``caption``): one
element per map. Map views that are the only elements of a container sit two to a row (a CSS grid).

Data the browser receives (``data``): the picture's data URI, the map's height and width, the box's height,
the colour bar (CSS gradient, the two end labels, its colour map and exact ends) or None, and the hover grid with
its steps. A small grid comes inline as base64 float32 values (decoded once the pointer is over the map); a large
one (over ``INLINE_HOVER_BYTES``: a 300² map's is 360 kB, three times its picture) only as an address in
Streamlit's media store, fetched the first time the pointer comes over the map. A kernel step changes three
maps' grids, and a visitor hovers over few of them: sent inline they were three quarters of a step's bytes.

Tests and benchmarks find each map as ``.cnn-map`` (``data-rows``, ``data-cols`` attributes), its picture as
``img.cnn-map-img``, and the hover grid through the element's ``cnnHover()`` function (a promise: the grid is
fetched first if it came as an address).
"""

from __future__ import annotations

import base64
from functools import cache

import numpy as np
import streamlit as st

from cnn_core import render
from ui.common.figures import channel_names
from ui.common.streamlit_internals import media_url

ROOT_CLASS = "cnn-map"
IMG_CLASS = "cnn-map-img"
BAR_WIDTH = 40  # CSS pixels beside the picture for the colour bar and its labels
# A hover grid up to this many bytes goes inline with its map; a larger one by address, fetched on the first hover.
INLINE_HOVER_BYTES = 32 * 1024

_CSS = f"""
[data-testid="stVerticalBlock"]:has(> [data-testid="stElementContainer"] .cnn-map-cell) {{
  display: grid !important; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0.25rem 0.5rem;
}}
.cnn-map-cell {{ width: 100%; min-width: 0; }}
.cnn-map-cell .cnn-map-head {{ font-size: 1rem; line-height: 1.6; margin-bottom: 0.25rem; overflow-wrap: anywhere; }}
.cnn-map-cell .cnn-map-cap {{ font-size: 0.875rem; line-height: 1.35; color: rgba(49, 51, 63, 0.6);
  margin-top: 0.375rem; overflow-wrap: anywhere; }}
.{ROOT_CLASS} {{ position: relative; display: flex; width: 100%; user-select: none; -webkit-user-select: none; }}
.{ROOT_CLASS} .cnn-map-area {{ position: relative; flex: 1 1 0; min-width: 0; height: 100%; overflow: hidden; }}
.{ROOT_CLASS} .cnn-map-window {{ position: absolute; overflow: hidden; cursor: crosshair; }}
.{ROOT_CLASS} img.{IMG_CLASS} {{ position: absolute; left: 0; top: 0; max-width: none; image-rendering: pixelated;
  pointer-events: none; }}
.{ROOT_CLASS} .cnn-map-bar {{ position: relative; flex: none; width: {BAR_WIDTH}px; height: 100%; }}
.{ROOT_CLASS} .cnn-map-bar .cnn-map-ramp {{ position: absolute; left: 10px; width: 10px; top: 22px; bottom: 22px; }}
.{ROOT_CLASS} .cnn-map-bar span {{ position: absolute; left: 24px; font-size: 10px; line-height: 10px;
  color: #444; white-space: nowrap; }}
.{ROOT_CLASS} .cnn-map-tip {{ position: absolute; z-index: 4; pointer-events: none; display: none; padding: 2px 6px;
  font-size: 12px; line-height: 1.35; background: rgba(255, 255, 255, 0.95); border: 1px solid #999;
  border-radius: 3px; color: #222; white-space: nowrap; }}
.{ROOT_CLASS} .cnn-map-box {{ position: absolute; z-index: 3; pointer-events: none; display: none;
  border: 1px dashed #333; background: rgba(120, 120, 120, 0.15); }}
.{ROOT_CLASS} button.cnn-map-reset {{ position: absolute; z-index: 5; right: 2px; top: 2px; display: none;
  font-size: 11px; padding: 0 6px; border: 1px solid #bbb; border-radius: 3px; background: rgba(255,255,255,0.9);
  cursor: pointer; }}
"""

_JS = """
export default function(component) {
  const { data, parentElement, setTriggerValue } = component;
  let holder = parentElement.querySelector(':scope > .cnn-map-cell');
  if (!holder) {
    holder = document.createElement('div');
    holder.className = 'cnn-map-cell';
    holder.innerHTML = '<div class="cnn-map-head"><b></b><span></span></div><div class="cnn-map-cap"></div>';
    parentElement.appendChild(holder);
  }
  // The map's heading above it and its line of numbers under it: one element per map, not three.
  const headText = holder.querySelector('.cnn-map-head'), cap = holder.querySelector('.cnn-map-cap');
  headText.style.display = data.title || data.subtitle ? '' : 'none';
  headText.querySelector('b').textContent = data.title || '';
  headText.querySelector('span').textContent = data.subtitle || '';
  cap.style.display = data.caption ? '' : 'none';
  cap.textContent = data.caption || '';
  let root = holder.querySelector(':scope > .cnn-map');
  if (!root) {
    root = document.createElement('div');
    root.className = 'cnn-map';
    root.innerHTML = '<div class="cnn-map-area"><div class="cnn-map-window"><img class="cnn-map-img" alt="" '
      + 'draggable="false"></div><div class="cnn-map-box"></div><button type="button" class="cnn-map-reset">'
      + 'reset zoom</button></div><div class="cnn-map-bar"><div class="cnn-map-ramp"></div><span class="hi">'
      + '</span><span class="lo"></span></div><div class="cnn-map-tip"></div>';
    holder.insertBefore(root, cap);
    root.__m = { view: null };
  }
  const m = root.__m;
  const area = root.querySelector('.cnn-map-area'), win = root.querySelector('.cnn-map-window');
  const img = root.querySelector('img'), tip = root.querySelector('.cnn-map-tip');
  const box = root.querySelector('.cnn-map-box'), reset = root.querySelector('.cnn-map-reset');
  const bar = root.querySelector('.cnn-map-bar');
  const H = data.rows, W = data.cols;
  // A new size (another input, stride or padding) starts unzoomed; a kernel step keeps the zoom.
  if (m.rows !== H || m.cols !== W) m.view = null;
  m.rows = H; m.cols = W; m.hover = data.hover; m.decoded = null;
  root.style.height = data.height + 'px';
  root.dataset.rows = H; root.dataset.cols = W;
  if (img.getAttribute('src') !== data.src) img.setAttribute('src', data.src);
  img.setAttribute('alt', data.alt || '');
  if (data.bar) {
    bar.style.display = '';
    root.querySelector('.cnn-map-ramp').style.background = data.bar.gradient;
    const hi = root.querySelector('.hi'), lo = root.querySelector('.lo');
    hi.textContent = data.bar.max; lo.textContent = data.bar.min;
    hi.style.top = '17px'; lo.style.bottom = '17px';
  } else {
    bar.style.display = 'none';
  }

  // The hover grid: decoded once per new grid (an unchanged map's update keeps it), from the inline values or,
  // for a large grid, from its address, fetched once the pointer is over the map. values() is null until then.
  const hv = data.hover, hoverId = hv ? (hv.url || hv.b64) : null;
  if (m.hoverId !== hoverId) { m.hoverId = hoverId; m.decoded = null; m.loading = null; }
  m.hover = hv;
  const load = () => {
    const want = m.hover, id = m.hoverId;
    if (!want || !want.url) return Promise.resolve(m.decoded);
    if (!m.loading) {
      // Compared by the grid's address, not the data object: an unchanged map's update brings a new object.
      m.loading = fetch(want.url).then(r => {
        if (!r.ok) throw new Error('hover values: HTTP ' + r.status);
        return r.arrayBuffer();
      }).then(buf => {
        if (m.hoverId !== id) return m.decoded;  // another grid came meanwhile
        m.decoded = new Float32Array(buf);
        if (m.pointer) showTip(m.pointer);
        return m.decoded;
      }).catch(() => { if (m.hoverId === id) m.loading = null; return null; });  // gone: tried again next time
    }
    return m.loading;
  };
  const values = () => {
    if (!m.decoded && m.hover) {
      if (m.hover.b64) {
        const raw = atob(m.hover.b64), bytes = new Uint8Array(raw.length);
        for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
        m.decoded = new Float32Array(bytes.buffer);
      } else {
        load();
      }
    }
    return m.decoded;
  };
  root.cnnHover = async () => {
    const h = m.hover;
    if (!h) return null;
    const vals = values() || await load();
    return vals && { rows: h.rows, cols: h.cols, sy: h.sy, sx: h.sx, channels: h.channels, values: Array.from(vals) };
  };

  // The shown window of the map, in map units: [x0, y0, x1, y1] (pixel edges).
  const view = () => m.view || [0, 0, W, H];
  const layout = () => {
    const [x0, y0, x1, y1] = view();
    const cw = area.clientWidth, ch = area.clientHeight;
    if (!cw || !ch) return;
    const s = Math.min(cw / (x1 - x0), ch / (y1 - y0));
    const ww = (x1 - x0) * s, wh = (y1 - y0) * s;
    m.s = s;
    win.style.left = ((cw - ww) / 2) + 'px'; win.style.top = '0px';
    win.style.width = ww + 'px'; win.style.height = wh + 'px';
    img.style.width = (W * s) + 'px'; img.style.height = (H * s) + 'px';
    img.style.left = (-x0 * s) + 'px'; img.style.top = (-y0 * s) + 'px';
    reset.style.display = m.view ? 'block' : 'none';
  };
  layout();
  if (!m.observer) {
    m.observer = new ResizeObserver(() => m.layout && m.layout());
    m.observer.observe(area);
  }
  m.layout = layout;

  // Map coordinates (fractional) under a pointer event, and whether it is over the shown window.
  const at = (ev) => {
    const r = win.getBoundingClientRect(), [x0, y0] = view();
    const x = x0 + (ev.clientX - r.left) / m.s, y = y0 + (ev.clientY - r.top) / m.s;
    const inside = ev.clientX >= r.left && ev.clientX < r.right && ev.clientY >= r.top && ev.clientY < r.bottom;
    return { x, y, inside };
  };
  const cell = (p) => [Math.min(H - 1, Math.max(0, Math.floor(p.y))), Math.min(W - 1, Math.max(0, Math.floor(p.x)))];
  const fmt = (v, digits) => {
    if (!Number.isFinite(v)) return String(v);
    return Number(v.toPrecision(digits)).toString();
  };
  const showTip = (ev) => {
    const p = at(ev);
    m.pointer = p.inside ? { clientX: ev.clientX, clientY: ev.clientY } : null;
    const vals = p.inside && m.hover ? values() : null;
    if (!vals) { tip.style.display = 'none'; return; }  // outside, or the values still on their way
    const hv = m.hover, [row, col] = cell(p);
    const i = Math.min(hv.rows - 1, Math.round(row / hv.sy)), j = Math.min(hv.cols - 1, Math.round(col / hv.sx));
    const nc = hv.channels ? hv.channels.length : 1, base = (i * hv.cols + j) * nc;
    let text = 'row ' + (i * hv.sy) + ', col ' + (j * hv.sx);
    if (hv.sy > 1 || hv.sx > 1) text += ' <i>(hover every ' + (hv.sy === hv.sx ? hv.sy : hv.sy + '×' + hv.sx) + ' px)</i>';
    text += '<br>';
    if (hv.channels) text += hv.channels.map((n, k) => n + ' ' + vals[base + k].toFixed(4)).join(' ');
    else text += 'value ' + fmt(vals[base], 5);
    tip.innerHTML = text;
    tip.style.display = 'block';
    const ar = root.getBoundingClientRect();
    let left = ev.clientX - ar.left + 12, top = ev.clientY - ar.top + 12;
    if (left + tip.offsetWidth > ar.width) left = Math.max(0, ev.clientX - ar.left - tip.offsetWidth - 8);
    if (top + tip.offsetHeight > ar.height) top = Math.max(0, ev.clientY - ar.top - tip.offsetHeight - 8);
    tip.style.left = left + 'px'; tip.style.top = top + 'px';
  };

  // Handlers are properties (not added listeners): this function runs again on every update of the map.
  win.onpointermove = (ev) => {
    if (m.drag) {
      const ar = area.getBoundingClientRect(), d = m.drag;
      const l = Math.min(d.cx, ev.clientX) - ar.left, t = Math.min(d.cy, ev.clientY) - ar.top;
      box.style.left = l + 'px'; box.style.top = t + 'px';
      box.style.width = Math.abs(ev.clientX - d.cx) + 'px'; box.style.height = Math.abs(ev.clientY - d.cy) + 'px';
      box.style.display = (Math.abs(ev.clientX - d.cx) > 4 || Math.abs(ev.clientY - d.cy) > 4) ? 'block' : 'none';
    }
    showTip(ev);
  };
  win.onpointerenter = () => values();  // a large grid starts on its way as the pointer arrives
  win.onpointerleave = () => { m.pointer = null; if (!m.drag) tip.style.display = 'none'; };
  win.onpointerdown = (ev) => {
    // A finger that moves scrolls the page (the browser then cancels the pointer): only a tap counts on touch.
    if (ev.button !== 0) return;
    m.drag = { cx: ev.clientX, cy: ev.clientY, p: at(ev) };
    if (ev.pointerType !== 'touch') win.setPointerCapture(ev.pointerId);
  };
  win.onpointerup = (ev) => {
    const d = m.drag;
    m.drag = null;
    box.style.display = 'none';
    if (!d) return;
    const moved = Math.abs(ev.clientX - d.cx) > 4 || Math.abs(ev.clientY - d.cy) > 4;
    if (moved && ev.pointerType === 'touch') return;
    if (!moved) {
      if (!d.p.inside) return;
      // The second click of a double click (which resets the zoom) on the same value asks for nothing more.
      const [row, col] = cell(d.p), now = performance.now(), last = m.lastClick;
      const second = last && now - last.t < 400 && last.row === row && last.col === col;
      m.lastClick = second ? null : { t: now, row, col };
      if (second) return;
      setTriggerValue('click', { row, col });
      return;
    }
    const q = at(ev);
    const x0 = Math.max(0, Math.min(d.p.x, q.x)), x1 = Math.min(W, Math.max(d.p.x, q.x));
    const y0 = Math.max(0, Math.min(d.p.y, q.y)), y1 = Math.min(H, Math.max(d.p.y, q.y));
    if (x1 - x0 < 0.5 || y1 - y0 < 0.5) return;
    m.view = [x0, y0, x1, y1];
    layout();
  };
  win.onpointercancel = () => { m.drag = null; box.style.display = 'none'; };
  win.ondblclick = () => { m.view = null; layout(); };
  reset.onclick = () => { m.view = null; layout(); };
  if (m.pointer) showTip(m.pointer);  // a pointer resting on the map reads its new value
}
"""


@cache
def _component():
    return st.components.v2.component("cnn_map_view", css=_CSS, js=_JS, isolate_styles=False)


def _gradient(cmap: str) -> str:
    table = render.lut(cmap)
    stops = ", ".join("rgb({},{},{}) {}%".format(*table[round(i * 25.5)], i * 10) for i in range(11))
    return f"linear-gradient(to top, {stops})"


def bar_labels(scale: render.ColorScale) -> tuple[str, str]:
    """The colour bar's (top, bottom) labels: the scale's two ends."""
    return f"{scale.vmax:.3g}", f"{scale.vmin:.3g}"


def hover_grid(values: np.ndarray, steps: tuple[int, int]) -> tuple[dict, bytes]:
    """The hover grid of (height, width) or (height, width, channels) values, every ``steps`` = (row step,
    column step) pixels: what describes it (rows, columns, steps, channel names) and its float32 bytes."""
    sy, sx = steps
    sampled = np.ascontiguousarray(values[::sy, ::sx], dtype=np.float32)
    channels = None
    if sampled.ndim == 3:
        channels = channel_names(sampled.shape[2])
    meta = {"rows": int(sampled.shape[0]), "cols": int(sampled.shape[1]), "sy": int(sy), "sx": int(sx),
            "channels": channels}  # fmt: skip
    return meta, sampled.tobytes()


def hover_payload(meta: dict, raw: bytes, where: str | None) -> dict:
    """The hover grid as the component reads it: its values inline (base64) if small, or where no media store
    can be reached (``where`` None, or no app running); else the address the store serves them at under
    ``where`` (one name per map on the page). Called on every run that draws the map, so that a run of the whole
    page keeps the address alive (the store forgets what a full run doesn't name again)."""
    if where is not None and len(raw) > INLINE_HOVER_BYTES:
        url = media_url(raw, "application/octet-stream", where)
        if url is not None:
            return {**meta, "url": url}
    return {**meta, "b64": base64.b64encode(raw).decode()}


def hover_data(values: np.ndarray, steps: tuple[int, int], where: str | None = None) -> dict:
    """The hover grid of ``values`` every ``steps`` pixels, as the component reads it (``hover_payload``)."""
    return hover_payload(*hover_grid(values, steps), where)


def view_data(
    uri: str,
    rows: int,
    cols: int,
    height: int,
    scale: render.ColorScale | None,
    hover: dict | None,
    alt: str = "",
    heading: tuple[str, str] = ("", ""),
    caption: str = "",
) -> dict:
    """Everything the browser needs for one map (see the module's docstring); ``heading``: (bold title, the rest)
    above it, ``caption``: its line of numbers under it."""
    bar = None
    if scale is not None:
        hi, lo = bar_labels(scale)
        bar = {"gradient": _gradient(scale.cmap), "max": hi, "min": lo, "cmap": scale.cmap, "vmin": float(scale.vmin),
               "vmax": float(scale.vmax)}  # fmt: skip
    return {"src": uri, "rows": int(rows), "cols": int(cols), "height": int(height), "bar": bar, "hover": hover,
            "alt": alt, "title": heading[0], "subtitle": heading[1], "caption": caption}  # fmt: skip


def map_view(key: str, data: dict) -> tuple[int, int] | None:
    """Mount one map (``view_data``) under ``key``; the (row, column) clicked if a click on it triggered this run,
    else None."""
    result = _component()(key=key, data=data, on_click_change=lambda: None)
    click = getattr(result, "click", None)
    if not isinstance(click, dict):
        return None
    try:
        row, col = int(click["row"]), int(click["col"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (0 <= row < data["rows"] and 0 <= col < data["cols"]):
        return None
    return row, col
