"""Back and Forward in the app's terms (ui/common/history.py): on a rerun that Back or Forward started, a query the
page did not write is an entry the browser brought back, and the page takes its state from it; a query the page
wrote itself changes nothing; and an old query on any other rerun (a request sent before the last run wrote the
address) is not taken for Back."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import run as _run
from ui.common import streamlit_internals

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "playground.py")


def _kernel_header(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Kernel**"))


def _params(at: AppTest) -> dict[str, str]:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


@pytest.fixture()
def navigate(monkeypatch):
    """``navigate(at, params, back=True)``: rerun ``at`` with ``params`` as its query, as Back or Forward would
    (Streamlit's browser code flags that run, which AppTest can't) or, with ``back=False``, as a late request
    that still carries an old address."""

    def go(at: AppTest, params: dict[str, str], back: bool = True) -> AppTest:
        at.query_params.clear()
        for k, v in params.items():
            at.query_params[k] = v
        with monkeypatch.context() as m:
            m.setattr(streamlit_internals, "history_navigation", lambda: back)
            return _run(at)

    return go


def test_an_entry_brought_back_restores_its_view_and_a_plain_rerun_changes_nothing(navigate):
    at = _run(AppTest.from_file(PAGE, default_timeout=120))
    first = _params(at)
    assert "c" in first  # the first view is in the address (replaced there, not pushed)
    at.selectbox(key="pg_preset").set_value("sobel_x").run()
    at.select_slider(key="pg_stride").set_value(2).run()
    edited = _params(at)
    assert edited != first and "Sobel x" in _kernel_header(at)
    _run(at)  # a rerun with nothing changed writes nothing new
    assert _params(at) == edited
    # Back: the browser reruns the page with the first entry's query.
    navigate(at, first)
    assert "Outline" in _kernel_header(at)
    assert at.select_slider(key="pg_stride").value == 1
    assert _params(at) == first
    # Forward again.
    navigate(at, edited)
    assert "Sobel x" in _kernel_header(at) and at.select_slider(key="pg_stride").value == 2


def test_an_old_address_on_a_rerun_that_is_not_back_keeps_the_edit(navigate):
    # A second click sent while the first one's run was still going carries the address from before that run
    # wrote it: the edit must stay, and the address must be put back to it (in round 5 the edit was undone).
    at = _run(AppTest.from_file(PAGE, default_timeout=120))
    first = _params(at)
    at.select_slider(key="pg_stride").set_value(2).run()
    edited = _params(at)
    assert edited != first
    navigate(at, first, back=False)
    assert at.select_slider(key="pg_stride").value == 2
    assert _params(at) == edited
