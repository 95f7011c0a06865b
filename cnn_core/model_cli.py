"""``python -m cnn_core model-maps MODEL.keras IMAGE --out DIR``: every image-shaped layer's maps as .npy.

Writes ``NN_<layer-path>.npy`` (float32, height × width × channels) for each layer whose output is
image-shaped, nested layers included ("backbone/conv1" becomes ``backbone__conv1``), and ``layers.json``
listing every layer's path, class and output shape. The model file is checked before Keras reads it
(``model_file``); a refused file gives one ``error:`` line and a non-zero exit, and nothing from it runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .files import check_out_folder


def register(sub) -> None:
    """Add the ``model-maps`` subcommand to the command line's subparsers."""
    p = sub.add_parser("model-maps", help="every feature map of a .keras model on one image")
    p.add_argument("model", help="a .keras model file (checked before loading; nothing in it runs)")
    p.add_argument("image", help="an image file")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--range",
        dest="value_range",
        choices=["auto", "0-1", "0-255", "-1-1"],
        default="auto",
        help="pixel values fed to the model (auto: 0-255 when it starts with a Rescaling layer, else 0-1)",
    )
    p.set_defaults(handler=_run_reporting_keras_failures)


def _run_reporting_keras_failures(args: argparse.Namespace) -> int:
    """``run``, with anything Keras or TensorFlow raises while computing said in one clean sentence."""
    from .model_file import keras_failures

    with keras_failures("computing the model's maps"):
        return run(args)


def load_model_file(name: str):
    """A .keras file from disk through the same checks as the Your model page (``model_file``).

    Raises:
        ModelError: naming the file, when it can't be read or is refused.
    """
    from . import model_file

    model, _ = model_file.load_model_file(name)
    return model


def run(args: argparse.Namespace) -> int:
    from . import model_maps
    from .images import load_image

    check_out_folder(args.out)
    image = load_image(args.image)  # first: a bad image path costs no model load
    model = load_model_file(args.model)
    info = model_maps.describe(model)
    prepared = model_maps.prepare_photo(image, info, None if args.value_range == "auto" else args.value_range)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    computer = model_maps.MapComputer(model)
    shape = prepared.batch.shape
    image_layers = info.image_layers
    width = max(2, len(str(len(image_layers) - 1)))
    files: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for i, layer in enumerate(image_layers):
        if layer.note:
            skipped[layer.path] = layer.note
        elif model_maps.too_big(layer, shape):
            skipped[layer.path] = f"its maps would take {model_maps.map_bytes(layer, shape) / 2**20:.0f} MB"
        else:
            files[layer.path] = f"{i:0{width}d}_{layer.file_stem}.npy"
    import numpy as np

    # A page at a time: the maps of a deep model never sit in memory together.
    for page in model_maps.pages(info, shape):
        wanted = [x.path for x in page if x.path in files]
        if not wanted:
            continue
        for p, maps in computer.compute(prepared.batch, wanted).items():
            np.save(out / files[p], maps.astype(np.float32, copy=False))
    final = computer.final_output(prepared.batch)
    summary = {
        "model": info.name,
        "input_shape": list(info.input_shape),
        "fed_shape": list(shape[1:]),
        "preparation": list(prepared.notes),
        "output": {
            "shape": list(final.shape),
            "softmax": info.softmax,
            "top": [{"index": i, "value": v} for i, v in model_maps.top_outputs(final, 5)],
        },
        "layers": [
            {
                "path": x.path,
                "class": x.cls,
                "output_shape": list(x.shape),
                "image": x.image,
                **({"file": files[x.path]} if x.path in files else {}),
                **({"skipped": skipped[x.path]} if x.path in skipped else {}),
            }
            for x in info.layers
        ],
    }
    (out / "layers.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(f"{len(files)} maps of {len(info.layers)} layers written to {out}")
    return 0
