"""A kernel step at 1024², two trees side by side: ``python -m benchmarks.step_ab OTHER_TREE [--page stack] [--side N]``.

On a loaded machine two runs minutes apart differ more than two versions of the code, so this starts one
``streamlit run app.py`` from OTHER_TREE (e.g. ``git archive main | tar -x -C /tmp/base``) and one from this
tree, opens the Playground at 1024² (or with ``--page stack`` the Layer stack of the browser section: conv with 8
filters → ReLU → pool on an RGB photo at 1024², its first layer's settings open) in a Chromium page on each, and
alternates key presses between them (the browser section's ``_one_change``: the same clock points and byte
counter). For each side it prints the medians
of key → paint, request → last message, last message → paint, the page's compute caption and the bytes, and
the server process's CPU per press (user + system, until the page is idle again).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from tests.e2e.harness import ROOT, chromium, free_port, healthy

from .browser import PLAYGROUND_PICS, STACK_PICS, _one_change, _open_playground, _open_stack

SIDE = 1024
SETTLE_S = 0.3  # a pause before each timed press


def _start(tree: Path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(prefix="step-ab-", suffix=".log", delete=False)
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
           str(port), "--browser.gatherUsageStats", "false"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=tree, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while not healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the server in {tree} did not start; its log: {log.name}")
        time.sleep(0.1)
    return proc, url


def _line(name: str, rows: list[dict], cpu_s: float) -> str:
    def med(k: str) -> float:
        return statistics.median(r[k] for r in rows if r[k] is not None)

    paint = [r["key_to_paint_ms"] for r in rows]
    return (
        f"{name}: key → paint {med('key_to_paint_ms'):.0f} ms ({min(paint):.0f}–{max(paint):.0f}); "
        f"request → last message {med('request_to_last_reply_ms'):.0f} ms; "
        f"last message → paint {med('last_reply_to_paint_ms'):.0f} ms; key → run finished {med('key_to_idle_ms'):.0f} ms; "
        f"compute {med('compute_ms'):.1f} ms; "
        f"{med('bytes') / 1e6:.3f} MB in {med('ws_frames'):.0f} messages; server CPU per press {cpu_s / len(rows) * 1000:.0f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    import psutil

    parser = argparse.ArgumentParser(prog="python -m benchmarks.step_ab", description=__doc__.split("\n\n")[0])
    parser.add_argument("other", type=Path, help="the other tree (a checkout or git archive of another commit)")
    parser.add_argument("--presses", type=int, default=16, help="timed presses per side (default 16)")
    parser.add_argument("--page", choices=("playground", "stack"), default="playground", help="the page to step")
    parser.add_argument("--side", type=int, default=SIDE, help=f"the photo's side in pixels (default {SIDE})")
    args = parser.parse_args(argv)
    pics = STACK_PICS if args.page == "stack" else PLAYGROUND_PICS
    trees = {"other": args.other.resolve(), "this": ROOT}
    procs: dict[str, subprocess.Popen] = {}
    try:
        with chromium() as browser:
            pages = {}
            for name, tree in trees.items():
                procs[name], url = _start(tree)
                # The first step at this size is untimed (the open functions make one), and so is one more.
                if args.page == "stack":
                    page, counter = _open_stack(browser, SimpleNamespace(url=url), args.side)
                else:
                    page, counter = _open_playground(browser, SimpleNamespace(url=url), args.side)
                _one_change(page, counter, pics)
                pages[name] = (page, counter)
            rows: dict[str, list[dict]] = {name: [] for name in pages}
            cpu = dict.fromkeys(pages, 0.0)
            ps = {name: psutil.Process(p.pid) for name, p in procs.items()}
            order = list(pages)
            for i in range(args.presses):
                # The side pressed second follows a press that has just finished (its browser and server may still
                # be tidying up): measured on identical trees, the second side came out ~15 ms slower. So the
                # order alternates each round, and each press starts after a short pause.
                for name in order if i % 2 == 0 else order[::-1]:
                    page, counter = pages[name]
                    time.sleep(SETTLE_S)
                    before = sum(ps[name].cpu_times()[:2])
                    rows[name].append(_one_change(page, counter, pics))
                    cpu[name] += sum(ps[name].cpu_times()[:2]) - before
            for name in pages:
                print(_line(f"{name} ({trees[name]})", rows[name], cpu[name]))
            print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        for p in procs.values():
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
