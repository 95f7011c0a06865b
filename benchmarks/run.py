"""The speed harness: ``python benchmarks/run.py [--quick] [--sections core,server,...]``.

Sections (all by default):
  core     run_pipeline vs the article's eager TensorFlow calls vs OpenCV (agreement checked first)
  server   one rerun after a slider change, under AppTest: playground and layer stack
  browser  a real server and headless Chromium: first maps, key press → paint, bytes per change
  memory   the server's peak RSS with 1 and 5 visitors on 2048² photos
  scaling  run_pipeline vs pixels, filters and layers, with fitted exponents
  explain  a click on a 1024² map: the inspector's server time (target ≤ 100 ms)
  at_once  10 visitors at once, a slider step each every 2 s for 2 min (not in the default run: ask for it)

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

SECTIONS = ("core", "server", "browser", "memory", "scaling", "explain", "network", "units", "at_once")
DEFAULT_SECTIONS = [s for s in SECTIONS if s != "at_once"]  # at_once takes minutes and the whole machine
# How a machine with AVX-512 also shows the slow-TensorFlow case: each is set in a fresh Python before
# TensorFlow is imported (oneDNN reads them once, at start-up).
CPU_KINDS = {
    "avx2": ("oneDNN limited to AVX2", {"ONEDNN_MAX_CPU_ISA": "AVX2"}),
    "onednn-off": ("oneDNN off", {"TF_ENABLE_ONEDNN_OPTS": "0"}),
}
DEFAULT_OUT = ROOT / "benchmarks" / "results"
REPEATS = {
    "core": 9,
    "server": 15,
    "browser": 10,
    "memory": 1,
    "scaling": 3,
    "explain": 10,
    "network": 10,
    "units": 1,
    "at_once": 1,
}


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


def cpu_info() -> dict:
    """The CPU's model name and whether it has AVX-512 and AVX2 (from /proc/cpuinfo; platform as a fallback)."""
    model, flags = "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and not model:
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    return {
        "model": model or platform.processor() or platform.machine(),
        "avx512": "avx512f" in flags if flags else None,
        "avx2": "avx2" in flags if flags else None,
    }


def kind_label(kind: str | None, cpu: dict) -> str:
    if kind:
        return CPU_KINDS[kind][0]
    has = {True: "AVX-512", False: "no AVX-512", None: "AVX-512 unknown"}[cpu.get("avx512")]
    return f"as is ({has})"


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
        "cpu": cpu_info(),
        "cpu_kind": args.as_kind or "as is",
        "cpu_kind_env": {k: os.environ.get(k) for k in ("ONEDNN_MAX_CPU_ISA", "TF_ENABLE_ONEDNN_OPTS")},
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
    if name == "explain":
        from benchmarks import explain

        return explain.run(args.quick, repeats)
    if name == "network":
        from benchmarks import network

        return network.run(args.quick, repeats)
    if name == "at_once":
        from benchmarks import at_once

        return at_once.run(args.quick)
    if name == "units":
        from benchmarks import units

        return units.run(args.quick, repeats)
    raise ValueError(name)


def _sections(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in names if s not in SECTIONS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown section {bad[0]!r}; choose from {', '.join(SECTIONS)}")
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python benchmarks/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repeat: checks the harness, not speed")
    parser.add_argument(
        "--sections",
        type=_sections,
        default=DEFAULT_SECTIONS,
        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all but at_once)",
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
    parser.add_argument(
        "--cpu-kinds",
        default=",".join(CPU_KINDS),
        help=f"also run --kind-sections in a fresh Python under each of {','.join(CPU_KINDS)}; 'none' for none",
    )
    parser.add_argument(
        "--kind-sections",
        type=_sections,
        default=["core", "server"],
        help="sections run again for each CPU kind (default: core,server)",
    )
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "gpu"),
        default="auto",
        help="auto: a GPU when TensorFlow sees one; cpu: hide any GPU (servers too); gpu: require one, else exit 2",
    )
    parser.add_argument("--as-kind", choices=list(CPU_KINDS), help=argparse.SUPPRESS)  # set for the child runs
    return parser


