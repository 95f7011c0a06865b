"""Handlers that catch what they can't name: a fallback for visitors, the traceback for the tests."""

import pytest

from cnn_core import errors, share
from cnn_core.errors import STRICT_ENV


def test_the_suite_runs_strict():
    assert errors.strict(), "tests/conftest.py sets CNN_PLAYGROUND_STRICT so hidden bugs fail their test"


def test_an_unnamed_error_goes_up_under_the_tests_and_is_logged_otherwise(monkeypatch, caplog):
    boom = AttributeError("a bug")
    with pytest.raises(AttributeError, match="a bug"):
        errors.unexpected(boom, "testing")
    monkeypatch.delenv(STRICT_ENV)
    errors.LOG.addHandler(caplog.handler)
    try:
        errors.unexpected(boom, "testing")
    finally:
        errors.LOG.removeHandler(caplog.handler)
    assert "unexpected AttributeError while testing" in caplog.text and "a bug" in caplog.text


def _buggy(params):
    raise AttributeError("a bug in the decoder")


def _broken(params):
    raise ValueError("not base64")


def test_a_link_decoder_bug_is_not_passed_off_as_a_bad_link_in_tests(monkeypatch):
    assert share.read_safely(_broken, {}) == (None, "it could not be read")  # a named failure: the link's fault
    with pytest.raises(AttributeError):
        share.read_safely(_buggy, {})
    monkeypatch.delenv(STRICT_ENV)
    assert share.read_safely(_buggy, {}) == (None, "it could not be read")  # visitors still get the page
