"""StageCache: reruns come from the cache, edits recompute only what follows, images never mix."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import cnn_core
from cnn_core import StageCache
from tests.core.np_reference import assert_stages_match

RNG = np.random.default_rng(99)
IMG = RNG.integers(0, 256, size=(12, 10, 3), dtype=np.uint8)
OTHER = RNG.integers(0, 256, size=(12, 10, 3), dtype=np.uint8)
SPEC = {
    "version": 1,
    "input": {"color": "rgb", "size": None},
    "layers": [
        {"type": "conv2d", "filters": ["edge", "sobel_x"], "bias": [0.1, -0.1]},
        {"type": "activation", "function": "relu"},
        {"type": "pool2d", "mode": "max", "size": 2},
        {"type": "conv2d", "filters": [{"init": "he_normal", "seed": 1, "size": [2, 2]}], "padding": "valid"},
    ],
}


def _edited(k: int) -> dict:
    spec = copy.deepcopy(SPEC)
    layer = spec["layers"][k]
    if layer["type"] == "conv2d":
        layer["filters"][0] = "laplacian" if k == 0 else {"init": "he_normal", "seed": 2, "size": [2, 2]}
    elif layer["type"] == "activation":
        layer["function"] = "tanh"
    else:
        layer["mode"] = "avg"
    return spec


def test_second_run_is_all_cached_and_identical():
    cache = StageCache()
    first = cnn_core.run_pipeline(IMG, SPEC, cache=cache)
    assert not any(s.cached for s in first) and cache.misses == len(first) and cache.hits == 0
    second = cnn_core.run_pipeline(IMG, SPEC, cache=cache)
    assert all(s.cached for s in second) and cache.hits == len(second)
    assert all(s.seconds == 0.0 for s in second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.maps, b.maps)
        assert a.key == b.key and a.key and a.plan == b.plan and a.name == b.name
    assert len({s.key for s in first}) == len(first)
    # The spec as JSON text or a parsed Spec is the same settings.
    third = cnn_core.run_pipeline(IMG, cnn_core.parse_spec(SPEC).to_json(), cache=cache)
    assert all(s.cached for s in third)
    assert_stages_match([s.maps for s in second], IMG, SPEC)


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_editing_layer_k_recomputes_only_what_follows(k):
    cache = StageCache()
    base = cnn_core.run_pipeline(IMG, SPEC, cache=cache)
    edited = _edited(k)
    stages = cnn_core.run_pipeline(IMG, edited, cache=cache)
    # Stage 0 is the input; layer k is stage k + 1.
    assert [s.cached for s in stages] == [i <= k for i in range(len(stages))]
    for i, (a, b) in enumerate(zip(base, stages)):
        if i <= k:
            np.testing.assert_array_equal(a.maps, b.maps)
            assert a.key == b.key
        else:
            assert a.key != b.key
    assert not np.array_equal(base[k + 1].maps, stages[k + 1].maps)
    assert_stages_match([s.maps for s in stages], IMG, edited)
    # Going back is all cached again.
    assert all(s.cached for s in cnn_core.run_pipeline(IMG, SPEC, cache=cache))


def test_changing_the_input_settings_recomputes_everything():
    cache = StageCache()
    cnn_core.run_pipeline(IMG, SPEC, cache=cache)
    for inp in ({"color": "grayscale", "size": None}, {"color": "rgb", "size": [8, 8]}):
        stages = cnn_core.run_pipeline(IMG, {**SPEC, "input": inp}, cache=cache)
        assert not any(s.cached for s in stages)


def test_appending_a_layer_reuses_the_prefix():
    cache = StageCache()
    cnn_core.run_pipeline(IMG, SPEC, cache=cache)
    longer = {**SPEC, "layers": SPEC["layers"] + [{"type": "activation", "function": "sigmoid"}]}
    stages = cnn_core.run_pipeline(IMG, longer, cache=cache)
    assert [s.cached for s in stages] == [True] * 5 + [False]
    shorter = {**SPEC, "layers": SPEC["layers"][:2]}
    assert all(s.cached for s in cnn_core.run_pipeline(IMG, shorter, cache=cache))


def test_another_image_never_hits():
    cache = StageCache()
    mine = cnn_core.run_pipeline(IMG, SPEC, cache=cache)
    hits = cache.hits
    theirs = cnn_core.run_pipeline(OTHER, SPEC, cache=cache)
    assert cache.hits == hits and not any(s.cached for s in theirs)
    assert not any(np.array_equal(a.maps, b.maps) for a, b in zip(mine, theirs))
    assert_stages_match([s.maps for s in theirs], OTHER, SPEC)
    # One changed pixel is another image.
    nudged = IMG.copy()
    nudged[5, 5, 1] ^= 1
    assert not any(s.cached for s in cnn_core.run_pipeline(nudged, SPEC, cache=cache))


def test_same_bytes_in_another_shape_never_hits():
    cache = StageCache()
    spec = {"version": 1, "input": {"color": "grayscale"}, "layers": [{"type": "activation"}]}
    flat = IMG[:, :, 0].copy()
    cnn_core.run_pipeline(flat, spec, cache=cache)
    stages = cnn_core.run_pipeline(flat.reshape(10, 12), spec, cache=cache)
    assert not any(s.cached for s in stages) and stages[0].maps.shape == (10, 12, 1)


def test_byte_bound_evicts():
    one_stage = 12 * 10 * 3 * 4  # bytes of the rgb input stage
    cache = StageCache(max_bytes=3 * one_stage)
    for img in (IMG, OTHER, IMG[::-1].copy(), OTHER[::-1].copy()):
        stages = cnn_core.run_pipeline(img, SPEC, cache=cache)
        assert cache.nbytes <= cache.max_bytes
        assert_stages_match([s.maps for s in stages], img, SPEC)
    assert cache.evictions > 0
    assert cache.nbytes == sum(v.nbytes for v in cache._items.values())
    # The oldest image's entries are gone: running it again recomputes.
    assert not cnn_core.run_pipeline(IMG, SPEC, cache=cache)[0].cached


def test_a_stage_bigger_than_the_cache_is_not_kept():
    cache = StageCache(max_bytes=79)  # the smallest stage here is 5×4×1 float32 = 80 bytes
    stages = cnn_core.run_pipeline(IMG, SPEC, cache=cache)
    assert len(cache) == 0 and cache.nbytes == 0
    assert not any(s.cached for s in cnn_core.run_pipeline(IMG, SPEC, cache=cache))
    assert stages[0].maps.shape == (12, 10, 3)


@pytest.mark.parametrize("use_cache", [False, True])
def test_maps_are_read_only(use_cache):
    cache = StageCache() if use_cache else None
    runs = [cnn_core.run_pipeline(IMG, SPEC, cache=cache) for _ in range(2)]
    for stages in runs:
        for s in stages:
            assert not s.maps.flags.writeable
            with pytest.raises(ValueError):
                s.maps[0, 0, 0] = 123.0
    # And nothing a caller does to a copy reaches the cache.
    copy_ = runs[0][1].maps.copy()
    copy_[:] = 0
    np.testing.assert_array_equal(cnn_core.run_pipeline(IMG, SPEC, cache=cache)[1].maps, runs[1][1].maps)
