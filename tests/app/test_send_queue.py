"""A browser that falls behind is kept connected, or made to reconnect: never left with a page that runs for ever.

Streamlit 1.67 gives each browser's connection a queue of at most 500 waiting messages; past it, the server takes
the browser for gone and stops the session's runs but leaves the connection open (round 6's CI: a share test's
page said "running" for 240 s while the server was idle). ``streamlit_internals.keep_clients_connected`` raises
the bound and closes a connection that still overflows. These tests drive Streamlit's own connection class with
a socket whose sends never finish, as a browser that reads nothing looks to the server.
"""

from __future__ import annotations

import asyncio

import pytest
from streamlit.runtime.session_manager import SessionClientDisconnectedError
from streamlit.web.server.starlette import starlette_websocket as sockets

from ui.common import streamlit_internals as internals


class StuckSocket:
    """A WebSocket whose browser reads nothing: the first send waits for ever; closes are recorded."""

    headers: dict = {}
    cookies: dict = {}
    client = None

    def __init__(self) -> None:
        self.sent = 0
        self.closed_with: list[int] = []
        self._never = asyncio.Event()

    async def send_bytes(self, payload: bytes) -> None:
        self.sent += 1
        await self._never.wait()

    async def close(self, code: int = 1000) -> None:
        self.closed_with.append(code)


def _message():
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    msg.session_status_changed.script_is_running = True
    return msg


async def _write_until_refused(client, most: int) -> int:
    """Write messages, yielding to the loop now and then as the server's flush loop does; how many were taken."""
    for i in range(most):
        try:
            client.write_forward_msg(_message())
        except SessionClientDisconnectedError:
            return i
        if i % 100 == 0:
            await asyncio.sleep(0)
    return most


def test_the_bound_is_raised_and_an_overflow_closes_the_connection():
    assert internals.keep_clients_connected()
    assert sockets.WEBSOCKET_MAX_SEND_QUEUE_SIZE >= internals.SEND_QUEUE_MESSAGES

    async def go():
        socket = StuckSocket()
        client = sockets.StarletteSessionClient(socket)
        try:
            taken = await _write_until_refused(client, internals.SEND_QUEUE_MESSAGES + 100)
            for _ in range(5):  # the close runs as a task on the loop
                await asyncio.sleep(0)
            return taken, socket
        finally:
            await client.aclose()

    taken, socket = asyncio.run(go())
    # Streamlit's own bound refused message 501; one message is with the stuck send, the rest wait.
    assert internals.SEND_QUEUE_MESSAGES <= taken <= internals.SEND_QUEUE_MESSAGES + 1
    assert socket.closed_with == [internals.BEHIND_CLOSE_CODE]  # the browser reconnects instead of hanging


def test_a_connection_made_before_the_call_gets_the_raised_bound(monkeypatch):
    async def go():
        monkeypatch.setattr(sockets, "WEBSOCKET_MAX_SEND_QUEUE_SIZE", 500)  # as when the first browser connected
        client = sockets.StarletteSessionClient(StuckSocket())
        monkeypatch.undo()
        try:
            assert client._send_queue.maxsize == 500
            internals.keep_clients_connected()
            return await _write_until_refused(client, 2_000)
        finally:
            await client.aclose()

    assert asyncio.run(go()) == 2_000


def test_a_connection_that_keeps_up_is_never_closed():
    internals.keep_clients_connected()

    class ReadingSocket(StuckSocket):
        async def send_bytes(self, payload: bytes) -> None:
            self.sent += 1

    async def go():
        socket = ReadingSocket()
        client = sockets.StarletteSessionClient(socket)
        try:
            for _ in range(3):
                for _ in range(1_000):
                    client.write_forward_msg(_message())
                while client._send_queue.qsize():
                    await asyncio.sleep(0)
            return socket
        finally:
            await client.aclose()

    socket = asyncio.run(go())
    assert socket.sent == 3_000 and socket.closed_with == []


@pytest.mark.parametrize("missing", ["WEBSOCKET_MAX_SEND_QUEUE_SIZE", "StarletteSessionClient"])
def test_moved_internals_are_reported(monkeypatch, missing):
    internals.recheck()
    monkeypatch.delattr(sockets, missing)
    try:
        assert any(missing in p for p in internals.problems())
    finally:
        monkeypatch.undo()
        internals.recheck()
