"""Links written before the refactor of issue 9 still open to the same spec, view and maps.

tests/data/old_links.json was written by tests/data/make_old_links.py at commit be3ce91: for each link, its
query parameters, the spec and view it decoded to, and the maps and colour scales it gave on a small picture.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import cnn_core
from cnn_core import render, share
from cnn_core.spec import parse_spec

DATA = json.loads((Path(__file__).resolve().parents[1] / "data" / "old_links.json").read_text())


@pytest.mark.parametrize("case", DATA["links"], ids=[c["name"] for c in DATA["links"]])
def test_an_old_link_opens_the_same_maps(case):
    state, warning = share.decode_state(case["params"])
    assert warning is None
    assert state.spec.to_dict() == case["spec"]
    assert state.view == case["view"] and state.sample == case["sample"]
    # Today's encoding of the same state is the same link.
    assert share.encode_state(state) == case["params"]

    img = np.random.default_rng(7).integers(0, 256, (40, 36, 3), dtype=np.uint8)
    d = state.spec.to_dict()
    small = parse_spec({**d, "input": {**d["input"], "size": [24, 20]}})
    stages = cnn_core.run_pipeline(img, small)
    stats = [[float(s.maps.min()), float(s.maps.max()), float(s.maps.mean(dtype=np.float64))] for s in stages]
    np.testing.assert_allclose(stats, case["maps_stats"], rtol=1e-5, atol=1e-6)

    scales = render.stage_scales(stages, state.view["cmap"], state.view["scale"])
    for got, want in zip(scales, case["scales"]):
        for g, w in zip(got, want):
            if w is None:
                assert g is None
            elif w[1] == w[2]:  # a constant map: now drawn against a range that reaches 0 (issue 9)
                assert g.vmin <= min(w[1], 0.0) and g.vmax >= max(w[2], 0.0) and g.vmax > g.vmin
            else:
                assert g.cmap == w[0] and (g.vmin, g.vmax) == pytest.approx((w[1], w[2]), rel=1e-5, abs=1e-6)
