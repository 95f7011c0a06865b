"""The speed harness: ``python benchmarks/run.py [--quick] [--sections core,server,...]``.

Sections (all by default):
  core     run_pipeline vs the article's eager TensorFlow calls vs OpenCV (agreement checked first)
  server   one rerun after a slider change, under AppTest: playground and layer stack
  browser  a real server and headless Chromium: first maps, key press → paint, bytes per change
  memory   the server's peak RSS with 1 and 5 visitors on 2048² photos
  scaling  run_pipeline vs pixels, filters and layers, with fitted exponents

Prints a table (median, min–max, n, target, PASS/MISS), writes results.json and PNG plots to
benchmarks/results/ (git-ignored). Exit status 1 if a section failed (including a disagreement
between implementations); a MISS alone does not fail the run unless --strict is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(ROOT))

from benchmarks.stats import Figure  # noqa: E402

SECTIONS = ("core", "server", "browser", "memory", "scaling", "network")
DEFAULT_OUT = ROOT / "benchmarks" / "results"
REPEATS = {"core": 9, "server": 15, "browser": 10, "memory": 1, "scaling": 3, "network": 10}


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for mod in ("numpy", "tensorflow", "streamlit", "cv2", "PIL", "plotly", "playwright"):
        try:
            if mod == "playwright":
                from importlib.metadata import version

                out[mod] = version("playwright")
                continue
            m = __import__(mod)
            out[mod] = getattr(m, "__version__", "?")
        except Exception:
            out[mod] = None
    return out


def _git_commit() -> str | None:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _meta(args) -> dict:
    from cnn_core import ops

    try:
        load = os.getloadavg()
    except OSError:
        load = None
    cv2_threads = None
    try:
        import cv2

        cv2_threads = cv2.getNumThreads()
    except ImportError:
        pass
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": load,
        "device": ops.device_label(),
        "tf_threads": {
            "intra_op": ops.tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": ops.tf.config.threading.get_inter_op_parallelism_threads(),
        },
        "opencv_threads": cv2_threads,
        "versions": _versions(),
        "commit": _git_commit(),
        "argv": sys.argv[1:],
    }


# --------------------------------------------------------------------------- the table


def _num(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    if unit in ("ms",):
        return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}"
    if unit in ("s",):
        return f"{v:.2f}"
    if unit == "×":
        return f"{v:.2f}"
    if unit == "MB":
        return f"{v:.3f}"
    if unit == "MiB":
        return f"{v:.0f}"
    return f"{v:.3g}"


def table(figures: list[Figure]) -> str:
    head = ("section", "figure", "unit", "median", "min–max", "n", "target", "result")
    rows = []
    for f in figures:
        spread = f.spread
        rows.append(
            (
                f.section,
                f.name,
                f.unit,
                _num(f.median, f.unit),
                "—" if spread is None else f"{_num(spread[0], f.unit)}–{_num(spread[1], f.unit)}",
                str(len(f.samples)),
                f.target.text() if f.target else "",
                f.status,
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    right = {3, 4, 5}

    def line(cells) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    out = [line(head), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    notes = [f for f in figures if f.note]
    if notes:
        out.append("")
        out += [f"n/a  {f.section} / {f.name}: {f.note}" for f in notes]
    return "\n".join(out)


# --------------------------------------------------------------------------- running


def _run_section(name: str, args, repeats: int, out: Path):
    if name == "core":
        from benchmarks import core

        return core.run(args.quick, repeats)
    if name == "server":
        from benchmarks import server

        return server.run(args.quick, repeats, out if args.profile else None)
    if name == "browser":
        from benchmarks import browser

        return browser.run_browser(args.quick, repeats, args.out if args.profile else None)
    if name == "memory":
        from benchmarks import browser

        return browser.run_memory(args.quick, repeats)
    if name == "scaling":
        from benchmarks import scaling

        return scaling.run(args.quick, repeats)
    if name == "network":
        from benchmarks import network

        return network.run(args.quick, repeats)
    raise ValueError(name)


def _sections(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in names if s not in SECTIONS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown section {bad[0]!r}; choose from {', '.join(SECTIONS)}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repeat: checks the harness, not speed")
    parser.add_argument(
        "--sections",
        type=_sections,
        default=list(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)",
    )
    parser.add_argument("--skip", type=_sections, default=[], help="comma-separated sections to leave out")
    parser.add_argument("--repeats", type=int, help="override every section's number of repeats")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for results.json and plots")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile change reruns: pyinstrument under AppTest (server), py-spy on the real server (browser)",
    )
    parser.add_argument("--no-plots", action="store_true", help="write no PNG plots")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    chosen = [s for s in SECTIONS if s in args.sections and s not in args.skip]
    args.out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    meta = _meta(args)
    _log(
        f"benchmarks: {', '.join(chosen)}{' (quick)' if args.quick else ''} on {meta['device']}, "
        f"{meta['cpus']} CPUs, load {meta['loadavg_at_start']}"
    )
    figures: list[Figure] = []
    details: dict = {}
    failed: dict[str, str] = {}
    timings: dict[str, float] = {}
    for name in chosen:
        repeats = 1 if args.quick else (args.repeats or REPEATS[name])
        _log(f"[{name}] running ({repeats} repeats)...")
        t0 = time.perf_counter()
        try:
            figs, detail = _run_section(name, args, repeats, args.out)
            figures += figs
            details[name] = detail
        except Exception as e:  # report it and go on: one broken section must not hide the others
            failed[name] = f"{type(e).__name__}: {e}"
            details[name] = {"error": failed[name], "traceback": traceback.format_exc()}
            figures.append(Figure(name, "section failed", "", note=failed[name]))
            _log(f"[{name}] FAILED: {failed[name]}")
        timings[name] = time.perf_counter() - t0
        _log(f"[{name}] done in {timings[name]:.0f} s")

    from benchmarks.scaling import interactivity
    from benchmarks.server import GC_NAME

    conclusions: list[str] = []
    if "scaling" in details and "sentences" in details["scaling"]:
        conclusions += details["scaling"]["sentences"]
    gc_ms = next((f.median for f in figures if f.name == GC_NAME), None)
    conclusions += interactivity(details.get("server"), details.get("scaling"), gc_ms)
    if "memory" in details and "cache_bounds" in details["memory"]:
        b = details["memory"]["cache_bounds"]
        conclusions.append(
            "Cache limits declared in ui/ (stage cache in bytes, LRU; st.cache_resource by entries; hand-written "
            "LRUs by items): " + "; ".join(f"{k}: {', '.join(v)}" for k, v in b.items()) + "."
        )

    conclusions += profile_lines(details)

    plots: list[str] = []
    if not args.no_plots:
        from benchmarks import plots as plotting

        if plotting.available():
            try:
                plots = [str(p) for p in plotting.write_all(details, args.out)]
            except Exception as e:
                failed["plots"] = f"{type(e).__name__}: {e}"
        else:
            conclusions.append("No plots: matplotlib is not installed (pip install -r requirements-bench.txt).")

    try:
        load_end = os.getloadavg()
    except OSError:
        load_end = None
    meta.update({"loadavg_at_end": load_end, "seconds": time.perf_counter() - t_start, "section_seconds": timings})
    result = {
        "meta": meta,
        "figures": [f.to_dict() for f in figures],
        "conclusions": conclusions,
        "details": details,
        "plots": plots,
        "failed": failed,
    }
    path = args.out / "results.json"
    path.write_text(json.dumps(result, indent=1, default=_json_default, ensure_ascii=False), encoding="utf-8")

    print(
        f"Benchmarks {meta['date']} · {meta['device']} · {meta['cpus']} CPUs · load "
        f"{_load(meta['loadavg_at_start'])} → {_load(load_end)} · commit {meta['commit']}"
        f"{' · QUICK (small sizes: targets not judged)' if args.quick else ''}"
    )
    print()
    print(table(figures))
    if conclusions:
        print()
        for c in conclusions:
            print("- " + c)
    cpus = meta["cpus"] or 1
    if any(load and load[0] > cpus for load in (meta["loadavg_at_start"], load_end)):
        print()
        print(f"Note: the load average passed {cpus} (the CPU count) during this run; other work competed for the "
              "CPUs, so absolute times are inflated and noisier. Interleaved ratios hold up better.")  # fmt: skip
    print()
    print(f"results: {path}")
    for p in plots:
        print(f"plot: {p}")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    if args.strict and any(f.status == "MISS" for f in figures):
        return 1
    return 0


def profile_lines(details: dict) -> list[str]:
    """One sentence per profile taken (--profile): where a change rerun's time goes."""
    lines = []
    side = (details.get("server") or {}).get("side")
    for page, prof in ((details.get("server") or {}).get("profiles") or {}).items():
        if "error" in prof:
            lines.append(f"Profile of {page}: not taken ({prof['error']}).")
            continue
        hot = ", ".join(
            f"{h['function']} ({h['file']}) {100 * h['share']:.0f}%"
            for h in prof["hot"][:8]
            if h["function"] not in ("<module>", page)
        )
        lines.append(
            f"Profile of {page} under AppTest (pyinstrument, {prof['reruns']} change reruns at {side}²; the page script "
            f"only, without the collection after it): {1000 * prof['seconds_per_rerun']:.0f} ms per rerun; inclusive "
            f"shares: {hot}."
        )
    spy = (details.get("browser") or {}).get("server_profile")
    if spy:
        if "error" in spy:
            lines.append(f"Profile of the real server: not taken ({spy['error']}).")
        else:
            parts = ", ".join(f"{k} {100 * v:.0f}%" for k, v in spy["share"].items() if v >= 0.005)
            hot = ", ".join(f"{h['function']} {100 * h['share']:.0f}%" for h in spy["page_functions"][:6])
            lines.append(
                f"Profile of the real server (py-spy, {spy['changes']} slider changes, script-runner threads only): "
                f"{parts}. Within that, inclusive: {hot}."
            )
    return lines


def _load(load) -> str:
    return "?" if not load else "/".join(f"{v:.1f}" for v in load)


def _json_default(o):
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:
        pass
    return str(o)


if __name__ == "__main__":
    sys.exit(main())
