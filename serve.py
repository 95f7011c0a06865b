"""The app behind a thin edge: `streamlit run serve.py` serves app.py as `streamlit run app.py` does, plus two rules.

- ``/_stcore/metrics`` answers 404. Streamlit (1.67) serves it to anyone, with no setting to turn it off,
  and it names internal functions and cache sizes.
- A page request whose query Streamlit would silently drop (more than its 1,000 parts or 512 Ki characters,
  e.g. a link with ``s=`` repeated 5,000 times) is refused with one sentence and a link to the app, instead
  of showing the defaults without a word (the link reader warns about any shorter repeated part itself).

The Docker image runs this file. `streamlit run app.py` still works, without these two rules (docs/DEPLOY.md).
"""

from __future__ import annotations

import html
import re

import streamlit as st
from starlette.middleware import Middleware

from ui.common.streamlit_internals import keep_clients_connected, query_limits, skip_module_scan

# Before the first browser connects (app.py asks again on every run; only the first call does anything).
keep_clients_connected()
skip_module_scan()

# The limits Streamlit applies to a query before the page sees it (read through the one adapter of its
# internals, which falls back to the pinned version's values and logs it if they move).
MAX_QUERY_PARTS, MAX_QUERY_CHARS = query_limits()

_METRICS = re.compile(r"/_stcore/+metrics/*$")


class Edge:
    """ASGI middleware applying the two rules above; everything else passes through unchanged."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            if _METRICS.search(scope["path"]):
                await _answer(send, 404, "Not found.")
                return
            query = scope.get("query_string", b"").decode("latin-1")
            parts = query.count("&") + 1 if query else 0
            if parts > MAX_QUERY_PARTS or len(query) > MAX_QUERY_CHARS:
                why = f"it has {parts:,} parts" if parts > MAX_QUERY_PARTS else f"it is {len(query):,} characters long"
                page = html.escape(scope["path"].rsplit("/", 1)[-1] or ".")  # relative: never another host
                await _answer(
                    send,
                    400,
                    f"This link could not be used: {why}, and a link of this app gives each of its few parts "
                    f'once. <a href="{page}">Open the app with the default settings</a>.',
                )
                return
        await self.app(scope, receive, send)


async def _answer(send, status: int, sentence: str) -> None:
    body = f'<!doctype html><meta charset="utf-8"><title>CNN playground</title><p>{sentence}</p>'.encode()
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


app = st.App("app.py", middleware=[Middleware(Edge)])
