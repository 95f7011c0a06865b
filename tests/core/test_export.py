"""Exports: the ZIP's files, raw maps equal to run_pipeline's, colours as displayed, sheet and GIF."""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np
import pytest
from PIL import Image

from cnn_core import export, parse_spec, render, run_pipeline
from cnn_core.errors import CnnError

H, W = 18, 26  # unequal, so a transposed picture shows up as a wrong size

SPEC = parse_spec(
    {
        "version": 1,
        "input": {"color": "rgb", "size": [H, W]},
        "layers": [
            {
                "type": "conv2d",
                "filters": ["sobel_x", [[0, 1, 0], [1, -4, 1], [0, 1, 0]], {"init": "he_normal", "seed": 3, "size": 3}],
                "bias": [0.0, 0.5, -0.1],
            },
            {"type": "activation", "function": "leaky_relu", "alpha": 0.1},
            {"type": "pool2d", "mode": "max", "size": 2, "stride": 2, "padding": "same"},
            {"type": "conv2d", "filters": ["edge", "box_blur_3"], "padding": "valid"},
        ],
    }
)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(30, 40, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def stages(image):
    return run_pipeline(image, SPEC)


def open_zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def expected_names(stages) -> set[str]:
    names = {"spec.json", "scales.json", "contact_sheet.png", "progression.gif"}
    for s in stages:
        stem = f"{s.index:02d}_{s.name}"
        names.add(f"{stem}.npy")
        names |= {f"{stem}/c{k:02d}.png" for k in range(s.maps.shape[2])}
    return names


def reference_scale(stages, i: int, k: int, cmap: str, mode: str):
    """The colour scale the app displays, worked out here from the maps independently of export.py."""
    s = stages[i]
    if s.name == "input" and cmap == "auto":
        return None
    if mode == "map":
        values = s.maps[:, :, k]
    elif mode == "global" and s.name != "input":
        values = np.concatenate([t.maps.ravel() for t in stages if t.name != "input"])
    else:
        values = s.maps
    values = values[np.isfinite(values)]
    lo, hi = float(values.min()), float(values.max())
    robust = mode == "robust"
    if robust:  # the 1st and 99th percentiles (every value: these stages are far below the sampling size)
        p1, p99 = (float(v) for v in np.percentile(values, [1, 99]))
        lo, hi = (p1, p99) if p99 > p1 else (lo, hi)
    if hi <= lo:  # a constant map: zero keeps its colour
        lo, hi = (0.0, 1.0) if lo == 0 else (min(lo, 0.0), max(hi, 0.0))
    sc = render.choose_scale(lo, hi, cmap)
    return render.ColorScale(sc.cmap, sc.vmin, sc.vmax, robust)


def expected_rgb(values: np.ndarray, scale) -> np.ndarray:
    if scale is None:
        gray = np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    return render.colorize(values, scale)


def decode_png(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    img.load()
    return img


# --------------------------------------------------------------------------- the ZIP's contents


def test_the_zip_holds_every_listed_file(stages):
    with open_zip(export.export_zip(stages, SPEC)) as zf:
        assert zf.testzip() is None
        assert set(zf.namelist()) == expected_names(stages)
        assert len(stages) == 5  # input + four layers: the names above cover 5 .npy files


def test_the_npy_files_equal_run_pipelines_output_exactly(stages):
    with open_zip(export.export_zip(stages, SPEC)) as zf:
        for s in stages:
            raw = np.load(io.BytesIO(zf.read(f"{s.index:02d}_{s.name}.npy")), allow_pickle=False)
            assert raw.dtype == np.float32
            assert raw.shape == s.maps.shape
            assert np.array_equal(raw, s.maps)


def test_spec_json_parses_back_to_an_equal_spec(stages):
    with open_zip(export.export_zip(stages, SPEC)) as zf:
        text = zf.read("spec.json").decode()
    assert parse_spec(text) == SPEC
    assert text == SPEC.to_json(indent=2)


@pytest.mark.parametrize("mode", ["layer", "global", "map", "robust"])
@pytest.mark.parametrize("cmap", ["auto", "magma", "gray"])
def test_every_map_png_is_coloured_as_displayed(stages, cmap, mode):
    with open_zip(export.export_zip(stages, SPEC, cmap=cmap, scale=mode)) as zf:
        for i, s in enumerate(stages):
            for k in range(s.maps.shape[2]):
                img = decode_png(zf.read(f"{s.index:02d}_{s.name}/c{k:02d}.png"))
                assert img.size == (s.maps.shape[1], s.maps.shape[0])
                want = expected_rgb(s.maps[:, :, k], reference_scale(stages, i, k, cmap, mode))
                assert np.array_equal(np.asarray(img.convert("RGB")), want), (s.name, k)


def test_scale_modes_really_differ(stages):
    """Guards the test above: per-map, per-stage and global colours are not all the same picture."""
    pngs = {m: export.map_png(stages[3], 2, "auto", m, stages) for m in ("layer", "global", "map", "robust")}
    assert len(set(pngs.values())) == 4


def test_the_global_scale_leaves_out_the_input():
    # Maps a hundred times fainter than the input: if the input's range counted, they would look black.
    image = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
    st = run_pipeline(
        image, {"version": 1, "input": {"color": "grayscale"}, "layers": [{"type": "conv2d", "filters": [[[0.01]]]}]}
    )
    glo = export.map_png(st[1], 0, "magma", "global", st)
    assert glo == export.map_png(st[1], 0, "magma", "layer", st)
    assert np.asarray(decode_png(glo).convert("RGB")).max() > 200


def test_scales_json_records_the_scale_of_every_map(stages):
    with open_zip(export.export_zip(stages, SPEC, cmap="auto", scale="map")) as zf:
        doc = json.loads(zf.read("scales.json"))
    assert (doc["cmap"], doc["scale"], doc["png_downscaled"]) == ("auto", "map", False)
    assert [d["shape"] for d in doc["stages"]] == [list(s.maps.shape) for s in stages]
    assert doc["stages"][0]["maps"] == [{"own_colours": True}] * 3
    sc = reference_scale(stages, 1, 2, "auto", "map")
    assert doc["stages"][1]["maps"][2] == {"cmap": sc.cmap, "vmin": sc.vmin, "vmax": sc.vmax, "robust": False}


def test_the_same_run_gives_the_same_zip_bytes(stages):
    assert export.export_zip(stages, SPEC) == export.export_zip(stages, SPEC)


# --------------------------------------------------------------------------- single maps


def test_a_single_map_png_equals_the_zips(stages):
    with open_zip(export.export_zip(stages, SPEC, cmap="viridis", scale="global")) as zf:
        for s in stages:
            for k in range(s.maps.shape[2]):
                single = export.map_png(s, k, "viridis", "global", stages)
                assert single == zf.read(f"{s.index:02d}_{s.name}/c{k:02d}.png")


def test_a_single_map_png_has_the_maps_size(stages):
    s = stages[3]
    img = decode_png(export.map_png(s, 1, "diverging", "layer", stages))
    assert img.size == (s.maps.shape[1], s.maps.shape[0])


@pytest.mark.parametrize(
    "args, field",
    [
        ((1, 9, "auto", "layer"), "channel"),
        ((1, -1, "auto", "layer"), "channel"),
        ((1, 0, "jet", "layer"), "cmap"),
        ((1, 0, "auto", "log"), "scale"),
    ],
)
def test_map_png_refuses_bad_arguments_by_name(stages, args, field):
    i, *rest = args
    with pytest.raises(CnnError) as e:
        export.map_png(stages[i], *rest, stages)
    assert e.value.field == field


# --------------------------------------------------------------------------- contact sheet and GIF


def test_the_contact_sheet_is_a_png_with_a_titled_band_per_stage(stages):
    sheet = export.contact_sheet(stages)
    # Small maps are drawn at full size: title (18) + tiled rows + 2 px gaps, 8 px between bands.
    heights = []
    for s in stages:
        h, w, c = s.maps.shape
        rows = 1 if s.name == "input" else math.ceil(c / math.ceil(math.sqrt(c)))
        heights.append(18 + rows * h + (rows - 1) * 2)
    assert sheet.shape[0] == sum(heights) + 8 * (len(stages) - 1)
    assert sheet.dtype == np.uint8 and sheet.shape[2] == 3
    with open_zip(export.export_zip(stages, SPEC)) as zf:
        img = decode_png(zf.read("contact_sheet.png"))
    assert np.array_equal(np.asarray(img.convert("RGB")), sheet)
    # The first band shows the input in its own colours, right under its title.
    assert np.array_equal(sheet[18 : 18 + H, :W], render.input_rgb(stages[0].maps))
    # The conv band's first tile is channel 0 coloured with the stage's scale.
    y = heights[0] + 8 + 18
    want = render.colorize(stages[1].maps[:, :, 0], reference_scale(stages, 1, 0, "auto", "layer"))
    assert np.array_equal(sheet[y : y + H, :W], want)


def test_the_stage_titles_give_index_name_and_shape(stages):
    assert [export.stage_title(s) for s in stages] == [
        f"00 input {H}×{W}×3",
        f"01 conv2d {H}×{W}×3",
        f"02 activation {H}×{W}×3",
        f"03 pool2d {H // 2}×{W // 2}×3",
        f"04 conv2d {H // 2 - 2}×{W // 2 - 2}×2",
    ]


def test_big_maps_are_shrunk_on_the_sheet_but_not_in_the_npy():
    big = run_pipeline(
        np.full((600, 900), 128, dtype=np.uint8),
        {"version": 1, "input": {"color": "grayscale"}, "layers": [{"type": "conv2d", "filters": ["edge"] * 4}]},
    )
    sheet = export.contact_sheet(big)
    assert sheet.shape[1] <= export.SHEET_WIDTH
    assert sheet.shape[0] < 600 + 2 * 600


def test_the_gif_has_one_frame_per_stage_all_the_same_size(stages):
    with open_zip(export.export_zip(stages, SPEC)) as zf:
        gif = Image.open(io.BytesIO(zf.read("progression.gif")))
    assert gif.format == "GIF"
    assert gif.n_frames == len(stages)
    sizes = set()
    for i in range(gif.n_frames):
        gif.seek(i)
        sizes.add(gif.size)
        assert gif.info.get("duration") == export.GIF_FRAME_MS
    assert len(sizes) == 1
    assert gif.info.get("loop") == 0


def test_the_gif_frames_are_the_stages_in_order(stages):
    frames = export.progression_frames(stages)
    gif = Image.open(io.BytesIO(export.progression_gif(stages)))
    for i, frame in enumerate(frames):
        gif.seek(i)
        got = np.asarray(gif.convert("RGB"), dtype=np.int16)
        assert got.shape == frame.shape
        # GIF keeps at most 256 colours per frame, so compare loosely, and against the other frames too.
        errs = [np.abs(got - f.astype(np.int16)).mean() for f in frames]
        assert int(np.argmin(errs)) == i


# --------------------------------------------------------------------------- limits and odd values


def test_an_export_over_the_png_budget_shrinks_the_pngs_but_keeps_raw_npy(stages, monkeypatch):
    monkeypatch.setattr(export, "MAX_PNG_PIXELS", 1000)
    with open_zip(export.export_zip(stages, SPEC)) as zf:
        conv = stages[1]
        img = decode_png(zf.read("01_conv2d/c00.png"))
        assert img.size[0] < conv.maps.shape[1] and img.size[1] < conv.maps.shape[0]
        assert np.array_equal(np.load(io.BytesIO(zf.read("01_conv2d.npy"))), conv.maps)
        assert json.loads(zf.read("scales.json"))["png_downscaled"] is True


def test_an_export_over_the_byte_budget_is_refused_with_a_message(stages, monkeypatch):
    monkeypatch.setattr(export, "MAX_EXPORT_BYTES", 1000)
    with pytest.raises(CnnError, match="smaller input size"):
        export.export_zip(stages, SPEC)


def test_bad_view_settings_and_no_stages_are_refused(stages):
    with pytest.raises(CnnError, match="colour map"):
        export.export_zip(stages, SPEC, cmap="jet")
    with pytest.raises(CnnError, match="colour scale"):
        export.export_zip(stages, SPEC, scale="log")
    with pytest.raises(CnnError, match="no stages"):
        export.export_zip([], SPEC)


def test_overflowed_maps_export_raw_and_show_nan_in_its_colour():
    spec = {
        "version": 1,
        "input": {"color": "grayscale", "size": [6, 5]},
        "layers": [
            {"type": "conv2d", "filters": [[[3e38]]]},
            {"type": "conv2d", "filters": [[[10]], [[-10]]]},
            {"type": "conv2d", "filters": [[[1, 1]]], "padding": "same"},
        ],
    }
    image = np.arange(30, dtype=np.uint8).reshape(6, 5) * 8
    st = run_pipeline(image, spec)
    assert not np.isfinite(st[2].maps).all()
    with open_zip(export.export_zip(st, spec)) as zf:
        for s in st:
            raw = np.load(io.BytesIO(zf.read(f"{s.index:02d}_{s.name}.npy")))
            assert np.array_equal(raw, s.maps, equal_nan=True)
        nan = np.isnan(st[3].maps[:, :, 0])
        assert nan.any()
        img = np.asarray(decode_png(zf.read("03_conv2d/c00.png")).convert("RGB"))
        assert (img[nan] == render.NAN_COLOR).all()


def test_export_takes_the_spec_as_a_dict_or_json_too(stages):
    a = export.export_zip(stages, SPEC)
    assert export.export_zip(stages, SPEC.to_dict()) == a
    assert export.export_zip(stages, SPEC.to_json()) == a


# --------------------------------------------------------------------------- colour rules shared with the screen


def test_a_dead_relu_channel_is_black_in_every_download():
    """An all-zero map is drawn as zero (magma's black end), as on screen, not as the middle of the scale."""
    image = np.random.default_rng(1).integers(0, 256, (12, 10), dtype=np.uint8)
    spec = {"version": 1, "input": {"color": "grayscale"},
            "layers": [{"type": "conv2d", "filters": [[[-1.0]], [[1.0]]]}, {"type": "activation", "function": "relu"}]}  # fmt: skip
    stages = run_pipeline(image, spec)
    assert not stages[2].maps[:, :, 0].any()  # channel 0 is dead: -pixel, then ReLU
    for mode in ("layer", "map", "robust"):  # (shared: the conv stage is signed, so zero is white there)
        img = np.asarray(decode_png(export.map_png(stages[2], 0, "auto", mode, stages)).convert("RGB"))
        assert (img == render.lut("magma")[0]).all(), mode
    with open_zip(export.export_zip(stages, spec, cmap="auto", scale="map")) as zf:
        img = np.asarray(decode_png(zf.read("02_activation/c00.png")).convert("RGB"))
    assert (img == render.lut("magma")[0]).all()


def test_the_robust_scale_saturates_outliers_and_says_so():
    values = np.linspace(0, 1, 10_000, dtype=np.float32).reshape(100, 100)
    values[0, 0] = 50.0  # one hot corner, like a padding artefact
    sc = render.map_scale(values, "magma", robust=True)
    p1, p99 = np.percentile(values, [1, 99])
    assert sc.robust and (sc.vmin, sc.vmax) == (0.0, pytest.approx(p99))
    assert p1 > 0  # magma starts a non-negative map at 0
    rgb = render.picture(values, sc)
    assert (rgb[0, 0] == render.palette("magma")[254]).all()  # the outlier sits at the top colour
    assert "1st–99th percentile" in render.range_text(sc) and "saturated" in render.range_text(sc)
    assert "percentile" not in render.range_text(render.map_scale(values, "magma"))
    assert render.map_scale(values, "magma").vmax == 50.0
