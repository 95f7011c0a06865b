"""The Playground's typed state on its own: pure functions from a state to a spec, and back, with no session.

The page-level behaviour (widgets showing and writing the state) is in test_playground_state.py; here each
function is called directly, so a test names the function that broke.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import cnn_core
from cnn_core import share
from cnn_core.kernels import PRESETS
from ui.playground import keys
from ui.playground import state as pgs
from ui.playground.state import Kernel, PlaygroundState

OLD_LINKS = Path(__file__).resolve().parents[1] / "data" / "old_links.json"

# The reference article's worked example, written out by hand as spec version 1.
ARTICLE_SPEC = {
    "version": 1,
    "input": {"color": "grayscale", "size": [300, 300]},
    "layers": [
        {"type": "conv2d", "filters": ["edge"], "stride": 1, "padding": "same", "dilation": 1, "bias": 0.0},
        {"type": "activation", "function": "relu"},
        {"type": "pool2d", "mode": "max", "size": 2, "stride": 2, "padding": "same"},
    ],
}


@pytest.fixture
def no_session(monkeypatch):
    """Any read of the session's state fails the test: the functions under test must be given all they use."""

    def refuse():
        raise AssertionError("read the session's state")

    monkeypatch.setattr(pgs, "state", refuse)


def test_the_default_state_is_the_article_example(no_session):
    assert pgs.spec_dict(PlaygroundState(), (480, 640)) == {
        **ARTICLE_SPEC,
        "input": {"color": "grayscale", "size": [225, 300]},
    }
    assert pgs.spec_dict(PlaygroundState(), (300, 300)) == ARTICLE_SPEC


def test_spec_dict_follows_every_field_without_the_session(no_session):
    w = np.arange(25, dtype=np.float64).reshape(5, 5) / 7
    s = pgs.with_kernel(PlaygroundState(), w)
    s = dataclasses.replace(
        s, color="rgb", size_mode="exact", h=40, w=60, stride=2, padding="zeros on every side", pad=3,
        dilation=2, bias=-0.5, act="leaky_relu", alpha=0.3, pool_on=True, pool_mode="avg", pool_size=3,
        pool_stride=1, pool_padding="valid",
    )  # fmt: skip
    got = pgs.spec_dict(s, (10, 10))
    assert got["input"] == {"color": "rgb", "size": [40, 60]}
    conv, act, pool = got["layers"]
    # weights edited from the default preset carry where they started (spec v1's optional filter form)
    assert conv["filters"][0]["from"] == "edge"
    np.testing.assert_array_equal(np.array(conv["filters"][0]["weights"]), w)
    assert (conv["stride"], conv["padding"], conv["dilation"], conv["bias"]) == (2, 3, 2, -0.5)
    assert act == {"type": "activation", "function": "leaky_relu", "alpha": 0.3}
    assert pool == {"type": "pool2d", "mode": "avg", "size": 3, "stride": 1, "padding": "valid"}
    assert len(pgs.spec_dict(dataclasses.replace(s, pool_on=False, size_mode="none"), (10, 10))["layers"]) == 2
    assert pgs.spec_dict(dataclasses.replace(s, size_mode="none"), (10, 10))["input"]["size"] is None


def test_a_kernel_equal_to_a_preset_is_stored_by_its_name(no_session):
    s = pgs.with_kernel(PlaygroundState(), PRESETS["sharpen"].array(), "box_blur")
    assert pgs.spec_dict(s, (8, 8))["layers"][0]["filters"] == ["sharpen"]
    assert pgs.kernel_title(s.kernel).startswith(PRESETS["sharpen"].label)


def test_the_old_playground_link_round_trips_through_the_state(no_session):
    links = [c for c in json.loads(OLD_LINKS.read_text())["links"] if c["params"]["p"] == "playground"]
    assert links, "tests/data/old_links.json holds a Playground link"
    for case in links:
        link, warning = share.decode_state(case["params"])
        assert warning is None
        s, why = pgs.from_spec(PlaygroundState(), link.spec)
        assert why is None
        s = pgs.settled_size_mode(s, (300, 300))
        assert pgs.spec_dict(s, (300, 300)) == case["spec"]