class _Results:
    """What the sections and the CPU kinds hand back, gathered as they run."""

    def __init__(self) -> None:
        self.figures: list[Figure] = []
        self.details: dict = {}
        self.failed: dict[str, str] = {}
        self.timings: dict[str, float] = {}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not _device_ready(args.device):
        return 2
    kinds = _kinds(args, parser)

    chosen = [s for s in SECTIONS if s in args.sections and s not in args.skip]
    args.out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    meta = _meta(args)
    _log(
        f"benchmarks: {', '.join(chosen)}{' (quick)' if args.quick else ''} on {meta['device']}, "
        f"{meta['cpus']} CPUs, load {meta['loadavg_at_start']}"
    )
    res = _Results()
    for name in chosen:
        _run_one_section(name, args, res)
    for kind in kinds:
        _run_one_kind(kind, chosen, args, res)
    conclusions = _conclusions(res, kinds)
    plots = _write_plots(res, args, conclusions)

    meta.update(
        {"loadavg_at_end": _load_end(), "seconds": time.perf_counter() - t_start, "section_seconds": res.timings}
    )
    result = {
        "meta": meta,
        "figures": [f.to_dict() for f in res.figures],
        "conclusions": conclusions,
        "details": res.details,
        "plots": plots,
        "failed": res.failed,
    }
    path = args.out / "results.json"
    path.write_text(json.dumps(result, indent=1, default=_json_default, ensure_ascii=False), encoding="utf-8")
    _print_report(meta, args, res.figures, kinds, conclusions)
    print()
    print(f"results: {path}")
    for p in plots:
        print(f"plot: {p}")
    return _status(res, args.strict)


def _device_ready(device: str) -> bool:
    """Sets up --device; False when a GPU was asked for and TensorFlow sees none (nothing is measured)."""
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"  # before TensorFlow loads; the servers started here inherit it
    if device == "gpu":
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            _log("benchmarks: --device gpu, but TensorFlow sees no GPU here; nothing was measured")
            return False
    return True


def _kinds(args, parser) -> list[str]:
    """The CPU kinds to rerun the sections as (none with --as-kind, on a GPU, or with --cpu-kinds none)."""
    kinds = [] if args.as_kind or args.device == "gpu" or args.cpu_kinds in ("", "none") else args.cpu_kinds.split(",")
    bad = [k for k in kinds if k not in CPU_KINDS]
    if bad:
        parser.error(f"unknown CPU kind {bad[0]!r}; choose from {', '.join(CPU_KINDS)} or none")
    return kinds


def _load_end():
    try:
        return os.getloadavg()
    except OSError:
        return None


def _status(res: _Results, strict: bool) -> int:
    if res.failed:
        print(f"FAILED: {', '.join(res.failed)}")
        return 1
    if strict and any(f.status == "MISS" for f in res.figures):
        return 1
    return 0


def _run_one_section(name: str, args, res: _Results) -> None:
    repeats = 1 if args.quick else (args.repeats or REPEATS[name])
    _log(f"[{name}] running ({repeats} repeats)...")
    t0 = time.perf_counter()
    try:
        figs, detail = _run_section(name, args, repeats, args.out)
        res.figures += figs
        res.details[name] = detail
    except Exception as e:  # report it and go on: one broken section must not hide the others
        res.failed[name] = f"{type(e).__name__}: {e}"
        res.details[name] = {"error": res.failed[name], "traceback": traceback.format_exc()}
        res.figures.append(Figure(name, "section failed", "", note=res.failed[name]))
        _log(f"[{name}] FAILED: {res.failed[name]}")
    res.timings[name] = time.perf_counter() - t0
    _log(f"[{name}] done in {res.timings[name]:.0f} s")


def _run_one_kind(kind: str, chosen: list[str], args, res: _Results) -> None:
    sections = [x for x in args.kind_sections if x in chosen] or args.kind_sections
    _log(f"[{kind}] running {', '.join(sections)} in a fresh Python with {CPU_KINDS[kind][1]}...")
    t0 = time.perf_counter()
    figs, detail = run_kind(kind, sections, args)
    res.figures += figs
    res.details[f"kind {kind}"] = detail
    if "error" in detail:
        res.failed[f"kind {kind}"] = detail["error"]
    res.timings[f"kind {kind}"] = time.perf_counter() - t0
    _log(f"[{kind}] done in {res.timings[f'kind {kind}']:.0f} s")


def _conclusions(res: _Results, kinds: list[str]) -> list[str]:
    from benchmarks.scaling import interactivity
    from benchmarks.server import GC_NAME

    details = res.details
    conclusions: list[str] = []
    if "scaling" in details and "sentences" in details["scaling"]:
        conclusions += details["scaling"]["sentences"]
    gc_ms = next((f.median for f in res.figures if f.name == GC_NAME), None)
    conclusions += interactivity(details.get("server"), details.get("scaling"), gc_ms)
    if "memory" in details and "cache_bounds" in details["memory"]:
        b = details["memory"]["cache_bounds"]
        conclusions.append(
            "Cache limits declared in ui/ (stage cache in bytes, LRU; st.cache_resource by entries; hand-written "
            "LRUs by items): " + "; ".join(f"{k}: {', '.join(v)}" for k, v in b.items()) + "."
        )

    conclusions += profile_lines(details)
    for kind in kinds:
        label = CPU_KINDS[kind][0]
        conclusions += [f"[{label}] {c}" for c in details.get(f"kind {kind}", {}).get("conclusions", [])]
    if "core" in details and details["core"].get("sentences"):
        conclusions += details["core"]["sentences"]
    return conclusions


