"""The Layer stack page under AppTest, and the pure stack helpers behind it.

Page tests use the small starting points (32×32 and 28×28 inputs), so each run takes well under a second.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnn_core.errors import SpecError
from cnn_core.pipeline import plan, run_layer
from cnn_core.spec import Conv2D, Filter, layer_kernel, parse_spec
from tests import band_tiles
from tests.app.conftest import run as _run
from tests.app.inspector_steps import animate_at
from tests.stack_specs import outline_sobel_stack
from ui.stack import edits
from ui.stack import plan as stack_plan
from ui.stack import starters as stack_starters

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "layer_stack.py")

ARTICLE = ["32×32×3", "32×32×12", "32×32×12", "16×16×12"]
STARTER_SHAPES = {
    "article_12_filters": ARTICLE,
    "edge_pyramid": [
        "256×256×1",
        "256×256×3",
        "256×256×3",
        "128×128×3",
        "128×128×3",
        "128×128×3",
        "64×64×3",
        "64×64×3",
        "64×64×3",
        "32×32×3",
    ],
    "vgg_block_random": [
        "64×64×3",
        "64×64×8",
        "64×64×8",
        "64×64×8",
        "64×64×8",
        "32×32×8",
        "32×32×16",
        "32×32×16",
        "32×32×16",
        "32×32×16",
        "16×16×16",
    ],
    "lenet_valid": ["28×28×1", "24×24×6", "24×24×6", "12×12×6", "8×8×16", "8×8×16", "4×4×16"],
    "article_one_filter": ["300×300×1", "300×300×1", "300×300×1", "150×150×1"],
}


# --------------------------------------------------------------------------- helpers


def _app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest):
    return next(d.value for d in at.dataframe if "Stage" in d.value.columns)


def _shapes(at: AppTest) -> list[str]:
    return _table(at)["Output H×W×C"].tolist()


def _ids(at: AppTest) -> list[str]:
    return list(at.session_state["ls_ids"])


def _spec(at: AppTest):
    return parse_spec(at.session_state["ls_spec"])


def _bands(at: AppTest) -> dict:
    """The map bands in page order, keyed by stage id ("input" or a layer id)."""
    out = {}

    def walk(node):
        for child in getattr(node, "children", {}).values():
            block_id = getattr(getattr(child, "proto", None), "id", "") or ""
            m = re.search(r"-ls_band_(\w+)$", block_id) if isinstance(block_id, str) else None
            if m:
                out[m.group(1)] = child
            walk(child)

    walk(at.main)
    return out


def _pictures(band) -> list[str]:
    """Every picture URL in a band: the colour legend first, then the maps in order."""
    return band_tiles.pictures(band)


def _band_titles(at: AppTest) -> list[str]:
    return band_tiles.titles(at)


def _errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def _starter(at: AppTest, name: str) -> AppTest:
    at.button(key=f"ls_start_{name}").click()
    return _run(at)


# --------------------------------------------------------------------------- the page


def test_first_screen_is_the_article_stack():
    at = _app()
    assert _shapes(at) == ARTICLE
    table = _table(at)
    # 3×3 kernels over 3 input channels, 12 filters, plus 12 biases; every output value costs 27 multiply-adds.
    assert table["Weights"].tolist() == ["0", "336", "0", "0"]
    assert table["Multiply-adds"].tolist() == ["0", f"{32 * 32 * 12 * 27:,}", "0", "0"]
    assert _band_titles(at) == [
        "**0 · Input** · 32×32×3",
        "**1 · Convolution** · 32×32×12",
        "**2 · Activation** · 32×32×12",
        "**3 · Pooling** · 16×16×12",
    ]
    assert not at.error
    # At most 8 maps per band: 12 channels get a pager, and only 8 pictures (plus the legend) are drawn.
    conv_band = _bands(at)[_ids(at)[0]]
    assert len(_pictures(conv_band)) == 1 + 8
    assert at.radio(key=f"ls_page_{_ids(at)[0]}").options == ["0–7", "8–11"]


@pytest.mark.parametrize("name", list(STARTER_SHAPES))
def test_each_starting_point_gives_its_shapes(name):
    at = _app()
    if name == "article_12_filters":
        _starter(at, "lenet_valid")  # leave the default first, so the click has something to change
    _starter(at, name)
    assert _shapes(at) == STARTER_SHAPES[name]
    assert len(_bands(at)) == len(STARTER_SHAPES[name])
    assert _spec(at) == stack_starters.load_starter(name)
    assert not at.error


def test_adding_a_layer_adds_a_row_and_a_band():
    at = _app()
    at.button(key="ls_add_pool2d").click()
    _run(at)
    assert _shapes(at) == [*ARTICLE, "8×8×12"]
    assert len(_bands(at)) == 5
    at.button(key="ls_add_conv2d").click()
    _run(at)
    # The new convolution starts with four 3×3 filters (Sobel x, Sobel y, outline, blur), "same" padding.
    assert _shapes(at)[-1] == "8×8×4"
    assert _table(at)["Weights"].tolist()[-1] == f"{3 * 3 * 12 * 4 + 4:,}"
    assert len(_bands(at)) == 6
    # The new layer is open for editing.
    assert at.session_state["ls_open"] == _ids(at)[-1]


def test_remove_duplicate_and_reorder_change_the_shapes():
    at = _app()
    conv, act, pool = _ids(at)
    at.button(key=f"ls_{pool}_dup").click()
    _run(at)
    assert _shapes(at) == [*ARTICLE, "8×8×12"]
    assert len(set(_ids(at))) == 4  # the copy has an id of its own

    at.button(key=f"ls_{pool}_del").click()
    _run(at)
    assert _shapes(at) == ARTICLE  # the copy remains: one pooling layer again
    assert _ids(at)[:2] == [conv, act]

    # The activation moves in front of the convolution: it runs on the photo, the shapes after it stay.
    at.button(key=f"ls_{act}_up").click()
    _run(at)
    assert _ids(at)[:2] == [act, conv]
    assert _table(at)["Stage"].tolist()[1:3] == ["1 · Activation", "2 · Convolution"]
    assert _shapes(at) == ["32×32×3", "32×32×3", "32×32×12", "16×16×12"]

    # The convolution moves to the end: it now sees pooled maps of the photo.
    at.button(key=f"ls_{conv}_down").click()
    _run(at)
    assert _shapes(at) == ["32×32×3", "32×32×3", "16×16×3", "16×16×12"]
    assert _band_titles(at)[-1] == "**3 · Convolution** · 16×16×12"


def test_widgets_follow_their_layer_when_it_moves():
    at = _app()
    conv, act, pool = _ids(at)
    at.button(key=f"ls_{pool}_open").click()
    _run(at)
    at.number_input(key=f"ls_{pool}_stride_h").set_value(1)
    _run(at)
    at.button(key=f"ls_{pool}_up").click()
    _run(at)
    assert _spec(at).layers[1].stride == (1, 2)
    # The open layer's widgets are still the pooling layer's, showing its values.
    assert at.number_input(key=f"ls_{pool}_stride_h").value == 1
    assert at.number_input(key=f"ls_{pool}_stride_w").value == 2


def test_editing_a_weight_changes_the_maps():
    at = _app()
    at.radio(key="ls_scale").set_value("map")  # each map on its own scale, so only the edited one may change
    _run(at)
    conv = _ids(at)[0]
    before = _pictures(_bands(at)[conv])
    at.button(key=f"ls_{conv}_open").click()
    _run(at)
    # Filter 1 is the outline preset; taking it "by hand" keeps its weights, so nothing changes yet.
    at.radio(key=f"ls_{conv}_f0_src").set_value("weights")
    _run(at)
    assert _spec(at).layers[0].filters[0].weights == ((-1, -1, -1), (-1, 8, -1), (-1, -1, -1))
    assert _pictures(_bands(at)[conv]) == before
    at.slider(key=f"ls_{conv}_f0_cNone_w1_1").set_value(2.0)
    _run(at)
    after = _pictures(_bands(at)[conv])
    assert after[1] != before[1]  # the first filter's map...
    assert after[2:] == before[2:]  # ...and only that one
    assert _spec(at).layers[0].filters[0].weights[1][1] == 2.0


def test_per_channel_kernel_edits_one_input_channel():
    at = _app()
    conv = _ids(at)[0]
    at.button(key=f"ls_{conv}_open").click()
    _run(at)
    at.radio(key=f"ls_{conv}_f0_src").set_value("weights")
    _run(at)
    before = _pictures(_bands(at)[conv])
    at.radio(key=f"ls_{conv}_f0_depth").set_value("per")
    _run(at)
    f = _spec(at).layers[0].filters[0]
    assert f.depth == 3
    assert _pictures(_bands(at)[conv]) == before  # the same weights on every channel: the same map
    assert at.selectbox(key=f"ls_{conv}_ch").options == ["0 · red", "1 · green", "2 · blue"]
    at.selectbox(key=f"ls_{conv}_ch").set_value(2)
    _run(at)
    at.slider(key=f"ls_{conv}_f0_c2_w1_1").set_value(0.0)
    _run(at)
    w = np.array(_spec(at).layers[0].filters[0].weights)
    assert w[1, 1].tolist() == [8.0, 8.0, 0.0]  # only the blue slice changed
    assert _pictures(_bands(at)[conv])[1] != before[1]


def test_preset_texts_speak_of_colours_only_where_the_input_is_the_colour_photo():
    """A preset straight on the RGB photo is explained on R+G+B; a grey photo, or a layer whose inputs are
    another convolution's maps, gets the plain text (summed over its input channels)."""
    from cnn_core.kernels import PRESETS

    at = _app()
    first = _ids(at)[0]
    at.button(key=f"ls_{first}_open").click()
    _run(at)
    captions = [c.value for c in at.caption]
    assert PRESETS["edge"].rgb_explanation in captions
    assert not any(c.startswith(PRESETS["edge"].explanation) for c in captions)
    at.radio(key="ls_color").set_value("grayscale")
    _run(at)
    captions = [c.value for c in at.caption]
    assert PRESETS["edge"].explanation in captions
    assert PRESETS["edge"].rgb_explanation not in captions


