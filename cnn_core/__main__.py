"""Command line: ``python -m cnn_core run IMAGE [IMAGE|FOLDER ...] --spec SPEC.json --out DIR``.

For each image it writes one float32 ``NN_<layer type>.npy`` per stage, a PNG
of each stage and ``summary.json``. With several images each gets its own
folder under DIR, named after the file. A bad file is reported and skipped;
the exit code is non-zero if anything failed. Errors are one line each, never
a traceback.

Reading is bounded: a file's size is checked before it is read (at most
images.MAX_FILE_BYTES, 50 MB; a spec at most spec.MAX_SPEC_CHARS bytes), a FIFO,
device or socket is refused with one line, and a folder's broken symbolic links
and special files are reported as skipped. A batch holds at most
DECODE_THREADS files' bytes being decoded and DECODE_THREADS + 2 decoded images
(each at most 4096×4096×3 bytes, 50.3 MB) at once, besides the feature maps of
the one image being run (at most pipeline.MAX_STACK_BYTES unless --no-limits):
``max_batch_bytes()`` states that bound.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import errors, model_cli, model_explain, units_cli
from .errors import CnnError
from .files import check_out_folder, read_bounded

USAGE_ERROR = 2
DECODE_THREADS = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnn_core", description="Run a CNN pipeline spec on images.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a spec on one or more images (files or folders)")
    run.add_argument("images", nargs="+", help="image files or folders of images")
    run.add_argument("--spec", help="pipeline spec JSON (default: the reference article's example)")
    run.add_argument("--out", required=True, help="output folder")
    run.add_argument("--cmap", default="auto", help="colour map for the PNGs: auto, magma, diverging, gray, viridis")
    run.add_argument(
        "--scale", default="layer", help="colour scale for the PNGs: layer (per stage), global, map or robust"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument(
        "--no-limits",
        action="store_true",
        help="lift the compute budget and the feature-map memory limit that the app applies "
        "(for your own machine; file size and pixel limits stay)",
    )
    add_explain_parser(sub)
    model_cli.register(sub)
    units_cli.register(sub)
    args = parser.parse_args(argv)
    try:
        return getattr(args, "handler", _run)(args)
    except CnnError as e:
        _error(str(e))
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as e:  # a last guard: one line, never a traceback (but the tests see the bug)
        if errors.strict():
            raise
        _error(f"unexpected {type(e).__name__}: {e}")
        return 1


def _error(message: str) -> None:
    """One line on stderr, whatever the message holds."""
    print("error: " + " ".join(message.split()), file=sys.stderr)


def _warn(message: str) -> None:
    print("warning: " + " ".join(message.split()), file=sys.stderr)


def _collect(paths: list[str]) -> tuple[list[Path], list[str]]:
    """The image files to run, and one line for each folder entry skipped for a reason worth saying.

    Files named on the command line are all kept (reading them reports any problem); in a folder,
    entries with an image extension that are broken links or not regular files are skipped.
    """
    from .files import entry_problem
    from .images import EXTENSIONS

    files: list[Path] = []
    skipped: list[str] = []
    for p in map(Path, paths):
        if not p.is_dir():
            files.append(p)
            continue
        for f in sorted(p.iterdir()):
            if f.suffix.lower().lstrip(".") not in EXTENSIONS:
                continue
            problem = entry_problem(f)
            if problem is None:
                files.append(f)
            else:
                skipped.append(f"{f}: skipped: {problem.removeprefix('is ')}")
    return files, skipped


def max_batch_bytes() -> int:
    """The most bytes of image data a batch holds at once (file bytes plus decoded pixels), by construction.

    DECODE_THREADS files are read and decoded at a time (each file at most MAX_FILE_BYTES, and its
    decoded array at most MAX_PIXELS × 3 bytes), DECODE_THREADS + 1 decoded images wait, and one is
    being run. Feature maps come on top (at most pipeline.MAX_STACK_BYTES while limits are on).
    """
    from .images import MAX_FILE_BYTES, MAX_PIXELS

    decoded = MAX_PIXELS * 3
    return DECODE_THREADS * (MAX_FILE_BYTES + decoded) + (DECODE_THREADS + 2) * decoded


def read_spec_text(path: str) -> str:
    """A spec file's text through the bounded reader; SpecError naming the file for anything else."""
    from .errors import SpecError
    from .spec import MAX_SPEC_CHARS

    try:
        return read_bounded(path, MAX_SPEC_CHARS, "a spec JSON file", SpecError).decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("could not be read (it is not UTF-8 text)", path) from None


