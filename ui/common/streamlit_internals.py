"""Every read of Streamlit's private internals, in one place, checked against the pinned version.

Two features need what Streamlit has no public call for:

- cancelling a stale computation: ``ScriptRequests._state`` and ``._rerun_data`` say whether a newer rerun
  or a closed tab is waiting, and ``_fragment_run_should_not_preempt_script`` whether that rerun would stop
  this one (Streamlit asks the same in ``ScriptRequests.on_scriptrunner_yield``, which consumes the request);
- a silent query write (``ui/common/history.py``): ``QueryParams.clear_with_no_forward_msg`` and
  ``_set_item_internal`` change a session's query without the message that pushes a browser history entry;
- telling Back or Forward from any other rerun (``ui/common/history.py``): ``ScriptRunContext.is_history_navigation``
  is the flag Streamlit's browser code sets on a rerun that a ``popstate`` started (Streamlit reads it to let the
  address win over stale widget values); the query a rerun carries can't say it, since a request sent while
  another run is still writing the address carries the old query too;
- the query limits (``serve.py``): ``query_params.CLIENT_STATE_QUERY_STRING_MAX_FIELDS`` and ``_MAX_LENGTH``,
  past which Streamlit drops a page's query without a word, so the edge can refuse such a link instead.

They were read from Streamlit ``STREAMLIT_PIN`` (``constraints.txt``). ``problems()`` lists whatever of them
this Streamlit lacks or has reshaped; ``tests/app/test_streamlit_internals.py`` fails on any, and on a
version other than the pin. At run time a missing piece is never guessed around: the feature degrades
(runs can't be cancelled, the address bar gets one more history entry, or the edge checks a query against
the pinned version's limits) and the server log says so once.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable

from ui.common.errors import LOG

STREAMLIT_PIN = "1.67.0"  # the version these internals were read from; equal to constraints.txt (a test checks)

_REQUESTS = "streamlit.runtime.scriptrunner_utils.script_requests"
_QUERY = "streamlit.runtime.state.query_params"
# The pinned version's query limits: used (and logged) when the installed Streamlit no longer states them.
PINNED_QUERY_LIMITS = (1000, 512 * 1024)  # (parts, characters)
_LIMIT_NAMES = ("CLIENT_STATE_QUERY_STRING_MAX_FIELDS", "CLIENT_STATE_QUERY_STRING_MAX_LENGTH")


def _never() -> bool:
    return False


def problems() -> tuple[str, ...]:
    """What of the internals this module reads is missing or reshaped in the installed Streamlit (empty: none)."""
    return _cancel_problems() + _query_problems() + _limit_problems() + _history_problems()


def recheck() -> None:
    """Forget what was found (once per process otherwise), so the next call looks again; for tests."""
    for cached in (_cancel_problems, _query_problems, _limit_problems, _history_problems, _warn_once):
        cached.cache_clear()


@functools.cache
def _cancel_problems() -> tuple[str, ...]:
    try:
        from streamlit.runtime.scriptrunner_utils import script_requests as sr
    except ImportError as e:
        return (f"{_REQUESTS} can't be imported ({e})",)
    found = []
    kind = getattr(sr, "ScriptRequestType", None)
    if kind is None or not all(hasattr(kind, name) for name in ("STOP", "RERUN", "CONTINUE")):
        found.append(f"{_REQUESTS}.ScriptRequestType lacks STOP, RERUN or CONTINUE")
    make = getattr(sr, "ScriptRequests", None)
    try:
        requests = make() if make is not None else None
    except TypeError as e:
        found.append(f"{_REQUESTS}.ScriptRequests() takes arguments now ({e})")
        requests = None
    if requests is None:
        found.append(f"{_REQUESTS}.ScriptRequests is missing or can't be made")
    else:
        if kind is not None and getattr(requests, "_state", None) != getattr(kind, "CONTINUE", object()):
            found.append("ScriptRequests()._state is missing or doesn't start as ScriptRequestType.CONTINUE")
        data = getattr(requests, "_rerun_data", None)
        fields = {f.name for f in dataclasses.fields(data)} if dataclasses.is_dataclass(data) else set()
        for name in ("fragment_id_queue", "is_fragment_scoped_rerun"):
            if name not in fields:
                found.append(f"ScriptRequests()._rerun_data has no field {name}")
    rule = getattr(sr, "_fragment_run_should_not_preempt_script", None)
    if not callable(rule):
        found.append(f"{_REQUESTS}._fragment_run_should_not_preempt_script is missing")
    elif list(inspect.signature(rule).parameters) != ["fragment_id_queue", "is_fragment_scoped_rerun"]:
        found.append("_fragment_run_should_not_preempt_script's parameters changed")
    return tuple(found)


@functools.cache
def _query_problems() -> tuple[str, ...]:
    try:
        from streamlit.runtime.state.query_params import QueryParams
        from streamlit.runtime.state.session_state_proxy import get_session_state
    except ImportError as e:
        return (f"the query-params internals can't be imported ({e})",)
    found = []
    for name in ("clear_with_no_forward_msg", "_set_item_internal"):
        if not callable(getattr(QueryParams, name, None)):
            found.append(f"QueryParams.{name} is missing")
    if not callable(get_session_state):
        found.append("session_state_proxy.get_session_state is missing")
    return tuple(found)


@functools.cache
def _history_problems() -> tuple[str, ...]:
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext
    except ImportError as e:
        return (f"ScriptRunContext can't be imported ({e})",)
    if not dataclasses.is_dataclass(ScriptRunContext):
        return ("ScriptRunContext is no longer a dataclass",)
    if "is_history_navigation" not in {f.name for f in dataclasses.fields(ScriptRunContext)}:
        return ("ScriptRunContext has no field is_history_navigation",)
    return ()


@functools.cache
def _limit_problems() -> tuple[str, ...]:
    try:
        from streamlit.runtime.state import query_params
    except ImportError as e:
        return (f"{_QUERY} can't be imported ({e})",)
    found = []
    for name in _LIMIT_NAMES:
        value = getattr(query_params, name, None)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            found.append(f"{_QUERY}.{name} is missing or not a positive whole number ({value!r})")
    return tuple(found)


@functools.cache
def _warn_once(feature: str, what: str) -> None:
    LOG.warning(
        "%s is off: Streamlit's internals moved (%s). This app was checked against Streamlit %s; "
        "re-check ui/common/streamlit_internals.py.",
        feature,
        what,
        STREAMLIT_PIN,
    )


def cancellable() -> bool:
    """Whether runs can be stopped early with this Streamlit (False, with a log warning, if not)."""
    missing = _cancel_problems()
    if missing:
        _warn_once("Cancelling stale computations", "; ".join(missing))
        return False
    return True


def stop_check(requests) -> Callable[[], bool]:
    """A ``should_stop`` over a script run's ``ScriptRequests``: True once a STOP (the session ended) or a
    RERUN that would preempt the run (a newer full rerun; a fragment rerun waits for the script) is queued.

    Reads without consuming the request. Never stops when the internals aren't as pinned (logged once).
    """
    if requests is None or not cancellable():
        return _never
    from streamlit.runtime.scriptrunner_utils.script_requests import (
        ScriptRequestType,
        _fragment_run_should_not_preempt_script,
    )

    def should_stop() -> bool:
        state = getattr(requests, "_state", None)
        if state is None:
            _warn_once("Cancelling stale computations", "a live ScriptRequests has no _state")
            return False
        if state == ScriptRequestType.STOP:
            return True
        if state != ScriptRequestType.RERUN:
            return False
        data = requests._rerun_data
        return not _fragment_run_should_not_preempt_script(data.fragment_id_queue, data.is_fragment_scoped_rerun)

    return should_stop


def stop_requested() -> Callable[[], bool]:
    """``stop_check`` for the current script run; never stops outside one."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return stop_check(getattr(ctx, "script_requests", None))