def test_random_initialiser_filter_is_seeded():
    at = _app()
    conv = _ids(at)[0]
    at.button(key=f"ls_{conv}_open").click()
    _run(at)
    at.radio(key=f"ls_{conv}_f0_src").set_value("init")
    _run(at)
    f = _spec(at).layers[0].filters[0]
    assert f.init == "he_normal" and f.size == (3, 3)
    first = _pictures(_bands(at)[conv])[1]
    at.number_input(key=f"ls_{conv}_f0_seed").set_value(f.seed + 100)
    _run(at)
    assert _pictures(_bands(at)[conv])[1] != first
    at.number_input(key=f"ls_{conv}_f0_seed").set_value(f.seed)
    _run(at)
    assert _pictures(_bands(at)[conv])[1] == first  # the same seed, the same weights, the same map


def test_filter_count_and_kernel_size():
    at = _app()
    conv = _ids(at)[0]
    at.button(key=f"ls_{conv}_open").click()
    _run(at)
    at.number_input(key=f"ls_{conv}_count").set_value(16)
    _run(at)
    assert _shapes(at)[1:] == ["32×32×16", "32×32×16", "16×16×16"]
    at.selectbox(key=f"ls_{conv}_kh").set_value(5)
    _run(at)
    at.selectbox(key=f"ls_{conv}_kw").set_value(5)
    _run(at)
    assert _spec(at).layers[0].kernel_size == (5, 5)
    assert _table(at)["Weights"].tolist()[1] == f"{5 * 5 * 3 * 16 + 16:,}"
    at.selectbox(key=f"ls_{conv}_padmode").set_value("valid")
    _run(at)
    assert _shapes(at)[1] == "28×28×16"


