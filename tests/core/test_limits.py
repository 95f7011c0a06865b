"""Stacks too costly for a shared server are refused before anything runs, with the estimate shown."""

import itertools
import time

import pytest

import cnn_core
from cnn_core import cost


def _conv(n: int, k: int) -> dict:
    return {"type": "conv2d", "filters": [{"init": "he_normal", "seed": i, "size": [k, k]} for i in range(n)]}


def test_compute_budget_is_refused_with_the_estimate():
    spec = {"version": 1, "input": {"color": "grayscale", "size": [1024, 1024]}, "layers": [_conv(32, 15)] * 6}
    t0 = time.perf_counter()
    with pytest.raises(cnn_core.SpecError) as e:
        cnn_core.plan(spec, (10, 10))
    assert time.perf_counter() - t0 < 5.0  # planning is milliseconds; a wide margin for a loaded machine
    plans = cnn_core.plan(spec, (10, 10), limits=False)
    total = cost.estimate_seconds(plans, (10, 10))
    assert total > cost.MAX_SECONDS
    assert f"would take about {total:,.1f} s to compute" in str(e.value)
    assert f"the limit is {cost.MAX_SECONDS:g} s" in str(e.value)
    running = list(itertools.accumulate(c.seconds for c in cost.stage_costs(plans, (10, 10))))
    first_over = next(i for i, t in enumerate(running) if t > cost.MAX_SECONDS)  # the stage index
    assert first_over >= 2 and e.value.field == f"layers[{first_over - 1}] (conv2d)"


def test_a_stack_just_under_the_budget_plans():
    spec = {"version": 1, "input": {"color": "grayscale", "size": [1024, 1024]}, "layers": [_conv(32, 3)]}
    plans = cnn_core.plan(spec, (10, 10))
    assert sum(p.madds for p in plans) == 1024 * 1024 * 32 * 9
    assert cost.estimate_seconds(plans, (10, 10)) < cost.MAX_SECONDS
