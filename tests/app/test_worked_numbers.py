"""The worked sum's numbers check out by hand: the terms as shown add up to the total as shown (issue 21)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import cnn_core
from ui.common import worked_numbers as wn


def _shown_sum_adds_up(text: str) -> bool:
    """Parse "a + (b) + c = total" back and add the terms as decimals."""
    left, right = text.rsplit(" = ", 1)
    terms = [Decimal(t.strip("()")) for t in left.split(" + ")]
    return sum(terms, Decimal(0)) == Decimal(right)


def test_cancelling_terms_get_more_decimals_and_then_add_up():
    terms = [0.12344, -0.1234, 0.00004, 0.00004, 0.00004]  # large terms cancel, small ones round away
    total = float(np.sum(terms))
    assert not wn.adds_up(terms, total, 4)  # four decimals would not add up here
    d = wn.sum_decimals([(terms, total)])
    assert d > 4
    assert _shown_sum_adds_up(wn.written_sum(terms, total, d))


def test_fixed_never_shows_minus_zero():
    assert wn.fixed(-1e-9, 4) == "0.0000"
    assert wn.fixed(-0.00006, 4) == "-0.0001"


def test_a_softmax_denominator_is_shown_as_it_is():
    z = np.array([9.2, -0.6, 0.1, -1.4, 0.3, -3.0])
    e = np.exp(z - z.max())
    d = wn.sum_decimals([(e.tolist(), float(e.sum()))])
    assert wn.fixed(e.sum(), d) != "1" and Decimal(wn.fixed(e.sum(), d)) > 1
    assert _shown_sum_adds_up(wn.written_sum(e.tolist(), float(e.sum()), d))


@settings(max_examples=25, deadline=None)
@given(
    k=st.sampled_from([1, 3, 5]),
    seed=st.integers(0, 10_000),
    scale=st.sampled_from([0.01, 1.0, 8.0, 100.0]),
    where=st.tuples(st.integers(0, 11), st.integers(0, 11)),
    bias=st.floats(-2, 2, allow_nan=False),
)
def test_shown_products_add_up_to_the_shown_total_for_random_kernels_and_positions(k, seed, scale, where, bias):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, size=(12, 12), dtype=np.uint8)
    kernel = np.round(rng.normal(size=(k, k)) * scale, 4)
    spec = cnn_core.parse_spec(
        {
            "version": 1,
            "input": {"color": "grayscale", "size": None},
            "layers": [{"type": "conv2d", "filters": [kernel.tolist()], "padding": "same", "bias": bias}],
        }
    )
    stages = cnn_core.run_pipeline(image, spec)
    d = cnn_core.explain(stages, 1, where[0], where[1], 0).detail
    products = d.products[:, :, 0].ravel().tolist()
    # The products are the input cells times the weights (an independent NumPy check of what is summed).
    x = np.pad(image / 255.0, k // 2)[where[0] : where[0] + k, where[1] : where[1] + k]
    np.testing.assert_allclose(np.array(products), (x * kernel).ravel(), rtol=1e-6, atol=1e-9)
    groups = [(products, float(d.partial_sums[0])), ([*d.partial_sums.tolist(), d.bias], d.total)]
    dec = wn.sum_decimals(groups)
    assert _shown_sum_adds_up(wn.written_sum(products, float(d.partial_sums[0]), dec))
    assert _shown_sum_adds_up(wn.written_sum([*d.partial_sums.tolist(), d.bias], d.total, dec))
    # The sums add up by construction when the float total can't be written to match (shown_total); what
    # keeps them honest is that the total shown is the map's value to float32 precision.
    shown = wn.shown_total([*d.partial_sums.tolist(), d.bias], d.total, dec)
    assert abs(float(Decimal(shown)) - float(stages[1].maps[where[0], where[1], 0])) <= max(
        1e-5 * (np.abs(products).sum() + abs(bias)), 0.5 * 10.0**-dec + 1e-6
    )


def test_shown_factors_multiply_to_the_shown_product():
    factors = [(132 / 255, 8.0), (0.5037, -1.0), (1 / 3, 1 / 9)]
    products = [x * w for x, w in factors]
    dec = 4
    fd = wn.factor_decimals(factors, products, dec)
    assert fd > dec  # 0.5176 × 8 = 4.1408 would not round to 4.1412
    for (x, w), p in zip(factors, products):
        shown = Decimal(wn.fixed(x, fd)) * Decimal(wn.fixed(w, fd))
        assert Decimal(wn.fixed(float(shown), dec)) == Decimal(wn.fixed(p, dec))


@settings(max_examples=15, deadline=None)
@given(
    k=st.sampled_from([1, 3]),
    seed=st.integers(0, 10_000),
    where=st.tuples(st.integers(0, 7), st.integers(0, 7)),
    bias=st.floats(-2, 2, allow_nan=False),
)
def test_exact_values_are_the_float32_numbers_and_their_exact_sum(k, seed, where, bias):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    kernel = rng.normal(size=(k, k, 3)) / 3  # weights with every float32 digit in use
    spec = cnn_core.parse_spec(
        {
            "version": 1,
            "input": {"color": "rgb", "size": None},
            "layers": [{"type": "conv2d", "filters": [kernel.tolist()], "padding": "same", "bias": bias}],
        }
    )
    stages = cnn_core.run_pipeline(image, spec)
    ex = cnn_core.explain(stages, 1, where[0], where[1], 0)
    lines = wn.worked_text(ex, exact=True).splitlines()
    # Every input and weight reads back as the very float32 the layer used (independent NumPy reference).
    x = np.pad(image / 255.0, ((k // 2, k // 2), (k // 2, k // 2), (0, 0)))[
        where[0] : where[0] + k, where[1] : where[1] + k
    ].astype(np.float32)
    factors = [line.split(" = ")[0].split(" × ") for line in lines[1 : 1 + k * k * 3]]
    want = [(x[i, j, c], np.float32(kernel[i, j, c])) for c in range(3) for i in range(k) for j in range(k)]
    for (xs, ws), (xv, wv) in zip(factors, want):
        assert np.float32(0.0 if xs == "pad 0" else xs) == xv and np.float32(ws) == wv
    # The terms as written add up exactly to the sum written, and TensorFlow's value is the map's float32.
    sum_line = next(line for line in lines if line.startswith("products + bias as written, added exactly: "))
    left, right = sum_line.split(": ", 1)[1].rsplit(" = ", 1)
    assert sum((Decimal(t.strip("()")) for t in left.split(" + ")), Decimal(0)) == Decimal(right)
    tf_line = lines[-1]
    value = tf_line.split("value: ")[1].split(" ")[0]
    assert np.float32(value) == stages[1].maps[where[0], where[1], 0]
    diff = Decimal(tf_line.split("rounding: ")[1].split(" ")[0])
    assert diff == Decimal(right) - Decimal(value)
    assert abs(diff) <= Decimal(1e-5) * (1 + sum(abs(Decimal(t.strip("()"))) for t in left.split(" + ")))
