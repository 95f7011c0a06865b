"""Every read of Streamlit's private internals, in one place, checked against the pinned version.

These features need what Streamlit has no public call for:

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
  past which Streamlit drops a page's query without a word, so the edge can refuse such a link instead;
- a browser that falls behind (``keep_clients_connected``): Streamlit's Starlette server
  (``starlette_websocket.StarletteSessionClient``) holds at most ``WEBSOCKET_MAX_SEND_QUEUE_SIZE`` (500)
  messages for a browser's connection. Past that it takes the browser for gone and stops the session's runs,
  yet leaves the connection open: the page stays "running" for ever, and what the visitor does next is
  dropped. A loaded machine reaches 500 in a few quick key presses (each run of the Playground sends about
  100 messages, and the sender falls behind while runs hold the CPU: a share-link test's page hung so in
  round 6's CI run). The bound is raised, and a connection that still overflows is closed, so that the
  browser reconnects to its session and reruns instead of hanging;
- a session's first run that doesn't stall the server (``skip_module_scan``): when a session's run first
  ends, ``LocalSourcesWatcher.update_watched_modules`` takes the path of every module in ``sys.modules``
  (``os.path.realpath`` and ``isfile`` on each of TensorFlow's thousands) on the server's event loop, then hands
  each to ``_register_watcher``, which drops them all when the watcher class is ``NoOpPathWatcher``
  (``server.fileWatcherType = "none"``, this app's setting). Measured: 0.2-0.7 s per new session during which
  the event loop serves no file and sends no message to anyone, so a new visitor's page waited for its own
  scripts. With no watcher, the scan is skipped; any other watcher type scans as before.

They were read from Streamlit ``STREAMLIT_PIN`` (``constraints.txt``). ``problems()`` lists whatever of them
this Streamlit lacks or has reshaped; ``tests/app/test_streamlit_internals.py`` fails on any, and on a
version other than the pin. At run time a missing piece is never guessed around: the feature degrades
(runs can't be cancelled, the address bar gets one more history entry, or the edge checks a query against
the pinned version's limits) and the server log says so once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import inspect
import threading
from collections.abc import Callable

from ui.common.errors import LOG

STREAMLIT_PIN = "1.67.0"  # the version these internals were read from; equal to constraints.txt (a test checks)

_REQUESTS = "streamlit.runtime.scriptrunner_utils.script_requests"
_SOCKETS = "streamlit.web.server.starlette.starlette_websocket"
# The messages one browser's connection may have waiting to be sent (Streamlit's own bound is 500). About 50 of
# the Playground's runs at 1024² (0.45 MB each): a browser that reads nothing can hold ~25 MB of the server's
# memory, against 1.5 MB at Streamlit's bound.
SEND_QUEUE_MESSAGES = 5_000
# The close code for a connection that fell too far behind: 1013, "try again later" (the browser reconnects).
BEHIND_CLOSE_CODE = 1013
_WATCHER = "streamlit.watcher.local_sources_watcher"
_QUERY = "streamlit.runtime.state.query_params"
# The pinned version's query limits: used (and logged) when the installed Streamlit no longer states them.
PINNED_QUERY_LIMITS = (1000, 512 * 1024)  # (parts, characters)
_LIMIT_NAMES = ("CLIENT_STATE_QUERY_STRING_MAX_FIELDS", "CLIENT_STATE_QUERY_STRING_MAX_LENGTH")


def _never() -> bool:
    return False


def problems() -> tuple[str, ...]:
    """What of the internals this module reads is missing or reshaped in the installed Streamlit (empty: none)."""
    return (
        _cancel_problems()
        + _query_problems()
        + _limit_problems()
        + _history_problems()
        + _send_queue_problems()
        + _watcher_problems()
    )


def recheck() -> None:
    """Forget what was found (once per process otherwise), so the next call looks again; for tests."""
    for cached in (
        _cancel_problems, _query_problems, _limit_problems, _history_problems, _send_queue_problems,
        _watcher_problems, _warn_once,
    ):  # fmt: skip
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
def _send_queue_problems() -> tuple[str, ...]:
    try:
        from streamlit.runtime.session_manager import SessionClientDisconnectedError  # noqa: F401
        from streamlit.web.server.starlette import starlette_websocket as sockets
    except ImportError as e:
        return (f"{_SOCKETS} or SessionClientDisconnectedError can't be imported ({e})",)
    found = []
    bound = getattr(sockets, "WEBSOCKET_MAX_SEND_QUEUE_SIZE", None)
    if isinstance(bound, bool) or not isinstance(bound, int) or bound <= 0:
        found.append(f"{_SOCKETS}.WEBSOCKET_MAX_SEND_QUEUE_SIZE is missing or not a positive whole number")
    client = getattr(sockets, "StarletteSessionClient", None)
    if client is None or not callable(getattr(client, "write_forward_msg", None)):
        found.append(f"{_SOCKETS}.StarletteSessionClient.write_forward_msg is missing")
    else:
        try:
            made = inspect.getsource(client.__init__)
        except (OSError, TypeError):
            made = ""
        for name in ("self._send_queue", "self._websocket", "WEBSOCKET_MAX_SEND_QUEUE_SIZE"):
            if name not in made:
                found.append(f"StarletteSessionClient.__init__ no longer sets up {name}")
    if getattr(asyncio.Queue(maxsize=3), "_maxsize", None) != 3:
        found.append("asyncio.Queue keeps its bound elsewhere than _maxsize")
    return tuple(found)


@functools.cache
def _watcher_problems() -> tuple[str, ...]:
    try:
        from streamlit.watcher import local_sources_watcher as lsw
        from streamlit.watcher import path_watcher
    except ImportError as e:
        return (f"{_WATCHER} can't be imported ({e})",)
    found = []
    watcher = getattr(lsw, "LocalSourcesWatcher", None)
    if watcher is None or not callable(getattr(watcher, "update_watched_modules", None)):
        found.append(f"{_WATCHER}.LocalSourcesWatcher.update_watched_modules is missing")
    else:
        try:
            register = inspect.getsource(watcher._register_watcher)
        except (AttributeError, OSError, TypeError):
            register = ""
        # The scan is skipped only where Streamlit itself would drop every path it found.
        if "PathWatcher is NoOpPathWatcher" not in register or "return" not in register:
            found.append("LocalSourcesWatcher._register_watcher no longer drops every path under NoOpPathWatcher")
    if not callable(getattr(path_watcher, "get_default_path_watcher_class", None)):
        found.append("streamlit.watcher.path_watcher.get_default_path_watcher_class is missing")
    if getattr(path_watcher, "NoOpPathWatcher", None) is None:
        found.append("streamlit.watcher.path_watcher.NoOpPathWatcher is missing")
    return tuple(found)


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


_MEDIA_WARNED: list[bool] = []


def _partial_hash_threshold() -> int:
    """The size over which Streamlit's media store names a file by samples of it (0, so every file is given a
    digest of its own, if that constant has moved)."""
    try:
        from streamlit.runtime import memory_media_file_storage

        return int(memory_media_file_storage._PARTIAL_HASH_THRESHOLD)
    except (ImportError, AttributeError, TypeError, ValueError):
        return 0


def media_url(data: bytes, mimetype: str, where: str) -> str | None:
    """The address Streamlit's media store serves ``data`` at for this session, as it serves ``st.image``'s
    pictures (named by their content's hash, so a browser fetches a picture once). ``where`` is the caller's name
    for the place the picture is shown, one per place: a new picture there replaces the old one, and a run of the
    whole page that no longer shows it lets it go. None outside a running app, or if the store has moved (logged
    once); the caller then sends the bytes inline.

    The store's address starts at the server's root ("/media/…"); Streamlit's own elements put the app's base path
    (``server.baseUrlPath``, for an app hosted under a path) in front of it in the browser, and so does this.

    The store names a file over 1 MiB by its length and three 64 KiB samples only (head, middle, tail), and keeps
    the first bytes it got under a name: an RGB 300² map's hover values (1.08 MB) that changed elsewhere would be
    served stale, under the old address. Such a file is given a digest of all its bytes as its file name, which
    the store's name includes."""
    try:
        from streamlit import config, runtime

        if not runtime.exists():
            return None
        name = None
        if len(data) > _partial_hash_threshold():
            name = hashlib.blake2b(data, digest_size=16).hexdigest()
        url = runtime.get_instance().media_file_mgr.add(data, mimetype, where, file_name=name)
        base = str(config.get_option("server.baseUrlPath") or "").strip("/")
        return f"/{base}{url}" if base and url.startswith("/") else url
    except Exception as e:  # an internal that moved: the picture still goes, inline
        if not _MEDIA_WARNED:
            _MEDIA_WARNED.append(True)
            _warn_once("Serving pictures by address", repr(e))
        return None


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


_patch_lock = threading.Lock()
_patched: set[str] = set()  # the patches applied in this process, by feature
_closing: set = set()  # the close tasks under way (a task nobody holds may be collected before it runs)


def _patch_once(feature: str, problems: Callable[[], tuple[str, ...]], apply: Callable[[], None]) -> bool:
    """Apply ``apply`` once per process when ``problems()`` finds the internals as pinned; True if it is applied.
    Otherwise nothing changes and ``feature`` is logged as off, once."""
    if feature in _patched:
        return True
    missing = problems()
    if missing:
        _warn_once(feature, "; ".join(missing))
        return False
    with _patch_lock:
        if feature not in _patched:
            apply()
            _patched.add(feature)
    return True


def keep_clients_connected() -> bool:
    """Raise the messages a browser's connection may have waiting to ``SEND_QUEUE_MESSAGES``, and close a
    connection that overflows even that, so its browser reconnects (see the module's notes). Once per process;
    later calls return at once. Connections made before the first call get the new bound at their next message.

    Returns False, changing nothing, when the internals aren't as pinned (logged once): browsers then get
    Streamlit's own bound and behaviour.
    """
    return _patch_once("Keeping a browser that falls behind connected", _send_queue_problems, _keep_connected)


def _keep_connected() -> None:
    from streamlit.runtime.session_manager import SessionClientDisconnectedError
    from streamlit.web.server.starlette import starlette_websocket as sockets

    sockets.WEBSOCKET_MAX_SEND_QUEUE_SIZE = max(sockets.WEBSOCKET_MAX_SEND_QUEUE_SIZE, SEND_QUEUE_MESSAGES)
    client_class = sockets.StarletteSessionClient
    write = client_class.write_forward_msg

    @functools.wraps(write)
    def write_forward_msg(self, msg):
        queue = self._send_queue
        if queue.maxsize < SEND_QUEUE_MESSAGES:  # a connection made before the first call
            queue._maxsize = SEND_QUEUE_MESSAGES
        try:
            return write(self, msg)
        except SessionClientDisconnectedError:
            if queue.full():
                _close_behind(self._websocket, queue.qsize())
            raise

    client_class.write_forward_msg = write_forward_msg


def skip_module_scan() -> bool:
    """Skip Streamlit's walk over every imported module's path at the end of a session's run when no file
    watcher would keep any of them (see the module's notes). Once per process; later calls return at once.

    Returns False, changing nothing, when the internals aren't as pinned (logged once): sessions then scan as
    Streamlit does.
    """
    return _patch_once("Skipping the module scan of a server with no file watcher", _watcher_problems, _skip_scan)


def _skip_scan() -> None:
    from streamlit.watcher import local_sources_watcher as lsw
    from streamlit.watcher import path_watcher

    update = lsw.LocalSourcesWatcher.update_watched_modules

    @functools.wraps(update)
    def update_watched_modules(self):
        if path_watcher.get_default_path_watcher_class() is path_watcher.NoOpPathWatcher:
            return None  # every path would be dropped: nothing to find
        return update(self)

    lsw.LocalSourcesWatcher.update_watched_modules = update_watched_modules


def _close_behind(websocket, waiting: int) -> None:
    """Close a connection Streamlit has just given up on for falling behind (it leaves it open), so that its
    browser reconnects to the session; once per connection. Runs on the server's event loop."""
    if getattr(websocket, "_cnn_closing", False):
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not on the event loop: nothing to schedule the close on
        return
    websocket._cnn_closing = True
    LOG.warning(
        "A browser fell %d messages behind; its connection is closed so that it reconnects to its session.", waiting
    )

    async def close() -> None:
        with contextlib.suppress(Exception):  # already closed by the browser: nothing left to do
            await websocket.close(code=BEHIND_CLOSE_CODE)

    task = loop.create_task(close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


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
