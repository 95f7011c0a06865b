"""Shape arithmetic, weight and cost counts, and stacks refused before they run."""

from __future__ import annotations

import math
import re
import time
import tracemalloc

import numpy as np
import pytest
import tensorflow as tf

import cnn_core
from cnn_core import SpecError, axis_arithmetic
from cnn_core.pipeline import MAX_STACK_BYTES
from tests.core.np_reference import same_pads

SIZES = (1, 2, 3, 4, 5, 7, 8, 10, 13)
KERNELS = (1, 2, 3, 4, 5)


def _eval_formula(text: str) -> tuple[int, int]:
    """Evaluate the left side of a filled-in formula and return (value, stated result)."""
    left, right = text.split(" = ")
    assert re.fullmatch(r"floor\(\(\d+ \+ \d+ − \d+·\(\d+−1\) − 1\) / \d+\) \+ 1", left), left
    expr = left.replace("floor", "math.floor").replace("−", "-").replace("·", "*")
    return eval(expr, {"math": math}), int(right)


def _tf_conv_len(size, kernel, stride, dilation, padding) -> int:
    """The output length TensorFlow gives along one axis (the other axis is 1 wide)."""
    pad = padding.upper() if isinstance(padding, str) else [[0, 0], list(padding), [0, 0], [0, 0]]
    y = tf.nn.conv2d(
        np.zeros((1, size, 1, 1), np.float32),
        np.zeros((kernel, 1, 1, 1), np.float32),
        strides=[1, stride, 1, 1],
        padding=pad,
        dilations=[1, dilation, 1, 1],
    )
    return int(y.shape[1])


