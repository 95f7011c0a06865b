"""Section "server": the work behind one interaction, as a rerun under streamlit.testing.v1.AppTest.

A change rerun moves a kernel slider to a value never used before, so the stage cache and the picture
cache cannot answer it: the convolution and everything after it are recomputed and redrawn. A no-change
rerun repeats the last script run with nothing changed (all stages cached): the page's fixed cost. The
floor is a slider change on a one-slider script. All of them are interleaved.

After every script run Streamlit calls ``keras.backend.clear_session()`` when keras is loaded (TensorFlow
loads it), which runs a full ``gc.collect()``; a real server also runs ``gc.collect(2)`` (the hidden
option ``runner.postScriptGC``; AppTest leaves that one out). With TensorFlow imported a full collection
walks several hundred thousand objects, so the app moves the objects that exist after its imports out of
the collector's reach with ``gc.freeze()`` at the end of its first run (``ui.common.service.start``). The headline
rows measure the app as it runs, frozen; the "without gc.freeze()" rows undo the freeze around each timed
call (what-if: the app before it froze its imports), and the section times one full collection both ways.
"""

from __future__ import annotations

import gc
import re
import time
from pathlib import Path

from tests import map_views

from . import profiling
from .stats import Figure, Target, interleaved, ms, unavailable

SECTION = "server"
ROOT = Path(__file__).resolve().parent.parent
PLAYGROUND = ROOT / "views" / "playground.py"
LAYER_STACK = ROOT / "views" / "layer_stack.py"
TIMEOUT = 180

STACK_LABEL = "layer stack (conv 8 filters → ReLU → pool, RGB)"
GC_NAME = "full gc.collect() after a rerun (Streamlit runs one), imports frozen as the app does"
FLOOR_NAME = "AppTest floor: a slider change on a one-slider script"
FLOOR_SCRIPT = "import streamlit as st\nst.slider('w', -10.0, 10.0, 8.0, step=0.05, key='w')\n"
# The stack measured on the Layer stack page: three layers (conv with 8 filters, ReLU, 2×2 max pool) on RGB.
# The first filter's weights are given by hand so that the page shows sliders for it.
STACK_FILTERS = [
    [[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]],
    "sobel_x",
    "sobel_y",
    "prewitt_x",
    "prewitt_y",
    "laplacian",
    "gaussian_3",
    "identity",
]


def stack_spec(side: int) -> dict:
    """The measured stack as a spec dict, on an RGB photo resized to ``side``²."""
    return {
        "version": 1,
        "input": {"color": "rgb", "size": [side, side]},
        "layers": [
            {"type": "conv2d", "filters": STACK_FILTERS, "stride": 1, "padding": "same", "dilation": 1, "bias": 0.0},
            {"type": "activation", "function": "relu"},
            {"type": "pool2d", "mode": "max", "size": 2, "stride": 2, "padding": "same"},
        ],
    }


class PageError(RuntimeError):
    """The page could not be driven as expected (an exception, a missing widget, a cached 'change')."""


def _app(path, **session):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(path), default_timeout=TIMEOUT)
    for k, v in session.items():
        at.session_state[k] = v
    return at


def _check(at, what: str) -> None:
    if at.exception:
        raise PageError(f"{what}: the page raised {at.exception[0].value}")


def _computed_caption(at) -> str:
    return next((c.value for c in at.caption if c.value.startswith("Computed by")), "")


class Floor:
    """A one-slider script: what any AppTest rerun costs."""

    name = "AppTest floor (one-slider script)"

    def __init__(self) -> None:
        from streamlit.testing.v1 import AppTest

        self.at = AppTest.from_string(FLOOR_SCRIPT, default_timeout=TIMEOUT)
        self.at.run()
        self.k = 0

    def change(self) -> None:
        self.k += 1
        self.at.slider(key="w").set_value(round(8 - 0.05 * (self.k % 300 + 1), 2)).run()


class Playground:
    """views/playground.py with the photo resized to ``side``², moving the centre weight w[1,1]."""

    slider = "pg_w1_1"
    partial_steps = True  # a step reruns only the maps' part of the page (views/playground.py)

    def __init__(self, side: int, path: Path = PLAYGROUND) -> None:
        self.side = side
        self.at = _app(path)
        self.at.run()
        _check(self.at, "first run")
        self.k = 0
        self.resize(side)

    def resize(self, side: int) -> None:
        self.side = side
        self.at.radio(key="pg_size_mode").set_value("exact").run()
        self.at.number_input(key="pg_h").set_value(side)
        self.at.number_input(key="pg_w").set_value(side)
        self.at.run()
        _check(self.at, f"resizing to {side}²")
        # The stages' headings, drawn by their map views, end in their shape (H×W×C).
        heads = map_views.headings(self.at)
        if not heads or f"{side}×{side}" not in heads[0]:
            raise PageError(f"after resizing to {side}² the first stage reads {heads[:1]}")

    def change(self) -> None:
        """One weight's step: the run a browser's key press makes, which redraws only the maps' part of the page."""
        self.k += 1  # a value never used before: nothing can come from a cache
        self.at.slider(key=self.slider).set_value(round(8 - 0.05 * self.k, 2)).run()

    def settle(self) -> None:
        """Draw the page whole again after a step (untimed): AppTest keeps only what its last run drew, which after
        a step is the maps' part, and the next step needs the slider (a browser keeps it on screen)."""
        if not any(w.key == self.slider for w in self.at.slider):
            self.at.run()
            _check(self.at, "drawing the page whole after a step")

    def nochange(self) -> None:
        self.at.run()

    def verify_recomputed(self) -> None:
        """After a change the convolution must have been computed, not served from the cache."""
        self.change()
        _check(self.at, "a slider change")
        cap = _computed_caption(self.at)
        if "convolution cached" in cap or " ms" not in cap:
            raise PageError(f"a slider change did not recompute the convolution: {cap!r}")
        self.settle()


