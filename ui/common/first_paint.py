"""Loading Streamlit's Plotly chunk early, while the server is busy with something else.

Streamlit's browser code loads Plotly (PlotlyChart.js, about 4.7 MB) only when the first Plotly figure arrives,
then parses it. The Playground's maps are no longer Plotly figures (ui/common/map_view.py), but its inspector's
animation, further down, is one. The first screen (ui/playground/first_screen.py), drawn while the server
imports TensorFlow, mounts this probe so the browser fetches and parses the chunk in that wait, after the
maps are painted, and the live page's figures then draw at once.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st

# Streamlit's Plotly chunk, by its hashed name in this installation's static files (None: not found, e.g. a
# rebuilt frontend; the probe then loads nothing).
_STATIC_JS = Path(st.__file__).resolve().parent / "static" / "static" / "js"

_JS = """
export default function(component) {
  const { data } = component;
  // The chunk's URL as Streamlit's own code imports it: beside its index script (so the module is loaded once).
  const index = Array.from(document.querySelectorAll('script[type=module][src]'))
    .map((s) => s.src).find((src) => /\\/static\\/js\\/index\\.[^/]+\\.js/.test(src));
  const ready = () => { window.__cnnPlotlyLoaded = performance.now(); };  // for the benchmarks and tests
  const load = () => {
    if (!index || !data.chunk) return ready();
    import(new URL(data.chunk, index).href).then(ready, ready);
  };
  // After the maps are painted: the download and the module's parse must not hold them back.
  requestAnimationFrame(() => setTimeout(load, 0));
}
"""


@cache
def plotly_chunk() -> str | None:
    """The file name of Streamlit's Plotly chunk (``PlotlyChart.<hash>.js``), or None if there is none."""
    found = sorted(_STATIC_JS.glob("PlotlyChart.*.js"))
    return found[0].name if len(found) == 1 else None


@cache
def _component():
    return st.components.v2.component("cnn_plotly_preload", js=_JS)


def preload(probe_key: str) -> None:
    """Mount a probe that only loads Streamlit's Plotly chunk, for figures that the same script run will send
    later (the first screen's, while the server imports TensorFlow)."""
    _component()(key=probe_key, data={"chunk": plotly_chunk()})
