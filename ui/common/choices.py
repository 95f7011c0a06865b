"""Keeping a select box's choice when its labels change.

Streamlit (1.67) keeps a select box's choice as the label it shows, and maps it back to an option on the next
run through the labels of that run. When the chosen option's label changes in between (a filter renamed by
an edit: "2 · Sobel x" becomes "2 · by hand"), the label no longer maps, and the widget hands back the old
label string instead of the option.
"""

from __future__ import annotations

from collections.abc import MutableMapping


def keep_index(state: MutableMapping, key: str, n: int) -> None:
    """Before drawing a select box over ``range(n)`` whose labels start with the index ("2 · …"): put back
    the index a stale label names, and start from 0 when the choice is no index at all."""
    v = state.get(key)
    if isinstance(v, str):
        head = v.split(" · ", 1)[0].strip()
        v = int(head) if head.isdigit() else None
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < n:
        v = 0
    state[key] = v
