"""The Trained network page's typed state (ui/network/state.py): widgets → NetState → the page's link, a
decoded link → widget values, defaults and refusals, checked on plain dicts without running the page."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_core import network_link
from cnn_core.errors import CnnError
from cnn_core.shapes_data import CLASSES
from ui.network import keys
from ui.network import state as S


def test_defaults_are_the_first_visit_and_link_to_the_default_view():
    s = S.from_session({})
    assert s == S.NetState("sample", CLASSES[3], 0, "pred", "auto", "layer")
    assert S.net_view(s, None) == network_link.NetView()


def test_a_sample_link_round_trips_through_the_widgets():
    view = network_link.NetView("sample", "ring", 123, "cross", "viridis", "robust")
    changes = S.link_changes(view)
    assert changes[keys.SOURCE] == "sample" and keys.LINK_IMAGE not in changes
    s = S.from_session(changes)
    assert s == S.NetState("sample", "ring", 123, "cross", "viridis", "robust")
    assert S.net_view(s, None) == view
    # and through the URL's own encoding
    assert network_link.decode_view(network_link.encode_view(S.net_view(s, None)))[0] == view


def test_a_picture_link_sets_the_link_source_and_keeps_its_picture():
    view = network_link.NetView("image", "star", 4, "pred", "gray", "map", b"\x89PNG...")
    changes = S.link_changes(view)
    assert changes[keys.SOURCE] == "link" and changes[keys.LINK_IMAGE] == b"\x89PNG..."
    s = S.from_session(changes)
    assert S.net_view(s, b"\x89PNG...") == view


@pytest.mark.parametrize("source", ["draw", "upload", "camera", "link"])
def test_a_picture_that_cant_travel_links_to_the_sample_instead(source):
    s = S.NetState(source=source, shape="cross", seed=9)
    assert S.net_view(s, None) == network_link.NetView("sample", "cross", 9)
    assert S.net_view(s, b"png").image == b"png"


def test_a_numpy_seed_from_a_widget_counts_as_its_int():
    assert S.from_session({keys.SEED: np.int64(17)}).seed == 17


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"source": "webcam"}, "source", "sample, draw, upload, camera, link"),
        ({"shape": "blob"}, "shape", "'blob'"),
        ({"seed": network_link.MAX_SEED + 1}, "seed", f"from 0 to {network_link.MAX_SEED}"),
        ({"seed": "3"}, "seed", "whole number"),
        ({"explain": "dog"}, "explain", "pred, circle"),
        ({"cmap": "jet"}, "cmap", "magma"),
        ({"scale": "loud"}, "scale", "robust"),
    ],
)
def test_bad_values_are_refused_naming_the_field(change, field, words):
    with pytest.raises(CnnError) as e:
        S.NetState(**change)
    assert e.value.field == field and words in str(e.value)
