"""Maps first: after a weight's edit, the browser paints the new maps before the rest of the step arrives.

A weight's edit reruns the part of the page that shows the maps: the maps, then what explains them (the
Playground's stage notes, inspector and share panel, about 30 elements; the Layer stack's worked sum, timing, share
link, filter preview and spec file). Sent straight after the maps, those kept the browser's main thread busy
(Streamlit's React tree renders each arriving element, and a map view's own code runs only after that), so the new
maps were painted only after the step's last message. The visitor, moving a weight, is looking at the maps.

So the weight's callback marks the run (``note_step``), and the part, once its maps are sent, waits
``ALLOWANCE_S`` (``after_maps``) before drawing the rest, which Streamlit shows as updating meanwhile. The wait
holds no CPU and no lock: the server's other sessions go on, and a newer edit waits for the run to end, as it
would anyway. Measured on the 2-core reference machine (benchmarks/README.md, round 12), a Playground step at
1024² painted its maps in 140 ms instead of 169 with a 30 ms wait, and in 130 ms instead of 177 with 80 ms; the
run as a whole ends about that much later.
"""

from __future__ import annotations

from time import sleep

import streamlit as st

ALLOWANCE_S = 0.05


def note_step(flag: str) -> None:
    """From a weight's callback: this run's maps should paint before the rest of their part is drawn."""
    st.session_state[flag] = True


def after_maps(flag: str) -> bool:
    """Once a part's maps are sent: if a weight's edit asked for it (``note_step``), give the browser
    ``ALLOWANCE_S`` to paint them. Whether it waited."""
    if not st.session_state.pop(flag, False):
        return False
    sleep(ALLOWANCE_S)
    return True
