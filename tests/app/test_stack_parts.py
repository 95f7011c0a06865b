"""The Layer stack's parts that rerun on their own (views/layer_stack.py): a weight's step redraws the maps, the open
filter's preview and the spec file's download, not the editor around its slider; a layer's edit redraws the editor
and the maps, not the page. Neither leaves a stale part on screen.

As for the Playground (test_playground_parts.py): each test sees the partial run as it was (``partial_runs``,
tests/app/conftest.py), then draws the whole page in a plain run, and checks that the page a browser shows (the
parts kept from before the step, the parts the step redrew) is the page the plain run draws: every text, widget,
picture and file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnn_core.spec import parse_spec
from tests import band_tiles
from tests.app.conftest import parts_redrawn
from tests.app.parts import shown, stale
from tests.stack_specs import outline_sobel_stack
from ui.stack import keys

pytestmark = pytest.mark.partial_runs

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "layer_stack.py")

SPEC = outline_sobel_stack(40)
WEIGHT = keys.filter_("L1", 0, "cNone_w1_1")
BIAS = keys.filter_("L1", 0, "bias")


def _open() -> tuple[AppTest, dict]:
    """The stack above with its convolution's settings open, filter 0 (by hand) on sliders."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    for k, v in {keys.SPEC: SPEC, keys.IDS: ["L1", "L2", "L3"], keys.NEXT_ID: 3, keys.OPEN: "L1"}.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, at.exception
    assert not parts_redrawn()
    assert any(s.key == WEIGHT for s in at.slider)
    return at, shown(at)


def _step(at: AppTest, kind: str, key: str, value) -> tuple[dict, dict]:
    """Set the ``kind`` widget ``key`` to ``value`` (a partial run), then draw the page whole; what each drew."""
    getattr(at, kind)(key=key).set_value(value).run()
    assert not at.exception, at.exception
    assert parts_redrawn(), "the change reran the whole page"
    step = shown(at)
    at.run()
    assert not parts_redrawn()
    return step, shown(at)


def _preview(page: dict) -> list[str]:
    return [t for _, t in page["texts"] if t.startswith("Filter 0's output") or "mean" in t and "zeros" in t]


def test_a_weight_step_redraws_the_maps_the_preview_and_the_file_not_the_editor():
    at, before = _open()
    step, after = _step(at, "slider", WEIGHT, 6.0)
    # Not the editor: no slider, no layer's setting, no shapes table.
    assert not any(k.startswith(keys.layer("L1", "")) for k in step["widgets"]), sorted(step["widgets"])
    assert not any(t.startswith("**1 · Convolution** →") for _, t in step["texts"])  # the layer's row
    # The maps, the preview and the spec file changed, and the step drew them as the whole page does.
    changed = [f for f in after["files"] if f not in before["files"]]
    assert any(kind == "download" for kind, _ in changed), "the spec file did not follow the weight"
    assert len([f for f in changed if f[0] == "image"]) >= 4  # a tile in each band after the input, the preview
    assert all(f in step["files"] for f in changed)
    assert _preview(step) and _preview(step) == _preview(after)
    assert not stale(before, step, after, (WEIGHT, 6.0))
    assert parse_spec(at.session_state[keys.SPEC]).layers[0].filters[0].weights[1][1] == 6.0


def test_a_bias_step_redraws_what_the_weights_decide():
    at, before = _open()
    step, after = _step(at, "number_input", BIAS, 0.5)
    assert BIAS not in step["widgets"]
    assert any(f[0] == "download" and f not in before["files"] for f in step["files"])
    assert not stale(before, step, after, (BIAS, 0.5))


def test_a_layer_edit_redraws_the_editor_and_the_maps():
    at, before = _open()
    step, after = _step(at, "selectbox", keys.layer("L1", "kh"), 5)
    assert keys.layer("L1", "kh") in step["widgets"]  # the editor was redrawn (its sliders are now 5 × 3)
    assert not stale(before, step, after, (keys.layer("L1", "kh"), 5))
    before = after
    step, after = _step(at, "selectbox", keys.layer("L1", "padmode"), "valid")
    assert not stale(before, step, after, (keys.layer("L1", "padmode"), "valid"))
    assert "36×38×2" in " ".join(t for _, t in step["texts"])  # the maps' shapes follow (a 5×3 kernel, valid)


def test_the_check_finds_a_preview_left_stale():
    """The check above can fail: a step that left the filter's preview and the spec file as they were is caught."""
    at, before = _open()
    step, after = _step(at, "slider", WEIGHT, 6.0)
    assert stale(before, dict(step, files=[], texts=[]), after)


def test_a_weight_step_sends_inline_only_the_pictures_it_changed():
    """Each tile is named by its picture's address; the picture itself comes in the band's message only when the
    page hasn't been sent it there yet: every tile on a new page, then only the tiles a step changed."""
    at, _ = _open()
    first = [t for b in band_tiles.bands(at) for t in b["tiles"]]
    assert first and all("/media/" in t["src"] and t["inline"].startswith("data:image/png") for t in first)
    before = {t["id"]: t["src"] for t in first}
    at.slider(key=WEIGHT).set_value(6.0).run()
    assert not at.exception, at.exception
    step = [t for b in band_tiles.bands(at) for t in b["tiles"]]
    assert {t["id"] for t in step} == set(before)
    for t in step:
        assert ("inline" in t) == (t["src"] != before[t["id"]]), t["id"]
    assert {"1_0", "2_0", "3_0"} <= {t["id"] for t in step if "inline" in t}  # filter 0's channel, in every band
    assert not any("inline" in t for t in step if t["id"].startswith("0_"))  # the input's band: unchanged
