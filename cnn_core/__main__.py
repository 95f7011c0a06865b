"""Command line: ``python -m cnn_core run IMAGE [IMAGE|FOLDER ...] --spec SPEC.json --out DIR``.

For each image it writes one float32 ``NN_<layer type>.npy`` per stage, a PNG
of each stage and ``summary.json``. With several images each gets its own
folder under DIR, named after the file. A bad file is reported and skipped;
the exit code is non-zero if anything failed. Errors are one line each, never
a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import CnnError

USAGE_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnn_core", description="Run a CNN pipeline spec on images.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a spec on one or more images (files or folders)")
    run.add_argument("images", nargs="+", help="image files or folders of images")
    run.add_argument("--spec", help="pipeline spec JSON (default: the reference article's example)")
    run.add_argument("--out", required=True, help="output folder")
    run.add_argument("--cmap", default="auto", help="colour map for the PNGs: auto, magma, diverging, gray, viridis")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except CnnError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a last guard: one line, never a traceback
        print(f"error: unexpected {type(e).__name__}: {e}", file=sys.stderr)
        return 1


def _collect(paths: list[str]) -> list[Path]:
    from .images import EXTENSIONS

    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower().lstrip(".") in EXTENSIONS)
        else:
            files.append(p)
    return files


def _run(args: argparse.Namespace) -> int:
    from .errors import SpecError
    from .render import COLORMAPS

    if args.cmap not in COLORMAPS:
        raise SpecError(f"{args.cmap!r} is not a colour map; use one of {', '.join(COLORMAPS)}", "--cmap")
    if args.spec:
        try:
            text = Path(args.spec).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise SpecError(f"could not be read ({getattr(e, 'strerror', None) or e})", args.spec) from None
    files = _collect(args.images)
    if not files:
        raise CnnError("no image files found", "images")
    # TensorFlow loads only after the cheap checks above.
    from .images import load_image
    from .spec import default_spec, parse_spec

    spec = parse_spec(text) if args.spec else default_spec()
    out = Path(args.out)
    single = len(files) == 1
    failures: list[str] = []
    show = not args.quiet and sys.stderr.isatty() or (not args.quiet and not single)

    def decode(path: Path):
        try:
            return load_image(path), None
        except CnnError as e:
            return None, str(e)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for n, (path, (image, err)) in enumerate(zip(files, pool.map(decode, files)), 1):
            if image is not None:
                try:
                    _write(image, spec, out if single else out / _folder_name(path, files), args.cmap)
                except CnnError as e:
                    err = f"{path}: {e}"
                except OSError as e:
                    err = f"{path}: could not write output ({e.strerror or e})"
            if err:
                failures.append(err)
            if show:
                _progress(n, len(files), path.name)
    if show:
        print(file=sys.stderr)
    for f in failures:
        print(f"error: {f}", file=sys.stderr)
    if failures:
        print(f"{len(files) - len(failures)} of {len(files)} images done; {len(failures)} failed", file=sys.stderr)
        return 1
    return 0


def _folder_name(path: Path, files: list[Path]) -> str:
    stems = [f.stem for f in files]
    return path.stem if stems.count(path.stem) == 1 else path.name.replace(".", "_")


def _progress(n: int, total: int, name: str) -> None:
    width = 30
    done = round(width * n / total)
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {n}/{total} {name[:40]:<40}")
    sys.stderr.flush()


def _write(image, spec, out: Path, cmap: str) -> None:
    import numpy as np

    from .pipeline import run_pipeline
    from .render import png_bytes, stage_picture

    stages = run_pipeline(image, spec)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"spec": spec.to_dict(), "device": stages[0].device, "stages": []}
    for s in stages:
        stem = f"{s.index:02d}_{s.name}"
        np.save(out / f"{stem}.npy", s.maps)
        (out / f"{stem}.png").write_bytes(png_bytes(stage_picture(s.name, s.maps, cmap), compress_level=6))
        summary["stages"].append({"index": s.index, "name": s.name, "shape": list(s.maps.shape), "file": f"{stem}.npy"})
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
