"""A session's first maps as plain pictures, upgraded to interactive Plotly figures once the browser holds Plotly.

Streamlit's browser code loads Plotly (PlotlyChart.js, about 4.7 MB) only when the first Plotly figure arrives,
then parses it and draws the figures: on a busy 2-core machine that is most of a new session's wait for its maps
(benchmarks/README.md, "First impression, round 5"). So a session's first run sends each map as the PNG its
figure would show (the same data URI, from ``ui.common.figures.picture_uri``), and a small probe beside them
imports Streamlit's own Plotly chunk once the pictures are painted and then asks for a rerun of the page; that run, and
every later one, sends the figures, which draw at once from the module the probe already loaded. Any other
rerun (a slider moved before Plotly arrived) upgrades them too: the pictures are only ever a first paint.

The probe asks for its rerun only while no other run is going or asked for, and not at all once a later run has
drawn the figures (it is then unmounted). A request sent in the middle of another run carries the widgets and
the address as they were before that run changed them: in round 5 the upgrade, landing just after a click on
the inspector's picture, put the inspector back on its default value (see also ui/common/history.py and the
inspector's widget generations in ui/common/inspector.py, which make such a late request harmless anyway).

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
  let gone = false;  // unmounted: a later run already drew the figures
  // The rerun is asked for only while no run is going or asked for: a request sent during another run carries
  // the widgets and the address as they were before that run changed them (ui/common/history.py).
  const idle = () => {
    const app = document.querySelector('[data-testid=stApp]');
    return !app || !app.dataset.testScriptState || app.dataset.testScriptState === 'notRunning';
  };
  const ask = () => {
    if (gone || (data.drawn && document.querySelector(data.drawn))) return;  // a later run drew the figures
    if (!idle()) return setTimeout(ask, 100);
    setStateValue('ready', true);
  };
  const ready = () => {
    window.__cnnPlotlyLoaded = performance.now();  // for benchmarks/browser.py: when Plotly was loaded
    if (data.rerun) ask();
  };
  const load = () => {
    if (!index || !data.chunk) return ready();
    import(new URL(data.chunk, index).href).then(ready, ready);  // a failed load still upgrades: Streamlit retries
  };
  // After the pictures are painted: the download and the module's parse must not hold them back.
  requestAnimationFrame(() => setTimeout(load, 0));
  return () => { gone = true; };
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
    pictures were sent ("due" until the probe is mounted, then True)."""
    if st.session_state.get(shown_key) or not browser_attached():
        return False
    st.session_state[shown_key] = "due"
    return True


def ask_for_figures(probe_key: str, shown_key: str, drawn: str) -> None:
    """Mount the probe if this run drew the pictures: it loads Streamlit's Plotly chunk, then reruns the page,
    whose maps are then figures. ``drawn`` is a CSS selector that finds a figure: once one is there (another
    run drew them first), the probe asks for nothing.

    Call it outside every fragment, after the fragment that drew the pictures: the probe's rerun must be the
    whole page's. Streamlit's browser code sends the widget changes of one moment as one request, scoped to
    the first fragment among them, so a fragment-scoped probe that fired together with a change outside the
    fragment (the sidebar's upload, in round 5's CI run) made that change rerun only the fragment, and the
    upload was never read. A page-scoped probe at worst makes a fragment's change rerun the page."""
    if st.session_state.get(shown_key) != "due":
        return
    st.session_state[shown_key] = True
    data = {"chunk": plotly_chunk(), "rerun": True, "drawn": drawn}
    _component()(key=probe_key, data=data, on_ready_change=lambda: None)


def preload(probe_key: str) -> None:
    """Mount a probe that only loads Streamlit's Plotly chunk, for figures that the same script run will send
    later (the first screen's, while the server imports TensorFlow)."""
    _component()(key=probe_key, data={"chunk": plotly_chunk(), "rerun": False})
