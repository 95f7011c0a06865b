"""Stacks too costly for a shared server are refused before anything runs, with the estimate shown."""

import time

import pytest

import cnn_core
from cnn_core.pipeline import MAX_MADDS


def _conv(n: int, k: int) -> dict:
    return {"type": "conv2d", "filters": [{"init": "he_normal", "seed": i, "size": [k, k]} for i in range(n)]}


def test_compute_budget_is_refused_with_the_estimate():
    spec = {"version": 1, "input": {"color": "rgb", "size": [2048, 2048]}, "layers": [_conv(32, 7), _conv(32, 7)]}
    t0 = time.perf_counter()
    with pytest.raises(cnn_core.SpecError) as e:
        cnn_core.plan(spec, (10, 10, 3))
    assert time.perf_counter() - t0 < 1.0
    madds = 2048 * 2048 * 32 * 49 * 3 + 2048 * 2048 * 32 * 49 * 32
    assert madds > MAX_MADDS
    assert f"{madds / 1e9:,.1f} billion multiply-adds" in str(e.value)
    assert e.value.field == "layers"


def test_a_stack_just_under_the_budget_plans():
    spec = {"version": 1, "input": {"color": "grayscale", "size": [1024, 1024]}, "layers": [_conv(32, 3)]}
    plans = cnn_core.plan(spec, (10, 10))
    assert sum(p.madds for p in plans) == 1024 * 1024 * 32 * 9
