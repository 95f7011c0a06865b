"""The Layer stack's typed state (ui/stack/state.py): pure changes of a StackState, and its round trip through
session state, checked on plain dicts without running the page."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from cnn_core import share
from cnn_core.errors import SpecError
from cnn_core.spec import LAYER_TYPES, parse_spec
from ui.stack import edits, keys
from ui.stack import state as S
from ui.stack.starters import STARTERS, load_starter

OLD_LINKS = json.loads((Path(__file__).resolve().parents[1] / "data" / "old_links.json").read_text())["links"]

SPEC = {
    "version": 1,
    "input": {"color": "rgb", "size": [32, 32]},
    "layers": [
        {"type": "conv2d", "filters": ["edge", "sobel_x"], "padding": "valid"},
        {"type": "activation", "function": "relu"},
        {"type": "pool2d", "mode": "max", "size": 2, "stride": 2},
    ],
}


def _types(state: S.StackState) -> list[str]:
    return [layer.type for layer in state.spec.layers]


def test_loading_gives_each_layer_a_new_id_and_closes_everything():
    state = S.loaded(SPEC, starter="x", next_id=4)
    assert state.ids == ("L5", "L6", "L7") and state.next_id == 7
    assert (state.open, state.focus, state.starter) == (None, None, "x")
    assert state.spec == parse_spec(SPEC)


def test_adding_duplicating_moving_and_removing_keep_ids_with_their_layers():
    state = S.loaded(SPEC)
    state = S.added(state, "pool2d")
    assert _types(state) == ["conv2d", "activation", "pool2d", "pool2d"]
    assert state.ids == ("L1", "L2", "L3", "L4") and state.open == "L4"
    state = S.duplicated(state, "L1")
    assert state.ids == ("L1", "L5", "L2", "L3", "L4") and state.open == "L5"
    assert state.spec.layers[1] == state.spec.layers[0]
    state = S.moved(state, "L2", -5)  # clamped at the top
    assert state.ids == ("L2", "L1", "L5", "L3", "L4") and _types(state)[0] == "activation"
    state = S.removed(S.toggled(state, "L3"), "L3")
    assert state.ids == ("L2", "L1", "L5", "L4") and state.open is None
    assert S.toggled(S.toggled(state, "L1"), "L1").open is None


def test_an_action_on_a_layer_already_gone_changes_nothing():
    state = S.loaded(SPEC)
    for changed in (
        S.removed(state, "L9"),
        S.duplicated(state, "L9"),
        S.moved(state, "L9", 1),
        S.edited(state, "L9", lambda L: replace(L, function="tanh")),
    ):
        assert changed == state


def test_a_full_stack_takes_no_more_layers():
    full = S.loaded({**SPEC, "layers": [{"type": "activation", "function": "relu"}] * 32})
    assert S.added(full, "conv2d") == full and S.duplicated(full, "L1") == full


def test_an_edit_is_checked_as_a_spec():
    state = S.loaded(SPEC)
    done = S.edited(state, "L2", lambda L: replace(L, function="tanh"))
    assert done.spec.layers[1].function == "tanh" and done.ids == state.ids
    with pytest.raises(SpecError):
        S.edited(state, "L2", lambda L: replace(L, function="swish"))
    with pytest.raises(SpecError):
        S.input_edited(state, lambda i: replace(i, size=(0, 5)))
    assert S.input_edited(state, lambda i: replace(i, color="grayscale")).spec.input.channels == 1


def test_session_state_holds_the_spec_as_its_file_would():
    store: dict = {}
    state = S.added(S.loaded(SPEC, starter="lenet_valid"), "conv2d")
    S.write(store, state)
    assert store[keys.SPEC] == state.spec.to_dict() and store[keys.IDS] == list(state.ids)
    assert json.loads(state.spec.to_json()) == store[keys.SPEC]
    assert S.read(store) == state


def test_ids_out_of_step_with_the_layers_are_renewed():
    store = {keys.SPEC: SPEC, keys.IDS: ["L1"], keys.NEXT_ID: 3}
    state = S.read(store)
    assert state.ids == ("L4", "L5", "L6") and state.next_id == 6
    with pytest.raises(SpecError):
        S.read({keys.SPEC: {**SPEC, "version": 2}})


@pytest.mark.parametrize("name", list(STARTERS))
def test_every_starting_point_survives_the_round_trip(name):
    store: dict = {}
    S.write(store, S.loaded(load_starter(name), starter=name))
    assert S.read(store).spec == load_starter(name)
    assert parse_spec(store[keys.SPEC]).to_dict() == load_starter(name).to_dict()


@pytest.mark.parametrize("case", [c for c in OLD_LINKS if c["params"]["p"] == "stack"], ids=lambda c: c["name"])
def test_an_old_stack_link_gives_the_same_spec_through_the_state(case):
    link, warning = share.decode_state(case["params"])
    assert warning is None
    store: dict = {}
    S.write(store, S.loaded(link.spec))
    assert S.read(store).spec.to_dict() == case["spec"]
    assert store[keys.SPEC] == case["spec"]


def test_widget_keys_are_made_in_one_place():
    assert keys.layer("L3", "kh") == "ls_L3_kh" and keys.layer("L3") == "ls_L3"
    assert keys.filter_("L3", 2, "bias") == "ls_L3_f2_bias" and keys.note("L3") == "ls_L3_note"
    assert keys.page("add_conv2d") == "ls_add_conv2d" and keys.SPEC == "ls_spec"


def test_a_new_layer_of_each_kind_starts_valid():
    for kind in LAYER_TYPES:
        state = S.added(S.loaded(SPEC), kind)
        assert state.spec.layers[-1].type == kind and state.open == "L4"
    with pytest.raises(SpecError, match="'dense' is not a layer type; use conv2d, activation or pool2d"):
        edits.new_layer("dense")