def set_query_silently(params: dict[str, str]) -> bool:
    """Make this session's ``st.query_params`` hold ``params`` without telling the browser (no history entry).

    Returns False, having changed nothing, when the internals aren't as pinned (logged once); the caller
    then uses the public ``st.query_params``.
    """
    missing = _query_problems()
    if missing:
        _warn_once("The silent address-bar write", "; ".join(missing))
        return False
    from urllib.parse import urlencode

    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.state.session_state_proxy import get_session_state

    ctx = get_script_run_ctx(suppress_warning=True)
    with get_session_state().query_params() as qp:
        qp.clear_with_no_forward_msg(preserve_embed=True)
        for k, v in params.items():
            qp._set_item_internal(k, v)
    if ctx is not None:
        ctx.query_string = urlencode(params)
    return True


def history_navigation() -> bool | None:
    """Whether the current script run was started by the browser's Back or Forward; None when this Streamlit
    can't say (logged once), so the caller falls back to comparing the address with what it last wrote."""
    missing = _history_problems()
    if missing:
        _warn_once("Telling Back and Forward from a late request", "; ".join(missing))
        return None
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return bool(ctx is not None and ctx.is_history_navigation)


def query_limits() -> tuple[int, int]:
    """The most parts and characters Streamlit passes on from a page's query (more, and it drops the whole
    query). The pinned version's (``PINNED_QUERY_LIMITS``), logged once, when this Streamlit doesn't say."""
    missing = _limit_problems()
    if missing:
        _warn_once("Checking a link's length against Streamlit's own limits", "; ".join(missing))
        return PINNED_QUERY_LIMITS
    from streamlit.runtime.state import query_params

    parts, chars = (getattr(query_params, name) for name in _LIMIT_NAMES)
    return parts, chars