def test_filter_buttons_add_duplicate_remove_and_randomise():
    at = _app()
    conv = _ids(at)[0]
    at.button(key=f"ls_{conv}_open").click()
    _run(at)
    at.button(key=f"ls_{conv}_fadd").click()
    _run(at)
    assert _shapes(at)[1] == "32×32×13"
    assert _spec(at).layers[0].filters[-1].init == "he_normal"
    at.selectbox(key=f"ls_{conv}_fsel").set_value(1)
    _run(at)
    at.button(key=f"ls_{conv}_fdup").click()
    _run(at)
    filters = _spec(at).layers[0].filters
    assert len(filters) == 14 and filters[1] == filters[2] == Filter(preset="sobel_x")
    at.button(key=f"ls_{conv}_fdel").click()
    _run(at)
    assert len(_spec(at).layers[0].filters) == 13
    at.button(key=f"ls_{conv}_allrandom").click()
    _run(at)
    filters = _spec(at).layers[0].filters
    assert all(f.init == "he_normal" for f in filters) and len({f.seed for f in filters}) == 13


def test_padding_stride_dilation_and_pool_settings():
    at = _app()
    conv, act, pool = _ids(at)
    at.button(key=f"ls_{conv}_open").click()
    _run(at)
    at.selectbox(key=f"ls_{conv}_padmode").set_value("explicit")
    _run(at)
    at.number_input(key=f"ls_{conv}_pad0").set_value(3)  # three rows of zeros on top, one below
    _run(at)
    assert _spec(at).layers[0].padding == ((3, 1), (1, 1))
    assert _shapes(at)[1] == "34×32×12"
    at.number_input(key=f"ls_{conv}_dilation_w").set_value(2)  # the kernel now spans 5 columns
    _run(at)
    at.number_input(key=f"ls_{conv}_stride_h").set_value(2)
    _run(at)
    # height: floor((32 + 4 − 3) / 2) + 1 = 17; width: 32 + 2 − 5 + 1 = 30
    assert _shapes(at)[1] == "17×30×12"
    at.button(key=f"ls_{act}_open").click()
    _run(at)
    at.selectbox(key=f"ls_{act}_fn").set_value("leaky_relu")
    _run(at)
    at.number_input(key=f"ls_{act}_alpha").set_value(0.5)
    _run(at)
    assert _spec(at).layers[1].alpha == 0.5
    at.button(key=f"ls_{pool}_open").click()
    _run(at)
    at.number_input(key=f"ls_{pool}_size_h").set_value(3)
    _run(at)
    at.number_input(key=f"ls_{pool}_stride_h").set_value(3)
    _run(at)
    at.radio(key=f"ls_{pool}_pad").set_value("same")
    _run(at)
    assert _spec(at).layers[2].size == (3, 2) and _spec(at).layers[2].padding == "same"
    assert _shapes(at)[3] == "6×15×12"  # ceil(17 / 3), ceil(30 / 2)


