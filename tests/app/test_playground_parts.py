"""The Playground's parts that rerun on their own (views/playground.py): a step redraws less, and never leaves a
stale part on screen.

A weight's slider reruns only the maps' part (and the kernel's heading when what it says changes); a layer's
setting reruns the maps' part and the settings. A browser keeps every part the run did not redraw as it was. These
tests see the partial run as it was (``partial_runs``, tests/app/conftest.py), then draw the whole page in a plain
run, and check that the page a browser shows (the parts kept from before the step, the parts the step redrew) is
the page the plain run draws: every text and every widget's label, options and value.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests import map_views
from tests.app.conftest import parts_redrawn
from ui.playground import keys

pytestmark = pytest.mark.partial_runs

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "playground.py")


# How long a run took differs from run to run, and a second run of the same maps finds them cached: these lines
# are compared without their times.
TIMINGS = re.compile(r"\d+(\.\d+)? ms|cached|\(one fused call\)|nothing was recomputed|[\d.]+ s\b")


def _shown(at: AppTest) -> dict:
    """What a run drew, by what a visitor reads: texts (markdown, captions, alerts; times left out) and widgets (by
    key: type, label, options and value), and the map views' data."""
    texts = [
        (e.type, TIMINGS.sub("…", e.value))
        for kind in ("markdown", "caption", "warning", "info", "error")
        for e in at.get(kind)
    ]
    widgets = {}
    for kind in ("slider", "select_slider", "selectbox", "radio", "number_input", "toggle", "checkbox"):
        for e in at.get(kind):
            if e.key:
                widgets[e.key] = (kind, e.label, tuple(getattr(e, "options", ()) or ()), repr(e.value))
    return {"texts": texts, "widgets": widgets, "maps": map_views.views(at)}


def _stale(before: dict, step: dict, after: dict, moved: tuple[str, object] | None = None) -> list[str]:
    """What a browser would show wrongly after ``step`` (a partial run): a widget it kept from ``before`` (the one
    the visitor ``moved`` (key, value) showing its new value) that the plain run ``after`` draws differently, or a
    text the plain run draws that neither run put on screen."""
    kept = dict(before["widgets"])
    if moved is not None:
        kept[moved[0]] = (*kept[moved[0]][:3], repr(moved[1]))
    wrong = []
    for key, drawn in after["widgets"].items():
        shown = step["widgets"].get(key, kept.get(key))
        if shown != drawn:
            wrong.append(f"widget {key}: the page shows {shown}, the page drawn whole shows {drawn}")
    on_screen = set(step["texts"]) | set(before["texts"])
    wrong += [f"text {t!r} is missing" for t in after["texts"] if t not in on_screen]
    return wrong


def _open() -> tuple[AppTest, dict]:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not parts_redrawn()
    return at, _shown(at)


def _step(at: AppTest, kind: str, key: str, value) -> tuple[dict, dict]:
    """Set the ``kind`` widget ``key`` to ``value`` (a partial run), then draw the page whole; what each drew."""
    getattr(at, kind)(key=key).set_value(value).run()
    assert parts_redrawn(), "the change reran the whole page"
    step = _shown(at)
    at.run()
    assert not parts_redrawn()
    return step, _shown(at)


def test_a_weight_step_redraws_the_maps_not_the_sliders_and_leaves_nothing_stale():
    at, before = _open()
    # The first edit of a preset changes what the kernel's heading says ("edited by hand"): the editor is redrawn.
    step, after = _step(at, "slider", keys.weight(1, 1), 7.5)
    assert keys.PRESET in step["widgets"]
    assert any("edited by hand" in v for _, v in step["texts"])
    assert not _stale(before, step, after, (keys.weight(1, 1), 7.5))
    # A second step changes no heading: only the maps and what explains them are redrawn.
    before = after
    step, after = _step(at, "slider", keys.weight(0, 0), -3.0)
    assert keys.weight(0, 0) not in step["widgets"] and keys.PRESET not in step["widgets"]
    assert keys.setting("stride") not in step["widgets"]
    assert len(step["maps"]) == 4 and any("Computed by TensorFlow" in v for _, v in step["texts"])
    assert not _stale(before, step, after, (keys.weight(0, 0), -3.0))
    # The maps the step drew are the maps the whole page draws, and they changed.
    assert [m["src"] for m in step["maps"]] == [m["src"] for m in after["maps"]]
    assert step["maps"][1]["src"] != before["maps"][1]["src"]
    np.testing.assert_array_equal(map_views.hover(step["maps"][1]), map_views.hover(after["maps"][1]))


def test_a_layer_setting_redraws_the_settings_and_the_maps():
    at, before = _open()
    step, after = _step(at, "selectbox", keys.setting("padding"), "zeros on every side")
    # The settings are redrawn (a new field appears), the kernel's editor is not.
    assert keys.setting("pad") in step["widgets"] and keys.PRESET not in step["widgets"]
    assert not _stale(before, step, after, (keys.setting("padding"), "zeros on every side"))
    before = after
    step, after = _step(at, "select_slider", keys.setting("stride"), 2)
    assert not _stale(before, step, after, (keys.setting("stride"), 2))
    assert step["maps"][1]["src"] != before["maps"][1]["src"]


def test_a_preset_redraws_the_editor_and_the_maps():
    at, before = _open()
    _, before = _step(at, "slider", keys.weight(1, 1), 2.0)
    step, after = _step(at, "selectbox", keys.PRESET, "sobel_x")
    assert keys.weight(1, 1) in step["widgets"]
    assert not _stale(before, step, after, (keys.PRESET, "sobel_x"))


def test_the_check_finds_a_part_left_stale():
    """The check above can fail: a step that left the kernel's heading as it was is caught."""
    at, before = _open()
    at.slider(key=keys.weight(1, 1)).set_value(7.5).run()
    after = _shown(at)
    kept = dict(after, widgets={k: v for k, v in after["widgets"].items() if k != keys.PRESET})
    assert _stale(before, kept, after)
