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
    """The fewest decimals (``least`` … ``most``) at which every (terms, total) group adds up as shown;
    ``most`` when none does (a sum of floats may differ from its exact value in the 17th digit)."""
    for d in range(least, most + 1):
        if all(adds_up(terms, total, d) for terms, total in groups):
            return d
    return most


def signed(text: str) -> str:
    """A term for a sum written out: negative ones in brackets."""
    return f"({text})" if text.startswith("-") else text


def written_sum(terms: Sequence[float], total: float, decimals: int) -> str:
    """ "a + (−b) + c = total", every number with ``decimals`` decimals."""
    return " + ".join(signed(fixed(t, decimals)) for t in terms) + f" = {fixed(total, decimals)}"


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