def test_number_grid_shows_the_kernel_slice():
    at = _app()
    conv = _ids(at)[0]
    at.button(key=f"ls_{conv}_open").click()
    _run(at)
    at.selectbox(key=f"ls_{conv}_fsel").set_value(7)  # red minus green, lightly blurred: 3-D
    _run(at)
    at.radio(key=f"ls_{conv}_wmode").set_value("Number grid")
    _run(at)
    at.selectbox(key=f"ls_{conv}_ch").set_value(1)
    _run(at)
    grid = next(d.value for d in at.dataframe if "Stage" not in d.value.columns).to_numpy()
    np.testing.assert_array_equal(grid, -np.outer([1, 2, 1], [1, 2, 1]) / 16)
    assert not [s for s in at.slider if s.key and s.key.startswith(f"ls_{conv}_f7")]


def test_empty_stack_and_the_layer_limit():
    at = _app()
    for lid in _ids(at):
        at.button(key=f"ls_{lid}_del").click()
        _run(at)
    assert _spec(at).layers == ()
    assert _shapes(at) == ["32×32×3"] and list(_bands(at)) == ["input"]
    assert "No layers yet" in " ".join(i.value for i in at.info)
    at.button(key="ls_add_activation").click()
    _run(at)
    assert _shapes(at) == ["32×32×3", "32×32×3"]

    full = {"version": 1, "input": {"color": "grayscale", "size": [8, 8]}, "layers": [{"type": "activation"}] * 32}
    at.file_uploader(key="ls_import").upload("full.json", json.dumps(full).encode(), "application/json")
    _run(at)
    assert len(_shapes(at)) == 33
    assert at.button(key="ls_add_conv2d").disabled
    assert at.button(key=f"ls_{_ids(at)[0]}_dup").disabled


def test_impossible_stack_names_the_layer_and_the_page_stays_usable():
    at = _app()
    at.number_input(key="ls_h").set_value(4)
    _run(at)
    at.number_input(key="ls_w").set_value(4)
    _run(at)
    conv = _ids(at)[0]
    at.button(key=f"ls_{conv}_open").click()
    _run(at)
    at.selectbox(key=f"ls_{conv}_kh").set_value(7)
    _run(at)
    at.selectbox(key=f"ls_{conv}_kw").set_value(7)
    _run(at)
    at.selectbox(key=f"ls_{conv}_padmode").set_value("valid")
    _run(at)
    errors = _errors(at)
    assert "Layer 1 (convolution) can't be built" in errors
    assert "4-pixel height into nothing" in errors and "layers[0]" in errors
    assert _table(at)["Output H×W×C"].tolist() == ["4×4×3", "✗ can't be built"]
    assert list(_bands(at)) == ["input"]  # the maps stop before the layer that can't be built
    # Still usable: going back to "same" padding brings every stage back.
    at.selectbox(key=f"ls_{conv}_padmode").set_value("same")
    _run(at)
    assert not at.error
    assert _shapes(at) == ["4×4×3", "4×4×12", "4×4×12", "2×2×12"]


def test_mismatched_per_channel_kernel_is_explained_and_fixed():
    at = _app()
    conv = _ids(at)[0]
    at.radio(key="ls_color").set_value("grayscale")
    _run(at)
    # Two of the article's filters have separate weights for red, green and blue.
    assert "has 3-D kernels of depth 3 but its input has 1 channels" in _errors(at)
    at.button(key=f"ls_{conv}_open").click()
    _run(at)
    at.selectbox(key=f"ls_{conv}_fsel").set_value(7)
    _run(at)
    at.button(key=f"ls_{conv}_f7_fit").click()
    _run(at)
    assert not at.error
    assert _shapes(at) == ["32×32×1", "32×32×12", "32×32×12", "16×16×12"]


def test_export_then_import_gives_identical_maps():
    at = _app()
    _starter(at, "lenet_valid")
    conv = _ids(at)[0]
    at.button(key=f"ls_{conv}_open").click()
    _run(at)
    at.number_input(key=f"ls_{conv}_f0_seed").set_value(42)
    _run(at)
    at.button(key="ls_add_activation").click()
    _run(at)
    spec_before = _spec(at)
    pictures_before = [_pictures(b) for b in _bands(at).values()]
    exported = spec_before.to_json(indent=2)
    assert at.get("download_button")[0].proto.label.startswith("Download this stack")

    _starter(at, "article_12_filters")
    assert _shapes(at) == ARTICLE
    at.file_uploader(key="ls_import").upload("my_stack.json", exported.encode(), "application/json")
    _run(at)
    assert _spec(at) == spec_before
    assert [_pictures(b) for b in _bands(at).values()] == pictures_before
    assert "Loaded `my_stack.json`" in " ".join(s.value for s in at.success)  # a name shows as code


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not valid JSON"),
        (b'{"version": 2, "layers": []}', "version: 2 is not supported"),
        (b'{"version": 1, "layers": [{"type": "conv2d", "filters": ["nope"]}]}', "layers[0].filters[0]"),
    ],
)
def test_bad_file_shows_the_spec_error_and_keeps_the_stack(content, message):
    at = _app()
    at.file_uploader(key="ls_import").upload("bad.json", content, "application/json")
    _run(at)
    assert "`bad.json` can't be loaded" in _errors(at) and message in _errors(at)  # a name shows as code
    assert _shapes(at) == ARTICLE


