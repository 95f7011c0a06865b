"""Section "network": the Trained network page after a change of input.

Two figures, each over fresh inputs (a new generated sample every round, so no cache helps):

- "input change → maps + probabilities": what the page computes when the input changes — the 64×64
  preparation, the forward pass with every layer's output, every band picture and the probabilities
  (``ui.network.views.compute`` without its cache). Target ≤ 300 ms.
- "page rerun after a new sample": the whole page under AppTest, every section included (filters, flatten,
  dense, Grad-CAM), after the sample number changes. No target; it shows what the rest of the page adds.
"""

from __future__ import annotations

import time
from pathlib import Path

from .stats import Figure, Target, ms, timed

SECTION = "network"
TARGET_MS = 300
ROOT = Path(__file__).resolve().parents[1]


def _compute_once(model, shape: str, seed: int) -> None:
    from cnn_core import shapes_data, tiny_vgg
    from ui.network import pictures as pics

    x = tiny_vgg.prepare_input(shapes_data.sample(shape, seed))
    acts = tiny_vgg.activations(model, x)
    maps = [layer.maps for layer in acts.image_layers]
    scales = pics.layer_scales(maps, "auto", "layer")
    for i, (m, s) in enumerate(zip(maps, scales)):
        pics.band(m, s, picture=i == 0)
    float(acts.output.max())


def run(quick: bool, repeats: int) -> tuple[list[Figure], dict]:
    from cnn_core import shapes_data, tiny_vgg

    model = tiny_vgg.load_model()
    _compute_once(model, "star", 0)  # warm-up: TensorFlow's first call builds the graph
    compute = [
        timed(lambda i=i: _compute_once(model, shapes_data.CLASSES[i % 6], 1000 + i)) for i in range(repeats * 3)
    ]
    figures = [
        Figure(
            SECTION,
            "input change → maps + probabilities",
            "ms",
            ms(compute),
            Target("<=", TARGET_MS, "ms"),
            quick=quick,
        )
    ]
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "views" / "trained_network.py"), default_timeout=120).run()
    reruns = []
    for i in range(repeats):
        at.sidebar.number_input(key="net_seed").set_value(2000 + i)
        t0 = time.perf_counter()
        at.run()
        reruns.append(time.perf_counter() - t0)
        if at.exception:
            raise RuntimeError(f"the page failed: {at.exception[0].message}")
    figures.append(Figure(SECTION, "page rerun after a new sample (AppTest)", "ms", ms(reruns), quick=quick))
    return figures, {"compute_seconds": compute, "rerun_seconds": reruns}
