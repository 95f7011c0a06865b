"""Numbers for worked sums that check out by hand: the terms shown add up to the total shown, in its last digit.

Four significant digits are not enough when large terms cancel (0.0157 from the shown products against a
shown total of 0.01601). Here every term and the total get the same number of decimals, the fewest (from
``least``) at which the shown terms add up exactly, as decimals, to the shown total.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

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
