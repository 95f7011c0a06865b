"""The Train page's typed state (ui/train/state.py): widgets → TrainState → run settings and share link, a
link → widget values, defaults and refusals, checked on plain dicts without running the page."""

from __future__ import annotations

import pytest

from cnn_core import learn, shapes_data
from cnn_core.errors import CnnError
from ui.train import jobs, keys
from ui.train import state as S


def test_defaults_are_what_the_controls_show_on_a_first_visit():
    s = S.from_session({})
    assert s == S.TrainState()
    assert (s.source, s.shapes, s.per_class, s.arch, s.epochs, s.rate, s.seed) == (
        S.SHAPES,
        ("circle", "square", "triangle"),
        100,
        "tiny_vgg",
        5,
        2e-3,
        0,
    )
    assert S.share_query(s) == "?data=shapes:circle,square,triangle&arch=tiny_vgg&seed=0&epochs=5&per_class=100"


def test_widgets_to_state_to_settings_and_link():
    ss = {
        keys.SOURCE: S.SHAPES,
        keys.SHAPES: ["star", "ring"],
        keys.PER_CLASS: 40,
        keys.ARCH: "stack",
        keys.EPOCHS: 3,
        keys.RATE: 1e-3,
        keys.SEED: 7,
    }
    s = S.from_session(ss)
    assert s == S.TrainState(S.SHAPES, ("star", "ring"), 40, "stack", 3, 1e-3, 7)
    spec = {"version": 1, "layers": []}
    run = S.settings(s, spec)
    assert isinstance(run, learn.Settings)
    assert (run.epochs, run.learning_rate, run.seed, run.architecture, run.stack_spec) == (3, 1e-3, 7, "stack", spec)
    assert S.share_query(s) == "?data=shapes:star,ring&arch=stack&seed=7&epochs=3&per_class=40"


@pytest.mark.parametrize(("source", "data"), [(S.OWN, "own"), (S.ZIP, "zip")])
def test_a_link_of_pictures_a_user_made_carries_no_shapes(source, data):
    s = S.TrainState(source=source, seed=3)
    assert S.share_query(s) == f"?data={data}&arch=tiny_vgg&seed=3&epochs=5"


def test_a_link_round_trips_through_the_widgets():
    s = S.TrainState(S.SHAPES, ("cross", "none"), 250, "tiny_vgg", 12, 2e-3, 99)
    query = dict(part.split("=") for part in S.share_query(s)[1:].split("&"))
    changes, problem = S.link_changes(query)
    assert problem == ""
    assert S.from_session(changes) == s


def test_a_link_is_clamped_to_the_controls_and_drops_unknown_classes():
    changes, problem = S.link_changes(
        {"data": "shapes:star,blob,ring", "arch": "resnet", "seed": "-4", "epochs": "999", "per_class": "1"}
    )
    assert problem == ""
    assert changes == {
        keys.SOURCE: S.SHAPES,
        keys.SHAPES: ["star", "ring"],
        keys.SEED: 0,
        keys.EPOCHS: jobs.MAX_EPOCHS,
        keys.PER_CLASS: S.MIN_PER_SHAPE,
    }


def test_a_link_with_a_bad_number_keeps_what_came_before_it_and_says_so():
    changes, problem = S.link_changes({"data": "own", "arch": "stack", "seed": "5", "epochs": "five"})
    assert changes == {keys.SOURCE: S.OWN, keys.ARCH: "stack", keys.SEED: 5}
    assert "not a whole number" in problem


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"source": "Photos"}, "source", "Generated shapes"),
        ({"shapes": ("circle", "blob")}, "shapes", "'blob' is no shape class"),
        ({"per_class": 9}, "per_class", "from 10 to 500"),
        ({"arch": "resnet"}, "arch", "tiny_vgg"),
        ({"epochs": 0}, "epochs", f"from 1 to {jobs.MAX_EPOCHS}"),
        ({"epochs": 2.5}, "epochs", "whole number"),
        ({"rate": 0.5}, "rate", "one of"),
        ({"seed": -1}, "seed", "from 0 to"),
        ({"seed": True}, "seed", "whole number"),
    ],
)
def test_bad_values_are_refused_naming_the_field(change, field, words):
    with pytest.raises(CnnError) as e:
        S.TrainState(**change)
    assert e.value.field == field and words in str(e.value)


def test_every_shape_class_is_accepted():
    assert S.TrainState(shapes=tuple(shapes_data.CLASSES)).shapes == tuple(shapes_data.CLASSES)
