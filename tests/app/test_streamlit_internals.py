"""The one reader of Streamlit's internals (ui/common/streamlit_internals.py) against the pinned Streamlit.

If one of these fails after a Streamlit upgrade, cancelling stale runs or the silent address-bar write has
stopped working: re-read the internals named in the failure and fix the adapter before moving the pin.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import streamlit
from streamlit.runtime.scriptrunner_utils import script_requests as sr
from streamlit.runtime.state import query_params as qp_module

from ui.common import streamlit_internals as internals

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh():
    internals.recheck()
    yield
    internals.recheck()


@pytest.fixture
def warnings(monkeypatch):
    said: list[str] = []
    monkeypatch.setattr(internals.LOG, "warning", lambda msg, *args: said.append(msg % args))
    return said


def test_the_installed_streamlit_is_the_pinned_one():
    pinned = re.search(r"^streamlit==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M).group(1)
    assert internals.STREAMLIT_PIN == pinned, (
        "constraints.txt moved Streamlit: re-check every internal ui/common/streamlit_internals.py reads, "
        "then set its STREAMLIT_PIN"
    )
    assert streamlit.__version__ == pinned, (
        f"Streamlit {streamlit.__version__} is installed, constraints.txt pins {pinned}: "
        "install the pin, or re-check ui/common/streamlit_internals.py before bumping it"
    )


def test_every_internal_the_adapter_reads_is_in_place():
    assert internals.problems() == (), (
        "Streamlit's internals moved; re-check ui/common/streamlit_internals.py: " + "; ".join(internals.problems())
    )
    assert internals.cancellable()


def _requests_with(kind: str, **rerun) -> sr.ScriptRequests:
    r = sr.ScriptRequests()
    if kind == "stop":
        r.request_stop()
    elif kind == "rerun":
        assert r.request_rerun(sr.RerunData(**rerun))
    return r


@pytest.mark.parametrize(
    ("kind", "rerun", "stops"),
    [
        ("none", {}, False),
        ("stop", {}, True),
        ("rerun", {}, True),  # a newer full rerun replaces this run
        ("rerun", {"fragment_id_queue": ["f1"]}, False),  # a fragment's own rerun waits for the script
        ("rerun", {"fragment_id_queue": ["f1"], "is_fragment_scoped_rerun": True}, True),
    ],
)
def test_a_run_stops_exactly_when_streamlit_would_preempt_it(kind, rerun, stops):
    r = _requests_with(kind, **rerun)
    assert internals.stop_check(r)() is stops
    # Asking doesn't consume the request: Streamlit still sees it at its next yield point.
    assert internals.stop_check(r)() is stops
    if kind == "rerun":
        assert r._state == sr.ScriptRequestType.RERUN


def test_a_renamed_state_attribute_is_reported_and_runs_become_uncancellable_with_a_warning(monkeypatch, warnings):
    original = sr.ScriptRequests.__init__

    def renamed(self):
        original(self)
        self._status = self.__dict__.pop("_state")  # what a Streamlit refactor might do

    monkeypatch.setattr(sr.ScriptRequests, "__init__", renamed)
    assert any("_state" in p for p in internals.problems())
    assert not internals.cancellable()
    should_stop = internals.stop_check(_requests_with("none"))
    assert should_stop() is False
    assert len(warnings) == 1 and "Cancelling stale computations is off" in warnings[0] and "_state" in warnings[0]
    assert "streamlit_internals.py" in warnings[0]
    internals.stop_check(_requests_with("none"))
    assert len(warnings) == 1  # said once per process, not on every run


def test_a_removed_fragment_rule_is_reported(monkeypatch, warnings):
    monkeypatch.delattr(sr, "_fragment_run_should_not_preempt_script")
    assert any("_fragment_run_should_not_preempt_script" in p for p in internals.problems())
    assert internals.stop_check(_requests_with("stop"))() is False
    assert warnings


def test_a_reshaped_rerun_data_is_reported(monkeypatch, warnings):
    original = sr.ScriptRequests.__init__

    def reshaped(self):
        original(self)
        self._rerun_data = object()

    monkeypatch.setattr(sr.ScriptRequests, "__init__", reshaped)
    found = internals.problems()
    assert any("fragment_id_queue" in p for p in found) and any("is_fragment_scoped_rerun" in p for p in found)
    assert not internals.cancellable() and warnings


def test_a_removed_silent_query_write_falls_back_to_the_public_call(monkeypatch, warnings):
    monkeypatch.delattr(qp_module.QueryParams, "clear_with_no_forward_msg")
    assert any("clear_with_no_forward_msg" in p for p in internals.problems())
    assert internals.set_query_silently({"a": "1"}) is False
    assert "silent address-bar write is off" in warnings[0]
    assert internals.cancellable()  # cancelling doesn't depend on the query internals


def test_outside_a_script_run_nothing_stops():
    assert internals.stop_requested()() is False


def test_the_query_limits_are_streamlits_own_and_the_edge_uses_them():
    assert internals.query_limits() == (
        qp_module.CLIENT_STATE_QUERY_STRING_MAX_FIELDS,
        qp_module.CLIENT_STATE_QUERY_STRING_MAX_LENGTH,
    )
    # The pinned Streamlit's figures, which serve.py's docstring and tests/e2e/test_edge.py state.
    assert internals.query_limits() == internals.PINNED_QUERY_LIMITS == (1000, 512 * 1024)


def test_a_changed_query_limit_is_read_not_assumed(monkeypatch, warnings):
    monkeypatch.setattr(qp_module, "CLIENT_STATE_QUERY_STRING_MAX_FIELDS", 250)
    assert internals.query_limits() == (250, 512 * 1024)
    assert not warnings


@pytest.mark.parametrize("fake", ["removed", "text"])
def test_a_removed_or_reshaped_query_limit_is_reported_and_the_pinned_one_used(monkeypatch, warnings, fake):
    if fake == "removed":
        monkeypatch.delattr(qp_module, "CLIENT_STATE_QUERY_STRING_MAX_LENGTH")
    else:
        monkeypatch.setattr(qp_module, "CLIENT_STATE_QUERY_STRING_MAX_LENGTH", "512KiB")
    assert any("CLIENT_STATE_QUERY_STRING_MAX_LENGTH" in p for p in internals.problems())
    assert internals.query_limits() == internals.PINNED_QUERY_LIMITS
    assert len(warnings) == 1 and "Streamlit's own limits" in warnings[0] and "streamlit_internals.py" in warnings[0]
    assert internals.cancellable()  # cancelling doesn't depend on the query limits


def test_serve_reads_streamlits_internals_only_through_the_adapter():
    text = (ROOT / "serve.py").read_text()
    assert "streamlit.runtime" not in text and "CLIENT_STATE_QUERY" not in text
    assert "query_limits()" in text


class _Pages:
    """What LocalSourcesWatcher reads of a PagesManager: the main script and no pages."""

    def __init__(self, folder: Path) -> None:
        self.main_script_path = str(folder / "app.py")

    def get_pages(self) -> dict:
        return {}


@pytest.fixture
def scan(monkeypatch, tmp_path):
    """A fresh LocalSourcesWatcher, a counter of the module paths it takes, and the patch undone afterwards."""
    from streamlit import config
    from streamlit.watcher import local_sources_watcher as lsw

    taken: list[str] = []

    def paths(module):
        taken.append(module.__name__)
        return set()  # nothing to watch: the test counts the walk, it starts no watcher

    monkeypatch.setattr(lsw, "get_module_paths", paths)
    # Streamlit's own method, even where an earlier test's page (app.py) already wrapped it in this process.
    update = lsw.LocalSourcesWatcher.update_watched_modules
    monkeypatch.setattr(lsw.LocalSourcesWatcher, "update_watched_modules", getattr(update, "__wrapped__", update))
    monkeypatch.setattr(internals, "_patched", set())  # as in a fresh process
    watcher_type = config.get_option("server.fileWatcherType")
    yield lambda: lsw.LocalSourcesWatcher(_Pages(tmp_path)), taken
    config.set_option("server.fileWatcherType", watcher_type)


@pytest.mark.parametrize("watcher_type, walks", [("none", False), ("poll", True)])
def test_the_module_walk_is_skipped_only_where_no_watcher_would_keep_a_path(scan, watcher_type, walks):
    from streamlit import config

    new_watcher, taken = scan
    config.set_option("server.fileWatcherType", watcher_type)
    assert internals.skip_module_scan() and internals.skip_module_scan()  # once; the second call changes nothing
    new_watcher().update_watched_modules()
    if walks:  # a watcher that keeps paths: Streamlit's own walk over every imported module, as before
        assert "streamlit" in taken and len(taken) >= len([m for m in sys.modules.values() if m is not None]) // 2
    else:
        assert taken == []


def test_the_config_asks_for_no_watcher():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"
    assert "skip_module_scan()" in (ROOT / "app.py").read_text()


def test_a_reshaped_watcher_is_reported_and_the_walk_left_alone(scan, monkeypatch, warnings):
    from streamlit import config
    from streamlit.watcher import local_sources_watcher as lsw

    new_watcher, taken = scan
    monkeypatch.setattr(lsw.LocalSourcesWatcher, "_register_watcher", lambda self, *a, **k: None)
    assert any("_register_watcher" in p for p in internals.problems())
    config.set_option("server.fileWatcherType", "none")
    assert internals.skip_module_scan() is False
    assert "module scan" in warnings[0]
    new_watcher().update_watched_modules()
    assert taken  # Streamlit's own behaviour, unchanged


def test_pictures_go_inline_outside_a_running_app():
    """media_url hands back None where there is no media store (no app running): callers send the bytes inline."""
    assert internals.media_url(b"\x89PNG", "image/png", "cnn-test.0") is None


def test_a_picture_address_carries_the_apps_base_path(monkeypatch):
    """An app hosted under a path (server.baseUrlPath) serves its media store there too: the address says so."""
    from types import SimpleNamespace

    from streamlit import config, runtime

    store = SimpleNamespace(add=lambda data, mimetype, where, file_name=None: "/media/abc.png")
    monkeypatch.setattr(runtime, "exists", lambda: True)
    monkeypatch.setattr(runtime, "get_instance", lambda: SimpleNamespace(media_file_mgr=store))
    try:
        assert internals.media_url(b"x", "image/png", "cnn-test.0") == "/media/abc.png"
        config.set_option("server.baseUrlPath", "/tools/cnn/")
        assert internals.media_url(b"x", "image/png", "cnn-test.0") == "/tools/cnn/media/abc.png"
    finally:
        config.set_option("server.baseUrlPath", "")


def test_a_large_file_changed_between_the_stores_samples_gets_a_new_address(monkeypatch):
    """Streamlit's media store names a file over 1 MiB by its length and three 64 KiB samples, and keeps the first
    bytes under a name: an RGB 300² map's hover values changed only between the samples would be served stale.
    media_url names such a file by all of its bytes."""
    from types import SimpleNamespace

    from streamlit import runtime
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    storage = MemoryMediaFileStorage("/media")
    mgr = MediaFileManager(storage)
    monkeypatch.setattr(runtime, "exists", lambda: True)
    monkeypatch.setattr(runtime, "get_instance", lambda: SimpleNamespace(media_file_mgr=mgr))
    before = np.zeros((300, 300, 3), np.float32)
    after = before.copy()
    after[60:80, 100:200] = 1.5  # rows between the head, middle and tail samples of the 1.08 MB
    a, b = before.tobytes(), after.tobytes()
    assert len(a) > internals._partial_hash_threshold() > 0  # the case this is about (Streamlit 1.67's 1 MiB)
    url_a = internals.media_url(a, "application/octet-stream", "cnn-test.hover")
    url_b = internals.media_url(b, "application/octet-stream", "cnn-test.hover")
    assert url_a != url_b
    assert storage.get_file(url_b.rsplit("/", 1)[1]).content == b
    # The same bytes again keep their address (a step that leaves a map alone fetches nothing new).
    assert internals.media_url(b, "application/octet-stream", "cnn-test.hover") == url_b