def test_a_spec_with_custom_weights_comes_back_with_them(no_session):
    w = [[0.5, -1.25, 0.0], [2.0, 1.0, -0.75], [0.125, 0.0, 3.5]]
    spec = cnn_core.parse_spec(
        json.dumps(
            {**ARTICLE_SPEC, "layers": [{**ARTICLE_SPEC["layers"][0], "filters": [w]}, ARTICLE_SPEC["layers"][1]]}
        )
    )
    s, why = pgs.from_spec(PlaygroundState(), spec)
    assert why is None and s.kernel.preset == pgs.LOADED and not s.pool_on
    np.testing.assert_array_equal(s.kernel.array(), np.array(w))
    assert pgs.origin(s.kernel) == "custom weights from a link or a spec file"
    assert pgs.spec_dict(s, (300, 300))["layers"][0]["filters"] == [w]


def test_a_spec_the_playground_cannot_hold_changes_nothing(no_session):
    spec = cnn_core.parse_spec(json.dumps({**ARTICLE_SPEC, "layers": ARTICLE_SPEC["layers"][:1]}))
    before = PlaygroundState()
    after, why = pgs.from_spec(before, spec)
    assert after is before and "conv2d" in why


def test_an_exact_size_with_the_photo_shape_settles_to_keep_the_shape(no_session):
    s = dataclasses.replace(PlaygroundState(), size_mode="exact", h=150, w=200, size_check=True)
    settled = pgs.settled_size_mode(s, (300, 400))
    assert (settled.size_mode, settled.long_side, settled.size_check) == ("aspect", 200, False)
    stretched = pgs.settled_size_mode(s, (300, 300))
    assert (stretched.size_mode, stretched.h, stretched.w, stretched.size_check) == ("exact", 150, 200, False)


def test_checked_puts_back_defaults_and_clamps_sizes(no_session):
    s = dataclasses.replace(PlaygroundState(), stride=9, act="swish", editor="Paint", h=0, w=10**6, long_side=-3)
    fixed = pgs.checked(s)
    assert (fixed.stride, fixed.act, fixed.editor) == (1, "relu", "Sliders")
    assert (fixed.h, fixed.w, fixed.long_side) == (1, cnn_core.spec.MAX_SIDE, 1)
    assert pgs.checked(PlaygroundState()) == PlaygroundState()


def test_with_kernel_refuses_what_the_editor_cannot_hold_and_counts_versions(no_session):
    s = PlaygroundState()
    for bad in (np.ones((2, 3)), np.ones((16, 16)), np.array([[np.nan]])):
        with pytest.raises(ValueError):
            pgs.with_kernel(s, bad)
    t = pgs.with_kernel(pgs.with_kernel(s, np.ones((3, 3))), np.zeros((1, 1)))
    assert t.kernel.version == s.kernel.version + 2 and t.kernel.preset == s.kernel.preset
    assert s.kernel.array().shape == (3, 3)  # the state it came from is untouched


def test_a_state_cannot_be_changed_in_place():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PlaygroundState().stride = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        dataclasses.replace(PlaygroundState(), strides=2)
    assert isinstance(PlaygroundState().kernel, Kernel)


def test_widget_keys_keep_the_names_the_tests_and_the_input_picker_use():
    assert keys.weight(0, 1) == "pg_w0_1" and keys.grid(4) == "pg_grid_4"
    assert keys.setting("pool_stride") == "pg_pool_stride"
    assert (keys.SOURCE, keys.SAMPLE, keys.LINK_NOTE) == ("pg_source", "pg_sample", "pg_link_note")
    assert (keys.PRESET, keys.KERNEL_SIZE, keys.EDITOR) == ("pg_preset", "pg_ksize", "pg_mode")
