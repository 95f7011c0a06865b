"""conv → activation → pool fused into one compiled call: its values, the choice, and the pipeline around it.

The fused form is checked stage by stage on seeded random blocks (strides, dilations, every padding form,
max and average pooling "same"/"valid", every activation) against the eager ``tf.nn`` ops to 1e-5 and
against the NumPy reference. The pipeline tests force "fused" where they need it to run (whether fusing
wins is a timing, and timings don't belong in tests), and check that the cache, the stop checks and
forcing "eager" behave as without fusing.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import cnn_core
from cnn_core import StageCache, ops, pipeline
from cnn_core import chooser as C
from cnn_core import formulations as F
from cnn_core.errors import Cancelled
from tests.core.np_reference import assert_stages_match, np_activation, np_conv2d, np_pool2d
from tests.core.random_specs import PADDING_FORMS, close_to_tf, random_conv

tf = ops.tf
ACTIVATIONS = ["relu", "leaky_relu", "tanh", "sigmoid", "elu", "gelu", "linear"]


def _random_block(seed: int) -> dict:
    """A seeded conv → activation → pool block and its input, within the fused rule's few channels."""
    rng = np.random.default_rng(500 + seed)
    channels = [(1, 1), (1, 2), (2, 1), (2, 2), (1, 3), (3, 1)][seed % 6]
    x, kernel, strides, padding, dilation, bias = random_conv(
        rng, channels, PADDING_FORMS[seed % 4], max_kernel=3, max_stride=2, min_extra=4, max_side=18,
        bias_scale=0.5 if seed % 3 == 0 else None,
    )  # fmt: skip
    conv_s = F.ConvSettings(strides, ops._padding(padding), dilation)
    ho, wo, _ = F.conv_out_shape(x.shape, kernel.shape, conv_s)
    size = (int(rng.integers(1, min(3, ho) + 1)), int(rng.integers(1, min(3, wo) + 1)))  # fits with "valid"
    pool = F.PoolSettings(("max", "avg")[seed % 2], size, (int(rng.integers(1, 4)), int(rng.integers(1, 4))),
                          ("same", "valid")[(seed // 2) % 2])  # fmt: skip
    return {
        "x": x, "kernel": kernel, "strides": strides, "padding": padding, "dilation": dilation, "bias": bias,
        "function": ACTIVATIONS[seed % len(ACTIVATIONS)], "alpha": float(rng.uniform(0.05, 0.5)), "pool": pool,
    }  # fmt: skip


def _fused(b: dict):
    """The block through ops.conv_activation_pool with "fused" forced: the compiled call itself."""
    p = b["pool"]
    with F.forcing("fused"):
        return ops.conv_activation_pool(
            b["x"], b["kernel"], b["strides"], b["padding"], b["dilation"], b["bias"],
            b["function"], b["alpha"], p.mode, p.size, p.strides, p.padding,
        )  # fmt: skip


BLOCK_SEEDS = range(21)  # every activation three times; each padding form, pool mode and padding five times


@pytest.mark.parametrize("seed", BLOCK_SEEDS)
def test_fused_block_matches_tf_nn_and_numpy_at_every_stage(seed):
    b = _random_block(seed)
    x, kernel, bias, fn, pool = b["x"], b["kernel"], b["bias"], b["function"], b["pool"]
    what = (
        f"seed {seed}: {x.shape} * {kernel.shape}, stride {b['strides']}, pad {b['padding']}, dil {b['dilation']}, "
        f"bias {bias is not None}, {fn}, {pool}"
    )
    got = _fused(b)
    assert got is not None and len(got) == 3, what
    conv = tf.nn.conv2d(x[None], kernel, [1, *b["strides"], 1], F._tf_padding(ops._padding(b["padding"])),
                        dilations=[1, *b["dilation"], 1])  # fmt: skip
    if bias is not None:
        conv = tf.nn.bias_add(conv, bias)
    act = conv if fn == "linear" else F.activation_nn(conv, fn, b["alpha"])
    tf_pool = tf.nn.max_pool2d if pool.mode == "max" else tf.nn.avg_pool2d
    ref = [conv, act, tf_pool(act, list(pool.size), list(pool.strides), pool.padding.upper())]
    for name, g, r in zip(("conv", "activation", "pool"), got, ref):
        close_to_tf(g, np.asarray(r)[0], f"{name}, {what}")
    exact_conv = np_conv2d(x, kernel, b["strides"], b["padding"], b["dilation"], bias)
    exact_act = np_activation(exact_conv, fn, b["alpha"])
    exact = [exact_conv, exact_act, np_pool2d(exact_act, pool.mode, pool.size, pool.strides, pool.padding)]
    for name, g, e in zip(("conv", "activation", "pool"), got, exact):
        assert g.dtype == np.float32 and g.shape == e.shape, f"{name}, {what}"
        assert np.allclose(g, e, rtol=1e-4, atol=1e-4), f"{name} against NumPy, {what}"


def test_new_weights_bias_and_slope_never_retrace_the_fused_call():
    rng = np.random.default_rng(21)
    conv_s, pool_s = F.ConvSettings((1, 1), "same", (1, 1)), F.PoolSettings("max", (2, 2), (2, 2), "same")
    fn = F.compiled_conv_activation_pool(conv_s, True, "leaky_relu", pool_s)
    x = rng.standard_normal((1, 9, 8, 1)).astype(np.float32)
    for i in range(4):  # as sliders moving a weight, the bias and leaky ReLU's slope
        k = rng.uniform(-1, 1, (3, 3, 1, 2)).astype(np.float32)
        bias, alpha = np.array([0.1 * i, -0.2], np.float32), np.asarray(0.1 + 0.2 * i, np.float32)
        c, a, p = (np.asarray(t)[0] for t in fn(x, k, bias, alpha))
        exact = np_activation(np_conv2d(x[0], k, 1, "same", 1, bias), "leaky_relu", float(alpha))
        np.testing.assert_allclose(a, exact, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(p, np_pool2d(exact, "max", 2, 2, "same"), rtol=1e-5, atol=1e-5)
    assert fn.experimental_get_tracing_count() == 1
    fn(np.zeros((1, 7, 5, 1), np.float32), k, bias, alpha)  # a new shape does retrace
    assert fn.experimental_get_tracing_count() == 2


def test_linear_activation_is_the_conv_maps_themselves():
    b = _random_block(6)
    assert b["function"] == "linear"
    conv, act, pool = _fused(b)
    assert act is conv  # as ops.activation returns its input for "linear"


def test_the_rule_fuses_only_where_the_shifted_forms_are_tried_and_the_graph_stays_small():
    assert F.fused_candidates((3, 3, 1, 1), (2, 2)) == ("fused",)
    assert F.fused_candidates((3, 3, 2, 2), (3, 3)) == ("fused",)
    assert F.fused_candidates((3, 3, 3, 8), (2, 2)) == ()  # many channels: the shifted conv is not tried
    assert F.fused_candidates((3, 3, 1, 1), (24, 24)) == ()  # a large pooling window
    assert F.fused_candidates((5, 5, 2, 2), (2, 2)) == ()  # 100 weights: over FUSED_MAX_PRODUCTS


# --------------------------------------------------------------------------- the choice


def _maps(value: float):
    return (np.full((2, 2), value, np.float32),) * 3


def test_fusing_waits_until_the_layers_have_been_measured(monkeypatch):
    monkeypatch.delenv("CNN_CORE_FORMULATION", raising=False)

    def never():
        raise AssertionError("compiled before the layers were measured")

    chooser = F.Chooser()
    assert chooser.run_fused(("b",), never, never, never, lambda: None, True) is None
    assert chooser.choices() == {}


def test_quick_layers_and_the_rule_keep_fusing_from_compiling(monkeypatch):
    monkeypatch.delenv("CNN_CORE_FORMULATION", raising=False)

    def never():
        raise AssertionError("compiled although not worth it")

    chooser = F.Chooser()
    quick = C.FUSED_MEASURE_FLOOR_S / 2
    assert chooser.run_fused(("b",), never, never, never, lambda: quick, True) is None
    assert chooser.choices()[("b",)].name == "layers"
    assert chooser.run_fused(("b",), never, never, never, lambda: quick, True) is None  # remembered
    assert chooser.run_fused(("c",), never, never, never, lambda: 1.0, False) is None  # the rule says no
    assert ("c",) not in chooser.choices()


def test_a_fused_form_that_disagrees_is_never_chosen(monkeypatch):
    monkeypatch.setattr(C, "FUSED_MEASURE_FLOOR_S", 0.0)
    monkeypatch.delenv("CNN_CORE_FORMULATION", raising=False)
    wrong = (np.ones((2, 2), np.float32), np.ones((2, 2), np.float32), np.full((2, 2), 1.01, np.float32))
    chooser = F.Chooser()
    got = chooser.run_fused(("b",), lambda: wrong, lambda: _maps(1.0), lambda: _maps(1.0), lambda: 1.0, True)
    assert got is None
    choice = chooser.choices()[("b",)]
    assert choice.name == "layers" and choice.rejected == {"fused": "values differ from the eager ops"}


def test_a_quicker_fused_form_is_chosen_and_remembered(monkeypatch):
    monkeypatch.setattr(C, "FUSED_MEASURE_FLOOR_S", 0.0)
    monkeypatch.delenv("CNN_CORE_FORMULATION", raising=False)
    calls = {"fused": 0, "layers": 0}

    def fused():
        calls["fused"] += 1
        return _maps(1.0)

    def layers():
        calls["layers"] += 1
        time.sleep(0.02)  # 20 ms against microseconds: the verdict can't flip under load
        return _maps(1.0)

    chooser = F.Chooser()
    got = chooser.run_fused(("b",), fused, layers, lambda: _maps(1.0), lambda: 0.02, True)
    assert got is not None and chooser.choices()[("b",)].name == "fused"
    assert {"layers", "fused", "fused compile"} <= set(chooser.choices()[("b",)].seconds)
    seen = dict(calls)
    chooser.run_fused(("b",), fused, layers, lambda: _maps(1.0), lambda: 0.02, True)
    assert calls == {"fused": seen["fused"] + 1, "layers": seen["layers"]}  # no second measurement


def test_measuring_a_block_may_measure_one_of_its_layers_too(monkeypatch):
    import threading

    monkeypatch.setattr(C, "FUSED_MEASURE_FLOOR_S", 0.0)
    monkeypatch.delenv("CNN_CORE_FORMULATION", raising=False)
    chooser = F.Chooser()

    def layers():  # its own key not chosen yet: it measures, inside the block's measurement
        return chooser.run(("layer",), {"eager": lambda: _maps(1.0)})

    done = []
    worker = threading.Thread(
        target=lambda: done.append(
            chooser.run_fused(("b",), lambda: _maps(1.0), layers, lambda: _maps(1.0), lambda: 1.0, True)
        ),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=10)  # microseconds of work; a deadlock never ends
    assert done, "the block's measurement waited forever on its own lock"
    assert {("b",), ("layer",)} <= set(chooser.choices())


def test_forcing_runs_the_fused_form_or_the_layers(monkeypatch):
    monkeypatch.delenv("CNN_CORE_FORMULATION", raising=False)
    chooser = F.Chooser()

    def never():
        raise AssertionError("fused although another formulation is forced")

    with F.forcing("fused"):
        assert chooser.run_fused(("b",), lambda: _maps(3.0), never, never, lambda: None, False)[0][0, 0] == 3.0
    for name in ("eager", "xla", "shifted"):
        with F.forcing(name):
            assert chooser.run_fused(("b",), never, never, never, lambda: 1.0, True) is None
    monkeypatch.setenv("CNN_CORE_FORMULATION", "eager")
    assert chooser.run_fused(("b",), never, never, never, lambda: 1.0, True) is None
    assert chooser.choices() == {}


# --------------------------------------------------------------------------- the pipeline

SPEC = {
    "version": 1,
    "input": {"color": "grayscale"},
    "layers": [
        {"type": "conv2d", "filters": ["edge", "sobel_x"], "padding": "same", "bias": [0.1, -0.05]},
        {"type": "activation", "function": "leaky_relu", "alpha": 0.3},
        {"type": "pool2d", "mode": "avg", "size": 3, "stride": 2, "padding": "same"},
        {"type": "conv2d", "filters": ["laplacian"], "padding": "valid"},
    ],
}


def _image(seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (23, 19), dtype=np.uint8)


def test_a_fused_run_gives_every_stage_the_reference_values_and_caches_each():
    img, cache = _image(), StageCache()
    with F.forcing("fused"):
        stages = cnn_core.run_pipeline(img, SPEC, cache=cache)
    assert [s.fused for s in stages] == [False, True, True, True, False]
    assert_stages_match([s.maps for s in stages], img, SPEC)
    assert len(cache) == len(stages) and cache.misses == len(stages) and cache.hits == 0
    assert all(not s.maps.flags.writeable for s in stages)
    # The same keys as a run one layer at a time: the cache answers it whole, and with the same maps.
    with F.forcing("eager"):
        again = cnn_core.run_pipeline(img, SPEC, cache=cache)
    assert all(s.cached for s in again) and cache.hits == len(stages)
    assert [s.key for s in again] == [s.key for s in stages]
    with F.forcing("eager"):
        separate = cnn_core.run_pipeline(img, SPEC)
    for a, b in zip(stages, separate):
        assert F.agrees(a.maps, b.maps), a.name


def test_a_cached_stage_inside_the_block_keeps_the_layers_apart():
    img, cache = _image(), StageCache()
    cnn_core.run_pipeline(img, SPEC, cache=cache)
    edited = {**SPEC, "layers": [SPEC["layers"][0], {"type": "activation", "function": "tanh"}, *SPEC["layers"][2:]]}
    with F.forcing("fused"):
        stages = cnn_core.run_pipeline(img, edited, cache=cache)
    assert [s.cached for s in stages] == [True, True, False, False, False]
    assert not any(s.fused for s in stages)  # the conv came from the cache: nothing to fuse it with
    assert_stages_match([s.maps for s in stages], img, edited)


def test_stop_is_asked_before_and_after_a_fused_block():
    asked = []

    def stop() -> bool:
        asked.append(1)
        return False

    with F.forcing("fused"):
        stages = cnn_core.run_pipeline(_image(), SPEC, should_stop=stop)
    assert any(s.fused for s in stages)
    assert len(asked) == 3  # before the input, before the block, before the last conv

    def stop_at_the_block() -> bool:
        asked.append(1)
        return len(asked) > 4

    cache = StageCache()
    with F.forcing("fused"), pytest.raises(Cancelled, match="before stage 1"):
        cnn_core.run_pipeline(_image(), SPEC, cache=cache, should_stop=stop_at_the_block)
    assert len(cache) == 1  # the input only


def test_layers_that_run_in_bands_are_never_fused(monkeypatch):
    monkeypatch.setattr(pipeline, "BAND_SECONDS", 1e-7)  # every layer counts as long
    img = _image()
    with F.forcing("fused"):
        stages = cnn_core.run_pipeline(img, SPEC, should_stop=lambda: False)
    assert not any(s.fused for s in stages)
    assert_stages_match([s.maps for s in stages], img, SPEC)


def _count_fused_calls(monkeypatch) -> list:
    """Count the fused calls: ops looks the compiled function up from its factory for every call."""
    calls: list = []
    make = F.compiled_conv_activation_pool

    def counting(*args, **kwargs):
        calls.append(1)
        return make(*args, **kwargs)

    monkeypatch.setattr(F, "compiled_conv_activation_pool", counting)
    return calls


def test_forcing_eager_runs_no_fused_call_where_auto_would(monkeypatch):
    monkeypatch.setattr(C, "FUSED_MEASURE_FLOOR_S", 0.0)  # every block is worth measuring
    monkeypatch.delenv("CNN_CORE_FORMULATION", raising=False)
    monkeypatch.setattr(F, "CHOOSER", F.Chooser())
    calls = _count_fused_calls(monkeypatch)
    img = _image(5)
    # Unforced, the first run measures the layers and the second measures the fused call against them.
    cnn_core.run_pipeline(img, SPEC)
    assert calls == []
    cnn_core.run_pipeline(img, SPEC)
    assert calls, "auto never tried the fused call, so this test could not tell forcing from doing nothing"
    (key,) = [k for k in F.CHOOSER.choices() if k[0] == "conv_activation_pool"]
    # A chooser that has chosen "fused" for this block (which one wins by timing is the machine's business).
    chooser = F.Chooser()
    slow = lambda: (time.sleep(0.02), _maps(1.0))[1]  # noqa: E731
    chooser.run_fused(key, lambda: _maps(1.0), slow, lambda: _maps(1.0), lambda: 1.0, True)
    assert chooser.choices()[key].name == "fused"
    monkeypatch.setattr(F, "CHOOSER", chooser)
    calls.clear()
    assert [s.fused for s in cnn_core.run_pipeline(img, SPEC)] == [False, True, True, True, False] and calls
    calls.clear()
    with F.forcing("eager"):
        for _ in range(2):
            stages = cnn_core.run_pipeline(img, SPEC)
    assert calls == [] and not any(s.fused for s in stages)
    assert_stages_match([s.maps for s in stages], img, SPEC)
