"""``python -m cnn_core units`` (each channel's top pictures of a folder, on Ray) and ``python -m cnn_core
visualise`` (a channel's feature visualisation).

    python -m cnn_core units MODEL.keras --images DIR --layer PATH [--top K] [--out OUT] [--workers N]
                             [--address RAY_ADDRESS] [--range auto|0-1|0-255|-1-1]
    python -m cnn_core visualise MODEL.keras --layer PATH --channel C --out X.png [--steps N] [--seed S]
                                 [--range ...]

The model file goes through the same checks as an upload on the Your model page (``model_file``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import CnnError, ModelError

RANGES = ["auto", "0-1", "0-255", "-1-1"]


def register(sub) -> None:
    """Add the ``units`` and ``visualise`` subcommands to the command line's subparsers."""
    from .units import DEFAULT_BATCH, DEFAULT_TOP, MAX_TOP
    from .visualise import DEFAULT_STEPS

    p = sub.add_parser("units", help="each channel's top pictures of a folder, with receptive fields (on Ray)")
    p.add_argument("model", help="a .keras model file (checked before loading; nothing in it runs)")
    p.add_argument("--images", required=True, help="a folder of pictures, read recursively")
    p.add_argument(
        "--layer", required=True, help="an image-shaped layer's path, e.g. conv_2_2 or backbone/block1_conv1"
    )
    p.add_argument("--top", type=int, default=DEFAULT_TOP, help=f"pictures kept per channel, 1 to {MAX_TOP}")
    p.add_argument("--out", default="units_out", help="output folder for units.json and crops/ (default units_out)")
    p.add_argument("--workers", type=int, default=1, help="Ray actors, each with the model loaded once")
    p.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="pictures per batch (bounds memory per actor)")
    p.add_argument("--address", help="an existing Ray cluster (e.g. 10.0.0.5:6379 or auto); default: a local Ray")
    p.add_argument("--range", dest="value_range", choices=RANGES, default="auto", help=_RANGE_HELP)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run_units)

    v = sub.add_parser("visualise", help="the picture that excites one channel most (activation maximisation)")
    v.add_argument("model", help="a .keras model file (checked before loading; nothing in it runs)")
    v.add_argument("--layer", required=True, help="an image-shaped layer's path")
    v.add_argument("--channel", type=int, required=True, help="the channel, from 0")
    v.add_argument("--out", required=True, help="the PNG to write")
    v.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"gradient-ascent steps (default {DEFAULT_STEPS})")
    v.add_argument("--seed", type=int, default=0, help="seeds the start and every random transformation")
    v.add_argument("--range", dest="value_range", choices=RANGES, default="auto", help=_RANGE_HELP)
    v.set_defaults(handler=run_visualise)


_RANGE_HELP = "pixel values fed to the model (auto: 0-255 when it starts with a Rescaling layer, else 0-1)"


def read_model(path: str) -> bytes:
    """A model file's bytes, its size checked before it is read."""
    from . import model_file
    from .images import read_file

    try:
        return read_file(path, model_file.MAX_FILE_BYTES)
    except CnnError as e:
        raise ModelError(e.detail, path) from None


def run_units(args: argparse.Namespace) -> int:
    from . import units

    data = read_model(args.model)
    items, skipped = units.folder_items(args.images)
    for name, why in skipped:
        print(f"warning: {name}: skipped: {why}", file=sys.stderr)
    show = not args.quiet
    result = units.scan(
        data,
        Path(args.model).name,
        items,
        args.layer,
        top=args.top,
        workers=args.workers,
        batch_size=args.batch,
        value_range=None if args.value_range == "auto" else args.value_range,
        address=args.address,
        progress=units.print_progress if show else None,
        skipped=skipped,
    )
    if show:
        print(file=sys.stderr)
    path = units.write(result, items, data, Path(args.model).name, args.out)
    n = len(result.skipped)
    rate = result.scanned / result.seconds if result.seconds else 0.0
    print(
        f"{result.scanned} pictures scanned in {result.seconds:.1f} s ({rate:.1f} pictures/s, {result.workers} workers); "
        f"{n} skipped; {len(result.channels)} channels of {result.layer} written to {path}"
    )
    for name, why in result.skipped:
        print(f"warning: {name}: skipped: {why}", file=sys.stderr)
    return 0


def run_visualise(args: argparse.Namespace) -> int:
    from . import model_file
    from .render import png_bytes
    from .visualise import visualise

    data = read_model(args.model)
    try:
        model, _ = model_file.load_model(data, Path(args.model).name)
    except ModelError as e:
        raise ModelError(e.detail, args.model) from None
    v = visualise(
        model,
        args.layer,
        args.channel,
        steps=args.steps,
        seed=args.seed,
        value_range=None if args.value_range == "auto" else args.value_range,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png_bytes(v.image[:, :, 0] if v.image.shape[2] < 3 else v.image[:, :, :3], compress_level=6))
    print(
        f"{args.layer} channel {args.channel}: mean activation {v.activation:.4g} (start {v.start:.4g}) after "
        f"{v.steps} steps; {v.image.shape[1]}×{v.image.shape[0]} picture written to {out}"
    )
    return 0
