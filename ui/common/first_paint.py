"""A session's first maps as plain pictures, upgraded to interactive Plotly figures once the browser holds Plotly.

Streamlit's browser code loads Plotly (PlotlyChart.js, about 4.7 MB) only when the first Plotly figure arrives,
then parses it and draws the figures: on a busy 2-core machine that is most of a new session's wait for its maps
(benchmarks/README.md, "First impression, round 5"). So a session's first run sends each map as the PNG its
figure would show (the same data URI, from ``ui.common.figures.picture_uri``), and a small probe beside them
imports Streamlit's own Plotly chunk once the pictures are painted and then asks for a rerun; that run, and
every later one, sends the figures, which draw at once from the module the probe already loaded. Any other
rerun (a slider moved before Plotly arrived) upgrades them too: the pictures are only ever a first paint.

A session without a browser (``streamlit.testing``'s AppTest, which runs no JavaScript and sends no headers)
gets the figures straight away, since nothing could ever ask for the upgrade.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st

# Streamlit's Plotly chunk, by its hashed name in this installation's static files (None: not found, e.g. a
# rebuilt frontend; the probe then asks for the upgrade without preloading anything).
_STATIC_JS = Path(st.__file__).resolve().parent / "static" / "static" / "js"

_JS = """
export default function(component) {
  const { setStateValue, data } = component;
  // The chunk's URL as Streamlit's own code imports it: beside its index script (so the module is loaded once).
  const index = Array.from(document.querySelectorAll('script[type=module][src]'))
    .map((s) => s.src).find((src) => /\\/static\\/js\\/index\\.[^/]+\\.js/.test(src));
  const ready = () => {
    window.__cnnPlotlyLoaded = performance.now();  // for benchmarks/browser.py: when Plotly was loaded
    if (data.rerun) setStateValue('ready', true);
  };
  const load = () => {
    if (!index || !data.chunk) return ready();
    import(new URL(data.chunk, index).href).then(ready, ready);  // a failed load still upgrades: Streamlit retries
  };
  // After the pictures are painted: the download and the module's parse must not hold them back.
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


def browser_attached() -> bool:
    """Whether a browser is on the other end of this session (a real one sends its request headers)."""
    return bool(st.context.headers)


def pictures_first(shown_key: str) -> bool:
    """True on the session's first run that draws its maps (draw them as pictures, then call ``ask_for_figures``);
    False on every later run and without a browser. ``shown_key`` is the session-state flag that remembers the
    pictures were sent."""
    if st.session_state.get(shown_key) or not browser_attached():
        return False
    st.session_state[shown_key] = True
    return True


def ask_for_figures(probe_key: str) -> None:
    """Mount the probe (after the pictures, so it starts once they are on their way): it loads Streamlit's Plotly
    chunk, then reruns the script (the fragment around it, inside one), whose maps are then figures."""
    _component()(key=probe_key, data={"chunk": plotly_chunk(), "rerun": True}, on_ready_change=lambda: None)


def preload(probe_key: str) -> None:
    """Mount a probe that only loads Streamlit's Plotly chunk, for figures that the same script run will send
    later (the first screen's, while the server imports TensorFlow)."""
    _component()(key=probe_key, data={"chunk": plotly_chunk(), "rerun": False})
