"""The Your model page's typed state (ui/model/state.py): widgets → ModelState, the model inspector's pick
to widgets and back, where a click lands, defaults and refusals; checked on plain dicts without the page."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_core.errors import CnnError
from ui.model import keys
from ui.model import state as S


def test_defaults_are_the_first_visit():
    s = S.from_session({})
    assert s == S.ModelState(S.DEMO, "MobileNetV2", "auto", "Per layer")
    assert not s.per_map


def test_widgets_to_state():
    s = S.from_session(
        {keys.MODEL_SOURCE: S.IMAGENET, keys.BACKBONE: "VGG16", keys.CMAP: "gray", keys.SCALE: "Per map"}
    )
    assert (s.source, s.backbone, s.cmap, s.per_map) == (S.IMAGENET, "VGG16", "gray", True)


def test_the_page_and_the_train_page_agree_on_the_handed_over_model():
    from ui.train import keys as train_keys

    assert keys.TRAINED_MODEL == train_keys.MODEL == "tr_model"


@pytest.mark.parametrize("prefix", ["ym", "net", "unit"])
def test_a_pick_round_trips_through_the_inspector_widgets(prefix):
    pick = S.InspectorPick("block_2/conv_1", 5, 7, 3)
    values = S.pick_changes(prefix, pick)
    assert values[f"{prefix}_mi_layer"] == "block_2/conv_1" and values[f"{prefix}_mi_ch"] == 3
    assert S.pick_from_session(values, prefix) == pick
    assert S.pick_from_session(values, "other") is None


def test_widget_numbers_may_be_numpy_and_unset_ones_count_as_zero():
    values = {keys.inspector("ym", "layer"): "dense", keys.inspector("ym", "ch"): np.int64(9)}
    assert S.pick_from_session(values, "ym") == S.InspectorPick("dense", 0, 0, 9)


@pytest.mark.parametrize(
    ("click", "shape", "where"),
    [
        ({"x": 0, "y": 0, "width": 200, "height": 100}, (10, 20), (0, 0)),
        ({"x": 199, "y": 99, "width": 200, "height": 100}, (10, 20), (9, 19)),
        ({"x": 55, "y": 31, "width": 200, "height": 100}, (10, 20), (3, 5)),
        ({"x": 500, "y": -3, "width": 200, "height": 100}, (10, 20), (0, 19)),  # outside: clamped
    ],
)
def test_a_click_lands_on_the_value_under_it(click, shape, where):
    assert S.clicked(click, shape) == where


@pytest.mark.parametrize(
    ("make", "field", "words"),
    [
        (lambda: S.ModelState(source="Zoo"), "source", "Demo: Tiny VGG"),
        (lambda: S.ModelState(backbone="ResNet50"), "backbone", "MobileNetV2"),
        (lambda: S.ModelState(cmap="jet"), "cmap", "magma"),
        (lambda: S.ModelState(scale="Per page"), "scale", "Per layer, Per map"),
        (lambda: S.InspectorPick(""), "path", "a layer's path"),
        (lambda: S.InspectorPick("conv", row=-1), "row", "from 0 up"),
        (lambda: S.InspectorPick("conv", channel=1.5), "channel", "whole number"),
    ],
)
def test_bad_values_are_refused_naming_the_field(make, field, words):
    with pytest.raises(CnnError) as e:
        make()
    assert e.value.field == field and words in str(e.value)
