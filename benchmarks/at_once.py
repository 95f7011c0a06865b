"""Section "at_once": many visitors at once on one server, all in one headless Chromium on this machine.

Each visitor opens the Playground (its default 300×300 view) and presses ArrowLeft on its own w[1,1] slider
every ``period`` seconds, the visitors taking turns evenly spaced, for ``duration`` seconds. Every page
records, on its own clock, each key press and the first animation frame at which its convolution map's picture
differs from the one shown at the press: key press → paint. Also the server's resident memory (with its
children) at the start and the end, and the CPU seconds the browser's processes used meanwhile.
"""

from __future__ import annotations

import time

from tests.e2e.harness import Server, browser_missing, chromium, tree_rss, wait_idle

from .stats import Figure, Target, unavailable

# Per key press: when, and the first frame whose convolution picture differs from the one shown then.
WATCH_JS = """
window.__sess = {presses: []};
const conv = () => {
  const g = document.querySelectorAll('.js-plotly-plot')[1];
  const el = g && g.querySelector('image');
  return el && (el.getAttribute('href') || el.getAttribute('xlink:href'));
};
document.addEventListener('keydown', () => window.__sess.presses.push({t: performance.now(), src: conv(), paint: null}), true);
const tick = () => {
  const now = conv();
  for (const p of window.__sess.presses) if (p.paint === null && now && now !== p.src) p.paint = performance.now();
  requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
"""


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


def run(quick: bool, sessions: int = 10, period: float = 2.0, duration: float = 120.0) -> tuple[list[Figure], dict]:
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
    with chromium() as browser, Server() as server:
        pages = []
        for _ in range(sessions):
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            ctx.add_init_script(WATCH_JS)
            page = ctx.new_page()
            page.goto(server.url)
            page.get_by_role("slider", name="w[1,1]").wait_for(timeout=180_000)
            wait_idle(page, 180_000)
            pages.append(page)
        rss_start = _server_rss(server)
        procs = _browser_processes()
        cpu0, t0 = _cpu_seconds(procs), time.perf_counter()
        step = period / sessions
        k = 0
        while time.perf_counter() - t0 < duration:
            page = pages[k % sessions]
            page.get_by_role("slider", name="w[1,1]").focus()
            page.keyboard.press("ArrowLeft")
            k += 1
            # Playwright's calls take time too: wait for this turn's slot, not a fixed sleep.
            time.sleep(max(0.0, t0 + k * step - time.perf_counter()))
        wall = time.perf_counter() - t0
        for page in pages:
            wait_idle(page, 180_000)
        cpu = _cpu_seconds(procs) - cpu0
        rss_end = _server_rss(server)
        lat, unpainted = [], 0
        for page in pages:
            for p in page.evaluate("window.__sess.presses"):
                if p["paint"] is None:
                    unpainted += 1
                else:
                    lat.append(p["paint"] - p["t"])
        exceptions = sum(page.locator("[data-testid=stException]").count() for page in pages)
    detail.update(
        presses=k,
        unpainted=unpainted,
        wall_s=wall,
        rss_start_mb=rss_start / 2**20,
        rss_end_mb=rss_end / 2**20,
        browser_cpu_s=cpu,
        browser_cpu_share=cpu / wall,
        exceptions=exceptions,
    )
    p50, p95 = (float(np.percentile(lat, q)) for q in (50, 95)) if lat else (float("nan"), float("nan"))
    detail.update(p50_ms=p50, p95_ms=p95, samples=len(lat))
    return [
        Figure(section, names[0], "ms", [p50], quick=quick),
        Figure(section, names[1], "ms", [p95], Target("<=", 1000, "ms"), quick=quick),
        Figure(section, "  key presses made", "", [k], quick=quick),
        Figure(section, "  key presses whose change was never painted", "", [unpainted], quick=quick),
        Figure(section, "  server RSS at the start, MB", "MB", [rss_start / 2**20], quick=quick),
        Figure(section, "  server RSS at the end, MB", "MB", [rss_end / 2**20], quick=quick),
        Figure(section, "  browser CPU, cores busy on average", "cores", [cpu / wall], quick=quick),
    ], detail


if __name__ == "__main__":  # python -m benchmarks.at_once [sessions] [seconds]: prints the details as JSON
    import json
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    secs = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0
    print(json.dumps(run(False, n, 2.0, secs)[1]))
