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
