"""plan() reports a stack it can't build as data: which layer, why, and the plans of what can be built."""

from __future__ import annotations

import pytest

from cnn_core import PlanError, SpecError, plan
from cnn_core.pipeline import MAX_STACK_BYTES


def _spec(layers, size=(8, 8), color="grayscale"):
    return {"version": 1, "input": {"color": color, "size": list(size)}, "layers": layers}


def test_a_layer_that_shrinks_the_map_to_nothing_is_named_with_the_plans_before_it():
    spec = _spec([{"type": "conv2d", "filters": ["edge"]}, {"type": "activation", "function": "relu"},
                  {"type": "pool2d", "size": 16, "padding": "valid"}, {"type": "activation", "function": "relu"}])  # fmt: skip
    with pytest.raises(PlanError) as e:
        plan(spec, (8, 8))
    assert isinstance(e.value, SpecError)  # callers that catch SpecError keep working
    assert e.value.layer == 2
    assert "into nothing" in e.value.reason and e.value.reason == e.value.detail
    assert [p.shape for p in e.value.plans] == [(8, 8, 1), (8, 8, 1), (8, 8, 1)]
    assert e.value.field.startswith("layers[2]")


def test_a_3d_kernel_of_the_wrong_depth_is_named():
    spec = _spec([{"type": "conv2d", "filters": [[[[1.0, 0.0]]]]}], color="rgb")  # depth 2 on 3 channels
    with pytest.raises(PlanError) as e:
        plan(spec, (8, 8, 3))
    assert e.value.layer == 0 and "depth 2" in e.value.reason
    assert [p.shape for p in e.value.plans] == [(8, 8, 3)]


def test_a_stack_over_the_memory_limit_names_no_layer_and_keeps_the_start_that_fits():
    side = 2048
    n = MAX_STACK_BYTES // (4 * side * side) // 2  # two such conv stages fit, a third doesn't
    conv = {"type": "conv2d", "filters": ["identity"] * n}
    with pytest.raises(PlanError) as e:
        plan(_spec([conv, conv, conv, conv], size=(side, side)), (side, side))
    assert e.value.layer is None and "MB of feature maps" in e.value.reason
    kept = e.value.plans
    assert 1 <= len(kept) < 5
    assert sum(4 * p.shape[0] * p.shape[1] * p.shape[2] for p in kept) <= MAX_STACK_BYTES
