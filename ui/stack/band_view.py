"""A band of channel tiles as one light component: the stage's heading and colour legend, then each tile's picture,
its numbers and its name.

Why one component for the row, not an ``st.image`` and an ``st.button`` per tile in a keyed container: every
Streamlit element is one more message on every step and one more node that the browser's React tree renders
again on each change of the run's state, and a band of 8 tiles was 24 of them. On the reference machine the
Layer stack's weight step (4 bands) took 53 ms less with 4 tiles a band than with 8 (benchmarks/README.md,
round 11); this makes each band one element (its heading and legend too), whatever its number of tiles.

What the visitor gets, as before:
- the stage's number, name and shape in bold, its settings in grey, and beside them the colour legend with its
  range (or how the maps are scaled);
- each tile's picture, drawn square without smoothing, with its range, mean and share of zeros under it (the
  photo: "in its own colours"), and its name, a button that enlarges the map under its band;
- a click on a picture asks for the worked sum of the value under the pointer (``pick``: the picture's channel
  and the fractions 0–1 of its width and height where it was clicked);
- ``per_band`` tiles to a line; on a phone, four to a line without their numbers.

Tests and benchmarks find a tile as ``.ls-tile[data-tile="<stage>_<channel>"]`` (``photo`` for the photo), its
picture as ``img`` in it and its name as ``button`` in it; AppTest reads the data each band received
(``head``: ``title``, ``shape``, ``about``, ``legend``, ``range``; ``tiles``: ``id``, ``channel``, ``src``,
``caption``, ``name``, and ``inline`` for a picture sent in the message). A picture goes by its address in
Streamlit's media store, and also inline the first time the page gets it (``ui/stack/maps.thumbnail_src``):
the browser shows it at once and keeps showing it while its address stays the same.
"""

from __future__ import annotations

import math
from functools import cache

import streamlit as st

NAME = "cnn_band_view"
TILE_CLASS = "ls-tile"

_CSS = f"""
.ls-band-head {{ display: flex; align-items: center; gap: 1.5rem; width: 100%; margin-bottom: 0.75rem; }}
.ls-band-head .ls-band-title {{ flex: 4 1 0; min-width: 0; line-height: 1.6; }}
.ls-band-head .ls-band-about {{ color: rgba(49, 51, 63, 0.6); }}
.ls-band-head .ls-band-legend {{ flex: 2 1 0; min-width: 0; }}
.ls-band-head .ls-band-legend img {{ display: block; width: 100%; height: 10px; image-rendering: pixelated; }}
.ls-band-head .ls-band-range {{ font-size: 0.875rem; color: rgba(49, 51, 63, 0.6); margin-top: 0.375rem; }}
.ls-band-head .ls-band-pad {{ flex: 3 1 0; }}
.ls-band-tiles {{ display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; width: 100%; }}
.ls-band-tiles .{TILE_CLASS} {{ flex: 0 0 calc((100% - (var(--per-band) - 1) * 1rem) / var(--per-band));
  min-width: 0; display: flex; flex-direction: column; align-items: flex-start; }}
.ls-band-tiles .{TILE_CLASS} img {{ width: 100%; height: auto; image-rendering: pixelated; cursor: crosshair;
  display: block; }}
.ls-band-tiles .ls-tile-cap {{ font-size: 0.875rem; line-height: 1.35; color: rgba(49, 51, 63, 0.6);
  white-space: pre-line; margin-top: 0.375rem; }}
.ls-band-tiles button.ls-tile-name {{ border: none; background: none; padding: 0.15rem 0; margin-top: 0.25rem;
  font: inherit; font-size: 1rem; color: inherit; cursor: pointer; text-align: left; }}
.ls-band-tiles button.ls-tile-name:hover {{ color: var(--primary-color, #c2410c); }}
.ls-band-tiles button.ls-tile-name:focus-visible {{ outline: 2px solid var(--primary-color, #c2410c); }}
@media (max-width: 640px) {{
  .ls-band-head {{ flex-wrap: wrap; gap: 0.25rem 1rem; }}
  .ls-band-head .ls-band-title {{ flex: 1 1 100%; }}
  .ls-band-head .ls-band-pad {{ display: none; }}
  .ls-band-tiles {{ gap: 0.35rem; }}
  .ls-band-tiles .{TILE_CLASS} {{ flex: 0 0 calc(25% - 0.3rem); }}
  .ls-band-tiles .ls-tile-cap {{ display: none; }}
  .ls-band-tiles button.ls-tile-name {{ font-size: 0.75rem; }}
}}
"""