def test_enlarged_map_has_the_stage_values_and_stats():
    import base64

    at = _app()
    act = _ids(at)[1]
    band_tiles.enlarge(at, act, 4)  # what a click on the tile's name asks for (in a browser: test_stack_click_browser)
    _run(at)
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    z = fig["data"][0]["z"]
    shown = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(32, 32)
    from cnn_core import load_image, run_pipeline

    image = load_image(ROOT / "assets" / "chelsea.png")
    expected = run_pipeline(image, stack_starters.load_starter("article_12_filters"))[2].maps[:, :, 4]
    np.testing.assert_array_equal(shown, expected)
    assert fig["data"][1]["marker"]["showscale"]  # the colour bar
    captions = " ".join(c.value for c in at.caption)
    assert f"zeros {float(np.mean(expected == 0)) * 100:.0f}%" in captions
    assert at.selectbox(key="ls_zoom_channel").value == 4
    at.button(key="ls_zoom_close").click()
    _run(at)
    assert not at.get("plotly_chart")


def test_scale_modes_change_the_legends():
    at = _app()
    at.radio(key="ls_scale").set_value("global")
    _run(at)
    ranges = band_tiles.ranges(at)
    assert len(ranges) == 4 and ranges[0] == "0 … 1"  # the input's channels: brightness 0 to 1
    assert all(re.fullmatch(r"-?[\d.e+-]+ (·|…) .*", r) for r in ranges)
    assert len(set(ranges[1:])) == 1  # every stage after the input shares one scale
    at.radio(key="ls_scale").set_value("map")
    _run(at)
    assert sum("each map has its own range" in r for r in band_tiles.ranges(at)) == 3


@pytest.mark.partial_runs  # the step's own run: the page drawn again after it would find every stage cached
def test_editing_a_late_layer_reuses_the_earlier_stages():
    at = _app()
    pool = _ids(at)[2]
    at.button(key=f"ls_{pool}_open").click()
    _run(at)
    at.radio(key=f"ls_{pool}_mode").set_value("avg")
    _run(at)
    timing = next(c.value for c in at.caption if "per stage" in c.value)
    assert "0 cached · 1 cached · 2 cached · 3 " in timing and not timing.endswith("3 cached")


# --------------------------------------------------------------------------- the helpers, without Streamlit


@pytest.mark.parametrize("name", list(stack_starters.STARTERS))
def test_starting_points_are_valid_specs_that_round_trip(name):
    spec = stack_starters.load_starter(name)
    text = spec.to_json(indent=2)
    assert parse_spec(text) == spec
    assert json.loads(text) == spec.to_dict()
    assert (ROOT / "assets" / "stacks" / f"{name}.json").read_text() == text


def test_article_stack_is_the_articles_shapes_and_weights():
    plans = plan(stack_starters.load_starter("article_12_filters"), (300, 451, 3))
    assert [p.shape for p in plans] == [(32, 32, 3), (32, 32, 12), (32, 32, 12), (16, 16, 12)]
    assert plans[1].params == 3 * 3 * 3 * 12 + 12


def test_moved():
    assert edits.moved(list("abcd"), 1, -1) == list("bacd")
    assert edits.moved(list("abcd"), 1, 1) == list("acbd")
    assert edits.moved(list("abcd"), 0, -1) == list("abcd")
    assert edits.moved(list("abcd"), 3, 1) == list("abcd")


def _conv(*filters, bias=None) -> Conv2D:
    return Conv2D(filters=tuple(filters), bias=tuple(bias or [0.0] * len(filters)))


def _same_kernel(a: Conv2D, b: Conv2D, depth: int) -> None:
    np.testing.assert_array_equal(layer_kernel(a, depth), layer_kernel(b, depth))


@pytest.mark.parametrize(
    "f",
    [
        Filter(preset="sobel_x"),
        Filter(init="he_normal", seed=3, init_size=(3, 3)),
        Filter(init="glorot_uniform", seed=9, init_size=(3, 3)),
    ],
)
def test_taking_a_filter_by_hand_keeps_its_weights(f):
    layer = _conv(f, Filter(preset="edge"))
    by_hand = edits.set_source(layer, 0, "weights", 3, 1)
    assert by_hand.filters[0].weights is not None
    _same_kernel(layer, by_hand, 3)


