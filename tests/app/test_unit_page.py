"""The unit page under AppTest: it follows its link, shows the unit's parts, never starts Ray just to render, and
the maps of the Trained network page link to it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnn_core import tiny_vgg
from ui.common.unit_links import channel_links, parse_unit, unit_href

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "unit.py")


def _app(query: dict | None = None, state: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    for k, v in (state or {}).items():
        at.session_state[k] = v
    return at.run()


def _text(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def test_a_link_opens_its_unit_with_weights_neighbours_and_the_feature_visualisation():
    at = _app({"unit": "conv_2_2:3"})
    assert not at.exception and not at.error and not at.warning
    assert at.title[0].value == "Unit conv_2_2:3"
    text = _text(at)
    kernel, bias = tiny_vgg.conv_filters(tiny_vgg.load_model(), "conv_2_2")
    assert f"bias {float(bias[3]):.4g}" in text
    for href in ("unit?unit=conv_2_2:2", "unit?unit=conv_2_2:4", "unit?unit=relu_2_1:3", "unit?unit=relu_2_2:3"):
        assert f"]({href})" in text
    assert "Feature visualisation" in text and "128 steps of gradient ascent" in text
    assert "Grad-CAM for this unit" in text and "the maps of relu_2_1" in text
    assert "Find the top pictures" in [b.label for b in at.button]


def test_a_bad_link_warns_and_shows_the_default_unit():
    at = _app({"unit": "no_such_layer:2"})
    assert not at.exception
    assert "no_such_layer is not a layer with maps" in at.warning[0].value
    assert at.title[0].value == "Unit conv_1_1:0"
    at = _app({"unit": "conv_1_1:99"})
    assert "conv_1_1 has channels 0 to 9; showing channel 9" in at.warning[0].value
    at = _app({"unit": "conv_1_1"})
    assert "is not LAYER:CHANNEL" in at.warning[0].value.replace("\u2060", "")  # plain() keeps ':' from emoji codes


def test_a_link_for_an_uploaded_model_without_one_says_so():
    at = _app({"unit": "b_conv1:0", "model": "yours"})
    assert not at.exception
    assert "uploaded on the Your model page" in at.warning[0].value
    assert at.title[0].value == "Unit conv_2_2:0"


def test_the_your_model_pages_model_is_used_when_the_session_has_it(tmp_path):
    from tests.core import model_builders

    model = model_builders.nested()
    model.save(tmp_path / "n.keras")
    data = (tmp_path / "n.keras").read_bytes()
    at = _app({"unit": "backbone/block/blk_conv:1", "model": "yours"}, {"ym_model_bytes": ("n.keras", data)})
    assert not at.exception and not at.error and not at.warning
    assert at.title[0].value == "Unit backbone/block/blk_conv:1"
    assert "unit?unit=backbone/block/blk_conv:2&model=yours" in _text(at)


@pytest.mark.slow
def test_rendering_the_page_never_imports_ray():
    # A fresh interpreter: the scan's tests import Ray into the test process on purpose.
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({PAGE!r}, default_timeout=180)\n"
        "at.query_params['unit'] = 'relu_1_2:4'\n"
        "at.run()\n"
        "assert not at.exception, at.exception\n"
        "print('TITLE', at.title[0].value)\n"
        "print('RAY', 'ray' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert "TITLE Unit relu_1_2:4" in out.stdout, out.stderr[-2000:]
    assert "RAY False" in out.stdout


def test_every_map_of_the_trained_network_page_links_to_its_unit():
    at = AppTest.from_file(str(ROOT / "views" / "trained_network.py"), default_timeout=120).run()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    for layer in ("conv_1_1", "relu_1_1", "conv_1_2", "max_pool_1", "conv_2_2", "max_pool_2"):
        for c in (0, 9):
            assert f"]({unit_href(layer, c)})" in text
    assert "unit?unit=input:" not in text


def test_links_round_trip():
    assert unit_href("backbone/block1_conv1", 3, "yours") == "unit?unit=backbone/block1_conv1:3&model=yours"
    assert parse_unit("backbone/block1_conv1:3") == ("backbone/block1_conv1", 3)
    assert channel_links("c", 2) == "Unit pages: [1](unit?unit=c:0) [2](unit?unit=c:1)"
    assert np.all([parse_unit(unit_href(f"l{k}", k).split("=", 1)[1]) == (f"l{k}", k) for k in range(3)])


def test_every_map_of_the_your_model_page_links_to_its_unit_of_that_model():
    at = AppTest.from_file(str(ROOT / "views" / "your_model.py"), default_timeout=120).run()
    assert not at.exception
    captions = "\n".join(c.value for c in at.caption)
    for layer in ("conv_1_1", "relu_1_1", "conv_1_2"):
        for c in range(10):
            assert f"[{c}]({unit_href(layer, c, 'yours')})" in captions  # channels count from 0
    # The unit page in the same visit finds the model the Your model page holds.
    assert at.session_state["ym_model_bytes"][0] == "tiny_vgg.keras"
