"""The app tests' net (tests/app/conftest.py): a page that raises or apologises fails its test, and a pipeline
bug reaches the tests as the bug, not as the visitor's apology."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import cnn_core
from cnn_core.errors import STRICT_ENV
from tests.app.conftest import problems

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "playground.py")


def _apologise():
    from ui.common.errors import show_unexpected

    try:
        raise RuntimeError("a bug")
    except RuntimeError as e:
        show_unexpected(e)


@pytest.mark.apology_expected
def test_the_apology_is_recognised_on_the_page():
    at = AppTest.from_function(_apologise).run()
    found = problems(at)
    assert len(found) == 1 and found[0].startswith("apology: Sorry")


def test_a_run_that_shows_the_apology_fails_its_test():
    with pytest.raises(pytest.fail.Exception, match="apology: Sorry"):
        AppTest.from_function(_apologise).run()


def _broken_pipeline(*args, **kwargs):
    raise AttributeError("a bug inside the pipeline")


def test_a_pipeline_bug_reaches_the_test_as_itself(monkeypatch):
    monkeypatch.setattr(cnn_core, "run_pipeline", _broken_pipeline)
    with pytest.raises(pytest.fail.Exception, match="exception: a bug inside the pipeline"):
        AppTest.from_file(PAGE, default_timeout=120).run()


def test_a_pipeline_bug_is_the_apology_for_visitors_and_still_fails_the_test(monkeypatch):
    monkeypatch.delenv(STRICT_ENV)  # as on the server: compute.run apologises instead of raising
    monkeypatch.setattr(cnn_core, "run_pipeline", _broken_pipeline)
    with pytest.raises(pytest.fail.Exception, match="apology: Sorry"):
        AppTest.from_file(PAGE, default_timeout=120).run()