def test_per_channel_and_back():
    layer = _conv(Filter(preset="emboss"))
    per = edits.set_filter(layer, 0, edits.to_per_channel(layer.filters[0], 3, 1))
    assert per.filters[0].depth == 3
    _same_kernel(layer, per, 3)
    edited = edits.set_filter(per, 0, edits.set_weight(per.filters[0], 0, 0, 1, 5.0))
    k = layer_kernel(edited, 3)
    assert k[0, 0, :, 0].tolist() == [-2.0, 5.0, -2.0]
    shared = edits.to_shared(edited.filters[0], 3, 1)
    assert np.array(shared.weights)[0, 0] == pytest.approx((-2 + 5 - 2) / 3)


def test_resize_keeps_presets_that_fit_and_centres_the_rest():
    layer = _conv(Filter(preset="sobel_x"), Filter(init="he_normal", seed=1, init_size=(3, 3)))
    big = edits.resize_kernels(layer, (5, 5))
    assert big.kernel_size == (5, 5)
    w = np.array(big.filters[0].weights)
    assert w[1:4, 1:4].tolist() == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]] and w[0].tolist() == [0] * 5
    assert big.filters[1].init_size == (5, 5)
    assert edits.resize_kernels(big, (3, 3)).filters[0].weights == tuple(
        tuple(float(v) for v in r) for r in [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    )


def test_presets_of_another_size_only_for_a_lone_filter():
    lone = _conv(Filter(preset="edge"))
    assert edits.set_preset(lone, 0, "gaussian_5").kernel_size == (5, 5)
    pair = _conv(Filter(preset="edge"), Filter(preset="sobel_x"))
    assert "gaussian_5" not in edits.presets_for(pair)
    with pytest.raises(SpecError, match="not 3×3"):
        edits.set_preset(pair, 0, "gaussian_5")


def test_filter_count_adds_distinct_seeded_filters_and_trims():
    layer = _conv(Filter(preset="edge"), bias=[0.5])
    four = edits.set_filter_count(layer, 4, seed=10)
    assert [f.seed for f in four.filters[1:]] == [10, 11, 12]
    assert four.bias == (0.5, 0.0, 0.0, 0.0)
    assert edits.set_filter_count(four, 2, seed=0).filters == four.filters[:2]
    assert edits.remove_filter(_conv(Filter(preset="edge")), 0).filters  # never below one filter


def test_fit_depth_pads_and_trims():
    w = np.arange(18, dtype=float).reshape(3, 3, 2)
    layer = _conv(edits.weights_filter(w), Filter(preset="edge"))
    three = edits.fit_depth(layer, 3)
    assert np.array(three.filters[0].weights)[:, :, 2].tolist() == [[0.0] * 3] * 3
    one = edits.fit_depth(layer, 1)
    assert np.array(one.filters[0].weights)[:, :, 0].tolist() == w[:, :, 0].tolist()
    assert one.filters[1] == layer.filters[1]


def test_plan_stack_names_the_failing_layer_and_keeps_the_start():
    spec = parse_spec(
        {
            "version": 1,
            "input": {"color": "rgb", "size": [4, 4]},
            "layers": [
                {"type": "activation", "function": "relu"},
                {"type": "conv2d", "filters": [{"init": "he_normal", "seed": 1, "size": [7, 7]}], "padding": "valid"},
                {"type": "pool2d"},
            ],
        }
    )
    sp = stack_plan.plan_stack(spec, (10, 10, 3))
    assert sp.bad_layer == 1 and sp.runnable == 1
    assert "Layer 2 (convolution) can't be built" in stack_plan.error_text(sp, spec)
    rows = stack_plan.table_rows(sp, spec)
    assert [r["Output H×W×C"] for r in rows] == ["4×4×3", "4×4×3", "✗ can't be built"]


def test_edited_filter_runs_like_the_core():
    """A hand-made 3-D kernel from the editor gives what a direct NumPy correlation gives."""
    rng = np.random.default_rng(0)
    x = rng.random((6, 7, 3), dtype=np.float32)
    f = edits.set_weight(edits.to_per_channel(Filter(preset="laplacian"), 3, 1), 1, 1, 0, 2.5)
    layer = Conv2D(filters=(f,), bias=(0.25,), padding="valid")
    out = run_layer(x, layer)[:, :, 0]
    w = np.array(f.weights, dtype=np.float32)
    ref = np.array([[np.sum(x[i : i + 3, j : j + 3] * w) + 0.25 for j in range(5)] for i in range(4)])
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_a_constant_map_keeps_zero_at_its_usual_colour():
    from cnn_core import render
    from cnn_core.render import scale_for

    dead = scale_for(0.0, 0.0, "auto")  # a ReLU channel that is zero everywhere
    assert (dead.cmap, dead.vmin, dead.vmax) == ("magma", 0.0, 1.0)
    assert render.colorize(np.zeros((1, 1), np.float32), dead)[0, 0].tolist() == [0, 0, 4]  # magma's black end
    assert scale_for(3.0, 3.0, "auto") == render.ColorScale("magma", 0.0, 3.0)
    assert scale_for(-2.0, -2.0, "auto") == render.ColorScale("diverging", -2.0, 2.0)
    assert scale_for(-1.0, 4.0, "auto") == render.choose_scale(-1.0, 4.0)


# --------------------------------------------------------------------------- one colouring for screen and downloads


def _png_pixels(url: str) -> np.ndarray:
    import base64
    import io

    from PIL import Image

    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))