def _write_plots(res: _Results, args, conclusions: list[str]) -> list[str]:
    """The PNG plots' paths; a plotting failure is recorded in ``res.failed``, a missing matplotlib is a conclusion."""
    if args.no_plots:
        return []
    from benchmarks import plots as plotting

    if not plotting.available():
        conclusions.append("No plots: matplotlib is not installed (pip install -r requirements-bench.txt).")
        return []
    try:
        return [str(p) for p in plotting.write_all(res.details, args.out)]
    except Exception as e:
        res.failed["plots"] = f"{type(e).__name__}: {e}"
        return []


def _print_report(meta: dict, args, figures: list[Figure], kinds: list[str], conclusions: list[str]) -> None:
    load_end = meta["loadavg_at_end"]
    cpu = meta["cpu"]
    avx512 = {True: "yes", False: "no", None: "unknown"}[cpu["avx512"]]
    kind = f" · run as: {kind_label(args.as_kind, cpu)}" if args.as_kind else ""
    print(
        f"Benchmarks {meta['date']} · {meta['device']} · {cpu['model']} · AVX-512: {avx512}{kind} · {meta['cpus']} CPUs · load "
        f"{_load(meta['loadavg_at_start'])} → {_load(load_end)} · commit {meta['commit']}"
        f"{' · QUICK (small sizes: targets not judged)' if args.quick else ''}"
    )
    print()
    print(table(figures))
    if kinds:
        print()
        print("Targets for each CPU kind (median; the rows above have the spread):")
        print()
        print(kinds_table(figures, [None, *kinds], cpu))
    if conclusions:
        print()
        for c in conclusions:
            print("- " + c)
    cpus = meta["cpus"] or 1
    if any(load and load[0] > cpus for load in (meta["loadavg_at_start"], load_end)):
        print()
        print(f"Note: the load average passed {cpus} (the CPU count) during this run; other work competed for the "
              "CPUs, so absolute times are inflated and noisier. Interleaved ratios hold up better.")  # fmt: skip


def run_kind(kind: str, sections: list[str], args) -> tuple[list[Figure], dict]:
    """Run ``sections`` again in a fresh Python whose TensorFlow starts with the CPU kind's settings.

    Returns its figures, with the kind's label added to their section, and its details.
    """
    import tempfile

    from benchmarks.stats import Target

    label, env_vars = CPU_KINDS[kind]
    env = {**os.environ, **env_vars}
    with tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--sections", ",".join(sections), "--out", tmp]
        cmd += ["--no-plots", "--as-kind", kind]
        if args.quick:
            cmd.append("--quick")
        if args.repeats:
            cmd += ["--repeats", str(args.repeats)]
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        path = Path(tmp) / "results.json"
        if not path.exists():
            why = f"the {label} run wrote no results (exit {proc.returncode}): {proc.stderr.strip()[-300:]}"
            return [Figure(f"{sections[0]} · {label}", "section failed", "", note=why)], {"error": why}
        data = json.loads(path.read_text(encoding="utf-8"))
    figures = []
    for f in data["figures"]:
        t = f.get("target")
        figures.append(
            Figure(
                f"{f['section']} · {label}",
                f["name"],
                f["unit"],
                list(f["samples"]),
                Target(t["op"], t["value"], f["unit"]) if t else None,
                note=f.get("note", ""),
                quick=data["meta"].get("quick", False),
            )
        )
    detail = {
        "env": env_vars,
        "meta": data["meta"],
        "conclusions": data.get("conclusions", []),
        "details": data.get("details", {}),
    }
    if data.get("failed"):
        detail["error"] = "; ".join(f"{k}: {v}" for k, v in data["failed"].items())
    return figures, detail


def kinds_table(figures: list[Figure], kinds: list[str | None], cpu: dict) -> str:
    """One row per figure with a target, one column per CPU kind: median and PASS/MISS."""
    labels = [kind_label(k, cpu) for k in kinds]
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for f in figures:
        if f.target is None:
            continue
        base, _, kind = f.section.partition(" · ")
        col = kind or labels[0]
        value = "n/a" if f.median is None else f"{_num(f.median, f.unit)} {f.unit}"
        cells.setdefault((f.name, f.target.text()), {})[col] = f"{value} {f.status}".rstrip()
    head = ("figure", "target", *labels)
    rows = [(name, target, *(by.get(c, "—") for c in labels)) for (name, target), by in cells.items()]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]

    def line(cs) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cs, widths)).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def profile_lines(details: dict) -> list[str]:
    """One sentence per profile taken (--profile): where a change rerun's time goes."""
    lines = []
    side = (details.get("server") or {}).get("side")
    for page, prof in ((details.get("server") or {}).get("profiles") or {}).items():
        if "error" in prof or "note" in prof:
            lines.append(f"Profile of {page}: not taken ({prof.get('error') or prof['note']}).")
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