@pytest.mark.parametrize("padding", ["same", "valid", (0, 0), (1, 1), (0, 2), (3, 1)])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
def test_conv_length_matches_tensorflow(padding, stride, dilation):
    checked = 0
    for size in SIZES:
        for kernel in KERNELS:
            a = axis_arithmetic("height", size, kernel, stride, dilation, padding)
            value, stated = _eval_formula(a.formula())
            assert stated == a.out
            span = dilation * (kernel - 1) + 1
            if size + a.pad_total < span:
                # TensorFlow itself may crash or return garbage here: the plan must refuse it first.
                assert a.out == 0
                continue
            assert value == a.out, a.formula()
            assert a.out == _tf_conv_len(size, kernel, stride, dilation, padding), (size, kernel)
            if padding == "same":
                assert a.out == -(-size // stride) and a.pad_before in (a.pad_after, a.pad_after - 1)
            checked += 1
    assert checked > 20


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("mode", ["MAX", "AVG"])
def test_pool_length_matches_tensorflow(padding, mode):
    pool = tf.nn.max_pool2d if mode == "MAX" else tf.nn.avg_pool2d
    for h in SIZES:
        for window in (1, 2, 3, 4):
            for stride in (1, 2, 3, 5):
                a = axis_arithmetic("height", h, window, stride, 1, padding)
                b = axis_arithmetic("width", 6, window, stride, 1, padding)
                if a.out < 1:
                    assert padding == "valid" and window > h
                    continue
                y = pool(np.zeros((1, h, 6, 1), np.float32), [window, window], [stride, stride], padding.upper())
                assert tuple(y.shape[1:3]) == (a.out, b.out), (h, window, stride)


def test_formula_text_with_numbers():
    a = axis_arithmetic("height", 300, 3, 1, 1, "same")
    assert (a.pad_before, a.pad_after, a.out) == (1, 1, 300)
    assert a.formula() == "floor((300 + 2 − 1·(3−1) − 1) / 1) + 1 = 300"
    b = axis_arithmetic("width", 300, 2, 2, 1, "same")
    assert b.formula() == "floor((300 + 0 − 1·(2−1) − 1) / 2) + 1 = 150"
    c = axis_arithmetic("width", 10, 4, 3, 2, "same")  # span 7, out 4: total (4-1)*3+7-10 = 6
    assert (c.pad_before, c.pad_after) == (3, 3) and c.formula() == "floor((10 + 6 − 2·(4−1) − 1) / 3) + 1 = 4"
    d = axis_arithmetic("height", 8, 4, 1, 1, "same")  # odd total: the extra pixel goes after
    assert (d.pad_before, d.pad_after) == (1, 2)
    e = axis_arithmetic("height", 9, 5, 2, 1, (0, 3))
    assert e.formula() == "floor((9 + 3 − 1·(5−1) − 1) / 2) + 1 = 4"


def test_plan_arithmetic_is_per_axis():
    spec = {
        "version": 1,
        "input": {"color": "rgb", "size": [20, 31]},
        "layers": [
            {
                "type": "conv2d",
                "filters": [[[1.0] * 4] * 2],
                "stride": [1, 3],
                "dilation": [2, 1],
                "padding": [[0, 1], [2, 0]],
            },
            {"type": "pool2d", "size": [3, 2], "stride": [2, 1], "padding": "same"},
        ],
    }
    plans = cnn_core.plan(spec, (5, 5, 3))
    height, width = plans[1].arithmetic
    assert (height.axis, height.size, height.kernel, height.stride, height.dilation) == ("height", 20, 2, 1, 2)
    assert (height.pad_before, height.pad_after, height.out) == (0, 1, 19)
    assert (width.axis, width.size, width.kernel, width.stride, width.pad_before, width.out) == (
        "width",
        31,
        4,
        3,
        2,
        10,
    )
    assert plans[1].shape == (19, 10, 1)
    assert plans[2].shape == (10, 10, 1) and [a.kernel for a in plans[2].arithmetic] == [3, 2]
    stages = cnn_core.run_pipeline(np.zeros((5, 5, 3), np.uint8), spec)
    assert [s.maps.shape for s in stages] == [p.shape for p in plans]


@pytest.mark.parametrize(
    "spec_layers,input_shape,want",
    [
        # (layers, input (H, W, C), [(shape, params, madds), ...] for each layer)
        (
            [{"type": "conv2d", "filters": ["edge"]}],
            (300, 300, 1),
            [((300, 300, 1), 3 * 3 * 1 * 1 + 1, 300 * 300 * 1 * 9 * 1)],
        ),
        (
            [{"type": "conv2d", "filters": ["edge"] * 12}, {"type": "activation"}, {"type": "pool2d"}],
            (32, 32, 3),
            [((32, 32, 12), 3 * 3 * 3 * 12 + 12, 32 * 32 * 12 * 9 * 3), ((32, 32, 12), 0, 0), ((16, 16, 12), 0, 0)],
        ),
        (
            [
                {"type": "conv2d", "filters": [[[1.0] * 4] * 2] * 5, "stride": 2, "padding": "valid"},
                {"type": "conv2d", "filters": ["box_blur_5"] * 2, "dilation": 2, "padding": 1},
            ],
            (21, 17, 3),
            [((10, 7, 5), 2 * 4 * 3 * 5 + 5, 10 * 7 * 5 * 8 * 3), ((4, 1, 2), 5 * 5 * 5 * 2 + 2, 4 * 1 * 2 * 25 * 5)],
        ),
    ],
)
def test_params_and_madds(spec_layers, input_shape, want):
    color = "grayscale" if input_shape[2] == 1 else "rgb"
    spec = {"version": 1, "input": {"color": color, "size": list(input_shape[:2])}, "layers": spec_layers}
    plans = cnn_core.plan(spec, (4, 4))
    assert plans[0].shape == input_shape and plans[0].params == 0 and plans[0].madds == 0
    assert [(p.shape, p.params, p.madds) for p in plans[1:]] == want
    assert [p.name for p in plans] == ["input"] + [layer["type"] for layer in spec_layers]
    assert [p.index for p in plans] == list(range(len(plans)))


@pytest.mark.parametrize("size", [(8, 9), (7, 10), (1, 2)])
def test_plan_same_padding_puts_the_odd_pixel_after(size):
    spec = {
        "version": 1,
        "input": {"color": "grayscale", "size": list(size)},
        "layers": [
            {"type": "conv2d", "filters": [[[1.0] * 4] * 2], "stride": [1, 3], "dilation": [3, 1]},
            {"type": "pool2d", "size": [2, 3], "stride": 1, "padding": "same"},
        ],
    }
    plans = cnn_core.plan(spec, (4, 4))
    h, w = plans[1].arithmetic
    assert (h.pad_before, h.pad_after) == same_pads(size[0], 2, 1, 3)
    assert (w.pad_before, w.pad_after) == same_pads(size[1], 4, 3, 1)
    h2, w2 = plans[2].arithmetic
    assert (h2.pad_before, h2.pad_after) == same_pads(h.out, 2, 1) == (0, 1)
    assert (w2.pad_before, w2.pad_after) == same_pads(w.out, 3, 1) == (1, 1)
    assert h.pad_after - h.pad_before == 1  # span 4: total 3, split 1 before, 2 after


def test_plan_uses_the_image_size_when_no_size_is_set():
    spec = {"version": 1, "input": {"color": "rgb"}, "layers": [{"type": "pool2d", "size": 3}]}
    assert [p.shape for p in cnn_core.plan(spec, (10, 7))] == [(10, 7, 3), (3, 2, 3)]
    assert [p.shape for p in cnn_core.plan(spec, (10, 7, 1))] == [(10, 7, 3), (3, 2, 3)]


@pytest.mark.parametrize(
    "layers,image_shape,bad_index",
    [
        ([{"type": "conv2d", "filters": [[[1.0] * 7] * 7], "padding": "valid"}], (4, 4), 0),
        (
            [{"type": "activation"}, {"type": "conv2d", "filters": ["edge"], "dilation": 3, "padding": "valid"}],
            (6, 9),
            1,
        ),
        ([{"type": "pool2d"}, {"type": "pool2d"}, {"type": "pool2d"}], (5, 5), 2),
        ([{"type": "pool2d", "size": [1, 6]}], (9, 5), 0),
        ([{"type": "conv2d", "filters": ["edge"], "stride": 2}, {"type": "pool2d", "size": 4}], (6, 6), 1),
        ([{"type": "conv2d", "filters": [[[1.0] * 5] * 5], "padding": [[0, 0], [1, 2]]}], (9, 1), 0),
    ],
)
def test_impossible_stacks_name_the_layer(layers, image_shape, bad_index):
    spec = {"version": 1, "input": {"color": "grayscale"}, "layers": layers}
    with pytest.raises(SpecError) as e:
        cnn_core.plan(spec, image_shape)
    assert e.value.field.startswith(f"layers[{bad_index}]")
    assert "into nothing" in str(e.value) and layers[bad_index]["type"] in str(e.value)
    # run_pipeline refuses the same way, before TensorFlow sees a window that does not fit.
    with pytest.raises(SpecError) as e2:
        cnn_core.run_pipeline(np.zeros(image_shape, np.uint8), spec)
    assert str(e2.value) == str(e.value)


def test_3d_kernel_depth_mismatch_names_the_layer():
    spec = {"version": 1, "input": {"color": "rgb"}, "layers": [{"type": "conv2d", "filters": [[[[1.0, 2.0]]]]}]}
    with pytest.raises(SpecError) as e:
        cnn_core.run_pipeline(np.zeros((3, 3, 3), np.uint8), spec)
    assert e.value.field.startswith("layers[0]") and "depth 2" in str(e.value) and "3 channels" in str(e.value)


def test_too_much_memory_is_refused_before_allocating():
    conv = {"type": "conv2d", "filters": ["edge"] * 64}
    spec = {"version": 1, "input": {"color": "rgb", "size": [4096, 4096]}, "layers": [conv] * 6}
    expected_mb = 4 * 4096 * 4096 * (3 + 64 * 6) / 1e6
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(SpecError) as e:
            cnn_core.run_pipeline(np.zeros((8, 8, 3), np.uint8), spec)
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 10.0 and peak < 20_000_000  # a wide margin on the time: the memory peak is the sharp check
    msg = str(e.value)
    assert "MB" in msg and f"{expected_mb:,.0f} MB" in msg and f"{MAX_STACK_BYTES / 1e6:,.0f} MB" in msg
    # The same kind of stack at a size that fits is planned without complaint.
    small = {"version": 1, "input": {"color": "rgb", "size": [512, 512]}, "layers": [conv] * 2}
    assert cnn_core.plan(small, (8, 8))[-1].shape == (512, 512, 64)


def test_many_small_stages_add_up():
    """The estimate counts every stage, not only the largest one."""
    layers = [{"type": "activation"}] * 30
    spec = {"version": 1, "input": {"color": "rgb", "size": [4096, 4096]}, "layers": layers}
    assert 4 * 4096 * 4096 * 3 * 31 > MAX_STACK_BYTES
    with pytest.raises(SpecError, match="MB"):
        cnn_core.plan(spec, (8, 8))
    assert len(cnn_core.plan({**spec, "layers": layers[:5]}, (8, 8))) == 6
