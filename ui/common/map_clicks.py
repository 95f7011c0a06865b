"""A click on a Plotly map, as (map, row, column): the Playground's maps open the worked sum where they are.

Streamlit's ``on_select`` only reports clicks on traces Plotly can select (points of a scatter, slices of a
sunburst); the maps are an image under an invisible heatmap, whose clicks it drops. This component listens
to Plotly's own ``plotly_click`` on every map under a container and hands back the cell the pointer was on
(the heatmap's x and y are the map's column and row).
"""

from __future__ import annotations

from functools import cache

import streamlit as st

_JS = """
export default function(component) {
  const { setTriggerValue, data } = component;
  const hook = () => {
    document.querySelectorAll(data.selector + ' .js-plotly-plot').forEach((plot, i) => {
      if (plot.__mapClickHooked || typeof plot.on !== 'function') return;
      plot.__mapClickHooked = true;
      plot.on('plotly_click', (ev) => {
        const p = ev && ev.points && ev.points.find((q) => q.x !== undefined && q.y !== undefined);
        if (!p) return;
        const all = Array.from(document.querySelectorAll(data.selector + ' .js-plotly-plot'));
        setTriggerValue('click', { map: all.indexOf(plot), row: Math.round(p.y), col: Math.round(p.x) });
      });
    });
  };
  hook();
  const observer = new MutationObserver(hook);
  observer.observe(document.body, { childList: true, subtree: true });
  return () => observer.disconnect();
}
"""


@cache
def _component():
    return st.components.v2.component("cnn_map_clicks", js=_JS)


def map_clicks(key: str, container_key: str) -> tuple[int, int, int] | None:
    """The click that triggered this run on a map inside ``st.container(key=container_key)``, as
    (map index in page order, row, column); None on any other run."""
    result = _component()(key=key, data={"selector": f".st-key-{container_key}"}, on_click_change=lambda: None)
    click = getattr(result, "click", None)
    if not isinstance(click, dict):
        return None
    try:
        return int(click["map"]), int(click["row"]), int(click["col"])
    except (KeyError, TypeError, ValueError):
        return None


# A click on a plain picture (``st.image``, e.g. the Layer stack's channel tiles) inside any container whose key
# starts with a prefix: the container's key and where on the picture, as fractions of its width and height.
_IMAGE_JS = """
export default function(component) {
  const { setTriggerValue, data } = component;
  const sel = '[class*="st-key-' + data.prefix + '"]';
  const hook = () => {
    document.querySelectorAll(sel + ' img').forEach((img) => {
      if (img.__tileClickHooked) return;
      img.__tileClickHooked = true;
      img.style.cursor = 'crosshair';
      img.addEventListener('click', (ev) => {
        const holder = img.closest(sel);
        if (!holder) return;
        const name = Array.from(holder.classList).find((c) => c.startsWith('st-key-' + data.prefix));
        const r = img.getBoundingClientRect();
        if (!name || r.width <= 0 || r.height <= 0) return;
        setTriggerValue('click', {
          name: name.slice('st-key-'.length), x: (ev.clientX - r.left) / r.width, y: (ev.clientY - r.top) / r.height
        });
      });
    });
  };
  hook();
  const observer = new MutationObserver(hook);
  observer.observe(document.body, { childList: true, subtree: true });
  return () => observer.disconnect();
}
"""


@cache
def _image_component():
    return st.components.v2.component("cnn_image_clicks", js=_IMAGE_JS)


def image_clicks(key: str, prefix: str) -> tuple[str, float, float] | None:
    """The click that triggered this run on a picture inside ``st.container(key=...)`` whose key starts with
    ``prefix``, as (that key, x, y) with x and y the fractions 0–1 of the picture's width and height; None on
    any other run."""
    result = _image_component()(key=key, data={"prefix": prefix}, on_click_change=lambda: None)
    click = getattr(result, "click", None)
    if not isinstance(click, dict):
        return None
    try:
        name, x, y = str(click["name"]), float(click["x"]), float(click["y"])
    except (KeyError, TypeError, ValueError):
        return None
    return (name, min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)) if name.startswith(prefix) else None
