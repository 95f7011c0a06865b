"""cnn_core's maps against the NumPy reference (tests/core/np_reference.py) and against raw TensorFlow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import cnn_core
from cnn_core import ops
from tests.core.np_reference import (
    LUMA,
    PRESET_WEIGHTS,
    assert_maps_close,
    assert_stages_match,
    np_activation,
    np_conv2d,
    np_initialiser,
    np_pool2d,
    np_prepare_input,
    np_resize,
    np_run_pipeline,
)

ASSETS = Path(__file__).resolve().parents[2] / "assets"
RNG = np.random.default_rng(20240601)
GRAY = RNG.integers(0, 256, size=(9, 11), dtype=np.uint8)
RGB = RNG.integers(0, 256, size=(10, 8, 3), dtype=np.uint8)
RGBA = RNG.integers(0, 256, size=(6, 7, 4), dtype=np.uint8)
ODD = RNG.integers(0, 256, size=(7, 9), dtype=np.uint8)


def _weights(shape, seed) -> list:
    """Seeded weights in [-1, 1], rounded so they print nicely in a failure."""
    return np.round(np.random.default_rng(seed).uniform(-1, 1, size=shape), 3).tolist()


def _spec(*layers, color="grayscale", size=None) -> dict:
    return {"version": 1, "input": {"color": color, "size": size}, "layers": list(layers)}


def _conv(**kw) -> dict:
    return {"type": "conv2d", "filters": kw.pop("filters", [_weights((3, 3), 1)]), **kw}


def _check(image, spec, rtol=1e-5) -> list:
    stages = cnn_core.run_pipeline(image, spec)
    assert_stages_match([s.maps for s in stages], image, spec, rtol=rtol)
    return stages


# --------------------------------------------------------------------------- convolution


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("stride", [1, 2, 3, [1, 2], [3, 1], [2, 4]])
def test_conv_strides(stride, padding):
    _check(GRAY, _spec(_conv(stride=stride, padding=padding)))


@pytest.mark.parametrize("dilation", [1, 2, [2, 1], [1, 3]])
@pytest.mark.parametrize("padding", ["same", "valid", 0, 1, 3, [[0, 2], [1, 0]], [[2, 1], [0, 3]]])
def test_conv_padding_and_dilation(padding, dilation):
    _check(GRAY, _spec(_conv(padding=padding, dilation=dilation)))


@pytest.mark.parametrize("stride,dilation", [(2, 2), ([2, 3], [2, 1]), (3, [1, 2])])
@pytest.mark.parametrize("padding", ["same", "valid", 2, [[1, 0], [0, 2]]])
def test_conv_stride_with_dilation(stride, dilation, padding):
    _check(ODD, _spec(_conv(stride=stride, dilation=dilation, padding=padding)))


@pytest.mark.parametrize("kernel_shape", [(1, 1), (2, 2), (3, 3), (2, 4), (4, 1), (5, 5)])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv_kernel_sizes(kernel_shape, padding):
    # Even sizes put the extra SAME padding after, not before: a mistake there shifts the map by a pixel.
    filters = [_weights(kernel_shape, s) for s in (1, 2, 3)]
    _check(GRAY, _spec(_conv(filters=filters, padding=padding)))


@pytest.mark.parametrize("name", sorted(cnn_core.PRESETS))
def test_preset_kernels(name):
    assert cnn_core.PRESETS[name].array().tolist() == np.float32(PRESET_WEIGHTS[name]).tolist()
    _check(RGB, _spec(_conv(filters=[name]), color="rgb"))


def test_edge_preset_is_the_articles_kernel():
    assert cnn_core.PRESETS["edge"].array().tolist() == [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]


@pytest.mark.parametrize("init", ["he_normal", "glorot_uniform"])
@pytest.mark.parametrize("size,seed,color", [([3, 3], 3, "rgb"), ([2, 4], 0, "grayscale"), ([5, 1], 12345, "rgb")])
def test_initialiser_filters(init, size, seed, color):
    filters = [{"init": init, "seed": seed, "size": size}, {"init": init, "seed": seed + 1, "size": size}]
    if size == [3, 3]:
        filters.append("identity")
    spec = _spec(_conv(filters=filters), color=color)
    _check(RGB, spec)
    depth = 3 if color == "rgb" else 1
    kernel = cnn_core.layer_kernel(cnn_core.parse_spec(spec).layers[0], depth)
    np.testing.assert_array_equal(
        kernel[..., 0], np_initialiser(init, seed, size, depth, kernel.shape[3]).astype(np.float32)
    )


def test_initialiser_statistics():
    """He normal has std sqrt(2 / fan_in); Glorot uniform stays within ±sqrt(6 / (fan_in + fan_out))."""
    spec = _spec(_conv(filters=[{"init": "he_normal", "seed": 7, "size": [15, 15]}]), color="rgb")
    w = cnn_core.layer_kernel(cnn_core.parse_spec(spec).layers[0], 64)
    assert abs(w.std() - np.sqrt(2 / (15 * 15 * 64))) < 0.03 * np.sqrt(2 / (15 * 15 * 64))
    assert abs(w.mean()) < 0.05 * w.std()
    spec = _spec(_conv(filters=[{"init": "glorot_uniform", "seed": 7, "size": [4, 4]}] * 8))
    w = cnn_core.layer_kernel(cnn_core.parse_spec(spec).layers[0], 16)
    limit = np.sqrt(6 / (4 * 4 * 16 + 4 * 4 * 8))
    assert w.max() <= limit and w.min() >= -limit and w.max() > 0.9 * limit and w.min() < -0.9 * limit


def test_3d_kernels_on_rgb():
    filters = [_weights((3, 3, 3), 5), _weights((3, 3, 3), 6)]
    stages = _check(RGB, _spec(_conv(filters=filters, padding="valid"), color="rgb"))
    assert stages[-1].maps.shape == (8, 6, 2)


def test_3d_kernel_after_a_conv():
    first = _conv(filters=["sobel_x", "sobel_y", "laplacian", "identity"])
    second = _conv(filters=[_weights((2, 2, 4), 9)], stride=2)
    _check(GRAY, _spec(first, second))


def test_2d_kernel_sums_over_channels():
    """A 2-D kernel is the same weights on every input channel, summed: on RGB it equals three times gray-on-one."""
    img = np.repeat(GRAY[:, :, None], 3, axis=2)
    rgb = cnn_core.run_pipeline(img, _spec(_conv(filters=["sharpen"]), color="rgb"))[-1].maps
    one = cnn_core.run_pipeline(GRAY, _spec(_conv(filters=["sharpen"]), color="rgb"))[-1].maps
    np.testing.assert_allclose(rgb, one, rtol=1e-6, atol=1e-6)
    gray = cnn_core.run_pipeline(GRAY, _spec(_conv(filters=["sharpen"])))[-1].maps
    np.testing.assert_allclose(rgb, 3 * gray, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("bias", [0.5, -2, [0.25, -1.0, 3.0], [0, 0, 1e-3]])
@pytest.mark.parametrize("image,color", [(GRAY, "grayscale"), (RGB, "rgb"), (RGBA, "rgb")])
def test_bias(bias, image, color):
    filters = ["edge", "box_blur_3", _weights((3, 3), 4)]
    with_bias = _check(image, _spec(_conv(filters=filters, bias=bias), color=color))[-1].maps
    without = cnn_core.run_pipeline(image, _spec(_conv(filters=filters), color=color))[-1].maps
    np.testing.assert_allclose(with_bias - without, np.broadcast_to(np.float32(bias), with_bias.shape), atol=1e-5)


def test_bias_on_a_zero_kernel_is_exact():
    stages = cnn_core.run_pipeline(GRAY, _spec(_conv(filters=[[[0.0] * 3] * 3] * 2, bias=[0.75, -3.5])))
    assert np.all(stages[-1].maps[..., 0] == 0.75) and np.all(stages[-1].maps[..., 1] == -3.5)


# --------------------------------------------------------------------------- activations


@pytest.mark.parametrize(
    "function,alpha",
    [
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.01),
        ("leaky_relu", 0.0),
        ("leaky_relu", 1.5),
        ("leaky_relu", -0.5),
        ("tanh", None),
        ("sigmoid", None),
        ("elu", None),
        ("gelu", None),
        ("linear", None),
    ],
)
def test_activations(function, alpha):
    act = {"type": "activation", "function": function}
    if alpha is not None:
        act["alpha"] = alpha
    # A conv with large signed weights gives values on both sides of 0, well into the tails.
    conv = _conv(filters=[(np.array(_weights((3, 3), 8)) * 6).tolist(), "edge"], bias=[-1.0, 0.5])
    stages = _check(RGB, _spec(conv, act, color="rgb"))
    before = stages[1].maps
    assert before.min() < -2 and before.max() > 2
    a = 0.2 if alpha is None else alpha
    line = np.linspace(-30, 30, 601, dtype=np.float32).reshape(1, -1, 1)
    direct = ops.activation(line, function, a)
    ref = np_activation(line, function, a)
    assert_maps_close(direct, ref, rtol=1e-5)


def test_activation_default_is_relu_and_leaky_default_alpha():
    conv = _conv(filters=[_weights((3, 3), 2)])
    x = cnn_core.run_pipeline(GRAY, _spec(conv))[-1].maps
    relu = cnn_core.run_pipeline(GRAY, _spec(conv, {"type": "activation"}))[-1].maps
    np.testing.assert_array_equal(relu, np.maximum(x, 0))
    leaky = cnn_core.run_pipeline(GRAY, _spec(conv, {"type": "activation", "function": "leaky_relu"}))[-1].maps
    np.testing.assert_allclose(leaky, np.where(x > 0, x, np.float32(0.2) * x), rtol=1e-6)


# --------------------------------------------------------------------------- pooling


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize(
    "size,stride", [(2, 2), (3, 2), (2, 1), ([2, 3], [1, 2]), ([3, 1], [2, 3]), (1, 1), (4, 3), ([1, 4], [3, 3])]
)
def test_pooling(mode, padding, size, stride):
    pool = {"type": "pool2d", "mode": mode, "size": size, "stride": stride, "padding": padding}
    # Signed values: SAME max must ignore the padding rather than treat it as 0.
    conv = _conv(filters=[[[-1.0]], [[0.5]]], bias=[-0.25, 0.0])
    stages = _check(ODD, _spec(conv, pool))
    assert stages[1].maps[..., 0].max() < 0


def test_same_max_pool_ignores_padding():
    img = np.full((3, 3), 255, np.uint8)
    spec = _spec(_conv(filters=[[[-1.0]]]), {"type": "pool2d", "size": 2, "stride": 2, "padding": "same"})
    out = cnn_core.run_pipeline(img, spec)[-1].maps
    assert out.shape == (2, 2, 1) and np.all(out == -1.0)  # padding as 0 would give 0 at the edges


def test_same_avg_pool_divides_by_real_cells():
    img = np.full((3, 3), 255, np.uint8)
    spec = _spec({"type": "pool2d", "mode": "avg", "size": 2, "stride": 2, "padding": "same"})
    out = cnn_core.run_pipeline(img, spec)[-1].maps
    assert out.shape == (2, 2, 1) and np.all(out == 1.0)  # dividing by 4 would give 0.5 and 0.25 at the edges


def test_pool_defaults_match_reference():
    _check(GRAY, _spec({"type": "pool2d"}))
    _check(GRAY, _spec({"type": "pool2d", "size": 3}))


# --------------------------------------------------------------------------- input preparation


@pytest.mark.parametrize("image", [GRAY, GRAY[:, :, None], RGB, RGBA], ids=["HW", "HW1", "HW3", "HW4"])
@pytest.mark.parametrize("color", ["grayscale", "rgb"])
def test_prepare_input_colour(image, color):
    x = cnn_core.prepare_input(image, cnn_core.parse_spec(_spec(color=color)))
    assert x.dtype == np.float32
    assert_maps_close(x, np_prepare_input(image, color), rtol=1e-6)


def test_grayscale_uses_tensorflows_luma_weights():
    px = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)
    x = cnn_core.prepare_input(px, cnn_core.parse_spec(_spec()))
    np.testing.assert_allclose(x[0, :, 0], LUMA, rtol=1e-6)
    np.testing.assert_array_equal(x, tf.image.rgb_to_grayscale(px.astype(np.float32) / 255).numpy())


@pytest.mark.parametrize("size", [[5, 4], [3, 11], [20, 16], [10, 8], [1, 1], [17, 3]])
@pytest.mark.parametrize("image", [RGB, GRAY], ids=["rgb", "gray"])
def test_resize(size, image):
    spec = cnn_core.parse_spec(_spec(color="rgb", size=size))
    x = cnn_core.prepare_input(image, spec)
    assert x.shape == (*size, 3)
    # Antialiased bilinear, written from its definition; TensorFlow computes positions in float32.
    assert_maps_close(x, np_prepare_input(image, "rgb", size), rtol=1e-5, scale=1.0)
    want = tf.image.resize(np_prepare_input(image, "rgb").astype(np.float32), size, "bilinear", antialias=True)
    np.testing.assert_array_equal(x, want.numpy())


def test_resize_reference_on_a_photo():
    img = cnn_core.load_image(ASSETS / "chelsea.png")
    for size in ([120, 180], [400, 500], [33, 451]):
        x = cnn_core.prepare_input(img, cnn_core.parse_spec(_spec(color="rgb", size=size)))
        assert_maps_close(x, np_resize(img / 255.0, size), rtol=1e-4, scale=1.0, what=str(size))


# --------------------------------------------------------------------------- straight against TensorFlow


def _tf(x):
    return x[0].numpy()


@pytest.mark.parametrize(
    "layer",
    [
        _conv(filters=["edge", "sobel_x"], stride=2, padding="same"),
        _conv(filters=[_weights((2, 3, 3), 3)], padding=[[1, 2], [0, 1]], dilation=[2, 1]),
        _conv(filters=[_weights((4, 4), 5)], padding="valid", stride=[1, 2], bias=0.125),
    ],
)
def test_conv_is_exactly_tf_nn_conv2d(layer):
    stages = cnn_core.run_pipeline(RGB, _spec(layer, color="rgb"))
    x, y = stages[0].maps, stages[1].maps
    p = cnn_core.parse_spec(_spec(layer, color="rgb")).layers[0]
    kernel = cnn_core.layer_kernel(p, 3)
    pad = p.padding.upper() if isinstance(p.padding, str) else [[0, 0], *map(list, p.padding), [0, 0]]
    want = tf.nn.conv2d(x[None], kernel, strides=[1, *p.stride, 1], padding=pad, dilations=[1, *p.dilation, 1])
    if any(p.bias):
        want = tf.nn.bias_add(want, np.float32(p.bias))
    np.testing.assert_array_equal(y, _tf(want))
    # And the kernel TensorFlow got is the one the spec wrote down.
    ref = np_conv2d(x, kernel, p.stride, layer["padding"], p.dilation, np.float32(p.bias))
    assert_maps_close(y, ref)


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_pool_is_exactly_tf_pooling(mode, padding):
    pool = {"type": "pool2d", "mode": mode, "size": [3, 2], "stride": [2, 3], "padding": padding}
    stages = cnn_core.run_pipeline(RGB, _spec(pool, color="rgb"))
    pool_fn = tf.nn.max_pool2d if mode == "max" else tf.nn.avg_pool2d
    want = pool_fn(stages[0].maps[None], ksize=[3, 2], strides=[2, 3], padding=padding.upper())
    np.testing.assert_array_equal(stages[1].maps, _tf(want))
    # Where tf.nn.pool accepts the settings (stride no larger than the window) it agrees too.
    pool = {**pool, "stride": [2, 2]}
    stages = cnn_core.run_pipeline(RGB, _spec(pool, color="rgb"))
    want = tf.nn.pool(stages[0].maps[None], [3, 2], mode.upper(), strides=[2, 2], padding=padding.upper())
    np.testing.assert_array_equal(stages[1].maps, _tf(want))


@pytest.mark.parametrize(
    "function,fn",
    [
        ("relu", tf.nn.relu),
        ("tanh", tf.math.tanh),
        ("sigmoid", tf.math.sigmoid),
        ("elu", tf.nn.elu),
        ("gelu", lambda v: tf.nn.gelu(v, approximate=False)),
        ("leaky_relu", lambda v: tf.nn.leaky_relu(v, 0.3)),
    ],
)
def test_activation_is_exactly_tf(function, fn):
    spec = _spec(_conv(filters=[_weights((3, 3), 11)]), {"type": "activation", "function": function, "alpha": 0.3})
    stages = cnn_core.run_pipeline(GRAY, spec)
    np.testing.assert_array_equal(stages[2].maps, fn(tf.constant(stages[1].maps)).numpy())


# --------------------------------------------------------------------------- the reference article's examples


def test_article_camera_example():
    """camera.png, grayscale 300×300, the outline kernel with SAME, ReLU, 2×2 max pool stride 2 SAME."""
    img = cnn_core.load_image(ASSETS / "camera.png")
    spec = cnn_core.default_spec()
    d = spec.to_dict()
    assert d["input"] == {"color": "grayscale", "size": [300, 300]}
    assert [layer["type"] for layer in d["layers"]] == ["conv2d", "activation", "pool2d"]
    assert d["layers"][0]["filters"] == ["edge"] and d["layers"][0]["padding"] == "same"
    assert d["layers"][1]["function"] == "relu"
    assert d["layers"][2] == {"type": "pool2d", "mode": "max", "size": 2, "stride": 2, "padding": "same"}
    stages = cnn_core.run_pipeline(img, spec)
    assert [s.maps.shape for s in stages] == [(300, 300, 1), (300, 300, 1), (300, 300, 1), (150, 150, 1)]
    assert [s.plan.shape for s in stages] == [s.maps.shape for s in stages]
    # Each layer against the reference, from the same input...
    x = stages[0].maps
    conv = np_conv2d(x, np.array(PRESET_WEIGHTS["edge"], float)[:, :, None, None], 1, "same")
    assert_maps_close(stages[1].maps, conv, scale=16.0)
    assert_maps_close(stages[2].maps, np.maximum(conv, 0), scale=16.0)
    assert_maps_close(stages[3].maps, np_pool2d(np.maximum(conv, 0), "max", 2, 2, "same"), scale=16.0)
    # ...and the whole chain from the PNG, resize included (TensorFlow places its samples in float32).
    for got, want in zip(stages, np_run_pipeline(img, d)):
        assert_maps_close(got.maps, want, rtol=1e-4, scale=16.0)
    assert stages[3].maps.max() > 1.0 and stages[3].maps.min() == 0.0


def test_article_32x32x3_twelve_filters():
    img = np.random.default_rng(32).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    filters = ["edge", "sobel_x", "sobel_y", "laplacian", "sharpen", "emboss", "identity", "gaussian_3"]
    filters += [{"init": "he_normal", "seed": s, "size": [3, 3]} for s in range(4)]
    spec = _spec(_conv(filters=filters), {"type": "activation"}, {"type": "pool2d"}, color="rgb")
    stages = _check(img, spec)
    assert [s.maps.shape for s in stages] == [(32, 32, 3), (32, 32, 12), (32, 32, 12), (16, 16, 12)]
    assert stages[1].plan.params == 3 * 3 * 3 * 12 + 12


def test_a_deep_mixed_stack():
    spec = _spec(
        _conv(
            filters=["sobel_x", "sobel_y", {"init": "glorot_uniform", "seed": 1, "size": [3, 3]}], bias=[0, 0.1, -0.1]
        ),
        {"type": "activation", "function": "elu"},
        {"type": "pool2d", "mode": "avg", "size": 2, "stride": 1, "padding": "same"},
        _conv(filters=[_weights((2, 2, 3), 21), _weights((2, 2), 22)], stride=2, padding=1),
        {"type": "activation", "function": "gelu"},
        {"type": "pool2d", "mode": "max", "size": [2, 1], "padding": "same"},
        color="rgb",
        size=[14, 12],
    )
    _check(RGBA, spec)
