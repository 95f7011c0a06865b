"""Numbers for worked sums that check out by hand: the terms shown add up to the total shown, in its last digit.

Four significant digits are not enough when large terms cancel (0.0157 from the shown products against a
shown total of 0.01601). Here every term and the total get the same number of decimals, the fewest (from
``least``) at which the shown terms add up exactly, as decimals, to the shown total.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import numpy as np

from cnn_core.explain import ActivationDetail, ConvDetail, Explanation, PoolDetail

MOST = 17  # beyond this a float64 has no more digits to give


def fixed(v: float, decimals: int) -> str:
    """``v`` with ``decimals`` decimals (correctly rounded), never "-0.00"."""
    text = f"{float(v):.{decimals}f}"
    return text[1:] if text.startswith("-") and Decimal(text) == 0 else text


def adds_up(terms: Iterable[float], total: float, decimals: int) -> bool:
    """Whether the terms as shown add up exactly to the total as shown."""
    return sum((Decimal(fixed(t, decimals)) for t in terms), Decimal(0)) == Decimal(fixed(total, decimals))


def sum_decimals(groups: Sequence[tuple[Sequence[float], float]], least: int = 4, most: int = MOST) -> int:
    """The fewest decimals (``least`` … ``least + 6``) at which every (terms, total) group adds up as shown.

    When none does (a float sum can differ from the exact sum of its terms in its last bits, and a float64
    shown to 17 decimals is mostly noise), the fewest decimals at which rounding every term moves the sum by
    less than float32's precision of the total (what TensorFlow's value is good to); ``written_sum`` and
    ``shown_total`` then show the exact sum of the terms as shown, which differs from the total by less than that.
    """
    for d in range(least, min(most, least + 6) + 1):
        if all(adds_up(terms, total, d) for terms, total in groups):
            return d
    for d in range(least, most + 1):
        if all(
            len(terms) * 0.5 * 10.0**-d <= 1e-7 * max(1.0, sum(abs(float(t)) for t in terms)) for terms, _ in groups
        ):
            return d
    return most


def shown_total(terms: Sequence[float], total: float, decimals: int) -> str:
    """The total as shown beside its terms: ``total`` with ``decimals`` decimals when the shown terms add up to
    that, else the exact sum of the terms as shown (within float32's precision of ``total``; see ``sum_decimals``)."""
    if adds_up(terms, total, decimals):
        return fixed(total, decimals)
    return (
        fixed(float(0), decimals) if not terms else str(sum((Decimal(fixed(t, decimals)) for t in terms), Decimal(0)))
    )


def signed(text: str) -> str:
    """A term for a sum written out: negative ones in brackets."""
    return f"({text})" if text.startswith("-") else text


def written_sum(terms: Sequence[float], total: float, decimals: int) -> str:
    """ "a + (−b) + c = total", every number with ``decimals`` decimals."""
    return " + ".join(signed(fixed(t, decimals)) for t in terms) + f" = {shown_total(terms, total, decimals)}"


def factor_decimals(
    factors: Sequence[tuple[float, float]], products: Sequence[float], decimals: int, most: int = MOST
) -> int:
    """The fewest decimals (from ``decimals``) for the factors x and w of each product so that x × w, as shown,
    rounds to the product as shown (the multiplications check out by hand too)."""
    for d in range(decimals, most + 1):
        if all(
            Decimal(fixed(float(Decimal(fixed(x, d)) * Decimal(fixed(w, d))), decimals)) == Decimal(fixed(p, decimals))
            for (x, w), p in zip(factors, products)
        ):
            return d
    return most


# --------------------------------------------------------------------------- exact values


def float32_text(v: float) -> str:
    """A float32 value with every digit it needs: the shortest decimal that reads back as the same float32
    (TensorFlow's maps, inputs and weights are float32), never in exponent notation."""
    return np.format_float_positional(np.float32(v), unique=True, trim="-")


def exact_sum(texts: Sequence[str]) -> str:
    """The exact decimal sum of numbers as written (no rounding at all)."""
    total = sum((Decimal(t) for t in texts), Decimal(0))
    return format(total.normalize(), "f") if total else "0"


# --------------------------------------------------------------------------- the worked sum as text


def worked_text(ex: Explanation, exact: bool = False) -> str:
    """How one value of a map was made, as plain text.

    By default every number is rounded so that the products shown add up to the total shown in its last
    digit. With ``exact`` every input, weight and product is written as the float32 number it is (TensorFlow
    multiplies in float32; the fewest digits that read back as that float32), then the terms as written added
    exactly, and the map's float32 value as TensorFlow computed it: the two differ by float32's rounding of
    each partial sum, in TensorFlow's own order of adding.
    """
    return _WORKED.get(ex.detail.kind, _input_text)(ex, exact)


def _conv_text(ex: Explanation, exact: bool) -> str:
    return _exact_conv(ex, ex.detail) if exact else _rounded_conv(ex.detail)


def _activation_text(ex: Explanation, exact: bool) -> str:
    d: ActivationDetail = ex.detail  # type: ignore[assignment]
    tail = f"\ninput {float32_text(d.input)} → output {float32_text(ex.value)}" if exact else ""
    return f"{d.function}: {d.formula}\n{d.worked}{tail}"


def _pool_text(ex: Explanation, exact: bool) -> str:
    d: PoolDetail = ex.detail  # type: ignore[assignment]
    show = float32_text if exact else (lambda v: f"{v:.6g}")
    values = ", ".join(show(c.value) for c in d.window if not c.padding and c.value is not None)
    if d.mode == "max":
        return f"the largest of the window ({values}) = {show(ex.value)}"
    return f"the mean of the {d.count} real cells ({values}) = {show(d.sum)} / {d.count} = {show(ex.value)}"


def _input_text(ex: Explanation, exact: bool) -> str:
    return f"an input pixel: its level / 255 = {float32_text(ex.value) if exact else f'{ex.value:.6g}'}"


def _product_lines(d: ConvDetail, factor, product) -> list[str]:
    """One "input × weight = product" line per tap, channel by channel, row by row; padding as "pad 0"."""
    kh, kw, n = d.products.shape
    return [
        f"{'pad 0' if d.padding[i, j] else factor(d.inputs[i, j, c])} × {factor(d.weights[i, j, c])}"
        f" = {product(d.products[i, j, c])}"
        for c in range(n)
        for i in range(kh)
        for j in range(kw)
    ]


def _rounded_conv(d: ConvDetail) -> str:
    terms = d.products.ravel().tolist()
    if len(terms) <= 49:
        dec = sum_decimals([(terms + [d.bias], d.total)])
        factors = list(zip(d.inputs.ravel().tolist(), d.weights.ravel().tolist()))
        fd = factor_decimals(factors, terms, dec)
        lines = _product_lines(d, lambda v: fixed(v, fd), lambda v: fixed(v, dec))
        total = written_sum(terms + [d.bias], d.total, dec)
        return "input × weight = product\n" + "\n".join(lines) + "\nproducts + bias: " + total
    partial = d.partial_sums.tolist()
    dec = sum_decimals([(partial + [d.bias], d.total)])
    return f"{len(terms):,} products; each input channel's sum, then the bias:\n" + written_sum(
        partial + [d.bias], d.total, dec
    )


def _exact_conv(ex: Explanation, d: ConvDetail) -> str:
    taps = d.products.size
    bias = float32_text(d.bias)
    if taps <= 49:
        lines = _product_lines(d, float32_text, float32_text)
        terms = [float32_text(p) for p in d.products.ravel().tolist()] + [bias]
        head = "input × weight = product, each a float32 with all its digits\n"
    else:
        lines = []
        terms = [float32_text(p) for p in d.partial_sums.tolist()] + [bias]
        head = f"{taps:,} products; each input channel's sum as a float32, then the bias:\n"
    summed = exact_sum(terms)
    value = float32_text(ex.value)
    diff = exact_sum([summed, f"-{value}" if not value.startswith("-") else value[1:]])
    return (
        head
        + "".join(line + "\n" for line in lines)
        + "products + bias as written, added exactly: "
        + " + ".join(signed(t) for t in terms)
        + f" = {summed}\n"
        + f"TensorFlow's float32 value: {value} (float32 rounding: {diff} from the exact sum)"
    )


# The worked text of each kind of detail (``detail.kind``, the kind's name); the input's otherwise.
_WORKED = {"conv2d": _conv_text, "activation": _activation_text, "pool2d": _pool_text}


def patch_sentence(rf, where: str) -> str | None:
    """What the clicked value sees of the input (its receptive field), and where the full explanation is;
    None when the field has no box."""
    if rf.box is None:
        return None
    t, left, b, r = rf.box
    pad = f"; {rf.padding_pixels} of its pixels are padding" if rf.padding_pixels else ""
    return (
        f"It sees a {rf.size[0]}×{rf.size[1]} patch of the input: rows {t}–{b}, columns {left}–{r}{pad}. "
        f"Every product in a grid, the patch on the photo and the sliding window: *Inside the operation*, {where}, "
        "opened at this value."
    )
