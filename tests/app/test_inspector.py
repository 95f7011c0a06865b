"""The inspector under AppTest: typed positions explain the right value, and a link opens on its position."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import cnn_core
from cnn_core import share
from tests.app.conftest import run as _run
from tests.app.inspector_steps import animate_at, pick

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND = str(ROOT / "views" / "playground.py")


@pytest.fixture(scope="module")
def stages():
    return cnn_core.run_pipeline(cnn_core.load_image(ROOT / "assets" / "camera.png"), cnn_core.default_spec())


def _said(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n" + "\n".join(h.proto.body for h in at.get("html"))


def test_typing_a_position_explains_that_value(stages):
    at = _run(AppTest.from_file(PLAYGROUND, default_timeout=120))
    pick(at, "pg", "insp_row").set_value(7)
    pick(at, "pg", "insp_col").set_value(299)
    _run(at)
    value = float(stages[1].maps[7, 299, 0])
    text = _said(at)
    assert f"**stage 1 · Convolution**, row 7, column 299, channel 0: the map holds **{value:.6g}**" in text
    assert f"the map holds <b>{value:.6g}</b> ✓ equal" in text
    # Column 300 is SAME padding on the right: drawn as padding.
    assert "col 300" in text and 'class="pad"' in text
    # Pooling: the window and its winner; the position scales with the map.
    pick(at, "pg", "insp_stage").set_value(3)
    _run(at)
    assert pick(at, "pg", "insp_row").value == 3 and pick(at, "pg", "insp_col").value == 149
    assert "The largest real cell wins" in _said(at)


def test_a_late_request_with_the_old_row_and_column_does_not_undo_a_change_of_map():
    # The visitor picks another map; a second request (another click, the first-paint probe's upgrade) was sent
    # before that run's new row and column reached the browser, so it carries the old ones. Under one key for
    # every value, Streamlit took them for typing and put the inspector back on (149, 149).
    at = _run(AppTest.from_file(PLAYGROUND, default_timeout=120))
    assert (pick(at, "pg", "insp_row").value, pick(at, "pg", "insp_col").value) == (150, 150)
    pick(at, "pg", "insp_stage").set_value(3)
    late = at._tree.get_widget_states()  # the browser's widgets as the map click sends them: row 150, col 150
    _run(at)
    assert (pick(at, "pg", "insp_row").value, pick(at, "pg", "insp_col").value) == (75, 75)
    at._run(late)  # the late request, with the same old values
    assert not at.exception
    assert pick(at, "pg", "insp_stage").value == 3
    assert (pick(at, "pg", "insp_row").value, pick(at, "pg", "insp_col").value) == (75, 75)
    assert "row 75, column 75" in _said(at)


def test_a_link_opens_on_its_explained_value(stages):
    at = AppTest.from_file(PLAYGROUND, default_timeout=120)
    for k, v in share.encode_state(share.LinkState(at=(2, 120, 33, 0))).items():
        at.query_params[k] = v
    _run(at)
    assert pick(at, "pg", "insp_stage").value == 2
    assert (pick(at, "pg", "insp_row").value, pick(at, "pg", "insp_col").value) == (120, 33)
    value = float(stages[2].maps[120, 33, 0])
    text = _said(at)
    assert f"row 120, column 33, channel 0: the map holds **{value:.6g}**" in text
    assert "max(0, x)" in text


@pytest.mark.slow
def test_the_animation_sweep_equals_the_maps_where_the_crop_is_the_whole_input():
    import numpy as np

    from tests.core.test_explain import random_case
    from ui.common import animation

    rng = np.random.default_rng(4)
    compared = 0
    for _ in range(60):
        _, _, stages = random_case(rng)
        for k in range(1, len(stages)):
            layer, prev = stages[k].plan.layer, stages[k - 1]
            if stages[k].name not in ("conv2d", "pool2d"):
                continue
            (ch, cw), ar = animation.crop_plan(prev.shape[:2], layer)
            assert ar[0].out >= 1 and ar[1].out >= 1
            x = prev.maps[:ch, :cw, 0].astype(np.float64)
            conv = stages[k].name == "conv2d"
            weights = cnn_core.layer_kernel(layer, prev.shape[2])[:, :, 0, 0].astype(np.float64) if conv else None
            out, taps = animation.sweep(x, layer, weights, ar)
            fig = animation.build_figure(x, out, taps, ar, "t").to_dict()
            assert len(fig["frames"]) == out.size == len(taps)
            # Padding taps are exactly those outside the crop.
            for tr, tc, pad in taps:
                assert (pad == ~((tr >= 0) & (tr < ch) & (tc >= 0) & (tc < cw))).all()
            if (ch, cw) == prev.shape[:2] and (not conv or prev.shape[2] == 1):
                ref = stages[k].maps[:, :, 0].astype(np.float64) - (layer.bias[0] if conv else 0.0)
                np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
                compared += 1
    assert compared >= 15


def test_same_padding_in_the_animation_is_uneven_on_the_bottom_and_right():
    from ui.common import animation

    layer = cnn_core.parse_spec(
        {"version": 1, "layers": [{"type": "conv2d", "filters": ["edge"], "stride": 2, "padding": "same"}]}
    ).layers[0]
    (ch, cw), ar = animation.crop_plan((300, 300), layer)
    assert (ch, cw) == (8, 8)  # even, so stride 2 with a 3×3 window needs one extra row and column
    assert [(a.pad_before, a.pad_after, a.out) for a in ar] == [(0, 1, 4), (0, 1, 4)]


def test_the_animation_centres_on_the_selected_value_not_the_corner(stages):
    import json

    at = _run(AppTest.from_file(PLAYGROUND, default_timeout=120))
    said = animate_at(at, "pg", 93, 126)
    assert "Around row 93, column 126: outputs rows 90–96, columns 123–129 (7×7)" in said
    # It opens on the selected value's own frame: the 25th of 49, the centre of the block.
    assert at.number_input(key="pg_anim_step").value == 25
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    fig = [f for f in figs if f["layout"].get("sliders")][0]
    value = float(stages[1].maps[93, 126, 0])
    assert f"step 25 of 49, output (row 93, col 126) = {value:.2f}" in fig["layout"]["title"]["text"]
    out = [t for t in fig["data"] if t["type"] == "heatmap" and t.get("colorscale") and "texttemplate" in t][0]
    assert out["x"] == list(range(123, 130)) and out["y"] == list(range(90, 97))
    # Every frame's title is the map's value at its cell.
    for f in fig["frames"]:
        t = int(f["name"])
        r, c = 90 + t // 7, 123 + t % 7
        assert f"output (row {r}, col {c}) = {float(stages[1].maps[r, c, 0]):.2f}" in f["layout"]["title"]["text"]
    # A value at the border: the block is shifted inward, the value's own frame is off-centre.
    pick(at, "pg", "insp_row").set_value(0)
    pick(at, "pg", "insp_col").set_value(299)
    _run(at)
    assert "Around row 0, column 299: outputs rows 0–6, columns 293–299" in "\n".join(c.value for c in at.caption)
    assert at.number_input(key="pg_anim_step").value == 7