def _run(args: argparse.Namespace) -> int:
    from .render import check_view

    check_view(args.cmap, args.scale)
    text = read_spec_text(args.spec) if args.spec else ""
    check_out_folder(args.out)
    files, skipped = _collect(args.images)
    for line in skipped:
        _warn(line)
    if not files:
        raise CnnError("no image files found", "images")
    from PIL import Image

    # decode_image refuses these itself; Pillow's warning would only add lines to stderr.
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
    spec = _parse_spec_file(text, args.spec)
    out = Path(args.out)
    lift = {"limits": False} if args.no_limits else {}
    single = len(files) == 1
    failures: list[str] = []
    show = not args.quiet and (sys.stderr.isatty() or not single)
    for n, (path, folder, image, err) in enumerate(_decoded(files, _folder_names(files)), 1):
        if image is not None:
            err = _write_one(image, spec, path, out if single else out / folder, args, single, lift)
        if err:
            failures.append(err)
        if show:
            _progress(n, len(files), path.name)
    if show:
        print(file=sys.stderr)
    for f in failures:
        _error(f)
    if failures and not single:
        print(f"{len(files) - len(failures)} of {len(files)} images done; {len(failures)} failed", file=sys.stderr)
    if failures:
        return 1
    return 0


def _parse_spec_file(text: str, path: str | None):
    """The spec in ``text`` (the default spec without a file); a SpecError names the file too."""
    from .errors import SpecError
    from .spec import default_spec, parse_spec

    try:
        return parse_spec(text) if path else default_spec()
    except SpecError as e:
        raise SpecError(str(e), path) from None  # name the file as well as the field


def _decode_one(path: Path):
    """(image, None) or (None, the reason it could not be read)."""
    from .images import load_image

    try:
        return load_image(path), None
    except CnnError as e:
        return None, str(e)
    except Exception as e:  # never lose the batch over one file (but the tests see the bug)
        if errors.strict():
            raise
        return None, f"{path}: unexpected {type(e).__name__}: {e}"


def _decoded(files: list[Path], folders: list[str]):
    """(path, folder, image, error) in order, decoded in threads a few images ahead of the caller.

    Only a few ahead: a folder of large photos must not all sit in memory at once.
    """
    with ThreadPoolExecutor(max_workers=DECODE_THREADS, thread_name_prefix="decode") as pool:
        queue = iter(zip(files, folders))
        pending: deque = deque()

        def top_up() -> None:
            while len(pending) < DECODE_THREADS + 1 and (item := next(queue, None)) is not None:
                pending.append((*item, pool.submit(_decode_one, item[0])))

        top_up()
        while pending:
            path, folder, job = pending.popleft()
            image, err = job.result()
            top_up()
            yield path, folder, image, err


def _write_one(image, spec, path: Path, out: Path, args: argparse.Namespace, single: bool, lift: dict) -> str | None:
    """Write one image's outputs and warn of overflows; the failure's line, or None."""
    try:
        for line in _write(image, spec, out, args.cmap, args.scale, **lift):
            _warn(line if single else f"{path}: {line}")
    except CnnError as e:
        return f"{path}: {e}"
    except OSError as e:
        return f"{path}: could not write output ({e.strerror or e})"
    except Exception as e:  # report it and go on with the other images (but the tests see the bug)
        if errors.strict():
            raise
        return f"{path}: unexpected {type(e).__name__}: {e}"
    return None


