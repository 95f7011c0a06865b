"""A run sends a widget's value to the browser only when the page changed it (ui/common/fields.py, ``show``).

A value the script writes into a widget's session key goes to the browser with the widget and replaces what
the widget shows there. A run that began before a key press (the first-paint probe's upgrade, another request)
then undid the press: in round 6's suite run, a visitor who stepped a weight slider twice during such a run saw
it end one step away. Streamlit marks a written value on the widget's message (``set_value``), which is what
these tests read.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.app.conftest import run

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND = str(ROOT / "views" / "playground.py")


def test_a_rerun_that_changes_nothing_sends_no_value_over_the_visitors():
    at = run(AppTest.from_file(PLAYGROUND, default_timeout=120))
    run(at)  # nothing changed
    assert at.slider(key="pg_w1_1").value == 8.0
    assert not at.slider(key="pg_w1_1").proto.set_value
    assert not at.radio(key="pg_color").proto.set_value
    # The visitor's own step is theirs already: nothing is sent back over it.
    at.slider(key="pg_w1_1").set_value(7.99)
    run(at)
    assert at.slider(key="pg_w1_1").value == 7.99 and not at.slider(key="pg_w1_1").proto.set_value


def test_a_change_the_page_makes_is_sent():
    at = run(AppTest.from_file(PLAYGROUND, default_timeout=120))
    at.selectbox(key="pg_preset").set_value("sobel_x")
    run(at)
    # The preset rewrote every weight: the sliders must show them.
    assert at.slider(key="pg_w1_1").value == 0.0 and at.slider(key="pg_w1_1").proto.set_value
