"""The unit page's typed state (ui/units/state.py): the address → a UnitRequest → the unit a model has,
with the sentence for each fallback, and the refusal of bad values; checked on plain values."""

from __future__ import annotations

import pytest

from cnn_core.errors import CnnError
from ui.common.unit_links import TINY, YOURS, unit_href
from ui.units import state as S

LAYERS = {"conv_1_1": 10, "conv_1_2": 10, "conv_2_2": 10}


def test_no_address_is_the_default_unit_of_the_tiny_vgg():
    assert S.requested({}, have_yours=False) == (S.UnitRequest("conv_2_2", 0, TINY), None)


@pytest.mark.parametrize("kind", [TINY, YOURS])
def test_an_address_made_by_unit_href_round_trips(kind):
    query = dict(p.split("=") for p in unit_href("block/conv_3", 12, kind).split("?", 1)[1].split("&"))
    assert S.requested(query, have_yours=True) == (S.UnitRequest("block/conv_3", 12, kind), None)


def test_a_yours_link_without_a_model_falls_back_to_the_tiny_vgg_and_says_so():
    request, warning = S.requested({"unit": "dense_x:4", "model": YOURS}, have_yours=False)
    assert request == S.UnitRequest() and "another visit" in warning


def test_a_unit_that_cant_be_read_shows_the_default_and_says_so():
    request, warning = S.requested({"unit": "conv_1_1"}, have_yours=False)
    assert request == S.UnitRequest() and warning.startswith("This link names no unit")


def test_an_unknown_model_kind_is_the_tiny_vgg():
    assert S.requested({"unit": "conv_1_1:3", "model": "zoo"}, False)[0] == S.UnitRequest("conv_1_1", 3, TINY)


def test_fitting_keeps_a_unit_the_model_has():
    request = S.UnitRequest("conv_1_2", 9)
    assert S.fitted(request, LAYERS, "Tiny VGG", "kept") == (request, "kept")


def test_fitting_moves_a_missing_layer_to_the_first_and_a_channel_past_the_end_to_the_last():
    unit, warning = S.fitted(S.UnitRequest("conv_9", 4, YOURS), LAYERS, "m.keras")
    assert unit == S.UnitRequest("conv_1_1", 0, YOURS) and "not a layer with maps in m.keras" in warning
    unit, warning = S.fitted(S.UnitRequest("conv_2_2", 10), LAYERS, "Tiny VGG")
    assert unit == S.UnitRequest("conv_2_2", 9) and warning == "conv_2_2 has channels 0 to 9; showing channel 9."


@pytest.mark.parametrize(
    ("change", "field"),
    [({"layer": ""}, "layer"), ({"channel": -1}, "channel"), ({"channel": "2"}, "channel"), ({"kind": "x"}, "kind")],
)
def test_bad_values_are_refused_naming_the_field(change, field):
    with pytest.raises(CnnError) as e:
        S.UnitRequest(**change)
    assert e.value.field == field
