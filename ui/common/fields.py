"""Checks and readers shared by the pages' typed states (ui/*/state.py).

A page's state is a frozen dataclass whose fields live in widgets. :func:`one_of` and :func:`whole` refuse a
value its control could not show, with a CnnError naming the field; :func:`from_widgets` builds the state
from any mapping of widget keys (session state, or a plain dict in a test).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import TypeVar

from cnn_core.errors import CnnError

T = TypeVar("T")


def one_of(name: str, value: object, allowed: Iterable[object]) -> None:
    """Refuse ``value`` unless it is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise CnnError(f"{name} must be one of {', '.join(map(str, allowed))}; got {value!r}", name)


def whole(name: str, value: object, low: int, high: int) -> None:
    """Refuse ``value`` unless it is a whole number (not a bool) from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CnnError(f"{name} must be a whole number from {low} to {high}; got {value!r}", name)


def from_widgets(make: Callable[..., T], widgets: Mapping[str, str], values: Mapping[str, object]) -> T:
    """``make(**fields)`` with each field read from its widget's key in ``values``; a widget not drawn yet
    counts as the field's default. A NumPy integer or float is handed over as the int or float it is."""
    default = make()
    got = {}
    for field, key in widgets.items():
        v = values.get(key, getattr(default, field))
        if isinstance(v, numbers.Integral) and not isinstance(v, bool):
            v = int(v)
        elif isinstance(v, numbers.Real) and not isinstance(v, bool):
            v = float(v)
        got[field] = v
    return make(**got)


def show(state: MutableMapping, key: str, value) -> None:
    """Give the widget under ``key`` the value the page's state holds, writing its session key only when it differs.

    Streamlit sends a written value to the browser, which puts it in the widget over whatever the visitor did
    after the run began: a run that started before a key press (another visitor-side request, the first-paint
    probe's upgrade) would undo that press, and a slider stepped three times would end two steps away. An
    unchanged value is left unwritten, so the browser keeps the visitor's newer one and sends it next.
    """
    if key not in state or state[key] != value:
        state[key] = value
