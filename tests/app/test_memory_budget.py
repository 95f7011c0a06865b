"""Every cache the server keeps between reruns has a share of one stated process budget, and a session of
300 distinct changes stays inside it (byte accounting of the caches, checked against tracemalloc)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import cnn_core
from cnn_core import model_maps
from cnn_core.render import png_bytes
from ui.common import figures, maps, service
from ui.common.service import SERVICE
from ui.model import source as model_source
from ui.model import views as model_views
from ui.stack import maps as stack_maps
from ui.units import page as units_page


def test_the_caches_shares_add_up_to_no_more_than_the_budget():
    assert sum(service.SHARES.values()) <= 1, service.SHARES
    assert SERVICE.budget == service.MEMORY_BUDGET
    # Every module's cache is the service's own, bounded by its share: no second copy of a bound that could drift.
    assert figures._URIS is SERVICE.cache("map pictures")
    assert figures._SHRUNK is SERVICE.cache("shrunk maps")
    assert stack_maps._THUMBS is SERVICE.cache("thumbnails")
    assert stack_maps._STATS is SERVICE.cache("band statistics")
    assert maps._STATS_TEXT is SERVICE.cache("statistics lines")
    assert model_source._MODELS is SERVICE.cache("loaded models")
    assert units_page._SCANS is SERVICE.cache("unit scans")
    for name, cache in SERVICE.caches.items():
        assert cache.max_bytes == SERVICE.share(name), name
    assert SERVICE.stage_cache.max_bytes == SERVICE.share("stage maps")
    # Streamlit's cache of model map pages is bounded by entries: they fit its reserved share.
    assert model_views.PAGE_CACHE_ENTRIES * model_maps.PAGE_BYTES <= SERVICE.share("model map pages")
    assert model_views.PAGE_CACHE_ENTRIES == 3  # at the default budget, as the README says


def test_a_byte_lru_counts_what_it_holds_by_default():
    lru = service.ByteLru(max_bytes=1000)
    lru.put("a", "x" * 600)
    lru.put("b", np.zeros(100, np.float32))  # 400 bytes: 1000 in all
    assert lru.get("a") is not None
    lru.put("c", b"y" * 10)  # over: the least recently used ("b") goes
    assert lru.get("b") is None and lru.get("a") is not None and lru.get("c") is not None
    assert lru.nbytes == 610


@pytest.mark.slow
def test_a_300_change_session_stays_inside_the_budget():
    # 300 distinct values of one weight on a 512² photo: each change makes three new stages (about 2.6 MB)
    # and a picture of each, about 0.8 GB in all, over twice the stage cache's share. The caches must evict.
    stage_share, picture_share = SERVICE.share("stage maps"), SERVICE.share("map pictures")
    cache = cnn_core.StageCache(max_bytes=stage_share)
    pictures = service.ByteLru(max_bytes=picture_share)
    rng = np.random.default_rng(5)
    image = (rng.random((512, 512)) * 255).astype(np.uint8)
    key = cnn_core.pipeline.image_digest(image)
    kernel = [[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]]
    cnn_core.run_pipeline(image, _spec(kernel), cache=cache, image_key=key)  # TensorFlow's own start-up first
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        held_most = 0
        for i in range(300):
            kernel[1][1] = 8.0 + i / 100
            stages = cnn_core.run_pipeline(image, _spec(kernel), cache=cache, image_key=key)
            for s in stages[1:]:
                picture = png_bytes(np.repeat(_grey(s.maps[..., 0])[..., None], 3, axis=2))
                pictures.put((s.key, 0), picture)
            del stages
            assert cache.nbytes <= stage_share
            held_most = max(held_most, cache.nbytes + pictures.nbytes)
        now, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    share = stage_share + picture_share
    assert held_most <= share
    assert held_most > 0.8 * stage_share  # the session did fill the cache: a real test of eviction
    # What Python and NumPy hold at the end (the caches and anything leaked beside them) is within the share.
    assert now - base <= share * 1.05, (now - base) / 1e6


def _spec(kernel) -> dict:
    return {
        "version": 1,
        "input": {"color": "grayscale", "size": [512, 512]},
        "layers": [
            {"type": "conv2d", "filters": [kernel], "padding": "same"},
            {"type": "activation", "function": "relu"},
            {"type": "pool2d", "mode": "max", "size": 2, "stride": 2},
        ],
    }


def _grey(a: np.ndarray) -> np.ndarray:
    lo, hi = float(a.min()), float(a.max())
    return np.zeros(a.shape, np.uint8) if hi <= lo else ((a - lo) / (hi - lo) * 255).astype(np.uint8)


def test_the_held_log_writes_what_each_cache_holds(tmp_path, monkeypatch):
    """A server started with CNN_PLAYGROUND_HELD_LOG appends what its caches hold, a JSON line each time: the
    many-visitors benchmark reads it to tell the caches filling from memory growing outside them."""
    import json
    import threading
    import time

    monkeypatch.setattr(service, "HELD_LOG_EVERY_S", 0.01)
    figures.kept(("held-log test", 1), lambda: ("x" * 5000,))
    log, stop = tmp_path / "held.jsonl", threading.Event()
    writer = threading.Thread(target=service._log_held, args=(str(log), stop), daemon=True)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while (not log.exists() or len(log.read_text().splitlines()) < 2) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join(10)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(rows) >= 2 and rows[0]["t"] <= rows[1]["t"]
    # Every cache of the service, by name, in bytes: the entry just kept is counted in its cache.
    assert set(rows[-1]["held"]) == set(SERVICE.held())
    assert rows[-1]["held"]["map pictures"] >= 10_000  # its text counted twice (the text and its JSON)
    assert not writer.is_alive()


def test_the_server_starts_the_held_log_only_when_asked(monkeypatch, tmp_path):
    """service.start() starts the held-bytes log where CNN_PLAYGROUND_HELD_LOG names a file, and not otherwise."""
    import sys

    started = []
    monkeypatch.setitem(sys.modules, "tensorflow", sys.modules.get("tensorflow", object()))  # start() waits for it
    monkeypatch.setattr(service.gc, "freeze", lambda: None)
    monkeypatch.setattr(SERVICE, "watcher", lambda fn, *args, name: started.append((fn, args, name)))
    monkeypatch.setattr(service, "_started", False)
    monkeypatch.delenv(service.HELD_LOG_ENV, raising=False)
    service.start()
    assert started == []
    monkeypatch.setattr(service, "_started", False)
    monkeypatch.setenv(service.HELD_LOG_ENV, str(tmp_path / "held.jsonl"))
    service.start()
    assert started == [(service._log_held, (str(tmp_path / "held.jsonl"),), "held-log")]
