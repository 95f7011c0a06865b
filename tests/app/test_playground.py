"""The playground page under AppTest: first screen, slider changes, errors shown, never a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests import map_views

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "playground.py")


def _app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _figures(at: AppTest) -> list[dict]:
    """The Playground's maps: what each map view received (ui/common/map_view.py)."""
    return map_views.views(at)


def _headers(at: AppTest) -> list[str]:
    """The stages' titles with their shapes, e.g. '**→ Pooling** · 150×150×1'."""
    return map_views.headings(at)  # each map view draws its own heading


def _hover_values(fig: dict) -> np.ndarray:
    """The hover values of a map view, or of a Plotly figure (other pages' maps, ui/common/figures.py)."""
    import base64

    if "hover" in fig:
        return map_views.hover(fig)
    z = fig["data"][0]["z"]
    if isinstance(z, dict):  # plotly sends NumPy arrays as base64 typed arrays
        arr = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
        shape = z.get("shape")
        if isinstance(shape, str):
            shape = [int(v) for v in shape.split(",")]
        return arr.reshape(shape) if shape else arr
    return np.asarray(z, dtype=np.float32)


def _hover_axis(fig: dict, axis: str) -> np.ndarray:
    """The map columns ("x") or rows ("y") the hover grid's points sit on."""
    import base64

    if "hover" in fig:
        h = fig["hover"]
        return np.arange(h["cols"]) * h["sx"] if axis == "x" else np.arange(h["rows"]) * h["sy"]
    v = fig["data"][0][axis]
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v)


def test_first_screen_is_the_reference_example():
    at = _app()
    heads = _headers(at)
    assert heads == [
        "**Input** · 300×300×1",
        "**→ Convolution** · 300×300×1",
        "**→ Activation** · 300×300×1",
        "**→ Pooling** · 150×150×1",
    ]
    assert at.selectbox(key="pg_preset").value == "edge"
    assert at.radio(key="pg_color").value == "grayscale"
    assert at.select_slider(key="pg_stride").value == 1
    assert at.selectbox(key="pg_padding").value == "same"
    assert at.selectbox(key="pg_act").value == "relu"
    assert len(_figures(at)) == 4
    captions = " ".join(c.value for c in at.caption)
    assert "floor((300 + 2 − 1·(3−1) − 1) / 1) + 1 = 300" in captions
    assert "floor((300 + 0 − 1·(2−1) − 1) / 2) + 1 = 150" in captions
    assert "on CPU" in captions or "on GPU" in captions


def test_hover_values_are_the_core_values():
    """Bug 10: the page hovers the pipeline's own value at every pixel of a 300×300 map, not every 4th."""
    import cnn_core

    at = _app()
    conv_fig = _figures(at)[1]
    shown = _hover_values(conv_fig)
    image = cnn_core.load_image(ROOT / "assets" / "camera.png")
    conv = cnn_core.run_pipeline(image, cnn_core.default_spec())[1].maps[:, :, 0]
    assert shown.shape == (300, 300)
    np.testing.assert_array_equal(shown, conv)
    xs = _hover_axis(conv_fig, "x")
    np.testing.assert_array_equal(xs, np.arange(300))


def test_large_maps_hover_a_sampled_grid_of_true_values_and_say_so():
    """A map over 320 pixels a side hovers at most 160 points a side (bytes per slider step), each the map's
    own value at the row and column the hover names, and the hover text says that it is sampled."""
    from cnn_core import render
    from ui.common.figures import HOVER_GRID, map_figure

    values = np.random.default_rng(3).standard_normal((700, 333)).astype(np.float32)
    fig = map_figure(values, render.scale_for(-4.0, 4.0)).to_dict()
    shown, ys, xs = _hover_values(fig), _hover_axis(fig, "y"), _hover_axis(fig, "x")
    assert max(shown.shape) <= HOVER_GRID
    assert ys[0] == 0 and xs[0] == 0 and ys[-1] > 700 - 10 and xs[-1] > 333 - 10
    np.testing.assert_array_equal(shown, values[np.ix_(ys, xs)])
    assert "hover every 5×3 px" in fig["data"][0]["hovertemplate"]
    small = map_figure(values[:320, :300], render.scale_for(-4.0, 4.0)).to_dict()
    assert _hover_values(small).shape == (320, 300)
    assert "every" not in small["data"][0]["hovertemplate"]