def test_the_bands_show_the_downloaded_colours_pixel_for_pixel(monkeypatch):
    """The page's map pictures and the ZIP's PNGs of the same stages, in every scale mode, are the same pixels
    (the page's are each pixel repeated, to about 160 pixels a side)."""
    import io
    import zipfile

    from PIL import Image

    import ui.stack.maps
    from cnn_core import export, load_image, render, run_pipeline
    from cnn_core.samples import sample_path

    # A served page gets the tiles from Streamlit's media store, which AppTest drops after each run: here they
    # come inline, as they do where the store can't be reached, so the test can read their pixels.
    monkeypatch.setattr(ui.stack.maps, "media_url", lambda *args: None)

    at = _app()  # the article's stack on the cat (32×32×3 → 12 filters → ReLU → pool), filter 2 made dead
    d = stack_starters.load_starter("article_12_filters").to_dict()
    d["layers"][0]["bias"] = [-1000.0 if j == 1 else 0.0 for j in range(12)]
    at.file_uploader(key="ls_import").upload("dead.json", json.dumps(d).encode(), "application/json")
    _run(at)
    spec = _spec(at)
    stages = run_pipeline(load_image(sample_path("chelsea")), spec)
    assert not stages[2].maps[:, :, 1].any() and not stages[3].maps[:, :, 1].any()  # the rule for zero is covered
    seen = set()
    for mode in render.SCALE_MODES:
        at.radio(key="ls_scale").set_value(mode)
        _run(at)
        zf = zipfile.ZipFile(io.BytesIO(export.export_zip(stages, spec, cmap="auto", scale=mode)))
        bands = list(_bands(at).values())
        assert len(bands) == len(stages) == 4
        for s, band in zip(stages[1:], bands[1:]):
            shown = _pictures(band)[1:]  # after the colour legend
            assert len(shown) == 8  # the first page of each band
            for k, url in enumerate(shown):
                saved = np.asarray(
                    Image.open(io.BytesIO(zf.read(f"{s.index:02d}_{s.name}/c{k:02d}.png"))).convert("RGB")
                )
                f = 160 // max(saved.shape[:2])  # small maps go to the browser as repeated pixels
                np.testing.assert_array_equal(_png_pixels(url), np.repeat(np.repeat(saved, f, axis=0), f, axis=1))
        seen.add(tuple(url for band in bands for url in _pictures(band)))
    assert len(seen) == len(render.SCALE_MODES)  # the modes really colour differently


def test_a_rerun_plans_the_stack_once(monkeypatch):
    import cnn_core.pipeline
    import ui.stack.plan

    calls = []
    real = cnn_core.pipeline.plan

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(cnn_core.pipeline, "plan", counted)
    monkeypatch.setattr(ui.stack.plan, "plan", counted)
    at = _app()
    calls.clear()
    at.button(key="ls_add_activation").click()
    _run(at)
    assert len(calls) == 1


def test_statistics_started_in_the_background_are_the_ones_the_bands_show():
    """start_stats works a new stage's statistics out on a worker thread; channel_stats then hands back that
    result (the cnn_core.stats values), and nothing is left pending."""
    import cnn_core
    from cnn_core import stats as core_stats
    from ui.common.service import SERVICE
    from ui.stack import maps as stack_maps

    image = cnn_core.load_image(ROOT / "assets" / "camera.png")
    stages = cnn_core.run_pipeline(image, cnn_core.default_spec(), cache=cnn_core.StageCache(max_bytes=50_000_000))
    fresh = [replace(s, key=f"{s.key}-background-test") for s in stages]  # keys no earlier test has cached
    stack_maps.start_stats(fresh)
    for s in fresh:
        got = stack_maps.channel_stats(s)
        want = core_stats.channel_stats(s.maps, stack_maps.THUMB_SIDE)
        np.testing.assert_array_equal(got.lo, want.lo)
        np.testing.assert_array_equal(got.hi, want.hi)
        np.testing.assert_array_equal(got.mean, want.mean)
        np.testing.assert_array_equal(got.small[0], want.small[0])
        assert stack_maps.channel_stats(s) is got  # kept under the stage's key
    pending = SERVICE.pending()
    assert not any(("band statistics", s.key) in pending for s in fresh)


