"""``python -m cnn_core explain IMAGE --model MODEL.keras --layer PATH --at ROW COL [--channel C] [--range R]``.

Prints the same JSON as for a spec's stage: ``value``; ``terms`` (each ``row``, ``col``, ``channel``,
``input``, ``padding``, ``weight``, ``product``), ``bias`` and ``total`` for a convolution or a Dense unit
(``total`` is the sum before the layer's own activation, which is then given under ``activation``); the
window for pooling; the formula for an activation; and ``receptive_field`` with ``size`` [h, w]
(unclipped), ``box`` [top, left, bottom, right] (inclusive, clipped, in the model's input pixels) and
``jump``. A flat layer (Dense, Flatten, global pooling) is asked at row 0, column 0, with ``--channel`` the unit.

The model goes through the same checks as on the Your model page (``model_file``). A refused or unreadable
file, a bad layer path, a position out of range or a layer no kind explains each give one ``error:`` line
and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from .errors import CnnError

EXIT_REFUSED = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The model options of ``explain``."""
    p.add_argument("--model", help="a .keras model file (checked before loading; nothing in it runs)")
    p.add_argument("--layer", help="the layer's path as the Your model page names it, e.g. backbone/block1_conv1")
    p.add_argument(
        "--range", dest="value_range", choices=["auto", "0-1", "0-255", "-1-1"], default="auto",
        help="pixel values fed to the model (auto: 0-255 when it starts with a Rescaling layer, else 0-1)",
    )  # fmt: skip


def explain_model(model, image, layer: str, row: int, col: int, channel: int = 0, value_range: str | None = None):
    """The Explanation of one value of a Keras model's layer for a decoded photo.

    Args:
        model: a loaded Keras model (one image input).
        image: uint8 (height, width) or (height, width, 1|3|4).
        layer: the layer's path, as ``model_maps.describe`` names it.
        row, col, channel: the position in that layer's maps ((0, 0, unit) for a flat layer).
        value_range: a key of ``model_maps.VALUE_RANGES``; None picks the model's default.

    Raises:
        ModelError, ExplainError, ImageError: one sentence on what is wrong.
    """
    from . import model_maps

    info = model_maps.describe(model)
    prepared = model_maps.prepare_photo(image, info, value_range)
    acts = model_maps.activations(model_maps.MapComputer(model), prepared.batch)
    return acts.explain(layer, row, col, channel)


def run(args: argparse.Namespace) -> int:
    from .images import load_image
    from .model_cli import load_model_file

    if args.model is None or args.layer is None:
        args.parser.error("--model and --layer go together")
    if args.spec is not None or args.stage is not None:
        args.parser.error("--spec and --stage explain a pipeline; --model and --layer a model: use one pair")
    try:
        model = load_model_file(args.model)
        image = load_image(args.image)
        row, col = args.at
        rng = None if args.value_range == "auto" else args.value_range
        ex = explain_model(model, image, args.layer, row, col, args.channel, rng)
    except CnnError as e:
        print("error: " + " ".join(str(e).split()), file=sys.stderr)
        return EXIT_REFUSED
    print(json.dumps(ex.to_dict(), indent=1, allow_nan=True))
    return 0
