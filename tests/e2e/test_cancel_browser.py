"""Closing the tab stops the server's work: CPU use drops within 2 s instead of running to the end.

Two tabs open the heaviest view a link may ask for (an estimate just under the compute budget), so the
server has several seconds of work for each. Both tabs close while it computes; two seconds later the
server process must be nearly idle. Without cancellation it keeps both cores busy for seconds more.
"""

from __future__ import annotations

import time

import psutil
import pytest

from cnn_core import cost, share
from cnn_core.pipeline import plan
from cnn_core.spec import parse_spec

from .harness import wait_idle

pytestmark = pytest.mark.browser


def _heavy_spec() -> dict:
    """Pooling layers on a 2048² grey input, as many as fit under 90 % of the budget (by the cost model)."""
    layers: list[dict] = []
    big = {"type": "pool2d", "mode": "max", "size": 24, "stride": 1, "padding": "same"}
    small = {"type": "pool2d", "mode": "max", "size": 4, "stride": 1, "padding": "same"}
    spec = {"version": 1, "input": {"color": "grayscale", "size": [2048, 2048]}, "layers": layers}
    for layer in [big] * 32 + [small] * 32:
        layers.append(layer)
        if (
            len(layers) > 32
            or cost.estimate_seconds(plan(spec, (10, 10), limits=False), (300, 451, 3)) > 0.9 * cost.MAX_SECONDS
        ):
            layers.pop()
    assert cost.estimate_seconds(plan(spec, (300, 451, 3)), (300, 451, 3)) > 0.6 * cost.MAX_SECONDS
    return spec


def _cpu_rate(proc: psutil.Process, seconds: float) -> float:
    """Cores the process (all its threads) kept busy on average over the next ``seconds``."""

    def total() -> float:
        t = proc.cpu_times()
        return t.user + t.system

    a, t0 = total(), time.perf_counter()
    time.sleep(seconds)
    return (total() - a) / (time.perf_counter() - t0)


def test_closing_the_tab_stops_the_computation_within_two_seconds(fresh_server, browser):
    spec = _heavy_spec()
    url = fresh_server.url
    proc = psutil.Process(fresh_server.proc.pid)
    warm = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    warm.goto(url)  # TensorFlow's import and the first run happen here, not in the measurement
    wait_idle(warm)
    warm.context.close()
    time.sleep(1.0)
    idle = _cpu_rate(proc, 1.0)

    state = share.LinkState(
        page="stack", sample="chelsea", spec=parse_spec(spec), view={"cmap": "auto", "scale": "layer"}
    )
    link = share.share_url(f"{url}/layer_stack", state)
    tabs = []
    for _ in range(2):
        tab = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
        tab.goto(link)
        tabs.append(tab)
    deadline = time.time() + 60
    busy = 0.0
    while busy < 0.3 and time.time() < deadline:  # wait until the server is computing in earnest
        busy = _cpu_rate(proc, 0.5)
    assert busy >= 0.3, f"the heavy view never loaded the server (cpu {busy:.2f} cores)"
    busy = max(busy, _cpu_rate(proc, 0.5))
    for tab in tabs:
        tab.context.close()  # the tab goes away: its websocket closes, its session ends
    time.sleep(2.0)
    after = _cpu_rate(proc, 1.5)
    print(f"\nserver CPU: idle {idle:.2f}, computing {busy:.2f}, 2 s after the tabs closed {after:.2f} cores")
    assert after < max(0.25 * busy, 0.1), f"still {after:.2f} cores busy 2 s after the tabs closed (was {busy:.2f})"