def _folder_names(files: list[Path]) -> list[str]:
    """A distinct output folder per file: its stem, else its name, else the name numbered."""
    stems = Counter(f.stem for f in files)
    names: list[str] = []
    taken: set[str] = set()
    for f in files:
        base = f.stem if stems[f.stem] == 1 else f.name.replace(".", "_")
        name, k = base, 1
        while name in taken:
            k += 1
            name = f"{base}-{k}"
        taken.add(name)
        names.append(name)
    return names


def _progress(n: int, total: int, name: str) -> None:
    width = 30
    done = round(width * n / total)
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {n}/{total} {name[:40]:<40}")
    sys.stderr.flush()


def _write(image, spec, out: Path, cmap: str, scale: str, limits: bool = True) -> list[str]:
    """Every stage's .npy and PNG and summary.json; returns a warning per stage with values that overflowed."""
    import numpy as np

    from .export import stage_picture
    from .pipeline import run_pipeline
    from .render import png_bytes, stage_scales

    stages = run_pipeline(image, spec, limits=limits)
    scales = stage_scales(stages, cmap, scale)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"spec": spec.to_dict(), "device": stages[0].device, "stages": []}
    overflowed = []
    for s, sc in zip(stages, scales):
        bad = int(s.maps.size - np.count_nonzero(np.isfinite(s.maps)))
        if bad:  # as the page says under the map
            overflowed.append(
                f"stage {s.index} ({s.name}): {bad:,} of {s.maps.size:,} values overflowed float32 (infinite or NaN); "
                f"{s.index:02d}_{s.name}.npy holds them as they are and the PNG draws them at the colour scale's ends"
            )
        stem = f"{s.index:02d}_{s.name}"
        np.save(out / f"{stem}.npy", s.maps)
        (out / f"{stem}.png").write_bytes(png_bytes(stage_picture(s, sc), compress_level=6))
        summary["stages"].append({"index": s.index, "name": s.name, "shape": list(s.maps.shape), "file": f"{stem}.npy"})
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return overflowed


# --------------------------------------------------------------------------- explain


def add_explain_parser(sub) -> None:
    """``explain IMAGE --spec SPEC.json --stage N --at ROW COL [--channel C]``: one value's sum as JSON."""
    p = sub.add_parser("explain", help="print how one value of one stage was computed, as JSON")
    p.add_argument("image", help="an image file")
    p.add_argument("--spec", help="pipeline spec JSON (default: the reference article's example)")
    p.add_argument("--stage", type=int, help="stage number as in run_pipeline; 0 is the input")
    p.add_argument("--at", type=int, nargs=2, required=True, metavar=("ROW", "COL"), help="position in that map")
    p.add_argument("--channel", type=int, default=0, help="channel of that map (default 0)")
    model_explain.add_arguments(p)
    p.set_defaults(handler=_explain, parser=p)


def _explain(args: argparse.Namespace) -> int:
    if args.model is not None or args.layer is not None:
        return model_explain.run(args)
    if args.stage is None:
        args.parser.error("--stage is required (or --model and --layer, to explain a layer of a model)")
    from .errors import SpecError
    from .images import load_image
    from .spec import default_spec, parse_spec

    # Both paths are read before TensorFlow is imported, so a bad one is refused at once.
    if args.spec:
        text = read_spec_text(args.spec)
        try:
            spec = parse_spec(text)
        except SpecError as e:
            raise SpecError(str(e), args.spec) from None
    else:
        spec = default_spec()
    image = load_image(args.image)
    from .explain import check_position, explain
    from .pipeline import plan, run_pipeline

    row, col = args.at
    # Check the position against the plan first, so a typo costs no TensorFlow run.
    check_position([p.shape for p in plan(spec, image.shape)], args.stage, row, col, args.channel)
    stages = run_pipeline(image, spec)
    print(json.dumps(explain(stages, args.stage, row, col, args.channel).to_dict(), indent=1, allow_nan=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
