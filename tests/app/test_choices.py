"""A select box's choice survives a change of its label (ui/common/choices.py)."""

from __future__ import annotations

import pytest

from ui.common.choices import keep_index


@pytest.mark.parametrize(
    ("stored", "n", "want"),
    [
        (2, 4, 2),  # a choice that is an index stays
        ("2 · Sobel x", 4, 2),  # the old label of an edited filter names its index
        ("3 · by hand", 4, 3),
        ("7 · gone", 4, 0),  # a removed filter: back to the first
        ("the prediction (star)", 4, 0),  # no index at all
        (None, 4, 0),
        (True, 4, 0),
        (-1, 4, 0),
    ],
)
def test_a_stale_label_is_put_back_as_the_index_it_names(stored, n, want):
    state = {} if stored is None else {"k": stored}
    keep_index(state, "k", n)
    assert state["k"] == want and type(state["k"]) is int
