"""Section "scaling": how run_pipeline's time grows with pixels, filters and layers, and what dominates."""

from __future__ import annotations

import math

import numpy as np

from . import core
from .stats import Figure, interleaved, ms

SECTION = "scaling"
INTERACTIVE_MS = 1000.0  # beyond this per change, moving a slider no longer feels live


def _pipeline(image: np.ndarray, spec: dict):
    return lambda: core.run_pipeline_maps(image, spec)


def _random_filters(n: int, seed0: int = 1) -> list[dict]:
    return [{"init": "he_normal", "seed": seed0 + i, "size": 3} for i in range(n)]


def fit(xs: list[float], ys: list[float]) -> dict:
    """Slope of log(y) on log(x), and the least-squares line y = fixed + per_unit·x."""
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    slope = float(np.polyfit(np.log(x), np.log(y), 1)[0]) if len(x) > 1 else float("nan")
    if len(x) > 1:
        per_unit, fixed = (float(v) for v in np.polyfit(x, y, 1))
    else:
        per_unit, fixed = float("nan"), float("nan")
    return {"loglog_slope": slope, "fixed_ms": fixed, "per_unit_ms": per_unit}


def _sentence(what: str, unit_word: str, xs: list[float], f: dict) -> str:
    s = f["loglog_slope"]
    if math.isnan(s):
        return f"{what}: too few points to fit."
    if s > 0.85:
        kind = f"close to proportional to {unit_word}: the per-{unit_word[:-1]} work dominates"
    elif s > 0.4:
        kind = f"sub-linear in {unit_word}: per-{unit_word[:-1]} work and a fixed per-call cost both matter"
    else:
        kind = f"nearly flat in {unit_word}: a fixed per-call cost dominates"
    fixed, per = f["fixed_ms"], f["per_unit_ms"]
    share = ""
    if fixed > 0 and per > 0:
        big = max(xs)
        share = (
            f"; linear fit: {fixed:.1f} ms fixed + {per:.3g} ms per {unit_word[:-1]}, so at {big:,.0f} "
            f"{unit_word} the fixed part is {100 * fixed / (fixed + per * big):.0f}%"
        )
    return f"{what}: time grows as {unit_word}^{s:.2f} ({kind}){share}."


def run(quick: bool, repeats: int) -> tuple[list[Figure], dict]:
    with_cv2 = core.have_cv2()
    rounds = max(1, repeats)
    figures: list[Figure] = []
    detail: dict = {"pixels": {}, "filters": {}, "layers": {}}

    # --- pixels: the article's layer on one channel, beside eager TF and OpenCV
    sides = (32, 64, 128) if quick else (300, 512, 1024, 2048, 3072, 4096)
    for side in sides:
        case = core.gray_case(side)
        t = interleaved(core.implementations(case, with_cv2), rounds)
        detail["pixels"][side] = {k: ms(v) for k, v in t.items()}
        figures.append(
            Figure(
                SECTION,
                f"run_pipeline, 1ch {side}² ({side * side / 1e6:.2f} MP)",
                "ms",
                ms(t["run_pipeline"]),
                quick=quick,
            )
        )

    # --- filters: one conv layer with n random 3×3 filters → ReLU → pool on an RGB photo
    fside = 64 if quick else 1024
    counts = (1, 4) if quick else (1, 2, 4, 8, 16, 32)
    image = core.photo(fside, 3, seed=2)
    fns = {n: _pipeline(image, core.spec_for("rgb", _random_filters(n))) for n in counts}
    t = interleaved({str(n): f for n, f in fns.items()}, rounds)
    for n in counts:
        detail["filters"][n] = ms(t[str(n)])
        figures.append(
            Figure(
                SECTION,
                f"run_pipeline, RGB {fside}², {n} filter{'s' if n > 1 else ''}",
                "ms",
                ms(t[str(n)]),
                quick=quick,
            )
        )

    # --- layers: n blocks of conv (8 random filters) → ReLU, no pooling, on an RGB photo
    lside = 64 if quick else 512
    depths = (1, 2) if quick else (1, 2, 4, 6, 8)
    image = core.photo(lside, 3, seed=3)
    fns = {n: _pipeline(image, core.spec_for("rgb", _random_filters(8), layers=n, pool=False)) for n in depths}
    t = interleaved({str(n): f for n, f in fns.items()}, rounds)
    for n in depths:
        detail["layers"][n] = ms(t[str(n)])
        figures.append(
            Figure(
                SECTION, f"run_pipeline, RGB {lside}², {n}× (conv 8 filters → ReLU)", "ms", ms(t[str(n)]), quick=quick
            )
        )

    med = lambda v: float(np.median(v))  # noqa: E731
    px = [s * s for s in sides]
    fits = {
        "pixels": fit(px, [med(detail["pixels"][s]["run_pipeline"]) for s in sides]),
        "filters": fit(list(counts), [med(detail["filters"][n]) for n in counts]),
        "layers": fit(list(depths), [med(detail["layers"][n]) for n in depths]),
    }
    detail["fits"] = fits
    detail["setup"] = {"filters_side": fside, "layers_side": lside}
    detail["sentences"] = [
        ("(quick: sizes too small for this to mean anything) " if quick else "") + line
        for line in [
            _sentence("Pixels (1 channel, conv → ReLU → pool)", "pixels", px, fits["pixels"]),
            _sentence(f"Filters (RGB {fside}², conv → ReLU → pool)", "filters", list(counts), fits["filters"]),
            _sentence(f"Layers (RGB {lside}², conv 8 filters → ReLU blocks)", "layers", list(depths), fits["layers"]),
        ]
    ]
    return figures, detail


