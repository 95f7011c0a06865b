"""Layer stack views travel in links: a fresh session opened from the URL shows the same stack and maps."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from cnn_core import parse_spec
from tests import band_tiles
from tests.app.conftest import run as _run

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "layer_stack.py")


def _params(at: AppTest) -> dict[str, str]:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def test_stack_link_round_trip():
    at = _run(AppTest.from_file(PAGE, default_timeout=120))
    at.button(key="ls_start_vgg_block_random").click()
    _run(at)
    at.button(key="ls_add_activation").click()
    _run(at)
    at.selectbox(key="ls_cmap").set_value("viridis")
    _run(at)
    params = _params(at)
    assert params["p"] == "stack" and len("&".join(f"{k}={v}" for k, v in params.items())) < 2000
    want_spec = parse_spec(at.session_state["ls_spec"])
    want_table = next(d.value for d in at.dataframe if "Stage" in d.value.columns)

    fresh = AppTest.from_file(PAGE, default_timeout=120)
    for k, v in params.items():
        fresh.query_params[k] = v
    _run(fresh)
    assert not fresh.warning
    assert parse_spec(fresh.session_state["ls_spec"]) == want_spec
    assert fresh.selectbox(key="ls_cmap").value == "viridis"
    table = next(d.value for d in fresh.dataframe if "Stage" in d.value.columns)
    assert table.equals(want_table)
    # The thumbnails are content-addressed media URLs: equal URLs mean equal pictures.
    got = [url for img in fresh.get("image") for url in img.value] + band_tiles.pictures(fresh)
    want = [url for img in at.get("image") for url in img.value] + band_tiles.pictures(at)
    assert got == want and got


def test_hostile_stack_link_warns_and_keeps_defaults():
    fresh = AppTest.from_file(PAGE, default_timeout=120)
    fresh.query_params["p"] = "stack"
    fresh.query_params["c"] = "A" * 7000
    _run(fresh)
    assert len(fresh.warning) == 1
    default = _run(AppTest.from_file(PAGE, default_timeout=120))
    assert parse_spec(fresh.session_state["ls_spec"]) == parse_spec(default.session_state["ls_spec"])
