"""Wrote old_links.json, run once at commit be3ce91 (before issue 9): links as that code wrote them, and what
they decoded to. It imports modules of that commit (ui.stack_model, export.stage_scales); kept as the record
of how the fixture was made, not to be run again."""

import json

import numpy as np
from ui.stack_model import load_starter

import cnn_core
from cnn_core import share
from cnn_core.export import stage_scales
from cnn_core.spec import parse_spec

cases = []


def add(name, state, image_shape_small=True):
    params = share.encode_state(state)
    # maps on a tiny picture so the fixture can check numbers, not just the spec
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (40, 36, 3), dtype=np.uint8)
    spec = state.spec
    small = parse_spec({**spec.to_dict(), "input": {**spec.to_dict()["input"], "size": [24, 20]}})
    stages = cnn_core.run_pipeline(img, small)
    scales = stage_scales(stages, state.view["cmap"], state.view["scale"])
    cases.append(
        {
            "name": name,
            "params": params,
            "spec": spec.to_dict(),
            "view": state.view,
            "sample": state.sample,
            "maps_stats": [
                [float(s.maps.min()), float(s.maps.max()), float(s.maps.mean(dtype=np.float64))] for s in stages
            ],
            "scales": [[None if c is None else [c.cmap, c.vmin, c.vmax] for c in sc] for sc in scales],
        }
    )


add("playground default", share.LinkState())
STACK_LINKS = [  # name, sample, starting point, colour map, scale, from an upload
    ("stack article 12 filters, per map", "chelsea", "article_12_filters", "auto", "map", False),
    ("stack vgg random, viridis shared", "coffee", "vgg_block_random", "viridis", "global", False),
    ("stack lenet from upload, diverging", "camera", "lenet_valid", "diverging", "layer", True),
]
for name, sample, starter, cmap, scale, upload in STACK_LINKS:
    view = {"cmap": cmap, "scale": scale}
    add(name, share.LinkState("stack", sample, load_starter(starter), view, from_upload=upload))
json.dump(
    {
        "made_with_commit": "be3ce91",
        "note": "links written by the code before issue 9; see tests/core/test_old_links.py",
        "links": cases,
    },
    open("tests/data/old_links.json", "w"),
    indent=1,
)
print(len(cases))