def test_weight_slider_changes_the_maps():
    at = _app()
    before = _hover_values(_figures(at)[1])
    at.slider(key="pg_w1_1").set_value(4.0).run()
    assert not at.exception
    after = _hover_values(_figures(at)[1])
    assert not np.array_equal(before, after)
    # The centre weight went from 8 to 4: every output drops by 4 × the input pixel, so the sum falls.
    assert after.sum() < before.sum()
    assert "Edited by hand" in " ".join(c.value for c in at.caption)


def test_preset_change_resets_weights_and_kernel_size():
    at = _app()
    at.selectbox(key="pg_preset").set_value("gaussian_5").run()
    assert not at.exception
    assert at.selectbox(key="pg_ksize").value == 5
    assert at.slider(key="pg_w2_2").value == pytest.approx(36 / 256)


def test_settings_change_shapes():
    at = _app()
    at.select_slider(key="pg_stride").set_value(2).run()
    at.selectbox(key="pg_padding").set_value("valid").run()
    assert not at.exception
    heads = _headers(at)
    # valid, stride 2 on 300: floor((300 - 3) / 2) + 1 = 149; then 2×2 max pool, stride 2: 75 (same) .
    assert heads[1] == "**→ Convolution** · 149×149×1"
    assert heads[3] == "**→ Pooling** · 75×75×1"
    at.toggle(key="pg_pool_on").set_value(False).run()
    assert len(_headers(at)) == 3


def test_rgb_and_no_resize():
    at = _app()
    at.selectbox(key="pg_sample").set_value("chelsea").run()
    at.radio(key="pg_color").set_value("rgb").run()
    at.radio(key="pg_size_mode").set_value("none").run()
    assert not at.exception
    heads = _headers(at)
    assert heads[0] == "**Input** · 300×451×3"
    assert heads[1] == "**→ Convolution** · 300×451×1"


def test_every_activation_runs():
    at = _app()
    for fn in ["leaky_relu", "tanh", "sigmoid", "elu", "gelu", "linear", "relu"]:
        at.selectbox(key="pg_act").set_value(fn).run()
        assert not at.exception, fn
        assert len(_figures(at)) == 4


def test_kernel_larger_than_input_says_why():
    at = _app()
    at.radio(key="pg_size_mode").set_value("exact").run()
    at.number_input(key="pg_h").set_value(2).run()
    at.number_input(key="pg_w").set_value(2).run()
    at.selectbox(key="pg_padding").set_value("valid").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "layers[0] (conv2d)" in errors and "nothing" in errors


