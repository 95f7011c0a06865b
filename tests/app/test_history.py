"""Back and Forward in the app's terms (ui/common/history.py): a query the page did not write is an entry the browser
brought back, and the page takes its state from it; a query the page wrote itself changes nothing."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.app.conftest import run as _run

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "playground.py")


def _kernel_header(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Kernel**"))


def _params(at: AppTest) -> dict[str, str]:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def test_an_entry_brought_back_restores_its_view_and_a_plain_rerun_changes_nothing():
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
    at.query_params.clear()
    for k, v in first.items():
        at.query_params[k] = v
    _run(at)
    assert "Outline" in _kernel_header(at)
    assert at.select_slider(key="pg_stride").value == 1
    assert _params(at) == first
    # Forward again.
    at.query_params.clear()
    for k, v in edited.items():
        at.query_params[k] = v
    _run(at)
    assert "Sobel x" in _kernel_header(at) and at.select_slider(key="pg_stride").value == 2
