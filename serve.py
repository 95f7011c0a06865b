"""The app behind a thin edge: `streamlit run serve.py` serves app.py as `streamlit run app.py` does, plus three rules.

- ``/_stcore/metrics`` answers 404. Streamlit (1.67) serves it to anyone, with no setting to turn it off,
  and it names internal functions and cache sizes.
- A page request whose query Streamlit would silently drop (more than its 1,000 parts or 512 Ki characters,
  e.g. a link with ``s=`` repeated 5,000 times) is refused with one sentence and a link to the app, instead
  of showing the defaults without a word (the link reader warns about any shorter repeated part itself).
- Streamlit's own scripts and styles (``/static/js/…``, ``/static/css/…``) go to a browser that accepts gzip
  compressed: a new visitor's static files are 1.38 MB instead of 3.39 MB. Streamlit sends them uncompressed on
  purpose, as compressing on every request would take the event loop's time. Here each file is compressed once
  per server, on one worker thread, after its first request (which gets Streamlit's own answer, so no request
  ever waits for compression), and kept: the files never change while the server runs (their names carry their
  content's hash).

The Docker image runs this file. `streamlit run app.py` still works, without these rules (docs/DEPLOY.md).
"""

from __future__ import annotations

import gzip
import html
import re
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

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

# Streamlit's bundled scripts and styles, under any base path: a plain file name only (no "..", no sub-folder).
_BUNDLE = re.compile(r"(?:^|/)static/(js|css)/([A-Za-z0-9_-][A-Za-z0-9._-]*\.(?:js|css))$")
BUNDLES = Path(st.__file__).parent / "static" / "static"
_TYPES = {"js": b"text/javascript", "css": b"text/css"}  # the types Streamlit gives them
# file → the future of its gzip bytes (None: Streamlit answers, see _gzip_file); one thread, so compressing never
# takes more than one core from the pages being drawn.
_compressed: dict[str, Future] = {}
_compressor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gzip-bundles")


def _gzip_file(path: Path) -> bytes | None:
    """The file compressed, or None where Streamlit should answer: no such file, or one too small to gain."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    body = gzip.compress(raw, compresslevel=9, mtime=0)
    return body if len(body) < len(raw) else None


def accepts_gzip(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a request's Accept-Encoding takes gzip (and doesn't refuse it with q=0)."""
    for name, value in headers:
        if name.lower() == b"accept-encoding":
            for token in value.decode("latin-1").lower().split(","):
                coding, _, params = token.strip().partition(";")
                if coding.strip() == "gzip":
                    q = params.replace(" ", "")
                    return not re.fullmatch(r"q=0(\.0*)?", q)
    return False


def compressed_bundle(path: str) -> tuple[bytes, bytes] | None:
    """(content type, gzip bytes) of the bundle a request ``path`` names, once compressed; None if it names none
    or its compression, started by the first request for it, hasn't finished."""
    m = _BUNDLE.search(path)
    if m is None:
        return None
    rel = f"{m.group(1)}/{m.group(2)}"
    done = _compressed.get(rel)
    if done is None:
        _compressed[rel] = _compressor.submit(_gzip_file, BUNDLES / rel)
        return None
    if not done.done() or done.exception() is not None or done.result() is None:
        return None
    return _TYPES[m.group(1)], done.result()


class Edge:
    """ASGI middleware applying the three rules above; everything else passes through unchanged."""

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
            if scope.get("method") == "GET" and accepts_gzip(scope.get("headers", [])):
                bundle = compressed_bundle(scope["path"])
                if bundle is not None:
                    await _send_bundle(send, *bundle)
                    return
        await self.app(scope, receive, send)


async def _send_bundle(send, content_type: bytes, body: bytes) -> None:
    headers = [
        (b"content-type", content_type + b"; charset=utf-8"),
        (b"content-encoding", b"gzip"),
        (b"content-length", str(len(body)).encode()),
        (b"vary", b"Accept-Encoding"),
        (b"cache-control", b"public, immutable, max-age=31536000"),  # as Streamlit serves the same files
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _answer(send, status: int, sentence: str) -> None:
    body = f'<!doctype html><meta charset="utf-8"><title>CNN playground</title><p>{sentence}</p>'.encode()
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


app = st.App("app.py", middleware=[Middleware(Edge)])
