"""How many device pixels the visitor's screen has per CSS pixel, so map pictures are sent at the size they are
shown (CSS size × devicePixelRatio) and no larger.

The browser is asked once per session by a tiny component. It reports only a ratio that differs from the one
the server already holds (1 until told), so a plain screen never causes a rerun, and a high-density one causes
one, after which its maps come sharp.
"""

from __future__ import annotations

import math
from functools import cache

import streamlit as st

from ui.common import keys

MAX_DPR = 2.0  # denser screens get 2× pictures: the eye cannot tell, and the bytes grow with the square

_JS = """
export default function(component) {
  const { setStateValue, data } = component;
  const report = () => {
    const dpr = Math.round((window.devicePixelRatio || 1) * 100) / 100;
    if (Math.abs(dpr - data.known) > 0.01) setStateValue('dpr', dpr);
  };
  report();
  const media = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
  media.addEventListener('change', report);  // dragged to another screen, or zoomed
  return () => media.removeEventListener('change', report);
}
"""


@cache
def _component():
    return st.components.v2.component("cnn_screen_dpr", js=_JS)


def device_pixel_ratio(key: str) -> float:
    """The visitor's devicePixelRatio (1 until the browser has said otherwise), between 1 and MAX_DPR; mounts the
    probe under ``key`` (one per page)."""
    # The ratio as reported, not capped: the probe compares it with its own and stays quiet when they agree.
    reported = float(st.session_state.get(keys.SCREEN_DPR, 1.0))
    result = _component()(key=key, data={"known": reported}, on_dpr_change=lambda: None)
    told = getattr(result, "dpr", None)
    if isinstance(told, (int, float)) and math.isfinite(told) and told > 0:
        st.session_state[keys.SCREEN_DPR] = float(told)
    return known_dpr()


def known_dpr() -> float:
    """The devicePixelRatio this session's browser last reported (1 until it has), between 1 and MAX_DPR."""
    return min(max(float(st.session_state.get(keys.SCREEN_DPR, 1.0)), 1.0), MAX_DPR)


def picture_side(map_side: int, css_px: int, dpr: float) -> int:
    """The side to send a ``map_side``-pixel map at when it is shown ``css_px`` CSS pixels wide on a screen with
    ``dpr`` device pixels per CSS pixel: shrunk by the largest whole factor that still leaves at least one
    picture pixel per device pixel (so the box average is exact and the picture stays sharp); never enlarged."""
    want = max(1, math.ceil(css_px * dpr))
    factor = max(1, map_side // want)
    return math.ceil(map_side / factor)