class LayerStack:
    """views/layer_stack.py with conv (8 filters) → ReLU → max pool on an RGB photo resized to ``side``²."""

    def __init__(self, side: int, path: Path = LAYER_STACK) -> None:
        spec = stack_spec(side)
        # The page keeps its stack in session state; setting it there is what loading a spec file does.
        self.at = _app(path, ls_spec=spec, ls_ids=["L1", "L2", "L3"], ls_next_id=3, ls_open="L1")
        self.at.run()
        _check(self.at, "first run")
        keys = [s.key for s in self.at.slider]
        self.slider = next((k for k in keys if k and k.endswith("_w1_1")), None)
        if self.slider is None:
            raise PageError(f"no slider for w[1,1] of the first filter (sliders: {keys[:10]})")
        self.k = 0

    def change(self) -> None:
        self.k += 1
        self.at.slider(key=self.slider).set_value(round(8 - 0.05 * self.k, 2)).run()

    partial_steps = True  # a step reruns only the maps, the filter's preview and the download (views/layer_stack.py)
    settle = Playground.settle

    def nochange(self) -> None:
        self.at.run()

    def verify_recomputed(self) -> None:
        self.change()
        _check(self.at, "a slider change")
        cap = _computed_caption(self.at)
        if " 1 cached" in cap or " ms" not in cap:
            raise PageError(f"a slider change did not recompute the first layer: {cap!r}")
        self.settle()


def _gc_unfrozen(fn):
    """``fn`` with the app's ``gc.freeze()`` undone for its duration (what-if: no freeze); frozen again after."""

    def call():
        gc.unfreeze()
        try:
            fn()
        finally:
            gc.freeze()

    return call


def gc_seconds(frozen: bool) -> float:
    """One full collection, as Streamlit runs after every script run: as the app leaves the collector
    (imports frozen) or, ``frozen`` False, with the freeze undone for it."""
    if not frozen:
        gc.unfreeze()
    try:
        t0 = time.perf_counter()
        gc.collect(2)
        return time.perf_counter() - t0
    finally:
        if not frozen:
            gc.freeze()


def caption_compute_ms(at) -> float:
    """The compute time the page reports for its last run (the sum of the stages' milliseconds)."""
    return sum(float(v) for v in re.findall(r"(\d+(?:\.\d+)?) ms", _computed_caption(at)))


def _pair(label: str, drv, floor: Floor, rounds: int, quick: bool, target: Target | None, side: int):
    drv.change()
    drv.settle()
    drv.verify_recomputed()
    drv.nochange()
    computes: list[float] = []
    fns = {
        "change": drv.change,
        "nochange": drv.nochange,
        "change_unfrozen": _gc_unfrozen(drv.change),
        "floor": floor.change,
        "floor_unfrozen": _gc_unfrozen(floor.change),
    }
    after = {
        "change": lambda: (computes.append(caption_compute_ms(drv.at)), drv.settle()),
        "change_unfrozen": drv.settle,
    }
    t = interleaved(fns, rounds, warmup=0, after=after)
    _check(drv.at, "the timed reruns")
    name = f"{label} rerun after a slider change, {side}²"
    return [
        Figure(SECTION, name, "ms", ms(t["change"]), target, quick=quick),
        Figure(SECTION, "  of which: computing the stages (the page's own caption)", "ms", computes, quick=quick),
        Figure(SECTION, f"{name}, without gc.freeze() (what-if)", "ms", ms(t["change_unfrozen"]), quick=quick),
        Figure(SECTION, f"{label} rerun with no change (all cached), {side}²", "ms", ms(t["nochange"]), quick=quick),
    ], {"floor": t["floor"], "floor_unfrozen": t["floor_unfrozen"]}


def _sweep(make, sizes: tuple[int, ...], n: int, label: str, quick: bool) -> tuple[list[Figure], dict[int, list]]:
    """The change rerun at other sizes: where does a page stop being interactive?"""
    figures, by_side = [], {}
    for s in sizes:
        drv = make(s)
        drv.change()  # the first change at a size is not timed (first figure at that size)
        drv.settle()
        t = ms(interleaved({"change": drv.change}, n, warmup=0, after={"change": drv.settle})["change"])
        _check(drv.at, f"reruns at {s}²")
        by_side[s] = t
        figures.append(Figure(SECTION, f"{label} rerun after a slider change, {s}²", "ms", t, quick=quick))
    return figures, by_side


