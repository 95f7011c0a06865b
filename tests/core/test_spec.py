"""The spec format: defaults, round trips, error messages naming the field, and legal edge cases."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

import cnn_core
from cnn_core import Activation, Conv2D, InputSpec, Pool2D, Spec, SpecError, parse_spec, run_pipeline
from cnn_core.spec import MAX_SPEC_CHARS
from tests.core.np_reference import assert_maps_close, np_conv2d, np_run_pipeline

IMG = np.random.default_rng(7).integers(0, 256, size=(8, 9, 3), dtype=np.uint8)


def _spec(*layers, **inp) -> dict:
    return {"version": 1, "input": inp or {"color": "grayscale"}, "layers": list(layers)}


def _error(spec) -> SpecError:
    with pytest.raises(SpecError) as e:
        parse_spec(spec)
    return e.value


# --------------------------------------------------------------------------- defaults


def test_conv_defaults():
    layer = parse_spec(_spec({"type": "conv2d", "filters": ["edge", "sobel_x"]})).layers[0]
    assert isinstance(layer, Conv2D)
    assert layer.stride == (1, 1) and layer.padding == "same" and layer.dilation == (1, 1)
    assert layer.bias == (0.0, 0.0) and layer.kernel_size == (3, 3)


def test_pool_defaults():
    layer = parse_spec(_spec({"type": "pool2d"})).layers[0]
    assert layer == Pool2D(mode="max", size=(2, 2), stride=(2, 2), padding="valid")
    layer = parse_spec(_spec({"type": "pool2d", "size": [3, 1]})).layers[0]
    assert layer.stride == (3, 1), "the stride defaults to the window"


def test_activation_and_input_defaults():
    spec = parse_spec({"version": 1, "layers": [{"type": "activation"}]})
    assert spec.input == InputSpec(color="rgb", size=None) and spec.input.channels == 3
    assert spec.layers == (Activation(function="relu"),)
    assert parse_spec({"version": 1}) == Spec(InputSpec(), ())
    assert parse_spec({"version": 1, "input": None}).input == InputSpec()


def test_defaults_give_the_documented_maps():
    """Leaving fields out gives the same maps as writing the documented defaults."""
    short = _spec({"type": "conv2d", "filters": ["edge"]}, {"type": "activation"}, {"type": "pool2d"})
    full = _spec(
        {"type": "conv2d", "filters": ["edge"], "stride": 1, "padding": "same", "dilation": 1, "bias": 0},
        {"type": "activation", "function": "relu"},
        {"type": "pool2d", "mode": "max", "size": 2, "stride": 2, "padding": "valid"},
    )
    a = cnn_core.run_pipeline(IMG, short)
    b = cnn_core.run_pipeline(IMG, full)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.maps, y.maps)
    assert a[-1].maps.shape == (4, 4, 1)
    assert_maps_close(a[-1].maps, np_run_pipeline(IMG, full)[-1], scale=16.0)


# --------------------------------------------------------------------------- round trips

ROUND_TRIP = [
    cnn_core.default_spec().to_dict(),
    _spec(
        {
            "type": "conv2d",
            "filters": [[[0.5, -1], [2, 0.25]], [[1e-7, 3], [-4, 5]]],
            "stride": [1, 2],
            "padding": [[0, 1], [2, 3]],
            "dilation": [2, 1],
            "bias": [0.5, -1],
        },
        {"type": "activation", "function": "leaky_relu", "alpha": 0.05},
        {"type": "pool2d", "mode": "avg", "size": [3, 2], "stride": [1, 2], "padding": "same"},
        color="rgb",
        size=[12, 10],
    ),
    _spec(
        {
            "type": "conv2d",
            "filters": [{"init": "he_normal", "seed": 3, "size": [3, 3]}, "laplacian"],
            "padding": 2,
            "bias": 0.1,
        },
        {"type": "activation", "function": "gelu"},
        {"type": "conv2d", "filters": [[[[0.1, 0.2], [0.3, 0.4]]], [[[-1, 1], [0, 2]]]], "padding": "valid"},
        {"type": "pool2d", "size": 1, "stride": 2},
        color="rgb",
    ),
    _spec(
        {"type": "conv2d", "filters": [{"init": "glorot_uniform", "seed": 2**31 - 1, "size": [1, 4]}], "stride": 3},
        {"type": "activation", "function": "sigmoid"},
    ),
]


@pytest.mark.parametrize("raw", ROUND_TRIP)
def test_round_trip(raw):
    spec = parse_spec(raw)
    text = json.dumps(spec.to_dict())
    again = parse_spec(text)
    assert again == spec
    assert parse_spec(spec.to_json()) == spec and parse_spec(spec.to_json(indent=2)) == spec
    assert again.to_dict() == spec.to_dict()
    assert parse_spec(json.dumps(raw)) == spec
    a = cnn_core.run_pipeline(IMG, raw)
    b = cnn_core.run_pipeline(IMG, text)
    assert len(a) == len(b) == len(spec.layers) + 1
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.maps, y.maps)


def test_a_spec_object_passes_through():
    spec = cnn_core.default_spec()
    assert parse_spec(spec) is spec


def test_alpha_is_kept_only_where_it_matters():
    """An alpha on a non-leaky activation changes nothing, so it must not make two specs differ."""
    with_alpha = parse_spec(_spec({"type": "activation", "function": "relu", "alpha": 0.5}))
    assert parse_spec(with_alpha.to_json()) == with_alpha
    leaky = parse_spec(_spec({"type": "activation", "function": "leaky_relu", "alpha": 0.5}))
    assert parse_spec(leaky.to_json()).layers[0].alpha == 0.5


# --------------------------------------------------------------------------- errors name the field

CONV = {"type": "conv2d", "filters": ["edge"]}


def _conv(**kw) -> dict:
    return {**CONV, **kw}


@pytest.mark.parametrize(
    "spec,field,words",
    [
        # version
        ({"version": 2}, "version", ["2", "version 1"]),
        ({"version": "1"}, "version", ['"1"']),
        ({"version": True}, "version", ["true"]),
        ({"layers": []}, "version", ["missing"]),
        ({"version": None}, "version", ["missing"]),
        # not an object, unknown fields
        ([], "spec", ["JSON object", "list"]),
        ("[1, 2]", "spec", ["JSON object", "list"]),
        ("3", "spec", ["JSON object", "number"]),
        ("null", "spec", ["JSON object", "null"]),
        ('"text"', "spec", ["JSON object", "text"]),
        (None, "spec", ["JSON object"]),
        ({"version": 1, "layer": []}, "spec", ['"layer"', "allowed fields"]),
        ({"version": 1, "input": {"colour": "rgb"}}, "input", ['"colour"']),
        ({"version": 1, "input": "rgb"}, "input", ["must be an object"]),
        ({"version": 1, "input": {"color": "cmyk"}}, "input.color", ['"cmyk"', "grayscale, rgb"]),
        ({"version": 1, "input": {"size": 300}}, "input.size", ["[height, width]"]),
        ({"version": 1, "input": {"size": [0, 3]}}, "input.size[0]", ["from 1 to 4096"]),
        ({"version": 1, "input": {"size": [3, 5000]}}, "input.size[1]", ["5000"]),
        ({"version": 1, "layers": {}}, "layers", ["list"]),
        ({"version": 1, "layers": [CONV] * 33}, "layers", ["33", "32"]),
        (_spec(3), "layers[0]", ["object"]),
        (_spec({"filters": ["edge"]}), "layers[0].type", ["null", "conv2d"]),
        (_spec({"type": "dense"}), "layers[0].type", ['"dense"']),
        (_spec(_conv(kernel=[[1]])), "layers[0]", ['"kernel"']),
        (_spec(CONV, {"type": "activation", "fn": "relu"}), "layers[1]", ['"fn"']),
        (_spec({"type": "pool2d", "window": 2}), "layers[0]", ['"window"']),
        # wrong types and values
        (_spec(_conv(stride="2")), "layers[0].stride", ['"2"', "whole number"]),
        (_spec(_conv(stride=0)), "layers[0].stride", ["from 1 to 64", "0"]),
        (_spec(_conv(stride=65)), "layers[0].stride", ["65"]),
        (_spec(_conv(stride=1.5)), "layers[0].stride", ["1.5"]),
        (_spec(_conv(stride=[1, 2, 3])), "layers[0].stride", ["[height, width]"]),
        (_spec(_conv(stride=[1, "x"])), "layers[0].stride[1]", ['"x"']),
        (_spec(_conv(dilation=33)), "layers[0].dilation", ["33"]),
        (_spec(_conv(bias="0")), "layers[0].bias", ["number"]),
        (_spec(_conv(bias=None)), "layers[0].bias", ["number", "null"]),
        (_spec(CONV, {"type": "activation", "function": "softmax"}), "layers[1].function", ['"softmax"', "relu"]),
        (_spec(CONV, {"type": "activation", "function": 3}), "layers[1].function", ["3"]),
        (_spec({"type": "activation", "function": "leaky_relu", "alpha": "x"}), "layers[0].alpha", ["number"]),
        (_spec({"type": "activation", "function": "leaky_relu", "alpha": 1e4}), "layers[0].alpha", ["out of range"]),
        (_spec({"type": "pool2d", "mode": "min"}), "layers[0].mode", ['"min"', "max or avg"]),
        (_spec({"type": "pool2d", "size": 0}), "layers[0].size", ["from 1 to 64"]),
        (_spec({"type": "pool2d", "padding": 1}), "layers[0].padding", ["same", "valid"]),
        (_spec({"type": "pool2d", "padding": [[0, 0], [0, 0]]}), "layers[0].padding", ["same", "valid"]),
        (_spec({"type": "pool2d", "stride": [2, 65]}), "layers[0].stride[1]", ["65"]),
        # bools where ints go
        (_spec(_conv(stride=True)), "layers[0].stride", ["true"]),
        (_spec(_conv(dilation=[1, False])), "layers[0].dilation[1]", ["false"]),
        (_spec(_conv(padding=True)), "layers[0].padding", ["true"]),
        (_spec(_conv(bias=True)), "layers[0].bias", ["number", "true"]),
        (_spec(_conv(filters=[[[1, True]]])), "layers[0].filters[0][0][1]", ["number"]),
        (_spec(_conv(filters=[{"init": "he_normal", "seed": True}])), "layers[0].filters[0].seed", ["true"]),
        (_spec(_conv(filters=[{"init": "he_normal", "size": [3, False]}])), "layers[0].filters[0].size[1]", ["false"]),
        (_spec({"type": "pool2d", "size": True}), "layers[0].size", ["true"]),
        ({"version": 1, "input": {"size": [True, 3]}}, "input.size[0]", ["true"]),
        # filters
        (_spec(_conv(filters=[])), "layers[0].filters", ["non-empty"]),
        (_spec(_conv(filters="edge")), "layers[0].filters", ["non-empty"]),
        (_spec(_conv(filters=["edge"] * 65)), "layers[0].filters", ["65", "64"]),
        (_spec(_conv(filters=["edge", 5])), "layers[0].filters[1]", ["preset name", "a number"]),
        # a bad filter: the message names both forms of explicit weights, a list and the object with its origin
        (
            _spec(_conv(filters=[5])),
            "layers[0].filters[0]",
            ["list of numbers", '{"weights": [...], "from": "<preset name>"}'],
        ),
        (_spec(_conv(filters=[True])), "layers[0].filters[0]", ["list of numbers", '"from": "<preset name>"', "true"]),
        (
            _spec(_conv(filters=[{"weigths": [[1]]}])),
            "layers[0].filters[0]",
            ['{"weights": [...], "from": "<preset name>"}', "neither"],
        ),
        (
            _spec(_conv(filters=[{"weights": "x", "from": "edge"}])),
            "layers[0].filters[0].weights",
            ["list of numbers", '"from": "<preset name>"'],
        ),
        (
            _spec(_conv(filters="edge")),
            "layers[0].filters",
            ["non-empty", "list of numbers", '{"weights": [...], "from": "<preset name>"}'],
        ),
        (_spec(_conv(filters=["edge", "blur"])), "layers[0].filters[1]", ['"blur"', "sobel_x"]),
        (_spec(_conv(filters=["edge", None])), "layers[0].filters[1]", ["null"]),
        (_spec(_conv(filters=["edge", [[1, 2], [3, 4]]])), "layers[0].filters[1]", ["2×2", "3×3"]),
        (_spec(_conv(filters=[[[1, 2], [3]]])), "layers[0].filters[0][1]", ["rectangular"]),
        (_spec(_conv(filters=[[]])), "layers[0].filters[0]", ["0 rows"]),
        (_spec(_conv(filters=[[[]]])), "layers[0].filters[0]", ["0 columns"]),
        (_spec(_conv(filters=[[1, 2]])), "layers[0].filters[0]", ["list of rows"]),
        (_spec(_conv(filters=[[[0.0] * 3] * 16])), "layers[0].filters[0]", ["16 rows", "1 to 15"]),
        (_spec(_conv(filters=[[[1, "2"]]])), "layers[0].filters[0][0][1]", ['"2"']),
        (_spec(_conv(filters=[[[[1, 2], [3]]]])), "layers[0].filters[0][0][1]", ["same number of channels"]),
        (_spec(_conv(filters=[[[[1, 2], 3]]])), "layers[0].filters[0][0][1]", ["list of 1 to 256"]),
        (_spec(_conv(filters=[[[[1, 2]]], [[[1, 2, 3]]]])), "layers[0].filters", ["same depth"]),
        (_spec(_conv(filters=[{"init": "zeros"}])), "layers[0].filters[0].init", ['"zeros"', "he_normal"]),
        (_spec(_conv(filters=[{"init": "he_normal", "seed": -1}])), "layers[0].filters[0].seed", ["-1"]),
        (_spec(_conv(filters=[{"init": "he_normal", "seed": 2**31}])), "layers[0].filters[0].seed", ["2147483647"]),
        (_spec(_conv(filters=[{"init": "he_normal", "shape": 3}])), "layers[0].filters[0]", ['"shape"']),
        (_spec(_conv(filters=[{"init": "he_normal", "size": 16}])), "layers[0].filters[0].size", ["16"]),
        # bias list
        (_spec(_conv(filters=["edge", "edge"], bias=[1.0])), "layers[0].bias", ["1 values", "2 filters"]),
        (_spec(_conv(bias=[1.0, 2.0])), "layers[0].bias", ["2 values", "1 filters"]),
        (_spec(_conv(filters=["edge", "edge"], bias=[1.0, "a"])), "layers[0].bias[1]", ['"a"']),
        # padding
        (_spec(_conv(padding="full")), "layers[0].padding", ['"full"', "[[top, bottom], [left, right]]"]),
        (_spec(_conv(padding="SAME")), "layers[0].padding", ['"SAME"']),
        (_spec(_conv(padding=-1)), "layers[0].padding", ["-1"]),
        (_spec(_conv(padding=65)), "layers[0].padding", ["65"]),
        (_spec(_conv(padding=1.5)), "layers[0].padding", ["1.5"]),
        (_spec(_conv(padding=[1, 2])), "layers[0].padding", ["a list"]),
        (_spec(_conv(padding=[[1], [2]])), "layers[0].padding", ["a list"]),
        (_spec(_conv(padding=[[1, 2], [3, -1]])), "layers[0].padding[1][1]", ["-1"]),
        (_spec(_conv(padding=[[1, "2"], [3, 4]])), "layers[0].padding[0][1]", ['"2"']),
        # non-finite and huge numbers given as Python values
        (
            _spec(_conv(filters=[[[0, 0, 0], [0, float("nan"), 0], [0, 0, 0]]])),
            "layers[0].filters[0][1][1]",
            ["finite", "NaN"],
        ),
        (_spec(_conv(filters=[[[float("inf")]]])), "layers[0].filters[0][0][0]", ["finite"]),
        (_spec(_conv(filters=[[[[1.0, float("-inf")]]]])), "layers[0].filters[0][0][0][1]", ["finite"]),
        (_spec(_conv(bias=float("nan"))), "layers[0].bias", ["finite"]),
        (_spec({"type": "activation", "function": "leaky_relu", "alpha": float("inf")}), "layers[0].alpha", ["finite"]),
        (_spec(_conv(filters=[[[1e39]]])), "layers[0].filters[0][0][0]", ["out of range", "3.4e+38"]),
        (_spec(_conv(filters=[[[-(10**39)]]])), "layers[0].filters[0][0][0]", ["out of range"]),
        (_spec(_conv(filters=[[[10**400]]])), "layers[0].filters[0][0][0]", ["finite"]),
        (_spec(_conv(stride=10**30)), "layers[0].stride", ["from 1 to 64"]),
        (_spec(_conv(stride=1e300)), "layers[0].stride", ["from 1 to 64"]),
        (_spec(_conv(stride=float("nan"))), "layers[0].stride", ["whole number"]),
        ({"version": 1, "input": {"size": [float("inf"), 3]}}, "input.size[0]", ["whole number"]),
        # Python ints too long for str() (over 4300 digits) still give a SpecError
        (_spec(_conv(filters=[[[10**5000]]])), "layers[0].filters[0][0][0]", ["finite", "300 digits"]),
        (_spec(_conv(stride=10**5000)), "layers[0].stride", ["from 1 to 64", "300 digits"]),
        (_spec(_conv(stride=-(10**20))), "layers[0].stride", ["-1e+20"]),
        ({"version": 10**5000}, "version", ["not supported"]),
        ({"version": 1, "input": {"size": [1, 10**5000]}}, "input.size[1]", ["300 digits"]),
    ],
)
def test_error_names_the_field(spec, field, words):
    e = _error(spec)
    assert e.field == field, str(e)
    assert str(e).startswith(f"{field}: ")
    for w in words:
        assert w in str(e), (w, str(e))
    assert "Traceback" not in str(e) and len(str(e)) < 250


BAD_TEXT = [
    ('{"version": 1, "layers": [{"type": "conv2d", "filters": [[[NaN]]]}]}', ["NaN"]),
    ('{"version": 1, "layers": [{"type": "conv2d", "filters": [[[Infinity]]]}]}', ["Infinity"]),
    ('{"version": 1, "layers": [{"type": "conv2d", "filters": ["edge"], "bias": -Infinity}]}', ["-Infinity"]),
    (
        '{"version": 1, "layers": [{"type": "conv2d", "filters": [[[1e999]]]}]}',
        ["layers[0].filters[0][0][0]", "finite"],
    ),
    ('{"version": 1, "layers": [{"type": "conv2d", "filters": [[[' + "9" * 5000 + "]]]}]}", ["not valid JSON"]),
    ('{"version": 1,', ["not valid JSON"]),
    ("", ["not valid JSON"]),
    ("{'version': 1}", ["not valid JSON"]),
    ('{"version": 1} trailing', ["not valid JSON"]),
    (b"\xff\xfe\x00garbage", ["not valid JSON"]),
    ("[" * 100_000, ["nested too deeply"]),
    ('{"a":' * 100_000, ["nested too deeply"]),
    (
        '{"version": 1, "layers": [{"type": "conv2d", "filters": [' + "[" * 50_000 + "]" * 50_000 + "]}]}",
        ["nested too deeply"],
    ),
]


@pytest.mark.parametrize("text,words", BAD_TEXT, ids=[f"text{i}" for i in range(len(BAD_TEXT))])
def test_bad_json_text(text, words):
    e = _error(text)
    for w in words:
        assert w in str(e), (w, str(e))
    assert len(str(e)) < 400


def test_nan_anywhere_in_the_text_is_refused():
    e = _error('{"version": 1, "note": NaN}')
    assert e.field == "spec" and "NaN" in str(e)


def test_deeply_nested_list_as_a_kernel():
    deep: list = [1.0]
    for _ in range(100_000):
        deep = [deep]
    e = _error(_spec(_conv(filters=[deep])))
    assert e.field.startswith("layers[0].filters[0]")
    deep_dict: dict = {}
    for _ in range(100_000):
        deep_dict = {"x": deep_dict}
    assert _error({"version": 1, "input": deep_dict}).field == "input"
    assert _error(_spec(_conv(bias=[deep]))).field == "layers[0].bias[0]"


@pytest.mark.parametrize("kind", [str, bytes])
def test_oversize_text_is_refused_quickly(kind):
    text = '{"version": 1, "layers": []}' + " " * MAX_SPEC_CHARS
    t0 = time.perf_counter()
    e = _error(text if kind is str else text.encode())
    assert time.perf_counter() - t0 < 5.0  # milliseconds when idle; a wide margin for a loaded machine
    assert e.field == "spec" and f"{MAX_SPEC_CHARS:,}" in str(e)
    ok = '{"version": 1, "layers": []}' + " " * (MAX_SPEC_CHARS - 100)
    assert parse_spec(ok) == Spec()


def test_user_text_in_messages_is_cut_short():
    e = _error(_spec(_conv(filters=["x" * 10_000])))
    assert len(str(e)) < 400 and "..." in str(e)


# --------------------------------------------------------------------------- legal edge cases


@pytest.mark.parametrize("big", [1e30, -1e30, 3e37])
def test_huge_weights(big):
    kernel = [[big, -big, 0.5], [0.0, big, 1.0], [-1.0, 2.0, -big]]
    spec = _spec(_conv(filters=[kernel], bias=1.0))
    out = cnn_core.run_pipeline(IMG, spec)[-1].maps
    x = cnn_core.run_pipeline(IMG, _spec())[0].maps
    ref = np_conv2d(x, np.array(kernel, np.float32)[:, :, None, None], 1, "same", 1, [1.0])
    ref32 = ref.astype(np.float32)
    assert np.all(np.isfinite(ref32)) and np.all(np.isfinite(out))
    assert_maps_close(out, ref32, rtol=1e-5, scale=3 * abs(big))


def test_weights_that_overflow_float32_give_inf_not_an_error():
    spec = _spec(_conv(filters=[[[3e38, 3e38]]], padding="valid"))
    out = cnn_core.run_pipeline(np.full((2, 2), 255, np.uint8), spec)[-1].maps
    assert out.shape == (2, 1, 1) and np.all(np.isposinf(out))


def test_all_zero_kernel_gives_a_constant_map():
    out = cnn_core.run_pipeline(IMG, _spec(_conv(filters=[[[0, 0], [0, 0]]]), color="rgb"))[-1].maps
    assert out.shape == (8, 9, 1) and np.all(out == 0)
    out = cnn_core.run_pipeline(IMG, _spec(_conv(filters=[[[0.0]] * 3], bias=-0.5)))[-1].maps
    assert np.all(out == -0.5)


@pytest.mark.parametrize("stride", [9, 20, [64, 10]])
def test_stride_larger_than_the_input_gives_one_pixel(stride):
    spec = _spec(
        _conv(filters=["sharpen"], stride=stride), {"type": "pool2d", "size": 1, "stride": stride, "padding": "same"}
    )
    stages = cnn_core.run_pipeline(IMG, spec)
    assert stages[1].maps.shape == (1, 1, 1) and stages[2].maps.shape == (1, 1, 1)
    assert_maps_close(stages[1].maps, np_run_pipeline(IMG, spec)[1])


@pytest.mark.parametrize("kernel", ["sharpen", "box_blur_5", "edge"])
def test_one_pixel_image_through_a_same_conv(kernel):
    img = np.array([[200]], np.uint8)
    stages = cnn_core.run_pipeline(img, _spec(_conv(filters=[kernel], bias=0.25)))
    centre = cnn_core.PRESETS[kernel].array()[
        len(cnn_core.PRESETS[kernel].weights) // 2, len(cnn_core.PRESETS[kernel].weights[0]) // 2
    ]
    assert stages[1].maps.shape == (1, 1, 1)
    np.testing.assert_allclose(stages[1].maps[0, 0, 0], centre * 200 / 255 + 0.25, rtol=1e-6)


def test_largest_legal_numbers_parse():
    spec = parse_spec(
        _spec(
            _conv(filters=[{"init": "he_normal", "seed": 2**31 - 1, "size": 15}], stride=64, dilation=32, padding=64),
            {"type": "pool2d", "size": 64, "stride": 64, "padding": "same"},
            {"type": "activation", "function": "leaky_relu", "alpha": -1000},
            size=[4096, 1],
        )
    )
    assert spec.layers[0].kernel_size == (15, 15) and spec.layers[0].padding == ((64, 64), (64, 64))
    assert spec.layers[2].alpha == -1000.0
    assert parse_spec(_spec(_conv(stride=2.0))).layers[0].stride == (2, 2)  # a whole float is a whole number


def test_weights_may_name_the_preset_they_were_edited_from():
    w = [[-1.5, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    raw = {"version": 1, "layers": [{"type": "conv2d", "filters": [{"weights": w, "from": "sobel_x"}, w]}]}
    spec = parse_spec(raw)
    a, b = spec.layers[0].filters
    assert a.started_from == "sobel_x" and b.started_from is None
    assert a.weights == b.weights
    # It round-trips, and a filter without an origin is written as plain weights, as before.
    again = parse_spec(spec.to_json())
    assert again == spec
    assert json.loads(spec.to_json())["layers"][0]["filters"] == [{"weights": w, "from": "sobel_x"}, w]
    # It changes no number: the maps are those of the plain weights (NumPy reference below).
    image = np.arange(36, dtype=np.uint8).reshape(6, 6) * 7
    plain = parse_spec({"version": 1, "input": {"color": "grayscale"}, "layers": [{"type": "conv2d", "filters": [w]}]})
    named = parse_spec(
        {
            "version": 1,
            "input": {"color": "grayscale"},
            "layers": [{"type": "conv2d", "filters": [{"weights": w, "from": "sobel_x"}]}],
        }
    )
    got = run_pipeline(image, named)[1].maps[:, :, 0]
    np.testing.assert_array_equal(got, run_pipeline(image, plain)[1].maps[:, :, 0])
    x = np.pad(image / 255.0, 1)
    ref = sum(x[i : i + 6, j : j + 6] * w[i][j] for i in range(3) for j in range(3))
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "entry, field, words",
    [
        ({"weights": [[1.0]], "from": "nope"}, "layers[0].filters[0].from", "not a preset"),
        ({"weights": [[1.0]], "from": "edge", "x": 1}, "layers[0].filters[0]", "unknown field"),
        ({"weights": "edge"}, "layers[0].filters[0].weights", "list of numbers"),
    ],
)
def test_a_named_origin_is_checked(entry, field, words):
    with pytest.raises(SpecError) as e:
        parse_spec({"version": 1, "layers": [{"type": "conv2d", "filters": [entry]}]})
    assert e.value.field == field and words in str(e.value)
