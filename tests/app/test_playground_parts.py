"""The Playground's parts that rerun on their own (views/playground.py): a step redraws less, and never leaves a
stale part on screen.

A weight's slider reruns only the maps' part (and the kernel's heading when what it says changes); a layer's
setting reruns the maps' part and the settings. A browser keeps every part the run did not redraw as it was. These
tests see the partial run as it was (``partial_runs``, tests/app/conftest.py), then draw the whole page in a plain
run, and check that the page a browser shows (the parts kept from before the step, the parts the step redrew) is
the page the plain run draws: every text and every widget's label, options and value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests import map_views
from tests.app.conftest import parts_redrawn
from tests.app.parts import shown, stale
from ui.playground import keys

pytestmark = pytest.mark.partial_runs

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "playground.py")


def _open() -> tuple[AppTest, dict]:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not parts_redrawn()
    return at, shown(at)


def _step(at: AppTest, kind: str, key: str, value) -> tuple[dict, dict]:
    """Set the ``kind`` widget ``key`` to ``value`` (a partial run), then draw the page whole; what each drew."""
    getattr(at, kind)(key=key).set_value(value).run()
    assert parts_redrawn(), "the change reran the whole page"
    step = shown(at)
    at.run()
    assert not parts_redrawn()
    return step, shown(at)


def test_a_weight_step_redraws_the_maps_not_the_sliders_and_leaves_nothingstale():
    at, before = _open()
    # The first edit of a preset changes what the kernel's heading says ("edited by hand"): the editor is redrawn.
    step, after = _step(at, "slider", keys.weight(1, 1), 7.5)
    assert keys.PRESET in step["widgets"]
    assert any("edited by hand" in v for _, v in step["texts"])
    assert not stale(before, step, after, (keys.weight(1, 1), 7.5))
    # A second step changes no heading: only the maps and what explains them are redrawn.
    before = after
    step, after = _step(at, "slider", keys.weight(0, 0), -3.0)
    assert keys.weight(0, 0) not in step["widgets"] and keys.PRESET not in step["widgets"]
    assert keys.setting("stride") not in step["widgets"]
    assert len(step["maps"]) == 4 and any("Computed by TensorFlow" in v for _, v in step["texts"])
    assert not stale(before, step, after, (keys.weight(0, 0), -3.0))
    # The maps the step drew are the maps the whole page draws, and they changed.
    assert [m["src"] for m in step["maps"]] == [m["src"] for m in after["maps"]]
    assert step["maps"][1]["src"] != before["maps"][1]["src"]
    np.testing.assert_array_equal(map_views.hover(step["maps"][1]), map_views.hover(after["maps"][1]))


def test_a_layer_setting_redraws_the_settings_and_the_maps():
    at, before = _open()
    step, after = _step(at, "selectbox", keys.setting("padding"), "zeros on every side")
    # The settings are redrawn (a new field appears), the kernel's editor is not.
    assert keys.setting("pad") in step["widgets"] and keys.PRESET not in step["widgets"]
    assert not stale(before, step, after, (keys.setting("padding"), "zeros on every side"))
    before = after
    step, after = _step(at, "select_slider", keys.setting("stride"), 2)
    assert not stale(before, step, after, (keys.setting("stride"), 2))
    assert step["maps"][1]["src"] != before["maps"][1]["src"]


def test_a_preset_redraws_the_editor_and_the_maps():
    at, before = _open()
    _, before = _step(at, "slider", keys.weight(1, 1), 2.0)
    step, after = _step(at, "selectbox", keys.PRESET, "sobel_x")
    assert keys.weight(1, 1) in step["widgets"]
    assert not stale(before, step, after, (keys.PRESET, "sobel_x"))


def test_the_check_finds_a_part_leftstale():
    """The check above can fail: a step that left the kernel's heading as it was is caught."""
    at, before = _open()
    at.slider(key=keys.weight(1, 1)).set_value(7.5).run()
    after = shown(at)
    kept = dict(after, widgets={k: v for k, v in after["widgets"].items() if k != keys.PRESET})
    assert stale(before, kept, after)
