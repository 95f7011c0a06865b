"""Section "at_once": many visitors at once on one server, all in one headless Chromium on this machine.

Each visitor opens the Playground (its default 300×300 view) and presses ArrowLeft on its own w[1,1] slider
every ``period`` seconds, the visitors' slots evenly spaced, for ``duration`` seconds. Each visitor is driven by
its own coroutine (Playwright's async API), so a page slow to answer holds up only its own presses; the report
says how many of the schedule's slots were pressed. Every page
records, on its own clock, each key press and the first animation frame at which its convolution map's picture
differs from the one shown at the press: key press → paint. Also the server's resident memory (with its
children) at the start and the end, and the CPU seconds the browser's processes used meanwhile.
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
import time

from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, IDLE, NAVIGATION_TIMEOUT_MS, Server, browser_missing, tree_rss
from ui.common.service import BUDGET_ENV, HELD_LOG_ENV, MEMORY_BUDGET

from .browser import INTERACTIVE_MAPS_JS
from .stats import Figure, Target, unavailable

# Per key press: when the page saw it, and the first frame whose convolution picture differs from the one shown
# then, both in milliseconds since the epoch so that they compare with the driver's own clock.
WATCH_JS = """
window.__sess = {presses: []};
const conv = () => {  // the convolution map's picture, once on screen (ui/common/map_view.py)
  const img = document.querySelectorAll('.cnn-map img.cnn-map-img')[1];
  return img && img.complete && img.naturalWidth > 0 ? img.getAttribute('src') : null;
};
const clock = () => performance.timeOrigin + performance.now();  // ms since the epoch, as Python's time.time()
document.addEventListener('keydown', () => window.__sess.presses.push({t: clock(), src: conv(), paint: null}), true);
const tick = () => {
  const now = conv();
  for (const p of window.__sess.presses) if (p.paint === null && now && now !== p.src) p.paint = clock();
  requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
"""

ALL_PAINTED_JS = "() => window.__sess.presses.every(p => p.paint !== null)"


def _browser_processes():
    import psutil

    return [p for p in psutil.Process().children(recursive=True) if "chrom" in p.name().lower()]


def _cpu_seconds(procs) -> float:
    import psutil

    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system + getattr(t, "children_user", 0) + getattr(t, "children_system", 0)
        except psutil.Error:
            pass
    return total


def _server_rss(server: Server) -> int:
    import psutil

    return tree_rss(psutil.Process(server.proc.pid))


RSS_EVERY_S = 5.0  # the server's memory is sampled this often during the run


async def _sample_rss(server: Server, t0: float, out: list) -> None:
    """Every RSS_EVERY_S: (seconds since t0, the server's resident memory with its children in MB)."""
    import asyncio

    while True:
        out.append((time.perf_counter() - t0, _server_rss(server) / 2**20))
        await asyncio.sleep(RSS_EVERY_S)


def _held(path: str, epoch0: float) -> list[tuple[float, float]]:
    """The server's held-bytes log (ui/common/service.py, HELD_LOG_ENV) as (seconds since the run began, MB its
    caches held)."""
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError:
        return []
    for line in lines:
        try:
            row = json.loads(line)
            out.append((row["t"] - epoch0, sum(row["held"].values()) / 2**20))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a line cut short when the server stopped
    return out


def _at(samples: list[tuple[float, float]], t: float) -> float:
    """The sample nearest to ``t``."""
    return min(samples, key=lambda s: abs(s[0] - t))[1]


def _growth(samples: list[tuple[float, float]], held: list[tuple[float, float]]) -> dict:
    """Whether memory stopped growing: the growth over each half of the run, in MB (the second half's is what a
    server that has filled its caches still adds), the slope over the second half in MB a minute, and the same
    growth of what the caches hold (they fill towards their budget, then evict), so that what grows outside them
    shows."""
    if len(samples) < 4:
        return {}
    mid = samples[len(samples) // 2]
    first, last = samples[0], samples[-1]
    late = samples[len(samples) // 2 :]
    ts, ms = [t for t, _ in late], [m for _, m in late]
    mt, mm = statistics.fmean(ts), statistics.fmean(ms)
    var = sum((t - mt) ** 2 for t in ts)
    slope = sum((t - mt) * (m - mm) for t, m in late) / var * 60 if var else 0.0
    out = {
        "rss_growth_first_half_mb": mid[1] - first[1],
        "rss_growth_second_half_mb": last[1] - mid[1],
        "rss_slope_second_half_mb_per_min": slope,
    }
    if len(held) >= 2:
        out.update(
            caches_start_mb=_at(held, first[0]),
            caches_end_mb=_at(held, last[0]),
            caches_growth_first_half_mb=_at(held, mid[0]) - _at(held, first[0]),
            caches_growth_second_half_mb=_at(held, last[0]) - _at(held, mid[0]),
        )
        out["outside_caches_growth_first_half_mb"] = (
            out["rss_growth_first_half_mb"] - out["caches_growth_first_half_mb"]
        )
        out["outside_caches_growth_second_half_mb"] = (
            out["rss_growth_second_half_mb"] - out["caches_growth_second_half_mb"]
        )
    return out


async def _open(browser, url: str):
    """One visitor: a fresh context on the default Playground, its slider found and the first run finished."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    await ctx.add_init_script(WATCH_JS)
    page = await ctx.new_page()
    await page.goto(url)
    slider = page.get_by_role("slider", name="w[1,1]")
    await slider.wait_for(timeout=180_000)
    # The live page's maps (not the first screen's, on a fresh server).
    await page.wait_for_function(INTERACTIVE_MAPS_JS, timeout=180_000, polling="raf")
    await _idle(page)
    return page, slider


async def _idle(page) -> None:
    await page.wait_for_timeout(300)
    await page.wait_for_selector(IDLE, timeout=180_000)


async def _visitor(slider, offset: float, period: float, t0: float, duration: float) -> dict:
    """Press ArrowLeft on this visitor's slider at t0 + offset + n × period until ``duration`` is over.

    Each visitor has its own coroutine, so one page that is slow to answer delays only its own presses. A
    press that is still going when its next slot comes skips that slot; the slots skipped are counted."""
    import asyncio

    made = skipped = 0
    late, sent = [], []
    n = 0
    while True:
        due = t0 + offset + n * period
        if due - t0 >= duration:
            break
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        else:
            late.append(-wait)
        sent.append(time.time() * 1000)  # the visitor's finger: the page may take a while to see the key
        await slider.press("ArrowLeft")
        made += 1
        # The next slot after now: any slot that passed while this press was going is skipped.
        after = max(n + 1, math.ceil((time.perf_counter() - t0 - offset) / period))
        skipped += after - n - 1
        n = after
    return {"made": made, "skipped": skipped, "late_s": late, "sent_ms": sent}


async def _drive(sessions: int, period: float, duration: float, budget: int | None = None) -> dict:
    import asyncio

    from playwright.async_api import TimeoutError as PlaywrightTimeout
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            held_log = tempfile.NamedTemporaryFile(prefix="held-", suffix=".jsonl", delete=False).name
            env = {HELD_LOG_ENV: held_log}
            if budget:
                env[BUDGET_ENV] = str(budget)
            with Server(env=env) as server:
                # One at a time, as visitors arrive: ten first runs at once would only measure the queue.
                opened = [await _open(browser, server.url) for _ in range(sessions)]
                pages = [page for page, _ in opened]
                rss_start = _server_rss(server)
                procs = _browser_processes()
                cpu0, t0, epoch0 = _cpu_seconds(procs), time.perf_counter(), time.time()
                step = period / sessions
                samples: list[tuple[float, float]] = []
                sampler = asyncio.ensure_future(_sample_rss(server, t0, samples))
                runs = await asyncio.gather(
                    *(_visitor(slider, i * step, period, t0, duration) for i, (_, slider) in enumerate(opened))
                )
                wall = time.perf_counter() - t0
                sampler.cancel()
                await asyncio.gather(*(_idle(page) for page in pages))
                # The last change's picture may be painted a little after the server went idle.
                for page in pages:
                    try:
                        await page.wait_for_function(ALL_PAINTED_JS, timeout=30_000)
                    except PlaywrightTimeout:
                        pass  # counted below as never painted
                cpu = _cpu_seconds(procs) - cpu0
                rss_end = _server_rss(server)
                presses = [await page.evaluate("window.__sess.presses") for page in pages]
                exceptions = 0
                for page in pages:
                    exceptions += await page.locator("[data-testid=stException]").count()
        finally:
            await browser.close()
    # Latency from the driver's key press (what the visitor feels, a busy page's delay in seeing the key
    # included) and, apart, from the moment the page saw the key.
    lat, seen, unpainted = [], [], 0
    for run, page_presses in zip(runs, presses):
        if len(page_presses) != len(run["sent_ms"]):
            raise RuntimeError(f"{len(run['sent_ms'])} keys sent but the page saw {len(page_presses)}")
        for sent, pr in zip(run["sent_ms"], page_presses):
            if pr["paint"] is None:
                unpainted += 1
            else:
                lat.append(pr["paint"] - sent)
                seen.append(pr["paint"] - pr["t"])
    late = [x for r in runs for x in r["late_s"]]
    return {
        "presses": sum(r["made"] for r in runs),
        "slots": sessions * math.ceil(duration / period),
        "skipped": sum(r["skipped"] for r in runs),
        "late_median_s": statistics.median(late) if late else 0.0,
        "latencies_ms": lat,
        "seen_to_paint_p50_ms": statistics.median(seen) if seen else float("nan"),
        "unpainted": unpainted,
        "wall_s": wall,
        "rss_start_mb": rss_start / 2**20,
        "rss_end_mb": rss_end / 2**20,
        "rss_samples": [(round(t, 1), round(mb, 1)) for t, mb in samples],
        **_growth(samples, _held(held_log, epoch0)),
        "budget_mb": (budget or MEMORY_BUDGET) / 2**20,
        "browser_cpu_s": cpu,
        "browser_cpu_share": cpu / wall,
        "exceptions": exceptions,
    }


def run(
    quick: bool, sessions: int = 10, period: float = 2.0, duration: float = 120.0, budget: int | None = None
) -> tuple[list[Figure], dict]:
    import asyncio

    section = "at_once"
    if quick:
        sessions, duration = 2, 6.0
    names = (
        f"{sessions} sessions: key press → paint, p50",
        f"{sessions} sessions: key press → paint, p95",
    )
    why = browser_missing()
    if why:
        return [unavailable(section, n, "ms", why) for n in names], {}
    import numpy as np

    detail: dict = {"sessions": sessions, "period_s": period, "duration_s": duration}
    detail.update(asyncio.run(_drive(sessions, period, duration, budget)))
    lat = detail.pop("latencies_ms")
    p50, p95 = (float(np.percentile(lat, q)) for q in (50, 95)) if lat else (float("nan"), float("nan"))
    detail.update(p50_ms=p50, p95_ms=p95, samples=len(lat))
    return [
        Figure(section, names[0], "ms", [p50], quick=quick),
        Figure(section, names[1], "ms", [p95], Target("<=", 1000, "ms"), quick=quick),
        Figure(section, "  key presses made", "", [detail["presses"]], quick=quick),
        Figure(section, "  of the slots the schedule had", "", [detail["slots"]], quick=quick),
        Figure(section, "  key presses whose change was never painted", "", [detail["unpainted"]], quick=quick),
        Figure(section, "  server RSS at the start, MB", "MB", [detail["rss_start_mb"]], quick=quick),
        Figure(section, "  server RSS at the end, MB", "MB", [detail["rss_end_mb"]], quick=quick),
        *(
            Figure(section, name, "MB", [detail.get(key, float("nan"))], quick=quick)
            for name, key in (
                ("  server RSS growth over the run's second half, MB", "rss_growth_second_half_mb"),
                (
                    f"    of which what the caches hold (they stop at their {detail['budget_mb']:.0f} MB budget), MB",
                    "caches_growth_second_half_mb",
                ),
                ("    of which outside the caches, MB", "outside_caches_growth_second_half_mb"),
            )
        ),
        Figure(section, "  browser CPU, cores busy on average", "cores", [detail["browser_cpu_share"]], quick=quick),
    ], detail


if __name__ == "__main__":  # python -m benchmarks.at_once [sessions] [seconds] [--budget BYTES]: the details as JSON
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.at_once", description=__doc__.split("\n\n")[0])
    parser.add_argument("sessions", type=int, nargs="?", default=10)
    parser.add_argument("seconds", type=float, nargs="?", default=120.0)
    parser.add_argument(
        "--budget", type=int, default=None, help=f"the server's {BUDGET_ENV} in bytes (default: the app's own)"
    )
    args = parser.parse_args()
    print(json.dumps(run(False, args.sessions, 2.0, args.seconds, args.budget)[1]))
