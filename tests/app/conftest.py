"""What every AppTest shares: a run that fails the test when the page raised or showed the apology, and a page
that is whole after a run that redrew only some of its parts.

Every ``AppTest`` run in tests/app (``at.run()``, ``at.button(...).click().run()``, ...) is checked after it
ends: an exception on the page, or the unexpected-error apology (``ui/common/errors.py``), fails the test
that caused it, with what was shown. A test that shows the apology on purpose says so with
``@pytest.mark.apology_expected``.

A widget's callback may rerun only some of a page's parts (``st.rerun([fragment keys])``, as the Playground's
kernel sliders do). A browser keeps the other parts on screen; AppTest keeps only what the last run drew. So after
such a run the page is drawn again in full, from the widget values the session holds, and the test sees the whole
page. Whether the parts left out were still right is the Playground's own test
(``test_playground_parts.py``), which sees the partial run as it was (``@pytest.mark.partial_runs``).
"""

from __future__ import annotations

import pytest
from streamlit import config
from streamlit.runtime.scriptrunner import ScriptRunnerEvent
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from tests import map_views
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
def hover_values_readable(monkeypatch):
    """Large hover grids go by address in the media store, which AppTest drops after each run: keep what each
    address held, so tests read the values the page sent (``tests/map_views.hover``)."""
    map_views.keep_served(monkeypatch)


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


class _RecordingRunner(app_test_module.LocalScriptRunner):
    """AppTest's script runner, remembered so a test can ask which parts the run it made drew."""

    last: _RecordingRunner | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _RecordingRunner.last = self


def parts_redrawn() -> list[str]:
    """The fragment ids the last AppTest run drew alone, or [] if it drew the whole page."""
    runner = _RecordingRunner.last
    if runner is None:
        return []
    started = [d for e, d in zip(runner.events, runner.event_data) if e == ScriptRunnerEvent.SCRIPT_STARTED]
    return list(started[-1].get("fragment_ids_this_run") or []) if started else []


@pytest.fixture(autouse=True)
def whole_page_after_partial_runs(request, monkeypatch):
    """After a run that redrew only some parts of the page, draw it again in full (see the module's text)."""
    monkeypatch.setattr(app_test_module, "LocalScriptRunner", _RecordingRunner)
    if request.node.get_closest_marker("partial_runs"):
        return
    original = AppTest._run

    def whole(self, widget_state=None, timeout=None):
        result = original(self, widget_state, timeout)
        if parts_redrawn():
            # No widget values sent: the session keeps every widget's value as the partial run left it.
            result = original(self, None, timeout)
        return result

    monkeypatch.setattr(AppTest, "_run", whole)