def test_number_grid_mode_shows_the_same_kernel():
    at = _app()
    before = _hover_values(_figures(at)[1])
    at.radio(key="pg_mode").set_value("Number grid").run()
    assert not at.exception
    grid = at.dataframe[0].value
    np.testing.assert_array_equal(grid.to_numpy(), [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    # The sliders give way to the grid.
    assert not [s for s in at.slider if s.key and s.key.startswith("pg_w")]
    np.testing.assert_array_equal(_hover_values(_figures(at)[1]), before)


def _params(at: AppTest) -> dict[str, str]:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def _open_link(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def test_link_round_trip_gives_identical_maps():
    at = _app()
    at.selectbox(key="pg_sample").set_value("brick").run()
    at.selectbox(key="pg_preset").set_value("sobel_x").run()
    at.slider(key="pg_w0_0").set_value(-2.5).run()
    at.select_slider(key="pg_stride").set_value(2).run()
    at.selectbox(key="pg_act").set_value("leaky_relu").run()
    at.slider(key="pg_alpha").set_value(0.35).run()
    at.radio(key="pg_pool_mode").set_value("avg").run()
    at.selectbox(key="pg_cmap").set_value("viridis").run()
    assert not at.exception
    params = _params(at)
    assert set(params) >= {"p", "s", "v", "c"} and sum(len(v) for v in params.values()) < 2000
    fresh = _open_link(params)
    assert not fresh.warning
    assert _headers(fresh) == _headers(at)
    for a, b in zip(_figures(at), _figures(fresh)):
        np.testing.assert_array_equal(_hover_values(a), _hover_values(b))
        assert a["src"] == b["src"]
    assert fresh.selectbox(key="pg_sample").value == "brick"
    assert fresh.slider(key="pg_w0_0").value == -2.5


@pytest.mark.parametrize(
    "params",
    [
        {"p": "playground", "c": "not-base64!!"},
        {"p": "<script>alert(1)</script>"},
        {"p": "playground", "s": "../../etc/passwd"},
        {"p": "playground", "c": "eJzLSM3JyQcABiwCFQ"},  # zlib of "hello"
    ],
)
def test_bad_link_warns_once_and_shows_defaults(params):
    at = _open_link(params)
    assert len(at.warning) == 1
    assert _headers(at)[3] == "**→ Pooling** · 150×150×1"
    assert at.selectbox(key="pg_preset").value == "edge"


def test_default_size_keeps_the_photo_shape_and_says_so():
    at = _app()
    at.selectbox(key="pg_sample").set_value("chelsea").run()  # 451×300 (width×height)
    assert not at.exception
    heads = _headers(at)
    assert heads[0] == "**Input** · 200×300×1"  # longer side 300, proportions kept: 300 × 300/451 = 199.6
    assert heads[3] == "**→ Pooling** · 100×150×1"
    captions = " ".join(c.value for c in at.caption)
    assert "Resized from 300×451 to 200×300 pixels (height×width)." in captions
    at.radio(key="pg_size_mode").set_value("exact").run()
    at.number_input(key="pg_h").set_value(100).run()
    at.number_input(key="pg_w").set_value(100).run()
    assert _headers(at)[0] == "**Input** · 100×100×1"
    assert "Resized from 300×451 to 100×100 pixels (height×width); stretched" in " ".join(c.value for c in at.caption)


def _spec_json(at: AppTest) -> str:
    params = _params(at)
    from cnn_core import share

    state, warning = share.decode_state(params)
    assert warning is None
    return state.spec.to_json()


def test_spec_file_round_trip():
    at = _app()
    at.selectbox(key="pg_preset").set_value("laplacian").run()
    at.slider(key="pg_w0_0").set_value(1.5).run()
    at.select_slider(key="pg_dilation").set_value(2).run()
    at.radio(key="pg_color").set_value("rgb").run()
    at.selectbox(key="pg_act").set_value("tanh").run()
    at.toggle(key="pg_pool_on").set_value(False).run()
    saved = _spec_json(at)
    fresh = _app()
    fresh.file_uploader(key="pg_spec_file").set_value(("mine.json", saved.encode(), "application/json")).run()
    assert not fresh.exception
    assert "Loaded `mine.json`." in [s.value for s in fresh.success]
    assert fresh.radio(key="pg_color").value == "rgb"
    assert fresh.select_slider(key="pg_dilation").value == 2
    assert fresh.selectbox(key="pg_act").value == "tanh"
    assert fresh.slider(key="pg_w0_0").value == 1.5
    assert _headers(fresh) == _headers(at)
    assert _spec_json(fresh) == saved
    for a, b in zip(_figures(at), _figures(fresh)):
        np.testing.assert_array_equal(_hover_values(a), _hover_values(b))


def test_spec_file_that_does_not_fit_points_to_the_layer_stack():
    spec = (ROOT / "assets" / "stacks" / "vgg_block_random.json").read_bytes()
    at = _app()
    before = _headers(at)
    at.file_uploader(key="pg_spec_file").set_value(("vgg.json", spec, "application/json")).run()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and "doesn't fit the Playground" in warnings[0] and "Layer stack" in warnings[0]
    assert _headers(at) == before  # nothing changed
    at.file_uploader(key="pg_spec_file").set_value(("bad.json", b"{not json", "application/json")).run()
    assert not at.exception and "`bad.json` can't be loaded" in at.error[0].value


def test_embedding_an_uploaded_photo_says_the_maps_change_first():
    at = _app()
    at.radio(key="pg_source").set_value("Upload").run()
    at.file_uploader(key="pg_upload").set_value(
        ("coffee.png", (ROOT / "assets" / "coffee.png").read_bytes(), "image/png")
    ).run()
    at.radio(key="pg_size_mode").set_value("none").run()
    assert not at.exception
    w, h = 600, 400
    assert _headers(at)[0] == f"**Input** · {h}×{w}×1"
    at.session_state["pg_share_open"] = True  # the share panel is drawn only while open
    at.run()
    captions = " ".join(c.value for c in at.caption)
    assert (
        f"its maps will be smaller: the copy is at most 85×128 pixels, so the input becomes 85×128 instead of {h}×{w}"
        in captions
    )


def test_timing_caption_names_a_fused_block_once():
    """A conv → activation → pool block computed in one fused call is timed once, not as 0 ms stages."""
    from dataclasses import replace

    import cnn_core
    from ui.common.compute import timing_text

    image = cnn_core.load_image(ROOT / "assets" / "camera.png")
    stages = cnn_core.run_pipeline(image, cnn_core.default_spec())
    stages = [stages[0], replace(stages[1], fused=True, seconds=0.0042), replace(stages[2], fused=True, seconds=0.0),
              replace(stages[3], fused=True, seconds=0.0)]  # fmt: skip
    stages[0] = replace(stages[0], cached=True)
    text = timing_text(stages, lambda s: s.title.lower())
    assert text == "input cached · convolution + activation + pooling 4.2 ms (one fused call)"
    plain = timing_text([replace(s, fused=False) for s in stages], lambda s: s.title.lower())
    assert plain == "input cached · convolution 4.2 ms · activation 0.0 ms · pooling 0.0 ms"


def test_the_pipeline_runs_on_a_reused_compute_thread(monkeypatch):
    """Each rerun's script thread is new; the TensorFlow work goes to a long-lived thread, the same one
    for consecutive runs, and the stages come back to the page."""
    import threading
    from types import SimpleNamespace

    import cnn_core
    from cnn_core import pipeline
    from ui.common import compute

    seen = []
    real = cnn_core.run_pipeline

    def spy(*args, **kwargs):
        seen.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(cnn_core, "run_pipeline", spy)
    image = cnn_core.load_image(ROOT / "assets" / "camera.png")
    picture = SimpleNamespace(array=image, key=pipeline.image_digest(image))
    runs = []
    for _ in range(3):
        t = threading.Thread(target=lambda: runs.append(compute.run(picture, cnn_core.default_spec())))
        t.start()
        t.join()
    assert len(seen) == 3 and all(name.startswith("tf-compute") for name in seen)
    # Long-lived: the compute service's workers outlive the runs (a pool of a few, shared with prefetches, so
    # consecutive runs may land on different workers of it, but never on a thread made for one run).
    alive = {t.name for t in threading.enumerate()}
    assert set(seen) <= alive, (seen, alive)
    from ui.common.service import SERVICE

    assert len(set(seen)) <= SERVICE._executor._max_workers
    assert all(r is not None and len(r) == 4 for r in runs)


def test_map_stats_line_is_the_maps_numbers_and_is_kept_by_key():
    from ui.common.maps import map_stats

    values = np.array([[0.0, -2.0], [4.0, 2.0]], dtype=np.float32)
    line = map_stats(values, ("stats-test", 0))
    assert line == "min -2 · max 4 · mean 1 · zeros 25%"
    # The same key is the same content: the line comes back without summing anything again.
    assert map_stats(np.zeros((2, 2), np.float32), ("stats-test", 0)) == line
    assert map_stats(np.zeros((2, 2), np.float32)) == "min 0 · max 0 · mean 0 · zeros 100%"
