"""A click on a 1024² map: how long the server takes to explain the value (target ≤ 100 ms).

Two figures, each the median over clicks at seeded random positions of every stage:
- ``cnn_core.explain`` alone (the worked sum and receptive field, read from the computed stages);
- everything the inspector does on the server for a click, without Streamlit's own overhead:
  explain, the map's picture from its cache with the clicked cell outlined and encoded as PNG for the
  click component, the photo with the receptive field, and the close-up.
The stages are computed once, before timing, as the page's stage cache holds them.
"""

from __future__ import annotations

import io

import numpy as np

import cnn_core
from benchmarks.stats import Figure, Target, timed

SECTION = "explain"
TARGET = Target("<=", 100, "ms")


def _spec(side: int) -> dict:
    return {
        "version": 1,
        "input": {"color": "rgb", "size": [side, side]},
        "layers": [
            {"type": "conv2d", "filters": [{"init": "he_normal", "seed": i, "size": 3} for i in range(8)]},
            {"type": "activation", "function": "relu"},
            {"type": "pool2d", "mode": "max", "size": 2, "stride": 2, "padding": "same"},
            {
                "type": "conv2d",
                "filters": [{"init": "glorot_uniform", "seed": i, "size": 5} for i in range(8)],
                "dilation": 2,
            },
        ],
    }


def _encode(img, fmt: str = "JPEG") -> bytes:
    from ui.common.inspector import JPEG_QUALITY

    buf = io.BytesIO()
    if fmt == "JPEG":  # the clickable map and the photo go as JPEG
        img.save(buf, format="JPEG", quality=JPEG_QUALITY)
    else:  # the small close-up goes as PNG (st.image's default for a PIL picture)
        img.save(buf, format="PNG")
    return buf.getvalue()


def run(quick: bool, repeats: int) -> tuple[list[Figure], dict]:
    from ui.common import inspector

    side = 128 if quick else 1024
    clicks = 3 if quick else max(repeats, 5) * 4
    image = (np.random.default_rng(0).random((side, side, 3)) * 255).astype(np.uint8)
    cache = cnn_core.StageCache()
    stages = cnn_core.run_pipeline(image, _spec(side), cache=cache)  # keys set, as in the app
    rng = np.random.default_rng(1)
    at = []
    for _ in range(clicks):
        k = int(rng.integers(1, len(stages)))
        h, w, c = stages[k].shape
        at.append((k, int(rng.integers(h)), int(rng.integers(w)), int(rng.integers(c))))
    for k, _, _, c in at:  # the pictures are cached per map, as after the page's first draw
        inspector._PICTURES.get(stages[k], c)
    inspector._PICTURES.get(stages[0], -1)

    def click(k, r, q, c):
        ex = cnn_core.explain(stages, k, r, q, c)
        h, w, _ = stages[k].shape
        pic = inspector._enlarge(inspector._PICTURES.get(stages[k], c))
        _encode(inspector._outline(pic, (h, w), (r, q, r, q)))
        photo = inspector._enlarge(inspector._PICTURES.get(stages[0], -1))
        if ex.receptive_field.box is not None:
            _encode(inspector._outline(photo, stages[0].shape[:2], ex.receptive_field.box))
        _encode(inspector.closeup(stages[0], ex.receptive_field), "PNG")
        return ex

    alone = [timed(lambda a=a: cnn_core.explain(stages, *a)) * 1000 for a in at]
    whole = [timed(lambda a=a: click(*a)) * 1000 for a in at]
    label = f"{side}² RGB, 8 filters 3×3 then 8 filters 5×5 (d 2)"
    figures = [
        Figure(SECTION, f"explain one value, {label}", "ms", alone, TARGET, quick=quick),
        Figure(
            SECTION, f"inspector click, server work (explain + pictures), {label}", "ms", whole, TARGET, quick=quick
        ),
    ]
    return figures, {"side": side, "clicks": len(at), "positions": at}
