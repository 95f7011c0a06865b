"""Ten sessions, one after another, against one server: its RSS at the start, after each session and at its
peak, to check that the compute service's memory budget holds and that memory stops growing.

``python -m benchmarks.sessions [--sessions 10] [--side 1024] [--changes 4] [--budget BYTES]``

Each visitor uploads a distinct photo of side² pixels, keeps its own size and moves a kernel slider
``changes`` times (``benchmarks.browser``'s visitor), then closes the tab. The feature maps made add up to
more than the stage cache's share at the defaults, so the caches must evict. The server runs with
``CNN_PLAYGROUND_MEMORY_BUDGET`` when ``--budget`` is given. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.harness import Server, chromium

from .browser import PeakWatcher, _photos, _visit

MIB = 2**20


def run(sessions: int, side: int, changes: int, budget: int | None) -> dict:
    env = {"CNN_PLAYGROUND_MEMORY_BUDGET": str(budget)} if budget else None
    out: dict = {"sessions": sessions, "side": side, "changes": changes, "budget": budget or "default"}
    out["load_before"] = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, chromium() as browser:
        photos = _photos(Path(tmp), sessions, side)
        server = Server(env=env)
        watcher = PeakWatcher(server.proc.pid)
        try:
            time.sleep(1)
            out["rss_idle_MiB"] = round(watcher.now() / MIB, 1)
            after, seconds, failed = [], [], []
            for photo in photos:
                t0 = time.perf_counter()
                _one_session(browser, server.url, photo, side, changes, failed)
                time.sleep(1)  # the session ends; what it left behind is what the caches keep
                seconds.append(round(time.perf_counter() - t0, 1))
                after.append(round(watcher.now() / MIB, 1))
                print(f"session {len(after)}: RSS {after[-1]} MiB, {seconds[-1]} s", file=sys.stderr, flush=True)
            out["rss_after_each_session_MiB"] = after
            out["seconds_each_session"] = seconds
            out["rss_peak_MiB"] = round(watcher.peak / MIB, 1)
            out["visits_that_failed"] = failed
        finally:
            watcher.stop()
            server.stop()
    out["load_after"] = os.getloadavg()
    return out


def _one_session(browser, url: str, photo: Path, side: int, changes: int, failed: list) -> None:
    """One visitor; on a loaded machine a page can miss the harness's 30 s wait, so a failed visit is tried
    once more (it still ran, and left its maps in the caches) and noted."""
    for attempt in (1, 2):
        try:
            _visit(browser, url, photo, side, changes).context.close()
            return
        except Exception as e:  # a benchmark keeps measuring; the reason goes into the report
            failed.append(f"{photo.name} attempt {attempt}: {type(e).__name__}: {str(e).splitlines()[0][:160]}")
            for ctx in browser.contexts:
                ctx.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--side", type=int, default=1024)
    ap.add_argument("--changes", type=int, default=4)
    ap.add_argument("--budget", type=int, default=None, help="the server's CNN_PLAYGROUND_MEMORY_BUDGET, bytes")
    a = ap.parse_args(argv)
    print(json.dumps(run(a.sessions, a.side, a.changes, a.budget), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
