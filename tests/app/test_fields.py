"""The shared checks and reader of the pages' typed states (ui/common/fields.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from cnn_core.errors import CnnError
from ui.common.fields import from_widgets, one_of, whole


@dataclass(frozen=True)
class Demo:
    name: str = "a"
    count: int = 3
    rate: float = 0.5

    def __post_init__(self) -> None:
        one_of("name", self.name, ("a", "b"))
        whole("count", self.count, 0, 9)


WIDGETS = {"name": "demo_name", "count": "demo_count", "rate": "demo_rate"}


def test_a_widget_not_drawn_yet_counts_as_the_fields_default():
    assert from_widgets(Demo, WIDGETS, {"demo_name": "b"}) == Demo(name="b", count=3, rate=0.5)


def test_numpy_numbers_are_handed_over_as_python_ones():
    got = from_widgets(Demo, WIDGETS, {"demo_count": np.int64(7), "demo_rate": np.float32(0.25)})
    assert got == Demo(count=7, rate=0.25)
    assert type(got.count) is int and type(got.rate) is float


@pytest.mark.parametrize("bad", [True, 10, -1, 2.0, "3"])
def test_whole_refuses_what_is_not_a_whole_number_in_range_and_names_the_field(bad):
    with pytest.raises(CnnError, match=r"count must be a whole number from 0 to 9") as e:
        Demo(count=bad)
    assert e.value.field == "count"


def test_one_of_lists_what_is_allowed():
    with pytest.raises(CnnError, match=r"name must be one of a, b; got 'c'"):
        from_widgets(Demo, WIDGETS, {"demo_name": "c"})