MAX_EXTRAPOLATED_SIDE = 1_000_000  # past this the extrapolated side is only said to be far beyond


def _crossing(sides: list[int], meds: list[float]) -> str:
    over = next((s for s, m in zip(sides, meds) if m > INTERACTIVE_MS), None)
    if over is not None:
        return f"passes {INTERACTIVE_MS / 1000:g} s per change by {over}²"
    if len(sides) > 1 and meds[-1] > meds[-2] > 0:
        slope = math.log(meds[-1] / meds[-2]) / math.log(sides[-1] ** 2 / sides[-2] ** 2)
        if slope > 0:
            # In logarithms: a nearly flat last step (a quick run's tiny sizes) would overflow a float otherwise.
            log_side = math.log(sides[-1]) + math.log(INTERACTIVE_MS / meds[-1]) / (2 * slope)
            if log_side > math.log(MAX_EXTRAPOLATED_SIDE):
                near = f"far beyond {MAX_EXTRAPOLATED_SIDE:,}² (beyond the app's 4096² limit)"
            else:
                side = math.exp(log_side)
                near = f"near {side:.0f}²" + (" (beyond the app's 4096² limit)" if side > 4096 else "")
            return (
                f"stays under {INTERACTIVE_MS / 1000:g} s up to {sides[-1]}²; extrapolating the last step "
                f"(time ∝ pixels^{slope:.2f}) it would pass it {near}"
            )
    return f"stays under {INTERACTIVE_MS / 1000:g} s at every size measured"


def interactivity(server_detail: dict | None, scaling_detail: dict | None, gc_ms: float | None = None) -> list[str]:
    """Where a slider change passes INTERACTIVE_MS, per page (or for run_pipeline alone without the server section)."""
    pages = dict((server_detail or {}).get("change_ms_by_side") or {})
    lines = []
    if not pages and scaling_detail and scaling_detail.get("pixels"):
        pages = {
            "run_pipeline alone (no page work)": {s: v["run_pipeline"] for s, v in scaling_detail["pixels"].items()}
        }
    for page, by_side in pages.items():
        sides = sorted(int(s) for s in by_side)
        meds = [float(np.median(by_side[s] if s in by_side else by_side[str(s)])) for s in sides]
        shown = ", ".join(f"{s}²: {m:.0f} ms" for s, m in zip(sides, meds))
        lines.append(f"Interactivity, {page}, change rerun under AppTest ({shown}): it {_crossing(sides, meds)}.")
    if lines and gc_ms is not None:
        lines.append(
            f"A real server adds one more full collection per change (runner.postScriptGC, which AppTest skips): "
            f"about {gc_ms:.0f} ms here with the app's imports frozen out of the collector's reach."
        )
    if lines:
        lines.append(
            "What the app does beyond that: every slider step recomputes the changed layer and everything after "
            "it at full size, after a cost estimate has accepted the whole stack (cnn_core/cost.py; over about "
            "4 s it is refused with a message naming the layer). While a run goes on the old maps stay on screen; "
            "a newer step or a closed tab stops it between layers, and between row bands of a long layer."
        )
    return lines
