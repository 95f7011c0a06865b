"""The compute service: every cache under one memory budget, evicting the least recently used by bytes; one
executor; first-use work made once per key; and no other module in ui/ or views/ starting a thread."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import cnn_core
from ui.common import service
from ui.common.service import Service

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 20  # far longer than any step here takes on a loaded machine


def _array(nbytes: int, fill: int) -> np.ndarray:
    return np.full(nbytes, fill % 251, np.uint8)


def test_filling_every_cache_past_the_budget_keeps_the_process_inside_it():
    budget = 60_000_000
    svc = Service(budget=budget, workers=1)
    rng = np.random.default_rng(26)
    made = 0
    for name in svc.caches:
        cache, put, i = svc.cache(name), 0, 0
        while put < 3 * cache.max_bytes:  # every cache three times past its share
            size = int(rng.integers(1, max(2, cache.max_bytes // 3)))
            cache.put((name, i), _array(size, i))
            put, i = put + size, i + 1
        made += put
    stage, put, i = svc.stage_cache, 0, 0
    while put < 3 * stage.max_bytes:
        maps = np.zeros(int(rng.integers(1, stage.max_bytes // 12)), np.float32)
        stage.put(f"stage {i}", maps)
        put, i = put + maps.nbytes, i + 1
    made += put
    held = svc.held()
    # The accounting against an independent count: the bytes of the values each cache still hands back.
    for name, cache in svc.caches.items():
        kept = [cache.get((name, i)) for i in range(10_000)]
        assert sum(v.nbytes for v in kept if v is not None) == held[name], name
        assert held[name] <= svc.share(name), name
        assert held[name] > 0.5 * svc.share(name), name  # it was filled: a real test of eviction
    assert held["stage maps"] <= svc.share("stage maps")
    assert svc.held_bytes() == sum(held.values()) <= budget
    assert made > 2 * budget


def test_eviction_is_least_recently_used_by_bytes_not_by_entries():
    lru = service.ByteLru(max_bytes=1000)
    lru.put("a", _array(400, 1))
    lru.put("b", _array(300, 2))
    lru.put("c", _array(200, 3))
    assert lru.get("a") is not None  # a is now the most recently used: b is the oldest
    lru.put("d", _array(250, 4))  # 1150 bytes: b (300) goes, and that is enough
    assert [k for k in "abcd" if k in lru] == ["a", "c", "d"] and lru.nbytes == 850
    lru.put("e", _array(600, 5))  # 1450: c, then a go (oldest first) until the rest fit
    assert [k for k in "abcde" if k in lru] == ["d", "e"] and lru.nbytes == 850
    many = service.ByteLru(max_bytes=1000)
    for i in range(100):  # a hundred small entries fit where a count bound of a few would not
        many.put(i, _array(10, i))
    assert len(many) == 100 and many.nbytes == 1000
    many.put("big", _array(1001, 0))  # larger than the whole cache: not kept, and nothing else is dropped
    assert "big" not in many and len(many) == 100


def test_a_value_asked_for_by_many_sessions_at_once_is_made_once():
    svc = Service(budget=60_000_000, workers=2)
    made, got = [], []

    def make():
        made.append(1)
        time.sleep(0.05)
        return _array(1000, 7)

    threads = [threading.Thread(target=lambda: got.append(svc.remembered("map pictures", "k", make))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S)
    assert len(made) == 1 and len(got) == 8 and all(g is got[0] for g in got)


def test_one_key_being_made_never_holds_up_another():
    svc = Service(budget=60_000_000, workers=2)
    b_made = threading.Event()
    a_waited = []

    def make_a():
        a_waited.append(b_made.wait(WAIT_S))
        return _array(10, 1)

    def make_b():
        b_made.set()
        return _array(10, 2)

    ta = threading.Thread(target=lambda: svc.remembered("thumbnails", "a", make_a))
    ta.start()
    time.sleep(0.05)
    tb = threading.Thread(target=lambda: svc.remembered("thumbnails", "b", make_b))
    tb.start()
    ta.join(WAIT_S + 5)
    tb.join(WAIT_S + 5)
    assert a_waited == [True]


def test_a_prefetched_value_is_the_one_handed_back_and_nothing_stays_pending():
    svc = Service(budget=60_000_000, workers=1)
    made = []

    def make():
        made.append(threading.current_thread().name)
        return _array(100, 3)

    svc.prefetch("band statistics", "s", make)
    svc.prefetch("band statistics", "s", make)  # on its way already: not started twice
    value = svc.remembered("band statistics", "s", make)
    assert len(made) == 1 and value is svc.cache("band statistics").get("s")
    assert svc.pending() == []


def test_a_prefetch_while_the_first_is_being_stored_is_not_queued_again():
    """The moment between a worker's value being made and stored: a second prefetch must see it as pending
    (a loaded suite run once found a second job queued, still pending after ``remembered`` returned)."""
    svc = Service(budget=60_000_000, workers=1)
    submitted = []
    submit = svc._executor.submit
    svc._executor.submit = lambda *a, **k: submitted.append(a[1:3]) or submit(*a, **k)
    sizing, release = threading.Event(), threading.Event()

    def size(value):  # called by the worker after make(), before the value is stored: hold it there
        sizing.set()
        release.wait(WAIT_S)
        return value.nbytes

    svc.prefetch("band statistics", "t", lambda: _array(100, 4), size)
    assert sizing.wait(WAIT_S)
    svc.prefetch("band statistics", "t", lambda: _array(100, 4), size)
    release.set()
    value = svc.remembered("band statistics", "t", lambda: _array(100, 4))
    assert submitted == [("band statistics", "t")]
    assert value is svc.cache("band statistics").get("t") and svc.pending() == []


def test_pages_get_their_stages_from_the_service_and_its_stage_cache():
    svc = Service(budget=200_000_000, workers=1)
    image = (np.random.default_rng(3).random((24, 20)) * 255).astype(np.uint8)
    picture = type("Picture", (), {"array": image, "key": cnn_core.pipeline.image_digest(image)})()
    spec = cnn_core.parse_spec(
        {
            "version": 1,
            "input": {"color": "grayscale", "size": [24, 20]},
            "layers": [{"type": "conv2d", "filters": [[[0, 0, 0], [0, 2, 0], [0, 0, 0]]], "padding": "same"}],
        }
    )
    stages = svc.stages(picture, spec)
    np.testing.assert_allclose(stages[1].maps[:, :, 0], image.astype(np.float32) / 255 * 2, rtol=1e-6)
    assert svc.held()["stage maps"] == sum(s.maps.nbytes for s in stages) > 0  # kept in its share
    again = svc.stages(picture, spec)
    assert again[1].cached


def test_nothing_else_in_ui_or_views_starts_threads():
    starts = re.compile(r"ThreadPoolExecutor\(|threading\.Thread\(|multiprocessing\.Pool\(")
    found = [
        f"{p.relative_to(ROOT)}:{n}"
        for folder in ("ui", "views")
        for p in sorted((ROOT / folder).rglob("*.py"))
        if p != ROOT / "ui" / "common" / "service.py"
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if starts.search(line)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("raw", "want"), [("", service.DEFAULT_BUDGET), ("900000000", 900_000_000), ("2_000_000_000", 2_000_000_000)]
)
def test_the_budget_comes_from_the_environment(raw, want):
    assert service.budget_from_env({service.BUDGET_ENV: raw}) == want


@pytest.mark.parametrize("raw", ["1.5GB", "-5", "1000"])
def test_a_budget_that_is_not_a_number_of_bytes_says_what_is_allowed(raw):
    with pytest.raises(cnn_core.CnnError) as e:
        service.budget_from_env({service.BUDGET_ENV: raw})
    assert e.value.field == service.BUDGET_ENV and "whole number of bytes" in e.value.detail


def test_gc_freeze_runs_once_and_only_once_tensorflow_is_imported():
    # In a fresh interpreter (a freeze is for the whole process); a stand-in module plays TensorFlow.
    script = (
        "import gc, sys, types\n"
        "from ui.common import service\n"
        "service.start(); before = gc.get_freeze_count()\n"
        "sys.modules['tensorflow'] = types.ModuleType('tensorflow')\n"
        "service.start(); first = gc.get_freeze_count()\n"
        "junk = [[i] for i in range(1000)]\n"
        "service.start(); print(before, first > 0, gc.get_freeze_count() == first)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["0", "True", "True"], done.stderr[-2000:]
