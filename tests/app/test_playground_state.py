"""The Playground never loses or misreports what the user made: issue 10's bugs 1–5, each reproduced step by step.

Each test fails on the code before the fix (checked against commit be3ce91).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

import cnn_core
from cnn_core import share
from cnn_core.kernels import PRESETS
from tests import map_views
from tests.app.conftest import run as _run

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGE = str(ROOT / "views" / "playground.py")
STACK = str(ROOT / "views" / "layer_stack.py")
EDGE = PRESETS["edge"].array().astype(np.float64)


def _headers(at: AppTest) -> list[str]:
    return map_views.headings(at)  # each map view draws its own heading


def _kernel_header(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Kernel**"))


def _link(at: AppTest) -> share.LinkState:
    params = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    state, warning = share.decode_state(params)
    assert warning is None, warning
    return state


def _kernel_in_use(at: AppTest) -> np.ndarray:
    """The kernel of the spec the page shares (the same document 'Download the spec' gives)."""
    f = _link(at).spec.layers[0].filters[0]
    return PRESETS[f.preset].array().astype(np.float64) if f.preset else np.array(f.weights, dtype=np.float64)


def _sliders(at: AppTest, k: int) -> np.ndarray:
    return np.array([[at.slider(key=f"pg_w{i}_{j}").value for j in range(k)] for i in range(k)])


def _edit_grid(at: AppTest, row: int, col: int, value: float) -> AppTest:
    """Type one value into the number grid, as the browser reports a data_editor edit, and rerun.

    AppTest can't edit a data_editor itself, so the edit goes in as the widget state the browser sends.
    """
    editor = at.data_editor[0]
    tree = at._tree
    original = tree.get_widget_states

    def with_edit() -> WidgetStates:
        states = original()
        w = states.widgets.add()
        w.id = editor.proto.id
        w.string_value = json.dumps(
            {"edited_rows": {str(row): {str(col): value}}, "added_rows": [], "deleted_rows": []}
        )
        return states

    tree.get_widget_states = with_edit
    return _run(at)


def test_bug1_grid_then_sliders_keeps_the_kernel():
    at = _run(AppTest.from_file(PAGE, default_timeout=120))
    at.radio(key="pg_mode").set_value("Number grid").run()
    _edit_grid(at, 0, 2, 2.0)
    expected = EDGE.copy()
    expected[0, 2] = 2.0
    np.testing.assert_array_equal(_kernel_in_use(at), expected)
    at.radio(key="pg_mode").set_value("Sliders").run()
    assert not at.exception
    np.testing.assert_array_equal(_sliders(at, 3), expected)
    # Nudging one slider changes that weight only; the spec the page shares says so.
    at.slider(key="pg_w1_1").set_value(7.5).run()
    expected[1, 1] = 7.5
    np.testing.assert_array_equal(_kernel_in_use(at), expected)
    np.testing.assert_array_equal(_sliders(at, 3), expected)
    assert "edited by hand" in _kernel_header(at)


def _sobel_stride2_rgb(at: AppTest) -> None:
    at.selectbox(key="pg_preset").set_value("sobel_x").run()
    at.select_slider(key="pg_stride").set_value(2).run()
    at.radio(key="pg_color").set_value("rgb").run()
    assert not at.exception


def _assert_sobel_stride2_rgb(at: AppTest) -> None:
    assert at.radio(key="pg_color").value == "rgb"
    assert at.select_slider(key="pg_stride").value == 2
    assert at.selectbox(key="pg_preset").value == "sobel_x"
    assert at.selectbox(key="pg_ksize").value == 3
    assert _kernel_header(at) == "**Kernel** · Sobel x · 3×3"
    np.testing.assert_array_equal(_sliders(at, 3), PRESETS["sobel_x"].array())
    layers = _link(at).spec.layers
    assert layers[0].filters[0].preset == "sobel_x" and layers[0].stride == (2, 2)
    assert _link(at).spec.input.color == "rgb"


def test_bug2_settings_survive_a_page_switch():
    at = _run(AppTest.from_file(APP, default_timeout=120))
    _sobel_stride2_rgb(at)
    before = _headers(at)
    assert before[1] == "**→ Convolution** · 150×150×1"
    _run(at.switch_page("views/layer_stack.py"))
    assert not [s for s in at.slider if s.key and s.key.startswith("pg_")]  # the Playground's widgets are gone
    _run(at.switch_page("views/playground.py"))
    _assert_sobel_stride2_rgb(at)
    assert _headers(at) == before


def test_bug2_settings_survive_a_bad_upload():
    at = _run(AppTest.from_file(PAGE, default_timeout=120))
    _sobel_stride2_rgb(at)
    at.radio(key="pg_source").set_value("Upload").run()
    at.file_uploader(key="pg_upload").set_value(("notes.txt", b"not a picture at all", "text/plain")).run()
    assert not at.exception
    # Issue 21: the refusal is said in the sidebar, and the page keeps its last good picture and its maps.
    assert at.sidebar.error and "Still showing" in at.sidebar.error[0].value
    assert _headers(at)[0] == "**Input** · 300×300×3"
    good = (ROOT / "assets" / "coffee.png").read_bytes()
    at.file_uploader(key="pg_upload").set_value(("coffee.png", good, "image/png")).run()
    assert not at.exception
    _assert_sobel_stride2_rgb(at)


def _open(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    return _run(at)


def _link_with_kernel(weights: np.ndarray) -> dict[str, str]:
    spec = cnn_core.parse_spec(
        {
            "version": 1,
            "input": {"color": "grayscale", "size": [300, 300]},
            "layers": [
                {"type": "conv2d", "filters": [weights.tolist()], "padding": "same"},
                {"type": "activation", "function": "relu"},
                {"type": "pool2d", "mode": "max", "size": 2, "stride": 2, "padding": "same"},
            ],
        }
    )
    return share.encode_state(
        share.LinkState(page="playground", sample="camera", spec=spec, view={"cmap": "auto", "scale": "layer"})
    )


def test_bug3_a_link_with_a_weight_of_50_opens():
    w = EDGE.copy()
    w[0, 2] = 50.0
    at = _open(_link_with_kernel(w))
    assert not at.warning
    assert len(_headers(at)) == 4
    np.testing.assert_array_equal(_sliders(at, 3), w)  # the sliders' range grew to hold it
    assert at.slider(key="pg_w0_2").max >= 50
    np.testing.assert_array_equal(_kernel_in_use(at), w)


def test_bug3_a_weight_beyond_every_slider_range_is_named():
    w = EDGE.copy()
    w[1, 0] = 1e6
    at = _open(_link_with_kernel(w))
    assert "w[1,0] = 1e+06 is beyond the sliders' ±100" in " ".join(x.value for x in at.warning)
    np.testing.assert_array_equal(_kernel_in_use(at), w)
    # Moving another slider keeps the big weight as it is.
    at.slider(key="pg_w0_0").set_value(-2.0).run()
    w[0, 0] = -2.0
    np.testing.assert_array_equal(_kernel_in_use(at), w)


def test_bug3_grid_resize_then_sliders_show_the_kernel_in_use():
    at = _run(AppTest.from_file(PAGE, default_timeout=120))
    at.radio(key="pg_mode").set_value("Number grid").run()
    at.selectbox(key="pg_ksize").set_value(5).run()
    at.radio(key="pg_mode").set_value("Sliders").run()
    assert not at.exception
    expected = np.zeros((5, 5))
    expected[1:4, 1:4] = EDGE
    np.testing.assert_array_equal(_kernel_in_use(at), expected)
    np.testing.assert_array_equal(_sliders(at, 5), expected)
    assert _kernel_header(at).endswith("· 5×5")


def test_bug4_zero_share_never_rounds_to_100_percent():
    from ui.common.explain import percent_text
    from ui.common.maps import map_stats

    values = np.zeros((100, 100), dtype=np.float32)
    values[3, 7] = 0.6158  # one value in 10,000 is not zero: 99.99% zeros
    text = map_stats(values)
    assert "max 0.6158" in text and "zeros 99.99%" in text
    assert percent_text(0, 10) == "0%" and percent_text(10, 10) == "100%"
    assert percent_text(1, 10**7) == "under 0.01%" and percent_text(10**7 - 1, 10**7) == "over 99.99%"
    assert percent_text(1, 3) == "33%"


def test_bug4_relu_caption_on_the_page():
    # The ReLU caption and the stats line use the same rounding: neither says 100% while a value is left.
    w = np.zeros((3, 3))
    w[1, 1] = 1.0
    at = _open(_link_with_kernel(w))
    at.slider(key="pg_bias").set_value(-0.95).run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    relu = re.search(r"([\d.]+|over 99.99)% of the values are now exactly 0", captions)
    assert relu and 99 < float(relu.group(1)) < 100  # about 99.5% (the old page said 100%)


def test_bug5_layer_stack_names_the_sample_it_shows():
    at = _run(AppTest.from_file(STACK, default_timeout=120))
    at.radio(key="ls_source").set_value("Upload").run()
    assert not at.exception
    info = " ".join(i.value for i in at.sidebar.info)
    assert "Chelsea the cat" in info and "cameraman" not in info.lower()


def test_an_upload_survives_a_page_switch():
    at = _run(AppTest.from_file(APP, default_timeout=120))
    at.radio(key="pg_source").set_value("Upload").run()
    good = (ROOT / "assets" / "coffee.png").read_bytes()  # 600×400 (width×height)
    at.file_uploader(key="pg_upload").set_value(("coffee.png", good, "image/png")).run()
    assert _headers(at)[0] == "**Input** · 200×300×1"
    maps = [c.proto.spec for c in at.get("plotly_chart")]
    _run(at.switch_page("views/layer_stack.py"))
    _run(at.switch_page("views/playground.py"))
    assert _headers(at)[0] == "**Input** · 200×300×1"
    assert "`coffee.png`, uploaded earlier" in " ".join(i.value for i in at.sidebar.info)
    assert [c.proto.spec for c in at.get("plotly_chart")] == maps


def test_an_800x533_upload_keeps_its_shape():
    """Issue 10 bug 8: the default keeps the aspect ratio and the page says what it did."""
    import io

    from PIL import Image

    rng = np.random.default_rng(8)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (533, 800, 3), dtype=np.uint8)).save(buf, format="PNG")
    at = _run(AppTest.from_file(PAGE, default_timeout=120))
    at.radio(key="pg_source").set_value("Upload").run()
    at.file_uploader(key="pg_upload").set_value(("wide.png", buf.getvalue(), "image/png")).run()
    assert not at.exception
    assert _headers(at)[0] == "**Input** · 200×300×1"  # 533 × 300/800 = 199.9
    assert "Resized from 533×800 to 200×300 pixels (height×width)." in [c.value for c in at.caption]
    assert _link(at).spec.input.size == (200, 300)


def test_a_kernel_edited_from_sobel_x_still_says_so_after_a_reload():
    at = AppTest.from_file(PAGE, default_timeout=120)
    _run(at)
    at.selectbox(key="pg_preset").set_value("sobel_x").run()
    at.slider(key="pg_w0_0").set_value(-1.5).run()
    assert not at.exception
    assert "started from Sobel x" in _kernel_header(at)
    # The link (what a reload reads back) keeps the weights and names the preset they started from.
    f = _link(at).spec.layers[0].filters[0]
    assert f.preset is None and f.started_from == "sobel_x"
    want = PRESETS["sobel_x"].array().astype(np.float64)
    want[0, 0] = -1.5
    np.testing.assert_array_equal(np.array(f.weights, dtype=np.float64), want)
    params = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    again = _open(params)
    assert "edited by hand, started from Sobel x" in _kernel_header(again)
    np.testing.assert_array_equal(_kernel_in_use(again), want)
    # Weights that came without an origin (an old link or spec file) still say just that.
    old = _open(_link_with_kernel(want))
    assert "custom weights from a link or a spec file" in _kernel_header(old)
