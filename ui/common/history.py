"""Back and Forward through a page's edits: the address bar is the history of the view.

Streamlit 1.67 already does half of it. Every change the script makes to ``st.query_params`` becomes a
``history.pushState`` entry, and Back or Forward reruns the page with that entry's query (replacing, not
pushing, whatever the rerun writes). What it leaves to the app:

- reading the query again on that rerun: the pages read their link once per session, so Back changed the
  address and then the page wrote its current state back over it;
- telling an edit from a plain rerun: only a change of the encoded view is written, so a rerun that
  changes nothing adds no entry;
- telling Back or Forward from a late request: a rerun asked for while another run is still going (a second
  click, or the first-paint probe's upgrade) carries the address as it was when it was sent, before that run
  wrote the new view. Taking such a query as Back would undo the visitor's last edit, so only a rerun that
  Streamlit's browser code marks as a history navigation applies the address
  (``streamlit_internals.history_navigation``; where that can't be read, a query other than the one last
  written counts as Back, as before);
- the bare address a page is first shown at (``/layer_stack`` after the sidebar's link): writing the view
  there would push a second entry for the same view and leaving the page would take two presses, so the
  first write replaces the address instead (``history.replaceState``, which ``st.query_params`` can't do).
"""

from __future__ import annotations

import json

import streamlit as st

from ui.common import keys, streamlit_internals


def _written_key(prefix: str) -> str:
    return keys.key(prefix, "url_written")


def _seen_key(prefix: str) -> str:
    return keys.key(prefix, "url_seen")


def query() -> dict[str, list[str]]:
    """The address bar's query, every value of every key (a repeated key is noticed, not last-wins)."""
    return {k: st.query_params.get_all(k) for k in st.query_params}


def to_apply(prefix: str) -> dict[str, list[str]] | None:
    """The query when the page should take its state from it, else None.

    That is on the page's first run in a session (an opened link), and on a run that Back or Forward started
    when it brought back another entry than the one the page last wrote. An empty query (a page just arrived
    at, or a plain visit) is never applied; the page keeps what it shows.
    """
    first = not st.session_state.get(_seen_key(prefix))
    st.session_state[_seen_key(prefix)] = True
    params = query()
    if not params:
        return None
    if first:
        return params
    written = st.session_state.get(_written_key(prefix))
    if written is not None and st.query_params.to_dict() == written:
        return None
    if streamlit_internals.history_navigation() is False:
        return None  # a late request's old address, not Back: the view it would restore was just edited away
    return params


def came_back(prefix: str) -> bool:
    """Whether the page's state was last set by Back or Forward (not by opening a link)."""
    return bool(st.session_state.get(_written_key(prefix)))


def write(prefix: str, params: dict[str, str]) -> None:
    """Make the address bar hold ``params``: a new history entry for an edit, none for an unchanged view."""
    current = st.query_params.to_dict()
    st.session_state[_written_key(prefix)] = dict(params)
    if current == params:
        return
    if not current:
        _replace_address(params)
        _mirror(params)
    else:
        st.query_params.from_dict(params)


def _mirror(params: dict[str, str]) -> None:
    """Let this session's ``st.query_params`` hold what the address bar now holds, without the message that
    would make the browser push an entry. Streamlit has no public call for that (ui/common/streamlit_internals.py
    reads its internals); if they moved, fall back to the public one (the bare address then stays one entry
    behind, as before)."""
    if not streamlit_internals.set_query_silently(params):
        st.query_params.from_dict(params)


def _replace_address(params: dict[str, str]) -> None:
    # The values are the app's own encoding (base64url, names, numbers); json.dumps quotes them for JS.
    st.html(
        "<script>(() => { const u = new URL(window.location.href);"
        f" const p = {json.dumps(params)};"
        " u.search = new URLSearchParams(p).toString();"
        " window.history.replaceState(window.history.state, '', u.toString()); })();</script>",
        unsafe_allow_javascript=True,
        width="content",
    )
