"""What every AppTest shares: a run that fails the test when the page raised or showed the apology.

Every ``AppTest`` run in tests/app (``at.run()``, ``at.button(...).click().run()``, ...) is checked after it
ends: an exception on the page, or the unexpected-error apology (``ui/common/errors.py``), fails the test
that caused it, with what was shown. A test that shows the apology on purpose says so with
``@pytest.mark.apology_expected``.
"""

from __future__ import annotations

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from ui.common.errors import APOLOGY


def problems(at: AppTest) -> list[str]:
    """What went wrong on the page in its last run: exceptions (message and stack) and any apology shown."""
    found = [f"exception: {e.message}\n" + "\n".join(e.stack_trace) for e in at.exception]
    found += [f"apology: {e.value}" for e in at.error if APOLOGY in e.value]
    return found


def run(at: AppTest) -> AppTest:
    """Run the page; the checks below fail the test if it raised or apologised."""
    return at.run()


@pytest.fixture(autouse=True)
def no_unexpected_errors(request, monkeypatch):
    """Fail the test as soon as one of its AppTest runs ends with an exception or the apology on the page."""
    if request.node.get_closest_marker("apology_expected"):
        return
    # The app's config hides error details from visitors; a failing test should name the error and its stack.
    hidden = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "full")
    request.addfinalizer(lambda: config.set_option("client.showErrorDetails", hidden))
    original = AppTest._run

    def checked(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        found = problems(self)
        if found:
            pytest.fail("the page failed in a way the visitor would see:\n" + "\n".join(found), pytrace=False)
        return result

    monkeypatch.setattr(AppTest, "_run", checked)
