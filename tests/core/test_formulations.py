"""Every formulation in cnn_core.formulations gives tf.nn's values, and the choice between them is sound.

Each formulation is checked on seeded random layers (strides, dilations, every padding form, pooling
"same"/"valid", max and average) against the eager ``tf.nn`` op to 1e-5, and against the NumPy
reference, so a formulation and TensorFlow cannot share a mistake unnoticed.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnn_core import chooser as C
from cnn_core import formulations as F
from cnn_core import ops
from tests.core.np_reference import np_activation, np_conv2d, np_pool2d
from tests.core.random_specs import PADDING_FORMS, close_to_tf, random_conv

tf = ops.tf


def _random_conv(seed: int):
    """A seeded random conv layer and input: channels, kernel, stride, dilation and padding form vary."""
    rng = np.random.default_rng(seed)
    channels = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    return random_conv(rng, channels, PADDING_FORMS[seed % 4], max_kernel=4, max_stride=3, min_extra=1, max_side=17,
                       bias_scale=1.0 if seed % 3 == 0 else None)  # fmt: skip


CONV_SEEDS = range(16)  # four of each padding form


@pytest.mark.parametrize("seed", CONV_SEEDS)
@pytest.mark.parametrize("form", ["eager", "xla", "shifted"])
def test_conv_formulation_matches_tf_nn(form, seed):
    x, kernel, strides, padding, dilation, bias = _random_conv(seed)
    settings = F.ConvSettings(strides, ops._padding(padding), dilation)
    ref = tf.nn.conv2d(
        x[None], kernel, [1, *strides, 1], F._tf_padding(ops._padding(padding)), dilations=[1, *dilation, 1]
    )
    if bias is not None:
        ref = tf.nn.bias_add(ref, bias)
    if form == "eager":
        got = F.conv_nn(x[None], kernel, bias, settings)
    else:
        args = (x[None], kernel) if bias is None else (x[None], kernel, bias)
        got = F.compiled_conv(form, settings, bias is not None)(*args)
    what = f"{form} conv, seed {seed}: {x.shape} * {kernel.shape}, stride {strides}, pad {padding}, dil {dilation}"
    close_to_tf(got, ref, what)
    exact = np_conv2d(x, kernel, strides, padding, dilation, bias)
    assert np.allclose(np.asarray(got)[0], exact, rtol=1e-4, atol=1e-4), what


def test_shifted_conv_with_many_channel_pairs_uses_the_broadcast_form_and_matches():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((12, 10, 4)).astype(np.float32)
    kernel = rng.uniform(-1, 1, (3, 3, 4, 5)).astype(np.float32)  # 20 pairs > UNROLL_CHANNEL_PAIRS
    assert 4 * 5 > F.UNROLL_CHANNEL_PAIRS
    settings = F.ConvSettings((2, 1), "same", (1, 2))
    got = F.compiled_conv("shifted", settings, False)(x[None], kernel)
    close_to_tf(got, F.conv_nn(x[None], kernel, None, settings), "broadcast shifted conv")


def test_new_weights_never_retrace_a_compiled_convolution():
    rng = np.random.default_rng(3)
    settings = F.ConvSettings((1, 1), "same", (1, 1))
    fn = F.compiled_conv("shifted", settings, True)
    x = rng.standard_normal((1, 9, 9, 1)).astype(np.float32)
    before = fn.experimental_get_tracing_count()
    for i in range(4):
        k = rng.uniform(-1, 1, (3, 3, 1, 2)).astype(np.float32)
        b = np.array([i, -i], np.float32)
        close_to_tf(fn(x, k, b), F.conv_nn(x, k, b, settings), f"weights #{i}")
    assert fn.experimental_get_tracing_count() - before <= 1  # at most the first call traces
    fn(np.zeros((1, 7, 5, 1), np.float32), k, b)  # a new shape does
    assert fn.experimental_get_tracing_count() - before == 2


def _random_pool(seed: int):
    rng = np.random.default_rng(100 + seed)
    mode = ("max", "avg")[seed % 2]
    padding = ("same", "valid")[(seed // 2) % 2]
    size = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    strides = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))  # may exceed the window
    h, w = int(rng.integers(size[0], 14)), int(rng.integers(size[1], 14))
    x = rng.standard_normal((h, w, int(rng.integers(1, 4)))).astype(np.float32)
    return x, F.PoolSettings(mode, size, strides, padding)


# Four of each mode × padding. avg_pool2d under XLA is never used (XLA constant-folds its SAME divisor
# for seconds; see pool_candidates), so that one pairing is left out rather than compiled here.
POOL_CASES = [
    (form, seed)
    for seed in range(16)
    for form in ("eager", "xla", "shifted")
    if not (form == "xla" and _random_pool(seed)[1].mode == "avg" and _random_pool(seed)[1].padding == "same")
]


@pytest.mark.parametrize(("form", "seed"), POOL_CASES)
def test_pool_formulation_matches_tf_nn(form, seed):
    x, s = _random_pool(seed)
    tf_pool = tf.nn.max_pool2d if s.mode == "max" else tf.nn.avg_pool2d
    ref = tf_pool(x[None], list(s.size), list(s.strides), s.padding.upper())
    got = F.pool_nn(x[None], s) if form == "eager" else F.compiled_pool(form, s)(x[None])
    what = f"{form} {s.mode} pool, seed {seed}: {x.shape}, window {s.size}, stride {s.strides}, {s.padding}"
    close_to_tf(got, ref, what)
    exact = np_pool2d(x, s.mode, s.size, s.strides, s.padding)
    assert np.allclose(np.asarray(got)[0], exact, rtol=1e-5, atol=1e-5), what


def test_shifted_average_pool_counts_only_real_cells_at_the_edges():
    x = np.ones((1, 5, 5, 1), np.float32)  # every real cell is 1, so every average must be exactly 1
    s = F.PoolSettings("avg", (2, 2), (2, 2), "same")
    got = np.asarray(F.compiled_pool("shifted", s)(x))
    assert got.shape == (1, 3, 3, 1)
    np.testing.assert_array_equal(got, np.ones_like(got))


def test_shifted_max_pool_never_picks_the_padding():
    x = -np.arange(1, 26, dtype=np.float32).reshape(1, 5, 5, 1)  # all negative: zero padding would win
    s = F.PoolSettings("max", (2, 2), (2, 2), "same")
    got = np.asarray(F.compiled_pool("shifted", s)(x))
    assert got.max() < 0
    close_to_tf(got, tf.nn.max_pool2d(x, 2, 2, "SAME"), "max pool over negatives")


@pytest.mark.parametrize("function", ["relu", "leaky_relu", "tanh", "sigmoid", "elu", "gelu"])
def test_compiled_activation_matches_tf_nn(function):
    x = np.random.default_rng(5).standard_normal((6, 7, 2)).astype(np.float32) * 3
    ref = F.activation_nn(x, function, 0.3)
    close_to_tf(F.compiled_activation(function, 0.3)(x), ref, function)
    assert np.allclose(np.asarray(ref), np_activation(x, function, 0.3), rtol=1e-5, atol=1e-6)


def test_same_pads_put_the_odd_pixel_after():
    assert F.same_pads(5, 2, 2) == (0, 1)
    assert F.same_pads(10, 3, 1, dilation=2) == (2, 2)
    assert F.same_pads(4, 4, 1) == (1, 2)
    assert F.same_pads(7, 1, 3) == (0, 0)


# --------------------------------------------------------------------------- the choice


def _const(value, shape=(2, 2)):
    return lambda: np.full(shape, value, np.float32)


def test_the_chooser_measures_once_and_never_picks_a_formulation_that_disagrees(monkeypatch):
    monkeypatch.setattr(C, "MEASURE_FLOOR_S", 0.0)  # measure even quick calls
    monkeypatch.delenv("CNN_CORE_FORMULATION", raising=False)
    calls = {"eager": 0, "wrong": 0}

    def eager():
        calls["eager"] += 1
        return np.ones((2, 2), np.float32)

    def wrong():
        calls["wrong"] += 1
        return np.full((2, 2), 1.01, np.float32)  # off by 1%: must be rejected however quick it is

    chooser = F.Chooser()
    out = chooser.run(("k",), {"eager": eager, "wrong": wrong})
    np.testing.assert_array_equal(out, 1)
    choice = chooser.choices()[("k",)]
    assert choice.name == "eager"
    assert choice.rejected == {"wrong": "values differ from the eager op"}
    seen = dict(calls)
    chooser.run(("k",), {"eager": eager, "wrong": wrong})
    assert calls == {"eager": seen["eager"] + 1, "wrong": seen["wrong"]}  # remembered: no second measurement


def test_the_chooser_keeps_a_candidate_that_raises_out_of_the_choice(monkeypatch):
    monkeypatch.setattr(C, "MEASURE_FLOOR_S", 0.0)
    monkeypatch.delenv("CNN_CORE_FORMULATION", raising=False)

    def broken():
        raise RuntimeError("unsupported here")

    chooser = F.Chooser()
    np.testing.assert_array_equal(chooser.run(("k",), {"eager": _const(2.0), "broken": broken}), 2.0)
    assert chooser.choices()[("k",)].name == "eager"
    assert "unsupported here" in chooser.choices()[("k",)].rejected["broken"]


def test_quick_eager_calls_are_not_measured(monkeypatch):
    monkeypatch.delenv("CNN_CORE_FORMULATION", raising=False)
    chooser = F.Chooser()

    def never():
        raise AssertionError("a call under the floor must not try other formulations")

    chooser.run(("k",), {"eager": _const(0.0), "other": never})
    assert chooser.choices()[("k",)].name == "eager"


def test_the_environment_forces_a_formulation(monkeypatch):
    monkeypatch.setenv("CNN_CORE_FORMULATION", "shifted")
    chooser = F.Chooser()
    assert chooser.run(("k",), {"eager": _const(1.0), "shifted": _const(2.0)})[0, 0] == 2.0
    assert chooser.run(("j",), {"eager": _const(1.0)})[0, 0] == 1.0  # not offered there: eager
    assert chooser.choices() == {}


def test_ops_give_the_same_values_whichever_formulation_is_chosen(monkeypatch):
    """The public ops through the chooser, with measurement forced on, against the NumPy reference."""
    monkeypatch.setattr(C, "MEASURE_FLOOR_S", 0.0)
    monkeypatch.setattr(F, "CHOOSER", F.Chooser())
    monkeypatch.delenv("CNN_CORE_FORMULATION", raising=False)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((15, 13, 1)).astype(np.float32)
    k = rng.uniform(-1, 1, (3, 3, 1, 1)).astype(np.float32)
    for _ in range(2):  # the measuring call and the remembered one
        conv = ops.conv2d(x, k, (1, 1), 1, (1, 1), np.array([0.5], np.float32))
        np.testing.assert_allclose(conv, np_conv2d(x, k, 1, 1, 1, [0.5]), rtol=1e-5, atol=1e-5)
        act = ops.activation(conv, "relu")
        np.testing.assert_allclose(act, np_activation(conv, "relu"), rtol=1e-6, atol=0)
        pool = ops.pool2d(act, "avg", (2, 2), (2, 2), "same")
        np.testing.assert_allclose(pool, np_pool2d(act, "avg", 2, 2, "same"), rtol=1e-5, atol=1e-6)
    kinds = {key[0] for key in F.CHOOSER.choices()}
    assert kinds == {"conv2d", "activation", "pool2d"}


def test_forcing_wins_over_the_environment_and_is_undone(monkeypatch):
    monkeypatch.setenv("CNN_CORE_FORMULATION", "shifted")
    chooser = F.Chooser()
    with F.forcing("eager"):
        assert chooser.run(("k",), {"eager": _const(1.0), "shifted": _const(2.0)})[0, 0] == 1.0
    assert F.forced() == "shifted"
    with pytest.raises(ValueError, match="unknown formulation"):
        with F.forcing("fast"):
            pass


def test_only_the_formulations_worth_trying_are_measured_but_any_can_be_forced(monkeypatch):
    monkeypatch.setattr(C, "MEASURE_FLOOR_S", 0.0)
    monkeypatch.delenv("CNN_CORE_FORMULATION", raising=False)

    def never():
        raise AssertionError("measured although the rule leaves it out")

    chooser = F.Chooser()
    chooser.run(("k",), {"eager": _const(1.0), "xla": never, "shifted": _const(1.0)}, ("eager", "shifted"))
    assert set(chooser.choices()[("k",)].seconds) == {"eager", "shifted", "shifted compile"}
    with F.forcing("xla"):
        with pytest.raises(AssertionError, match="measured although"):
            chooser.run(("k",), {"eager": _const(1.0), "xla": never}, ("eager",))


def test_the_rule_tries_the_shifted_forms_only_on_few_channels_and_small_kernels():
    assert F.conv_candidates((3, 3, 1, 1)) == ("shifted",)
    assert F.conv_candidates((3, 3, 3, 8)) == ()
    assert F.conv_candidates((7, 7, 1, 1)) == ()
    assert F.pool_candidates(1) == ("shifted",)
    assert F.pool_candidates(8) == ()
    assert F.pool_candidates(1, (5, 5)) == ("shifted",) and F.pool_candidates(1, (24, 24)) == ()


def test_ops_moving_a_weight_reuses_the_compiled_function():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((11, 9, 1)).astype(np.float32)
    with F.forcing("shifted"):
        for i in range(3):  # as a slider moving one weight
            k = np.zeros((3, 3, 1, 1), np.float32)
            k[1, 1, 0, 0] = 0.5 * i
            np.testing.assert_allclose(ops.conv2d(x, k), np_conv2d(x, k), rtol=1e-5, atol=1e-6)
    settings = F.ConvSettings((1, 1), "same", (1, 1))
    fn = F.compiled_conv("shifted", settings, False, ((11, 9, 1), (3, 3, 1, 1)))
    assert fn.experimental_get_tracing_count() == 1
