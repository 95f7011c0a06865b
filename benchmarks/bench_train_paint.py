"""Key → paint on the Playground while another session trains (issue 24: ≤ 2× its idle value).

    python -m benchmarks.bench_train_paint [--side 512] [--rounds 3] [--changes 4] [--nice 10]

One server (``tests/e2e/harness.Server``), two browser contexts (two sessions). Session B opens the Train page
and starts a long run (3,000 generated shapes, 30 epochs); session A is the Playground at side² and times
slider key → updated maps painted exactly as ``benchmarks/browser.py`` does. The run is paused and resumed
in turns, so the idle and the training figures alternate and share whatever else the machine is doing:
``--rounds`` times, ``--changes`` key presses with the run paused (its process waiting, its page still
polling every second) and as many with it training. It prints the medians and their ratio, and the load.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time

from tests.e2e.harness import Server, chromium, wait_idle

from .browser import _one_change, _open_playground, new_page

TRAIN_LINK = "/train?data=shapes:circle,square,triangle,star,cross,ring&arch=tiny_vgg&seed=0&epochs=30&per_class=500"


def _progress(page) -> str:
    bar = page.locator("[data-testid=stProgress]")
    return bar.inner_text() if bar.count() else ""


def _wait_state(page, prefix: str, timeout_s: float = 180) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = _progress(page)
        if text.startswith(prefix):
            return text
        page.wait_for_timeout(250)
    raise RuntimeError(f"the Train page did not reach {prefix!r}; it shows {_progress(page)!r}")


def _cpu(page) -> int:
    m = re.search(r"(\d+) of \d+ CPU s", _progress(page))
    return int(m.group(1)) if m else 0


def _settled(page, moving: bool, timeout_s: float = 300) -> None:
    """Wait until the run's process uses CPU (``moving``: training) or has stopped using it (paused, waiting
    at a batch boundary; TensorFlow's import after the first Train also has to finish)."""
    deadline = time.monotonic() + timeout_s
    last, still = _cpu(page), 0
    while time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        now = _cpu(page)
        if moving and now >= last + 2:
            return
        still = still + 1 if now == last else 0
        if not moving and still >= 4:
            return
        if not moving:
            last = now
    raise RuntimeError(f"the run did not {'start' if moving else 'stop'} using CPU; it shows {_progress(page)!r}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--side", type=int, default=512)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--changes", type=int, default=4)
    p.add_argument("--nice", type=int, default=10, help="the training process's nice level (the app's default: 10)")
    args = p.parse_args()
    idle: list[float] = []
    busy: list[float] = []
    loads: list[float] = []
    with Server(env={"CNN_PLAYGROUND_TRAIN_NICE": str(args.nice)}) as server, chromium() as browser:
        trainer = new_page(browser)
        trainer.goto(server.url + TRAIN_LINK)
        wait_idle(trainer, timeout=300_000)
        playground, counter = _open_playground(browser, server, args.side)
        trainer.get_by_role("button", name="Train", exact=True).click()
        trainer.get_by_role("button", name="Pause").click()
        _wait_state(trainer, "paused")
        _settled(trainer, moving=False)
        try:
            for r in range(args.rounds):
                loads.append(os.getloadavg()[0])
                for _ in range(args.changes):
                    idle.append(_one_change(playground, counter)["key_to_paint_ms"])
                trainer.get_by_role("button", name="Resume").click()
                _settled(trainer, moving=True)
                for _ in range(args.changes):
                    busy.append(_one_change(playground, counter)["key_to_paint_ms"])
                print(f"round {r + 1}: idle {idle[-args.changes :]}, training {busy[-args.changes :]}", flush=True)
                trainer.get_by_role("button", name="Pause").click()
                _wait_state(trainer, "paused")
                _settled(trainer, moving=False)  # the batch in flight ends before the idle figures
            print(f"training page: {_progress(trainer)}")
        finally:
            trainer.get_by_role("button", name="Stop").click()
            trainer.wait_for_timeout(3000)
    mi, mb = statistics.median(idle), statistics.median(busy)
    print(f"playground {args.side}², key → paint, median of {len(idle)}: idle {mi:.0f} ms, training {mb:.0f} ms")
    print(f"ratio training / idle: {mb / mi:.2f} (target ≤ 2); training process at nice {args.nice}")
    print(f"load average (1 min) {min(loads):.1f}–{max(loads):.1f}; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