_JS = """
export default function(component) {
  const { data, parentElement, setTriggerValue } = component;
  // parent's child of class ``cls``, made (with ``html`` inside) the first time: later updates reuse it.
  const child = (parent, cls, html, k) => {
    let el = k === undefined ? parent.querySelector(':scope > .' + cls) : parent.children[k];
    if (!el) {
      el = document.createElement('div');
      el.className = cls;
      el.innerHTML = html;
      parent.appendChild(el);
    }
    return el;
  };
  const head = child(parentElement, 'ls-band-head', '<div class="ls-band-title"><b></b> · '
    + '<span class="ls-band-shape"></span><div class="ls-band-about"></div></div><div class="ls-band-legend">'
    + '<img alt="colour legend"><div class="ls-band-range"></div></div><div class="ls-band-pad"></div>');
  const root = child(parentElement, 'ls-band-tiles', '');
  const h = data.head;
  head.querySelector('b').textContent = h.title;
  head.querySelector('.ls-band-shape').textContent = h.shape;
  head.querySelector('.ls-band-about').textContent = h.about;
  const legend = head.querySelector('.ls-band-legend'), strip = legend.querySelector('img');
  legend.style.visibility = h.legend ? 'visible' : 'hidden';
  if (h.legend && strip.getAttribute('src') !== h.legend) strip.setAttribute('src', h.legend);
  legend.querySelector('.ls-band-range').textContent = h.range;
  root.style.setProperty('--per-band', String(data.per_band));
  const tiles = data.tiles;
  while (root.children.length > tiles.length) root.lastChild.remove();
  tiles.forEach((t, k) => {
    const tile = child(root, 'ls-tile', '<img draggable="false" alt=""><div class="ls-tile-cap"></div>'
      + '<button type="button" class="ls-tile-name" title="Enlarge this map, with the value under the pointer">'
      + '</button>', k);
    tile.dataset.tile = t.id;
    const img = tile.querySelector('img'), cap = tile.querySelector('.ls-tile-cap');
    const name = tile.querySelector('button');
    // t.src names the picture (its address); t.inline, when sent, is the same picture, new to this page, in the
    // message itself. The picture shown stays as long as its name does.
    if (img.dataset.src !== t.src) {
      img.setAttribute('src', t.inline || t.src);
      img.dataset.src = t.src;
    }
    img.setAttribute('alt', t.alt);
    cap.textContent = t.caption;
    name.textContent = t.name;
    // Handlers are properties (not added listeners): this function runs again on every update of the band.
    img.onclick = (ev) => {
      const r = img.getBoundingClientRect();
      if (!r.width || !r.height) return;
      setTriggerValue('pick', { channel: t.channel, x: (ev.clientX - r.left) / r.width,
        y: (ev.clientY - r.top) / r.height });
    };
    name.onclick = () => setTriggerValue('enlarge', { channel: t.channel });
  });
}
"""


@cache
def _component():
    return st.components.v2.component(NAME, css=_CSS, js=_JS, isolate_styles=False)


def tile(stage: int, channel: int, src: str, caption: str, name: str, inline: str | None = None) -> dict:
    """One tile's data: map ``channel`` of stage ``stage`` (-1: the photo in its own colours), its picture's
    address (or data URI), the lines under it and its name; ``inline``: the same picture as a data URI, for a
    picture the page hasn't got yet (shown at once, without fetching the address)."""
    ident = f"{stage}_{'photo' if channel < 0 else channel}"
    out = {"id": ident, "channel": int(channel), "src": src, "caption": caption, "name": name,
           "alt": f"stage {stage}, {name}"}  # fmt: skip
    if inline is not None:
        out["inline"] = inline
    return out


def band_view(key: str, tiles: list[dict], per_band: int, head: dict) -> tuple | None:
    """Mount a band under ``key``: its ``head`` (title, shape, about, legend picture or None, range text) and
    ``tiles``. What a click on a tile asked for, if one triggered this run:
    ("pick", channel, x, y) with x and y the fractions 0–1 of the picture's width and height, or
    ("enlarge", channel); None on any other run."""
    shown = {t["channel"] for t in tiles}
    result = _component()(
        key=key, data={"head": head, "tiles": tiles, "per_band": int(per_band)}, on_pick_change=lambda: None,
        on_enlarge_change=lambda: None,
    )  # fmt: skip
    pick, enlarge = getattr(result, "pick", None), getattr(result, "enlarge", None)
    try:
        if isinstance(pick, dict) and int(pick["channel"]) in shown:
            x, y = float(pick["x"]), float(pick["y"])
            if not (math.isfinite(x) and math.isfinite(y)):
                return None
            return "pick", int(pick["channel"]), min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)
        if isinstance(enlarge, dict) and int(enlarge["channel"]) in shown:
            return "enlarge", int(enlarge["channel"])
    except (KeyError, TypeError, ValueError):
        return None
    return None
