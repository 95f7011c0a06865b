"""Maps first (ui/common/paint_first.py): a weight's edit sends the new maps, waits for the browser to paint them,
then draws what explains them; other changes don't wait."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.common.inspector
import ui.common.map_view
import ui.stack.band_view
import ui.stack.worked
from tests.stack_specs import outline_sobel_stack
from ui.common import paint_first
from ui.playground import keys as pg_keys
from ui.stack import keys as ls_keys

pytestmark = pytest.mark.partial_runs  # each step's run as it was, not followed by a whole page (tests/app/conftest.py)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def events(monkeypatch):
    """What the pages drew and when they waited, in order: "map", "band", "wait", "inspector", "worked"."""
    seen: list[str] = []

    def spy(module, name: str, label: str) -> None:
        real = getattr(module, name)

        def wrapped(*args, **kwargs):
            seen.append(label)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapped)

    spy(ui.common.map_view, "map_view", "map")
    spy(ui.stack.band_view, "band_view", "band")
    spy(ui.common.inspector, "inspector", "inspector")
    spy(ui.stack.worked, "side", "worked")
    monkeypatch.setattr(paint_first, "sleep", lambda s: seen.append(f"wait {s}"))
    return seen


def _after_maps(seen: list[str], first_after: str) -> list[str]:
    """What came between the last map (or band) and ``first_after``, the first thing drawn after them."""
    last = max(i for i, e in enumerate(seen) if e in ("map", "band"))
    return seen[last + 1 : seen.index(first_after, last)]


def test_a_playground_weight_step_waits_once_between_its_maps_and_the_rest(events):
    at = AppTest.from_file(str(ROOT / "views" / "playground.py"), default_timeout=120)
    at.run()
    assert not any(e.startswith("wait") for e in events)  # the first run: no wait
    events.clear()
    at.slider(key=pg_keys.weight(1, 1)).set_value(7.0).run()
    assert not at.exception, at.exception
    assert events.count("map") >= 4
    assert _after_maps(events, "inspector") == [f"wait {paint_first.ALLOWANCE_S}"]
    assert [e for e in events if e.startswith("wait")] == [f"wait {paint_first.ALLOWANCE_S}"]
    assert pg_keys.WEIGHT_STEP not in at.session_state  # used up: the next run of another kind goes straight on
    at.run()
    events.clear()
    at.radio(key=pg_keys.setting("scale")).set_value("global").run()
    assert events.count("map") >= 4 and not any(e.startswith("wait") for e in events)


def test_a_layer_stack_weight_step_waits_after_its_bands_and_a_layer_edit_does_not(events):
    at = AppTest.from_file(str(ROOT / "views" / "layer_stack.py"), default_timeout=120)
    values = {ls_keys.SPEC: outline_sobel_stack(40), ls_keys.IDS: ["L1", "L2", "L3"], ls_keys.NEXT_ID: 3,
              ls_keys.OPEN: "L1"}  # fmt: skip
    for k, v in values.items():
        at.session_state[k] = v
    at.run()
    events.clear()
    at.slider(key=ls_keys.filter_("L1", 0, "cNone_w1_1")).set_value(6.0).run()
    assert not at.exception, at.exception
    assert events.count("band") >= 4
    assert _after_maps(events, "worked") == [f"wait {paint_first.ALLOWANCE_S}"]
    at.run()
    events.clear()
    at.selectbox(key=ls_keys.layer("L1", "kh")).set_value(5).run()
    assert not at.exception, at.exception
    assert events.count("band") >= 4 and not any(e.startswith("wait") for e in events)