def run(quick: bool, repeats: int, profile_dir: Path | None = None) -> tuple[list[Figure], dict]:
    side = 128 if quick else 1024
    rounds = max(1, repeats)
    figures: list[Figure] = []
    detail: dict = {"side": side, "change_ms_by_side": {}}
    floor = Floor()
    floors: dict[str, list[float]] = {"floor": [], "floor_unfrozen": []}

    pg = Playground(side)
    figs, f = _pair("playground", pg, floor, rounds, quick, Target("<=", 60, "ms"), side)
    figures += figs
    floors = {k: v + f[k] for k, v in floors.items()}
    detail["change_ms_by_side"]["playground"] = {side: figs[0].samples}

    stack_target = Target("<=", 150, "ms")  # issue 15
    stack_name = f"layer stack rerun after a slider change, {side}²"
    stack_ok = False
    if not LAYER_STACK.exists():
        figures.append(unavailable(SECTION, stack_name, "ms", "views/layer_stack.py does not exist yet", stack_target))
    else:
        try:
            stack = LayerStack(side)
            figs, f = _pair(STACK_LABEL, stack, floor, rounds, quick, stack_target, side)
            figures += figs
            floors = {k: v + f[k] for k, v in floors.items()}
            detail["change_ms_by_side"][STACK_LABEL] = {side: figs[0].samples}
            stack_ok = True
        except Exception as e:  # another team's page, still changing: report it, keep the playground's figures
            why = f"the Layer stack page could not be driven: {type(e).__name__}: {e}"
            figures.append(unavailable(SECTION, stack_name, "ms", why, stack_target))
    figures.append(Figure(SECTION, FLOOR_NAME, "ms", ms(floors["floor"]), quick=quick))
    figures.append(
        Figure(SECTION, FLOOR_NAME + ", without gc.freeze()", "ms", ms(floors["floor_unfrozen"]), quick=quick)
    )
    g = interleaved({"plain": lambda: gc_seconds(False), "frozen": lambda: gc_seconds(True)}, rounds, warmup=0)
    figures.append(Figure(SECTION, GC_NAME, "ms", ms(g["frozen"]), quick=quick))
    figures.append(
        Figure(
            SECTION, "full gc.collect() after a rerun, without gc.freeze() (what-if)", "ms", ms(g["plain"]), quick=quick
        )
    )
    detail["gc_objects"] = len(gc.get_objects())

    n = 1 if quick else 3

    def resized(s: int) -> Playground:
        pg.resize(s)
        return pg

    figs, by_side = _sweep(resized, (64, 256) if quick else (300, 2048, 3072, 4096), n, "playground", quick)
    figures += figs
    detail["change_ms_by_side"]["playground"].update(by_side)
    if stack_ok:
        try:
            figs, by_side = _sweep(LayerStack, (64,) if quick else (512, 2048), n, STACK_LABEL, quick)
            figures += figs
            detail["change_ms_by_side"][STACK_LABEL].update(by_side)
        except Exception as e:
            detail["stack_sweep_error"] = f"{type(e).__name__}: {e}"

    if profile_dir is not None:
        detail["profiles"] = profile_pages(side, 2 if quick else 8, profile_dir)
    return figures, detail


def profile_pages(side: int, reruns: int, out: Path) -> dict:
    """pyinstrument over ``reruns`` change reruns of each page; text and HTML reports go to ``out``."""
    if not profiling.available():
        return {"error": "pyinstrument is not installed (pip install -r requirements-bench.txt)"}
    from pyinstrument import Profiler

    out.mkdir(parents=True, exist_ok=True)
    result: dict = {}
    pages = [("playground", PLAYGROUND, Playground)]
    if LAYER_STACK.exists():
        pages.append(("layer_stack", LAYER_STACK, LayerStack))
    for name, path, cls in pages:
        if cls.partial_steps:
            result[name] = {
                "note": "a step reruns only the page's maps part (a keyed fragment), which runs without the page "
                "script this profiler wraps; profile a real server's steps with py-spy (profile_server)"
            }
            continue
        profiling.PAGE = str(path)
        profiling.PROFILER = None
        try:
            drv = cls(side, path=profiling.WRAPPER)
            drv.change()
            prof = Profiler(interval=0.0005)
            profiling.PROFILER = prof
            for _ in range(reruns):
                drv.change()
            profiling.PROFILER = None
            _check(drv.at, "profiled reruns")
        except Exception as e:
            result[name] = {"error": f"{type(e).__name__}: {e}"}
            continue
        finally:
            profiling.PROFILER = None
        session = prof.last_session
        total, hot = profiling.hot_functions(session)
        (out / f"profile_{name}.txt").write_text(prof.output_text(unicode=True, show_all=False), encoding="utf-8")
        (out / f"profile_{name}.html").write_text(prof.output_html(), encoding="utf-8")
        result[name] = {"reruns": reruns, "seconds_per_rerun": total / reruns, "hot": hot}
    return result
