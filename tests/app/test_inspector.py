"""The inspector under AppTest: typed positions explain the right value, and a link opens on its position."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import cnn_core
from cnn_core import share

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND = str(ROOT / "pages" / "playground.py")


@pytest.fixture(scope="module")
def stages():
    return cnn_core.run_pipeline(cnn_core.load_image(ROOT / "assets" / "camera.png"), cnn_core.default_spec())


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def _said(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n" + "\n".join(h.proto.body for h in at.get("html"))


def test_typing_a_position_explains_that_value(stages):
    at = _run(AppTest.from_file(PLAYGROUND, default_timeout=120))
    at.number_input(key="pg_insp_row").set_value(7)
    at.number_input(key="pg_insp_col").set_value(299)
    _run(at)
    value = float(stages[1].maps[7, 299, 0])
    text = _said(at)
    assert f"**stage 1 · Convolution**, row 7, column 299, channel 0: the map holds **{value:.6g}**" in text
    assert f"the map holds <b>{value:.6g}</b> ✓ equal" in text
    # Column 300 is SAME padding on the right: drawn as padding.
    assert "col 300" in text and 'class="pad"' in text
    # Pooling: the window and its winner; the position scales with the map.
    at.radio(key="pg_insp_stage").set_value(3)
    _run(at)
    assert at.number_input(key="pg_insp_row").value == 3 and at.number_input(key="pg_insp_col").value == 149
    assert "The largest real cell wins" in _said(at)


def test_a_link_opens_on_its_explained_value(stages):
    at = AppTest.from_file(PLAYGROUND, default_timeout=120)
    for k, v in share.encode_state(share.LinkState(at=(2, 120, 33, 0))).items():
        at.query_params[k] = v
    _run(at)
    assert at.radio(key="pg_insp_stage").value == 2
    assert (at.number_input(key="pg_insp_row").value, at.number_input(key="pg_insp_col").value) == (120, 33)
    value = float(stages[2].maps[120, 33, 0])
    text = _said(at)
    assert f"row 120, column 33, channel 0: the map holds **{value:.6g}**" in text
    assert "max(0, x)" in text