def test_the_enlarged_maps_animation_slides_around_the_selected_value():
    at = _app()
    conv = _ids(at)[0]
    band_tiles.enlarge(at, conv, 4)
    _run(at)
    said = animate_at(at, "ls", 5, 30)
    # Column 30 of 32: the 7×7 block is shifted inward to end at the last column.
    assert "Around row 5, column 30: outputs rows 2–8, columns 25–31 (7×7)" in said
    assert "filter 4 on input channel 0" in said
    assert at.number_input(key="ls_anim_step").value == 3 * 7 + 5 + 1
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    fig = next(f for f in figs if f["layout"].get("sliders"))
    assert "output (row 5, col 30) = " in fig["layout"]["title"]["text"]
    assert len(fig["frames"]) == 49


def _one_filter_stacks(side: int, colour: str, filters: int, seed: int, extra_conv: bool = False):
    """Two runs of conv (random 3×3 filters) → ReLU → max pool [→ conv] on a random photo: as given, and with
    filter 0's centre weight moved by 0.05. Returns both runs' stages."""
    import cnn_core

    rng = np.random.default_rng(seed)
    image = (rng.random((side, side, 3 if colour == "rgb" else 1)) * 255).astype(np.uint8)
    d = outline_sobel_stack(side)
    d["input"] = {"color": colour, "size": [side, side]}
    d["layers"][0]["filters"] = [rng.normal(size=(3, 3)).round(3).tolist() for _ in range(filters)]
    if extra_conv:
        d["layers"].append({"type": "conv2d", "filters": ["sobel_x", "sobel_y"], "padding": "same"})
    cache = cnn_core.StageCache(max_bytes=200_000_000)
    before = cnn_core.run_pipeline(image, cnn_core.parse_spec(d), cache=cache)
    d["layers"][0]["filters"][0][1][1] += 0.05
    return before, cnn_core.run_pipeline(image, cnn_core.parse_spec(d), cache=cache)


@pytest.mark.parametrize("side, colour, filters", [(257, "rgb", 8), (300, "grayscale", 16), (1024, "rgb", 8)])
def test_the_other_filters_channels_keep_their_values_bit_for_bit(side, colour, filters):
    """What the bands' statistics rely on (ui/stack/maps.py, lineages): with one filter changed, every other
    channel of the convolution, the activation and the pooling has exactly the values it had."""
    before, after = _one_filter_stacks(side, colour, filters, seed=side)
    for a, b in zip(before[1:], after[1:]):
        assert not np.array_equal(a.maps[:, :, 0], b.maps[:, :, 0]), a.name
        for c in range(1, filters):
            assert np.array_equal(a.maps[:, :, c], b.maps[:, :, c]), (a.name, c)


def test_a_weight_step_works_out_the_statistics_of_its_changed_channel_only(monkeypatch):
    """After a step of filter 0, each band after it works out channel 0 only and reuses the others'; what it
    shows equals the statistics of the whole stage worked out afresh."""
    from cnn_core import stats as core_stats
    from ui.stack import maps as stack_maps

    before, after = _one_filter_stacks(200, "rgb", 8, seed=7)
    stack_maps.start_stats(before)
    for s in before:
        stack_maps.channel_stats(s)
    shapes = []
    real = core_stats.channel_stats
    monkeypatch.setattr(core_stats, "channel_stats", lambda maps, side: shapes.append(maps.shape) or real(maps, side))
    stack_maps.start_stats(after)
    got = [stack_maps.channel_stats(s) for s in after]
    assert sorted(shapes) == sorted([(200, 200, 1), (200, 200, 1), (100, 100, 1)])  # conv, ReLU, pool: one each
    monkeypatch.setattr(core_stats, "channel_stats", real)
    for s, g in zip(after, got):
        want = real(s.maps, stack_maps.THUMB_SIDE)
        np.testing.assert_array_equal(g.lo, want.lo)
        np.testing.assert_array_equal(g.hi, want.hi)
        np.testing.assert_array_equal(g.zeros, want.zeros)
        np.testing.assert_allclose(g.mean, want.mean, rtol=1e-12, atol=1e-15)
        for small, w in zip(g.small, want.small):
            np.testing.assert_allclose(small, w, rtol=1e-6, atol=1e-7)


def test_a_channel_mixing_layer_gives_every_channel_a_new_lineage():
    from ui.stack import maps as stack_maps

    before, after = _one_filter_stacks(48, "rgb", 4, seed=11, extra_conv=True)
    a, b = stack_maps.lineages(before), stack_maps.lineages(after)
    assert a[0] is None and b[0] is None  # the input
    for i in (1, 2, 3):  # conv, ReLU, pool: channel 0 is new, the others are the same
        assert a[i][0] != b[i][0] and a[i][1:] == b[i][1:]
    assert all(x != y for x, y in zip(a[4], b[4]))  # the second convolution mixes channel 0 into every channel
